/**
 * The JavaScript Solution API of `@mediapipe/pose`, as a thin shell over the graph
 * ({@link PosePipeline} for still images, {@link PoseTracker} for video). Python:
 * `vitruvian/solutions/pose.py`.
 *
 * ```js
 * const pose = new Pose({locateFile: (file) => `models/${file}`});
 * pose.setOptions({modelComplexity: 1, smoothLandmarks: true, enableSegmentation: true,
 *                  minDetectionConfidence: 0.5, minTrackingConfidence: 0.5});
 * pose.onResults((results) => { ... results.poseLandmarks ... });
 * await pose.send({image: videoElement});
 * ```
 *
 * Results are `{image, poseLandmarks, poseWorldLandmarks, segmentationMask}` as in MediaPipe:
 * `image` is a canvas holding the frame that was processed (mirrored in selfie mode),
 * `poseLandmarks` 33 `{x, y, z, visibility}` normalised to the image, `poseWorldLandmarks` 33
 * in metres (hip-centred), `segmentationMask` a canvas whose alpha (and colour) is the person
 * probability. Without a person the landmark and mask fields are absent, as in MediaPipe.
 * `image` and `segmentationMask` are valid until the next `send()`.
 */

import type { RgbImageLike } from "../calculators/image_to_tensor.js";
import { type LocateFile, MODEL_FILES, fetchModel, landmarkModelName } from "../models.js";
import { PosePipeline, checkConfidence } from "../pipeline.js";
import { LiteRtModel, loadRuntime } from "../runtime/litert.js";
import type { ModelRunner } from "../runtime/model.js";
import { PoseTracker } from "../tracking.js";
import type { Matrix, PoseResult } from "../types.js";
import type { FromWorker, ToWorker } from "./worker_protocol.js";

/** A landmark normalised to the image (x, y in [0, 1] inside it; z on the scale of x). */
export interface NormalizedLandmark {
  x: number;
  y: number;
  z: number;
  visibility?: number;
}
/** A world landmark, in metres with the origin between the hips. */
export type Landmark = NormalizedLandmark;
export type NormalizedLandmarkList = NormalizedLandmark[];
export type LandmarkList = Landmark[];

/** What `send()` accepts as `image`. */
export type InputImage =
  | HTMLVideoElement
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData;

export interface InputMap {
  image: InputImage;
}

/** A drawable result image (a canvas; an `ImageBitmap` with `useWorker`). */
export type GpuBuffer = HTMLCanvasElement | OffscreenCanvas | ImageBitmap;

export interface Results {
  image: GpuBuffer;
  poseLandmarks?: NormalizedLandmarkList;
  poseWorldLandmarks?: LandmarkList;
  segmentationMask?: GpuBuffer;
}

export type ResultsListener = (results: Results) => Promise<void> | void;

/** The options of `setOptions` (MediaPipe's names and defaults). */
export interface Options {
  /** Mirror the input horizontally before processing (front cameras). Default false. */
  selfieMode?: boolean;
  /** 0 (lite), 1 (full) or 2 (heavy) landmark model. Default 1. */
  modelComplexity?: 0 | 1 | 2;
  /** Filter landmarks over time to reduce jitter (video mode). Default true. */
  smoothLandmarks?: boolean;
  /** Also predict the person mask. Default false. */
  enableSegmentation?: boolean;
  /** Blend each mask with the previous one (video mode). Default true. */
  smoothSegmentation?: boolean;
  /** Minimum detector score, in [0, 1]. Default 0.5. */
  minDetectionConfidence?: number;
  /** Minimum pose-presence score to keep tracking, in [0, 1]. Default 0.5. */
  minTrackingConfidence?: number;
  /**
   * Treat every input as an unrelated photo: detect on each, no tracking or smoothing (the
   * Python API's `static_image_mode`; MediaPipe's JS API has no such option). Default false.
   */
  staticImageMode?: boolean;
}

