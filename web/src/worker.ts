/**
 * The Web Worker entry of the browser package (`dist/vitruvian-worker.js`, a classic worker:
 * LiteRT.js loads its wasm glue with `importScripts`). It runs an ordinary {@link Pose} for the
 * page's `Pose` created with `useWorker: true`, so inference never blocks the page.
 */

import { Pose, type Results } from "./solutions/pose.js";
import type { FromWorker, ToWorker } from "./solutions/worker_protocol.js";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

let pose: Pose | null = null;
let pending: Results | null = null;

function current(): Pose {
  if (pose === null) throw new Error("the worker got a request before its configuration");
  return pose;
}

async function answer(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "configure": {
      const files = message.files;
      pose = new Pose({
        locateFile: (file) => files[file] ?? file,
        wasmPath: message.wasmPath,
        ...(message.numThreads === undefined ? {} : { numThreads: message.numThreads }),
      });
      pose.onResults((results) => {
        pending = results;
      });
      scope.postMessage({ type: "done", id: message.id });
      return;
    }
    case "options":
      current().setOptions(message.options);
      break;
    case "initialize":
      await current().initialize();
      break;
    case "reset":
      current().reset();
      break;
    case "close":
      await pose?.close();
      break;
    case "frame": {
      pending = null;
      try {
        await current().send({ image: message.image }, message.timestamp);
      } finally {
        message.image.close();
      }
      const results = pending as Results | null;
      if (results === null) throw new Error("the graph gave no results");
      const image = await createImageBitmap(results.image);
      const mask =
        results.segmentationMask === undefined
          ? undefined
          : await createImageBitmap(results.segmentationMask);
      const reply: FromWorker = { type: "results", id: message.id, image };
      if (results.poseLandmarks !== undefined) reply.poseLandmarks = results.poseLandmarks;
      if (results.poseWorldLandmarks !== undefined) {
        reply.poseWorldLandmarks = results.poseWorldLandmarks;
      }
      if (mask !== undefined) reply.segmentationMask = mask;
      scope.postMessage(reply, mask === undefined ? [image] : [image, mask]);
      return;
    }
  }
  scope.postMessage({ type: "done", id: message.id });
}

// One request at a time, in the order they came (a frame, then an options change, ...).
let queue: Promise<void> = Promise.resolve();
scope.addEventListener("message", (event) => {
  const message = event.data;
  queue = queue.then(() =>
    answer(message).catch((error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      scope.postMessage({ type: "error", id: message.id, name: e.name, message: e.message });
    }),
  );
});
