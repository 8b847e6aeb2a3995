/**
 * Landmark refinement from the heatmap (MediaPipe's `RefineLandmarksFromHeatmapCalculator`);
 * Python: `vitruvian/calculators/refine_from_heatmap.py`.
 *
 * Landmarks are normalised over the landmark model's input tensor (x a fraction of its width, y
 * of its height). For each landmark, the heatmap cell under it is found (C++-style truncation
 * toward zero of `x * width`, `y * height`); the `kernelSize` square window around that cell,
 * clipped at the heatmap's borders, goes through a float32 sigmoid; if the window's peak
 * confidence reaches `minConfidenceToRefine`, x and y become the confidence-weighted mean cell
 * column / row divided by the heatmap width / height. Landmarks whose cell is outside the heatmap
 * are left as they are.
 *
 * The sums repeat numpy's: the float32 total confidence and the float64 weighted positions are
 * summed over the window in numpy's pairwise order ({@link pairwiseSum}), so results are the
 * Python ones up to the float32 sigmoid's rounding (see `sigmoidFloat32`).
 */

import { pairwiseSum } from "../numpy.js";
import type { Matrix } from "../types.js";
import { sigmoidFloat32 } from "./tensors_to_detections.js";

/**
 * A heatmap tensor of `height` x `width` cells with `channels` channels (one per landmark),
 * channels last: cell `(row, col)`'s channel `c` is `data[(row * width + col) * channels + c]`.
 * Values are raw logits. Defined here for this module (the Python takes an `(H, W, N)` array).
 */
export interface HeatmapTensor {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: ArrayLike<number>;
}

/**
 * The window size MediaPipe 0.10.14's Python solution uses (the calculator's default, 9; the
 * pose graph's 7 differs by up to ~15 px). Python: `KERNEL_SIZE`.
 */
export const HEATMAP_KERNEL_SIZE = 9;
/** Peak window confidence needed to refine a landmark. Python: `MIN_CONFIDENCE_TO_REFINE`. */
export const MIN_CONFIDENCE_TO_REFINE = 0.5;

const identity = (value: number): number => value;

/**
 * A refined float32 copy of `landmarks` (`(N, >= 2)`, normalised over the tensor; only columns
 * 0 and 1, x and y, change).
 *
 * @param heatmap raw logits, one channel per landmark (`channels` must equal N, else throws).
 * @param kernelSize window side in cells (odd; an even size `k` gives a `k - 1` window, as in
 *   Python, whose window is `2 * ((k - 1) // 2) + 1` cells). Must be at least 1.
 * @param minConfidenceToRefine peak sigmoid confidence in the window needed to refine.
 */
export function refineFromHeatmap(
  landmarks: Matrix,
  heatmap: HeatmapTensor,
  kernelSize: number = HEATMAP_KERNEL_SIZE,
  minConfidenceToRefine: number = MIN_CONFIDENCE_TO_REFINE,
): Matrix {
  const { height: hmH, width: hmW, channels } = heatmap;
  if (channels !== landmarks.rows) {
    throw new Error(`heatmap has ${channels} channels for ${landmarks.rows} landmarks`);
  }
  if (landmarks.cols < 2) throw new Error("landmarks need at least 2 columns (x, y)");
  if (!(kernelSize >= 1)) throw new Error(`kernel size must be at least 1, got ${kernelSize}`);
  const cols = landmarks.cols;
  const out = Float32Array.from(landmarks.data);
  const offset = Math.floor((kernelSize - 1) / 2);
  const size = 2 * offset + 1;
  const count = size * size;
  const conf = new Float32Array(count);
  const weightedCol = new Float64Array(count);
  const weightedRow = new Float64Array(count);
  const data = heatmap.data;
  // numpy compares the float32 peak with the threshold rounded to float32 (a weak Python float).
  const threshold = Math.fround(minConfidenceToRefine);
  for (let n = 0; n < landmarks.rows; n++) {
    // C++ int conversion truncates toward zero.
    const col = Math.trunc(Math.fround((out[n * cols] as number) * hmW));
    const row = Math.trunc(Math.fround((out[n * cols + 1] as number) * hmH));
    if (!(col >= 0 && col < hmW && row >= 0 && row < hmH)) continue;
    let peak = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < size; i++) {
      const r = row - offset + i;
      const rowValid = r >= 0 && r < hmH;
      const rc = Math.min(Math.max(r, 0), hmH - 1);
      for (let j = 0; j < size; j++) {
        const c = col - offset + j;
        const valid = rowValid && c >= 0 && c < hmW;
        const cc = Math.min(Math.max(c, 0), hmW - 1);
        const logit = Math.fround(data[(rc * hmW + cc) * channels + n] as number);
        // sigmoid * valid: a clipped (invalid) cell weighs 0 (NaN stays NaN, as in numpy).
        const k = i * size + j;
        const value = Math.fround(sigmoidFloat32(logit) * (valid ? 1 : 0));
        conf[k] = value;
        peak = Math.max(peak, value);
        // float32 confidence times an int64 cell index: float64 in numpy.
        weightedCol[k] = value * c;
        weightedRow[k] = value * r;
      }
    }
    const total = Math.fround(0 + pairwiseSum(conf, 0, count, Math.fround));
    if (!(peak >= threshold && total > 0)) continue;
    const wcol = 0 + pairwiseSum(weightedCol, 0, count, identity);
    const wrow = 0 + pairwiseSum(weightedRow, 0, count, identity);
    out[n * cols] = wcol / hmW / total;
    out[n * cols + 1] = wrow / hmH / total;
  }
  return { rows: landmarks.rows, cols, data: out };
}