/** `new Pose(config)`. */
export interface PoseConfig {
  /** Where each model file is: file name (e.g. `pose_landmark_full.tflite`) to URL. */
  locateFile?: LocateFile;
  /** The folder of LiteRT.js's wasm files. Default: `wasm/` beside this script. */
  wasmPath?: string;
  /**
   * XNNPACK threads per model (default: one per core). Used when the page is cross-origin
   * isolated; models beyond the runtime's pool of one thread per core run on one thread (see
   * `runtime/litert.ts`).
   */
  numThreads?: number;
  /**
   * Run the graph in a Web Worker, so that inference never blocks the page (default false).
   * Results then carry `ImageBitmap`s for `image` and `segmentationMask`.
   */
  useWorker?: boolean;
  /** The worker script. Default: `vitruvian-worker.js` beside this script. */
  workerPath?: string;
}

const DEFAULTS: Required<Options> = {
  selfieMode: false,
  modelComplexity: 1,
  smoothLandmarks: true,
  enableSegmentation: false,
  smoothSegmentation: true,
  minDetectionConfidence: 0.5,
  minTrackingConfidence: 0.5,
  staticImageMode: false,
};

/** This script's URL, for the default file locations (module or classic script). */
const SCRIPT_URL: string | undefined = (() => {
  const current = typeof document === "undefined" ? null : document.currentScript;
  if (current !== null && "src" in current && current.src) return current.src;
  return (import.meta as { url?: string }).url;
})();

function besideScript(path: string): string {
  return SCRIPT_URL === undefined ? path : new URL(path, SCRIPT_URL).href;
}

function checkOptions(options: Required<Options>): void {
  landmarkModelName(options.modelComplexity);
  checkConfidence("minDetectionConfidence", options.minDetectionConfidence);
  checkConfidence("minTrackingConfidence", options.minTrackingConfidence);
}

