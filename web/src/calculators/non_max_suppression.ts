/**
 * Weighted non-maximum suppression (MediaPipe's `NonMaxSuppressionCalculator`, WEIGHTED);
 * Python: `vitruvian/calculators/non_max_suppression.py`.
 *
 * Detections are visited by decreasing score. Each one gathers every remaining detection whose IoU
 * with it exceeds the threshold (itself included) and is replaced by their score-weighted average
 * box and keypoints; it keeps its own score. A group whose scores are all 0 keeps the top
 * detection's box and keypoints as they are. Groups whose scores add up to less than 1e-30 are
 * averaged in float64, where float32 would lose the weights to underflow; every other group is
 * averaged in float32, as MediaPipe does.
 *
 * Boxes are `[xmin, ymin, xmax, ymax]` and keypoints `[x, y]` pairs, in any one normalised frame
 * (the detector input's, or the image's). Arithmetic follows numpy's: float32 on float32 inputs,
 * with numpy's summation orders (pairwise for the total score, row by row for the weighted sums),
 * so the results equal Python's bit for bit.
 */

import { pairwiseSum } from "../numpy.js";
import type { Matrix, RawDetections } from "../types.js";

/**
 * Below this total score, float32 products of coordinates and scores underflow (Python:
 * `_FLOAT32_SAFE_TOTAL`).
 */
const FLOAT32_SAFE_TOTAL = 1e-30;

const identity = (value: number): number => value;

type Rounding = (value: number) => number;

/** float32 rounding if every array is float32 (numpy's result dtype), else none (float64). */
function roundingOf(...arrays: ArrayLike<number>[]): Rounding {
  return arrays.every((a) => a instanceof Float32Array) ? Math.fround : identity;
}

/**
 * Intersection over union of one `[xmin, ymin, xmax, ymax]` box with each row of `(K, 4)` boxes
 * (Python: `non_max_suppression.iou`). A pair whose union is not positive has IoU 0. Computed in
 * float32 (a `Float32Array` result) when `boxes` is float32, else in float64.
 */
export function iou(box: ArrayLike<number>, boxes: Matrix): Float32Array | Float64Array {
  const f = roundingOf(boxes.data);
  const b = boxes.data;
  const out =
    b instanceof Float32Array ? new Float32Array(boxes.rows) : new Float64Array(boxes.rows);
  const x0 = f(box[0] as number);
  const y0 = f(box[1] as number);
  const x1 = f(box[2] as number);
  const y1 = f(box[3] as number);
  const area = f(f(x1 - x0) * f(y1 - y0));
  for (let i = 0; i < boxes.rows; i++) {
    const bx0 = b[i * 4] as number;
    const by0 = b[i * 4 + 1] as number;
    const bx1 = b[i * 4 + 2] as number;
    const by1 = b[i * 4 + 3] as number;
    const ix = Math.max(f(Math.min(x1, bx1) - Math.max(x0, bx0)), 0);
    const iy = Math.max(f(Math.min(y1, by1) - Math.max(y0, by0)), 0);
    const inter = f(ix * iy);
    const areas = f(f(bx1 - bx0) * f(by1 - by0));
    const union = f(f(area + areas) - inter);
    out[i] = union > 0 ? f(inter / union) : 0.0;
  }
  return out;
}

