/**
 * Messages between `Pose` on the page and the graph in its Web Worker (`useWorker: true`).
 * The worker hosts an ordinary `Pose`; frames go there as transferred `ImageBitmap`s and come
 * back with the results (the image and the mask as `ImageBitmap`s, landmarks as plain objects).
 */

import type { NormalizedLandmark, Options } from "./pose.js";

/** Page -> worker. `id` pairs a request with its answer. */
export type ToWorker =
  | { type: "configure"; id: number; files: Record<string, string>; wasmPath: string; numThreads?: number }
  | { type: "options"; id: number; options: Options }
  | { type: "initialize"; id: number }
  | { type: "frame"; id: number; image: ImageBitmap; timestamp?: number }
  | { type: "reset"; id: number }
  | { type: "close"; id: number };

/** Worker -> page: the answer to request `id`. */
export type FromWorker =
  | { type: "done"; id: number }
  | {
      type: "results";
      id: number;
      image: ImageBitmap;
      poseLandmarks?: NormalizedLandmark[];
      poseWorldLandmarks?: NormalizedLandmark[];
      segmentationMask?: ImageBitmap;
    }
  | { type: "error"; id: number; name: string; message: string };