type Canvas = HTMLCanvasElement | OffscreenCanvas;
type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function newCanvas(width: number, height: number): Canvas {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function context2d(canvas: Canvas): Context2D {
  const ctx = canvas.getContext("2d", { willReadFrequently: true }) as Context2D | null;
  if (ctx === null) throw new Error("cannot get a 2-d canvas context");
  return ctx;
}

/** The pixel size of an input, or a TypeError naming what `send` accepts. */
function sizeOf(image: unknown): [number, number] {
  if (typeof HTMLVideoElement !== "undefined" && image instanceof HTMLVideoElement) {
    return [image.videoWidth, image.videoHeight];
  }
  if (typeof HTMLImageElement !== "undefined" && image instanceof HTMLImageElement) {
    return [image.naturalWidth, image.naturalHeight];
  }
  if (
    (typeof HTMLCanvasElement !== "undefined" && image instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas !== "undefined" && image instanceof OffscreenCanvas) ||
    (typeof ImageBitmap !== "undefined" && image instanceof ImageBitmap) ||
    (typeof ImageData !== "undefined" && image instanceof ImageData)
  ) {
    return [image.width, image.height];
  }
  const what =
    image === null || image === undefined
      ? String(image)
      : typeof image === "object"
        ? (image.constructor?.name ?? "Object")
        : `a ${typeof image}`;
  throw new TypeError(
    `send({image}) takes a video, image or canvas element, an OffscreenCanvas, an ImageBitmap ` +
      `or an ImageData; got ${what}`,
  );
}

/** Landmarks as MediaPipe's JS objects: `{x, y, z, visibility}` per row. */
function toLandmarkList(m: Matrix): NormalizedLandmark[] {
  const out: NormalizedLandmark[] = [];
  for (let i = 0; i < m.rows; i++) {
    const r = i * m.cols;
    out.push({
      x: m.data[r] as number,
      y: m.data[r + 1] as number,
      z: m.data[r + 2] as number,
      visibility: m.data[r + 3] as number,
    });
  }
  return out;
}

/** MediaPipe Pose's JavaScript Solution API on vitruvian's graph. */
export class Pose {
  private readonly config: PoseConfig;
  private options: Required<Options> = { ...DEFAULTS };
  private listener: ResultsListener | null = null;
  private detector: Promise<ModelRunner> | null = null;
  private landmarkers = new Map<string, Promise<ModelRunner>>();
  private pipeline: PosePipeline | null = null;
  private tracker: PoseTracker | null = null;
  private graphKey = "";
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private frame: Canvas | null = null;
  private maskCanvas: Canvas | null = null;
  private worker: WorkerClient | null = null;

  constructor(config: PoseConfig = {}) {
    this.config = { ...config };
    if (config.useWorker === true) this.worker = new WorkerClient(config);
  }

  /** Change options; the next `send()` starts a new stream with them. */
  setOptions(options: Options): void {
    this.checkOpen("setOptions");
    const merged = { ...this.options };
    for (const [key, value] of Object.entries(options)) {
      if (!(key in DEFAULTS)) continue; // MediaPipe ignores options it does not know
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
    checkOptions(merged);
    this.options = merged;
    this.tracker = null; // rebuilt with the new options on the next frame
    this.worker?.request({ type: "options", id: 0, options: merged }).catch(() => undefined);
  }

  /** Set the callback that receives each frame's results. */
  onResults(listener: ResultsListener): void {
    this.checkOpen("onResults");
    this.listener = listener;
  }

  /**
   * Load the runtime and the models for the current options. `send()` does it when needed;
   * call it to load ahead. Rejects with a clear error for a missing or wrong model file.
   */
  async initialize(): Promise<void> {
    this.checkOpen("initialize");
    // In the frame queue, so that a model is never swapped while a frame is being processed.
    const worker = this.worker;
    const run = this.queue.then(async () => {
      if (worker !== null) await worker.request({ type: "initialize", id: 0 });
      else await this.graph();
    });
    this.queue = run.catch(() => undefined);
    await run;
  }

  /**
   * Process one frame and call the results listener with its results.
   *
   * @param timestamp the frame's time in milliseconds (default `performance.now()`); it must
   *   increase from frame to frame within a stream.
   */
  send(inputs: InputMap, timestamp?: number): Promise<void> {
    const run = this.queue.then(() => this.processFrame(inputs, timestamp));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forget the tracked person and the smoothing filters' past (a new stream). */
  reset(): void {
    this.checkOpen("reset");
    this.tracker?.reset();
    this.worker?.request({ type: "reset", id: 0 }).catch(() => undefined);
  }

  /** Release the models. Later calls reject (or throw) with an error saying so. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    if (this.worker !== null) await this.worker.close();
    const runners = [this.detector, ...this.landmarkers.values()];
    this.detector = null;
    this.landmarkers.clear();
    this.pipeline = null;
    this.tracker = null;
    for (const runner of runners) {
      if (runner !== null) await runner.then((r) => r.close()).catch(() => undefined);
    }
  }

  private checkOpen(method: string): void {
    if (this.closed) {
      throw new Error(`Pose.${method}() called after close(); create a new Pose`);
    }
  }

  private loadModel(name: string): Promise<ModelRunner> {
    const locate = this.config.locateFile ?? ((file: string) => besideScript(`models/${file}`));
    const wasm = this.config.wasmPath ?? besideScript("wasm/");
    return loadRuntime(wasm)
      .then(() => fetchModel(name, locate))
      .then((bytes) => LiteRtModel.create(bytes, this.config.numThreads));
  }

  /** The pipeline for the current options, loading models on first use. */
  private async graph(): Promise<PosePipeline> {
    const o = this.options;
    const landmarkName = landmarkModelName(o.modelComplexity);
    const key = [landmarkName, o.enableSegmentation, o.minDetectionConfidence, o.minTrackingConfidence].join();
    if (this.pipeline !== null && this.graphKey === key) return this.pipeline;
    if (this.detector === null) this.detector = this.loadModel("pose_detection");
    let landmarker = this.landmarkers.get(landmarkName);
    if (landmarker === undefined) {
      // One landmark model at a time, as MediaPipe rebuilds its graph for a new complexity: the
      // one closed gives its threads back for the new one (see runtime/litert.ts).
      const previous = [...this.landmarkers.values()];
      this.landmarkers.clear();
      this.pipeline = null;
      this.tracker = null;
      for (const runner of previous) await runner.then((r) => r.close()).catch(() => undefined);
      landmarker = this.loadModel(landmarkName);
      this.landmarkers.set(landmarkName, landmarker);
    }
    let models: [ModelRunner, ModelRunner];
    try {
      // Both load at once; awaited in order, so that with both files missing the error is
      // always the detector's (the first the graph needs), whichever request fails first.
      const detector = await this.detector;
      models = [detector, await landmarker];
    } catch (error) {
      // A failed load is not cached: the next call tries again (e.g. after fixing the files).
      if (this.detector !== null && (await settled(this.detector)) === "rejected") this.detector = null;
      if ((await settled(landmarker)) === "rejected") this.landmarkers.delete(landmarkName);
      throw error;
    }
    this.checkOpen("send");
    this.pipeline = new PosePipeline(models[0], models[1], {
      enableSegmentation: o.enableSegmentation,
      minDetectionConfidence: o.minDetectionConfidence,
      minTrackingConfidence: o.minTrackingConfidence,
    });
    this.graphKey = key;
    this.tracker = null;
    return this.pipeline;
  }

  private async processFrame(inputs: InputMap, timestamp?: number): Promise<void> {
    this.checkOpen("send");
    if (inputs === null || typeof inputs !== "object" || !("image" in inputs)) {
      throw new TypeError("send() takes {image: <video, image, canvas, ImageBitmap or ImageData>}");
    }
    const [width, height] = sizeOf(inputs.image);
    if (!(width > 0 && height > 0)) {
      throw new Error(
        `send() got an image of size ${width}x${height}: wait until the video or image has ` +
          "loaded (e.g. the video's 'loadeddata' event) before sending it",
      );
    }
    if (timestamp !== undefined && (typeof timestamp !== "number" || !Number.isFinite(timestamp))) {
      throw new TypeError(`timestamp must be a finite number of milliseconds, got ${String(timestamp)}`);
    }
    if (this.worker !== null) {
      const results = await this.worker.frame(inputs.image, timestamp ?? performance.now());
      if (this.listener !== null) await this.listener(results);
      return;
    }
    const pipeline = await this.graph();
    const pixels = this.readPixels(inputs.image, width, height);
    const o = this.options;
    let result: PoseResult | null;
    if (o.staticImageMode) {
      result = await pipeline.process(pixels);
    } else {
      if (this.tracker === null || this.tracker.pipeline !== pipeline) {
        this.tracker = new PoseTracker(pipeline, {
          smoothLandmarks: o.smoothLandmarks,
          smoothSegmentation: o.smoothSegmentation,
        });
      }
      const ms = timestamp ?? performance.now();
      result = await this.tracker.process(pixels, Math.round(ms * 1000));
    }
    const results: Results = { image: this.frame as Canvas };
    if (result !== null) {
      results.poseLandmarks = toLandmarkList(result.landmarks);
      results.poseWorldLandmarks = toLandmarkList(result.worldLandmarks);
      if (result.segmentationMask !== null) {
        results.segmentationMask = this.drawMask(result.segmentationMask);
      }
    }
    if (this.listener !== null) await this.listener(results);
  }

  /** Draw the input (mirrored in selfie mode) on the frame canvas and read its RGBA pixels. */
  private readPixels(image: InputImage, width: number, height: number): RgbImageLike {
    if (this.frame === null || this.frame.width !== width || this.frame.height !== height) {
      this.frame = newCanvas(width, height);
    }
    const ctx = context2d(this.frame);
    const mirror = this.options.selfieMode;
    if (image instanceof ImageData) {
      if (mirror) {
        const flipped = new ImageData(width, height);
        const src = new Uint32Array(image.data.buffer, image.data.byteOffset, width * height);
        const dst = new Uint32Array(flipped.data.buffer);
        for (let y = 0; y < height; y++) {
          const row = y * width;
          for (let x = 0; x < width; x++) dst[row + x] = src[row + width - 1 - x] as number;
        }
        ctx.putImageData(flipped, 0, 0);
        return flipped;
      }
      ctx.putImageData(image, 0, 0);
      return image;
    }
    ctx.save();
    ctx.clearRect(0, 0, width, height);
    if (mirror) ctx.setTransform(-1, 0, 0, 1, width, 0);
    ctx.drawImage(image, 0, 0, width, height);
    ctx.restore();
    return ctx.getImageData(0, 0, width, height);
  }

  /** The mask as a canvas: RGBA all equal to the probability (0-255). */
  private drawMask(mask: Matrix): Canvas {
    const { rows: height, cols: width, data } = mask;
    if (
      this.maskCanvas === null ||
      this.maskCanvas.width !== width ||
      this.maskCanvas.height !== height
    ) {
      this.maskCanvas = newCanvas(width, height);
    }
    const pixels = new ImageData(width, height);
    const rgba = pixels.data;
    for (let i = 0; i < width * height; i++) {
      const v = Math.round((data[i] as number) * 255);
      rgba[i * 4] = v;
      rgba[i * 4 + 1] = v;
      rgba[i * 4 + 2] = v;
      rgba[i * 4 + 3] = v;
    }
    context2d(this.maskCanvas).putImageData(pixels, 0, 0);
    return this.maskCanvas;
  }
}

async function settled(promise: Promise<unknown>): Promise<"fulfilled" | "rejected"> {
  return promise.then(
    () => "fulfilled" as const,
    () => "rejected" as const,
  );
}

/** The page side of a `Pose` whose graph runs in a Web Worker (`src/worker.ts`). */
class WorkerClient {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (message: FromWorker) => void; reject: (error: Error) => void }
  >();
  private next = 1;
  private failed: Error | null = null;

  constructor(config: PoseConfig) {
    const url = config.workerPath ?? besideScript("vitruvian-worker.js");
    this.worker = new Worker(url);
    this.worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      const waiter = this.waiting.get(message.id);
      if (waiter === undefined) return;
      this.waiting.delete(message.id);
      if (message.type === "error") {
        const error = new Error(message.message);
        error.name = message.name;
        waiter.reject(error);
      } else {
        waiter.resolve(message);
      }
    });
    this.worker.addEventListener("error", (event) => {
      this.fail(new Error(`the vitruvian worker (${url}) failed: ${event.message || "cannot load it"}`));
    });
    // Model URLs are resolved here: locateFile is a function and cannot go to the worker.
    const locate = config.locateFile ?? ((file: string) => besideScript(`models/${file}`));
    const base = typeof document === "undefined" ? SCRIPT_URL : document.baseURI;
    const files: Record<string, string> = {};
    for (const { file } of Object.values(MODEL_FILES)) {
      files[file] = new URL(locate(file, ""), base).href;
    }
    const wasmPath = new URL(config.wasmPath ?? besideScript("wasm/"), base).href;
    this.request({
      type: "configure",
      id: 0,
      files,
      wasmPath,
      ...(config.numThreads === undefined ? {} : { numThreads: config.numThreads }),
    }).catch(() => undefined);
  }

  private fail(error: Error): void {
    this.failed = error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  /** Send a request (its `id` is assigned here) and wait for the answer. */
  request(message: ToWorker, transfer: Transferable[] = []): Promise<FromWorker> {
    if (this.failed !== null) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise<FromWorker>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Process one frame in the worker; the results as the listener gets them. */
  async frame(image: InputImage, timestamp: number): Promise<Results> {
    const bitmap = await createImageBitmap(image);
    const answer = await this.request({ type: "frame", id: 0, image: bitmap, timestamp }, [bitmap]);
    if (answer.type !== "results") throw new Error("the worker answered a frame without results");
    const results: Results = { image: answer.image };
    if (answer.poseLandmarks !== undefined) results.poseLandmarks = answer.poseLandmarks;
    if (answer.poseWorldLandmarks !== undefined) {
      results.poseWorldLandmarks = answer.poseWorldLandmarks;
    }
    if (answer.segmentationMask !== undefined) results.segmentationMask = answer.segmentationMask;
    return results;
  }

  /** Release the models in the worker and end it. */
  async close(): Promise<void> {
    try {
      await this.request({ type: "close", id: 0 });
    } finally {
      this.worker.terminate();
      this.fail(new Error("the worker was closed"));
    }
  }
}
