/**
 * Temporal smoothing of the segmentation mask (MediaPipe's `SegmentationSmoothingCalculator`);
 * Python: `vitruvian/calculators/segmentation_smoothing.py`.
 *
 * Masks are `(height, width)` matrices of person probabilities in [0, 1], one per image pixel.
 * Each pixel moves from the new mask value towards the previous (smoothed) one by
 * `ratio * uncertainty(new)`, where the uncertainty is 1 at p = 0.5 and falls to 0 for confident
 * pixels (a polynomial fit of a squared binary-entropy term). Every step is float32 in the
 * Python's order, so results equal Python's bit for bit.
 */

import type { Matrix } from "../types.js";

/** `pose_segmentation_filtering.pbtxt`: weight of the previous mask for an unsure pixel. */
export const COMBINE_WITH_PREVIOUS_RATIO = 0.7;

const C1 = Math.fround(5.68842);
const C2 = Math.fround(-0.748699);
const C3 = Math.fround(-57.8051);
const C4 = Math.fround(291.309);
const C5 = Math.fround(-624.717);

/**
 * Blend `current` (mask in [0, 1]) with `previous` (the last smoothed mask, same shape, else
 * throws) into a new float32 matrix: with `x = (p - 0.5)^2` and the polynomial
 * `w = ((((C5 x + C4) x + C3) x + C2) x + C1) x`,
 * `out = p + (prev - p) * ratio * (1 - min(1, w))`.
 * Both masks are rounded to float32 first.
 */
export function smoothSegmentation(
  current: Matrix,
  previous: Matrix,
  ratio: number = COMBINE_WITH_PREVIOUS_RATIO,
): Matrix {
  if (current.rows !== previous.rows || current.cols !== previous.cols) {
    const shapes = `(${current.rows}, ${current.cols}) vs (${previous.rows}, ${previous.cols})`;
    throw new Error(`mask shapes differ: ${shapes}`);
  }
  const r = Math.fround(ratio);
  const f = Math.fround;
  const cur = current.data;
  const prev = previous.data;
  const n = current.rows * current.cols;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = f(cur[i] as number);
    let x = f(p - 0.5);
    x = f(x * x);
    let weight = f(x * C5);
    weight = f(f(weight + C4) * x);
    weight = f(f(weight + C3) * x);
    weight = f(f(weight + C2) * x);
    weight = f(f(weight + C1) * x);
    weight = Math.min(weight, 1.0);
    weight = f(1.0 - weight);
    weight = f(weight * r);
    out[i] = f(f(f(prev[i] as number) - p) * weight) + p;
  }
  return { rows: current.rows, cols: current.cols, data: out };
}
