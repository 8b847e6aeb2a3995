/**
 * LiteRT.js (`@litertjs/core`, wasm with XNNPACK) behind {@link ModelRunner}: the `.tflite`
 * files run as they are, as the Python package runs them with LiteRT. Python:
 * `vitruvian/models/runtime.py` (`TFLiteModel`).
 *
 * The wasm runtime is loaded once per page (or worker) from `wasmPath`, a folder holding
 * `@litertjs/core`'s `wasm/` files (the build copies them to `dist/wasm/`). With cross-origin
 * isolation (`vitruvian web` serves the headers for it) the threaded build is used.
 */

import {
  Tensor,
  loadAndCompile,
  loadLiteRt,
  supportsFeature,
  type CompiledModel,
} from "@litertjs/core";
import type { ModelRunner } from "./model.js";

let runtime: Promise<unknown> | null = null;
let runtimePath: string | null = null;
let threaded = false;

/**
 * Pthread workers not yet promised to a model. The threaded build starts a pool of
 * `navigator.hardwareConcurrency` workers when it loads; a model compiled for `n` threads keeps
 * `n - 1` of them (XNNPACK's thread pool) until it is closed. A thread asked for beyond the
 * pool gets a worker that can only start once the page's event loop runs, and a model that then
 * waits for it (when it runs, or when it is closed and joins its threads) blocks that loop: the
 * page hangs. So models are given at most the free workers, never more: the first models get
 * the threads (the pipeline's detector and landmark model), extra ones run on one thread.
 */
let freeWorkers = 0;

/** Threads a new model gets: what was asked (default: all cores), within the free workers. */
function grantThreads(wanted: number | undefined): number {
  if (!threaded) return 1;
  const cores = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
  const asked = Math.max(1, Math.floor(wanted ?? cores));
  const granted = Math.min(asked, 1 + freeWorkers);
  freeWorkers -= granted - 1;
  return granted;
}

/** Whether this page may use wasm threads (`SharedArrayBuffer` needs cross-origin isolation). */
export function canUseThreads(): boolean {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined";
}

/**
 * Load the LiteRT.js wasm runtime from the folder `wasmPath` (once; later calls with the same
 * path share it). Rejects with a message naming the folder when the files cannot be loaded.
 */
export function loadRuntime(wasmPath: string): Promise<unknown> {
  const folder = wasmPath.endsWith("/") ? wasmPath : `${wasmPath}/`;
  const path = new URL(folder, globalThis.location?.href).href;
  if (runtime !== null) {
    if (runtimePath !== path) {
      return Promise.reject(
        new Error(`LiteRT.js is already loaded from ${String(runtimePath)}, not ${path}`),
      );
    }
    return runtime;
  }
  runtimePath = path;
  runtime = loadFrom(path).catch((error: unknown) => {
    runtime = null;
    runtimePath = null;
    throw new Error(
      `cannot load the LiteRT.js wasm runtime from ${path} (${String(error)}): serve ` +
        "@litertjs/core's wasm/ folder there (the build copies it to dist/wasm/) or pass wasmPath",
    );
  });
  return runtime;
}

/**
 * Load (from the absolute folder URL `base`) the wasm build this browser can run (as LiteRT.js itself picks it: threads need
 * cross-origin isolation and relaxed SIMD), telling the emscripten module where its files are.
 * LiteRT.js's own lookup takes them relative to the loading script, which is wrong in a Web
 * Worker (there the worker's script is the "script", and its pthreads would load it).
 */
async function loadFrom(base: string): Promise<unknown> {
  const relaxedSimd = await supportsFeature("relaxedSimd");
  const useThreads = relaxedSimd && canUseThreads();
  const file = !relaxedSimd
    ? "litert_wasm_compat_internal.js"
    : useThreads
      ? "litert_wasm_threaded_internal.js"
      : "litert_wasm_internal.js";
  (globalThis as { Module?: unknown }).Module = {
    locateFile: (name: string) => base + name,
    mainScriptUrlOrBlob: base + file,
  };
  const loaded = await loadLiteRt(base + file);
  threaded = useThreads;
  freeWorkers = useThreads ? Math.max(0, globalThis.navigator?.hardwareConcurrency ?? 0) : 0;
  return loaded;
}

/** A `.tflite` model compiled for LiteRT.js's wasm (CPU) accelerator. */
export class LiteRtModel implements ModelRunner {
  readonly inputShape: readonly number[];
  readonly outputShapes: readonly (readonly number[])[];
  /** XNNPACK threads this model runs on (1 without cross-origin isolation). */
  readonly numThreads: number;
  private model: CompiledModel | null;

  private constructor(model: CompiledModel, numThreads: number) {
    this.model = model;
    this.numThreads = numThreads;
    const inputs = model.getInputDetails();
    if (inputs.length !== 1) throw new Error(`expected a model with one input, got ${inputs.length}`);
    this.inputShape = Array.from((inputs[0] as { shape: Int32Array }).shape);
    this.outputShapes = model.getOutputDetails().map((o) => Array.from(o.shape));
  }

  /**
   * Compile model bytes (already checked, see `models.ts`) on the wasm accelerator.
   *
   * @param numThreads XNNPACK threads wanted (default: one per core). Used only when the page is
   *   cross-origin isolated, and capped by the runtime's free pthread workers (see
   *   {@link freeWorkers}): read {@link numThreads} for what the model got.
   */
  static async create(bytes: Uint8Array, numThreads?: number): Promise<LiteRtModel> {
    const granted = grantThreads(numThreads);
    try {
      const model = await loadAndCompile(bytes, {
        accelerator: "wasm",
        cpuOptions: { numThreads: granted },
      });
      return new LiteRtModel(model, granted);
    } catch (error) {
      freeWorkers += granted - 1;
      throw error;
    }
  }

  async run(input: Float32Array, outputs: readonly number[]): Promise<Float32Array[]> {
    const model = this.model;
    if (model === null) throw new Error("model used after close()");
    const tensor = new Tensor(input, [...this.inputShape]);
    let results: Tensor[] = [];
    try {
      results = await model.run(tensor);
      return outputs.map((i) => {
        const out = results[i];
        if (out === undefined) throw new Error(`model has no output ${i}`);
        return Float32Array.from(out.toTypedArray() as Float32Array);
      });
    } finally {
      tensor.delete();
      for (const out of results) out.delete();
    }
  }

  close(): void {
    if (this.model === null) return;
    this.model.delete();
    this.model = null;
    freeWorkers += this.numThreads - 1;
  }
}
