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
  const file = !relaxedSimd
    ? "litert_wasm_compat_internal.js"
    : canUseThreads()
      ? "litert_wasm_threaded_internal.js"
      : "litert_wasm_internal.js";
  (globalThis as { Module?: unknown }).Module = {
    locateFile: (name: string) => base + name,
    mainScriptUrlOrBlob: base + file,
  };
  return loadLiteRt(base + file);
}

/** A `.tflite` model compiled for LiteRT.js's wasm (CPU) accelerator. */
export class LiteRtModel implements ModelRunner {
  readonly inputShape: readonly number[];
  readonly outputShapes: readonly (readonly number[])[];
  private model: CompiledModel | null;

  private constructor(model: CompiledModel) {
    this.model = model;
    const inputs = model.getInputDetails();
    if (inputs.length !== 1) throw new Error(`expected a model with one input, got ${inputs.length}`);
    this.inputShape = Array.from((inputs[0] as { shape: Int32Array }).shape);
    this.outputShapes = model.getOutputDetails().map((o) => Array.from(o.shape));
  }

  /**
   * Compile model bytes (already checked, see `models.ts`) on the wasm accelerator.
   *
   * @param numThreads XNNPACK threads (used only when the page is cross-origin isolated).
   */
  static async create(bytes: Uint8Array, numThreads?: number): Promise<LiteRtModel> {
    const options = numThreads === undefined ? {} : { cpuOptions: { numThreads } };
    const model = await loadAndCompile(bytes, { accelerator: "wasm", ...options });
    return new LiteRtModel(model);
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
    this.model?.delete();
    this.model = null;
  }
}