/** A new zeroed array of `length` values of the same type as `data`. */
function like(data: Float32Array | Float64Array, length: number): Float32Array | Float64Array {
  return data instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** Row `i` of `m`. */
function row(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}

/** The row-by-row sum of `rows[members] * weights` (numpy's `(a * w[:, None]).sum(0)`). */
function weightedRowSum(
  m: Matrix,
  members: readonly number[],
  weights: readonly number[],
  round: Rounding,
): number[] {
  const out = new Array<number>(m.cols).fill(0);
  members.forEach((member, j) => {
    const w = weights[j] as number;
    for (let c = 0; c < m.cols; c++) {
      const product = round((m.data[member * m.cols + c] as number) * w);
      out[c] = j === 0 ? product : round((out[c] as number) + product);
    }
  });
  return out;
}

/**
 * Merge overlapping detections (Python: `weighted_non_max_suppression`).
 *
 * @param detections decoded detections (any order), scores in [0, 1]; `keypoints` `(K, 2 * n)`.
 * @param iouThreshold detections overlapping more than this are merged (0.3 for BlazePose);
 *   compared in the boxes' precision (float32 for float32 boxes, as numpy does).
 * @param maxDetections stop after this many outputs (`null`: no limit).
 * @returns float32 detections sorted by decreasing score (ties in input order; NaN scores last),
 *   in the same frame as the input.
 */
export function weightedNonMaxSuppression(
  detections: RawDetections,
  iouThreshold = 0.3,
  maxDetections: number | null = null,
): RawDetections {
  const { boxes: inBoxes, keypoints: inKps, scores: inScores } = detections;
  const n = inScores.length;
  // np.argsort(-scores, kind="stable"): ascending negated scores, NaN last, ties by index.
  const order = Array.from({ length: n }, (_, i) => i);
  const key = (i: number): number => -(inScores[i] as number);
  order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (Number.isNaN(ka)) return Number.isNaN(kb) ? 0 : 1;
    if (Number.isNaN(kb)) return -1;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const take = (m: Matrix): Matrix => {
    const data = like(m.data, n * m.cols);
    order.forEach((src, dst) => {
      data.set(m.data.subarray(src * m.cols, (src + 1) * m.cols), dst * m.cols);
    });
    return { rows: n, cols: m.cols, data };
  };
  const boxes = take(inBoxes);
  const kps = take(inKps);
  const scores = order.map((i) => inScores[i] as number);
  const scores32 = inScores instanceof Float32Array;
  const boxRound = roundingOf(boxes.data, inScores);
  const kpRound = roundingOf(kps.data, inScores);
  const totalRound: Rounding = scores32 ? Math.fround : identity;
  const safeTotal = totalRound(FLOAT32_SAFE_TOTAL);
  const threshold = roundingOf(boxes.data)(iouThreshold);

  const outBoxes: number[] = [];
  const outKps: number[] = [];
  const outScores: number[] = [];
  let remaining = Array.from({ length: n }, (_, i) => i);
  while (remaining.length > 0) {
    const top = remaining[0] as number;
    const candidates: Matrix = {
      rows: remaining.length,
      cols: 4,
      data: like(boxes.data, remaining.length * 4),
    };
    remaining.forEach((r, j) => {
      candidates.data.set(boxes.data.subarray(r * 4, r * 4 + 4), j * 4);
    });
    const ious = iou(row(boxes, top), candidates);
    const overlap = Array.from(ious, (value) => value > threshold);
    if (!overlap[0]) {
      // A zero-area box does not overlap itself: MediaPipe outputs it as it is and stops.
      outBoxes.push(...row(boxes, top));
      outKps.push(...row(kps, top));
      outScores.push(scores[top] as number);
      break;
    }
    const members = remaining.filter((_, j) => overlap[j]);
    const w = members.map((m) => scores[m] as number);
    const total = pairwiseSum(w, 0, w.length, totalRound);
    if (total >= safeTotal) {
      const boxSum = weightedRowSum(boxes, members, w, boxRound);
      const kpSum = weightedRowSum(kps, members, w, kpRound);
      outBoxes.push(...boxSum.map((v) => boxRound(v / total)));
      outKps.push(...kpSum.map((v) => kpRound(v / total)));
    } else if (total > 0) {
      const total64 = pairwiseSum(w, 0, w.length, identity);
      outBoxes.push(...weightedRowSum(boxes, members, w, identity).map((v) => v / total64));
      outKps.push(...weightedRowSum(kps, members, w, identity).map((v) => v / total64));
    } else {
      outBoxes.push(...row(boxes, top));
      outKps.push(...row(kps, top));
    }
    outScores.push(scores[top] as number);
    remaining = remaining.filter((_, j) => !overlap[j]);
    if (maxDetections !== null && outScores.length >= maxDetections) break;
  }
  return {
    boxes: { rows: outScores.length, cols: 4, data: Float32Array.from(outBoxes) },
    keypoints: { rows: outScores.length, cols: inKps.cols, data: Float32Array.from(outKps) },
    scores: Float32Array.from(outScores),
  };
}
