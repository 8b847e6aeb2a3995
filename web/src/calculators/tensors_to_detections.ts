/**
 * Decoding of the pose detector's raw tensors (MediaPipe's `TensorsToDetectionsCalculator`);
 * Python: `vitruvian/calculators/tensors_to_detections.py`.
 *
 * The detector predicts, for each of its 2254 anchors, 12 numbers: a face box `(dx, dy, w, h)`
 * and 4 keypoints `(dx, dy)`, all in detector-input pixels relative to the anchor, plus one score
 * logit. Decoded boxes and keypoints are normalised to [0, 1] over the letterboxed 224x224
 * detector input ((0, 0) its top-left corner, x to the right, y down).
 *
 * Arithmetic follows numpy's dtype rules, as the Python code runs it: the raw tensors are float32,
 * so is every step on them (option values are rounded to float32 first); with float32 anchors
 * (those of `generateAnchors`) the whole decoding is float32 and equal to Python's bit for bit,
 * with float64 anchors the steps after the multiplication by the anchor are float64 and rounded
 * to float32 at the end, as numpy does.
 */

import type { Matrix, RawDetections } from "../types.js";

/**
 * The subset of `TensorsToDetectionsCalculatorOptions` BlazePose uses (Python:
 * `DetectionDecoding`).
 */
export interface DetectionDecoding {
  /** Keypoints per detection. */
  numKeypoints: number;
  /** Column of the box's `dx` in a row of the regressor output. */
  boxCoordOffset: number;
  /** Column of the first keypoint's `dx` in a row of the regressor output. */
  keypointCoordOffset: number;
  /** Detector-input pixels per anchor unit, for x, y, box width and box height. */
  xScale: number;
  yScale: number;
  wScale: number;
  hScale: number;
  /** Score logits are clipped to [-this, this] before the sigmoid. */
  scoreClippingThresh: number;
}

/**
 * Values from `mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt` (Python:
 * `POSE_DETECTOR_DECODING`).
 */
export const POSE_DETECTOR_DECODING: Readonly<DetectionDecoding> = Object.freeze({
  numKeypoints: 4,
  boxCoordOffset: 0,
  keypointCoordOffset: 4,
  xScale: 224.0,
  yScale: 224.0,
  wScale: 224.0,
  hScale: 224.0,
  scoreClippingThresh: 100.0,
});

const identity = (value: number): number => value;

/** Python's `np.clip(x, lo, hi)`: `minimum(maximum(x, lo), hi)`; NaN stays NaN. */
function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/**
 * The logistic function, elementwise (Python: `tensors_to_detections.sigmoid`): inputs are
 * clipped to [-80, 80] so `exp` cannot overflow; NaN gives NaN.
 *
 * A `Float32Array` is computed in float32 as numpy does (`exp`, `1 + e` and `1 / ...` each rounded
 * to float32) and gives a `Float32Array`; anything else is computed in float64 and gives a
 * `Float64Array`. `Math.exp` is (nearly) correctly rounded while numpy's vectorised float32 `exp`
 * is within 2 ulps, so float32 results can differ from Python's by about one float32 ulp.
 */
export function sigmoid(x: Float32Array): Float32Array;
export function sigmoid(x: Float64Array | readonly number[]): Float64Array;
export function sigmoid(
  x: Float32Array | Float64Array | readonly number[],
): Float32Array | Float64Array;
export function sigmoid(
  x: Float32Array | Float64Array | readonly number[],
): Float32Array | Float64Array {
  if (x instanceof Float32Array) return x.map(sigmoidFloat32);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = 1.0 / (1.0 + Math.exp(-clip(x[i] as number, -80.0, 80.0)));
  }
  return out;
}

/**
 * {@link sigmoid} of one float32 value, in float32: clipped to [-80, 80], then `exp`, `1 + e`
 * and `1 / ...` each rounded to float32, as numpy does on a float32 array (within a few float32
 * ulps of Python's, see {@link sigmoid}). NaN gives NaN. Used by the landmark, heatmap and mask
 * decoders as the Python ones use `sigmoid`.
 */
export function sigmoidFloat32(x: number): number {
  const e = Math.fround(Math.exp(-clip(x, -80.0, 80.0)));
  return Math.fround(1.0 / Math.fround(1.0 + e));
}

/**
 * Decode the detections whose score is at least `minScore` (Python: `tensors_to_detections`).
 *
 * @param rawBoxes the regressor output, `(numAnchors, 4 + 2 * numKeypoints)` (x before y, in
 *   detector-input pixels relative to the anchor), as a matrix or a flat row-major array; its
 *   values are rounded to float32.
 * @param rawScores `numAnchors` score logits (rounded to float32).
 * @param anchors `(numAnchors, 4)` `[xCenter, yCenter, width, height]` rows in normalised
 *   detector-input coordinates, from {@link generateAnchors} (float32).
 * @param minScore minimum probability to keep (`min_detection_confidence`); compared in float32
 *   (rounded to float32 first, as numpy 2 compares a float32 array with a Python float).
 * @returns the kept detections in anchor order: `boxes` `(K, 4)` `[xmin, ymin, xmax, ymax]`,
 *   `keypoints` `(K, 2 * numKeypoints)` `[x, y]` pairs, both normalised over the detector input,
 *   and `scores` `(K)` in [0, 1]; all float32. As MediaPipe does, a box with a negative (or NaN)
 *   width or height is no detection.
 * @throws Error if `rawBoxes` cannot be reshaped to `numAnchors` rows or `rawScores` does not
 *   hold `numAnchors` values.
 */
export function tensorsToDetections(
  rawBoxes: Matrix | ArrayLike<number>,
  rawScores: ArrayLike<number>,
  anchors: Matrix,
  minScore: number,
  options: DetectionDecoding = POSE_DETECTOR_DECODING,
): RawDetections {
  const numAnchors = anchors.rows;
  const rawValues = "data" in rawBoxes ? rawBoxes.data : rawBoxes;
  const cols = numAnchors > 0 ? rawValues.length / numAnchors : 0;
  if (!Number.isInteger(cols) || (numAnchors === 0 && rawValues.length !== 0)) {
    throw new Error(`raw boxes hold ${rawValues.length} values, not a multiple of ${numAnchors}`);
  }
  if (rawScores.length !== numAnchors) {
    throw new Error(`raw scores hold ${rawScores.length} values, expected ${numAnchors}`);
  }
  const raw = Float32Array.from(rawValues);
  const f = Math.fround;
  // numpy: float32 anchors keep the decoding float32, float64 ones make it float64.
  const g = anchors.data instanceof Float32Array ? Math.fround : identity;
  const anc = anchors.data;
  const limit = f(options.scoreClippingThresh);
  const clipped = new Float32Array(numAnchors);
  for (let i = 0; i < numAnchors; i++) clipped[i] = clip(f(rawScores[i] as number), -limit, limit);
  const scores = sigmoid(clipped);
  const threshold = f(minScore);

  const nk = options.numKeypoints;
  const o = options.boxCoordOffset;
  const k = options.keypointCoordOffset;
  const xScale = f(options.xScale);
  const yScale = f(options.yScale);
  const wScale = f(options.wScale);
  const hScale = f(options.hScale);
  const boxes: number[] = [];
  const keypoints: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < numAnchors; i++) {
    if (!((scores[i] as number) >= threshold)) continue;
    const r = i * cols;
    const ax = anc[i * 4] as number;
    const ay = anc[i * 4 + 1] as number;
    const aw = anc[i * 4 + 2] as number;
    const ah = anc[i * 4 + 3] as number;
    const xc = g(g(f((raw[r + o] as number) / xScale) * aw) + ax);
    const yc = g(g(f((raw[r + o + 1] as number) / yScale) * ah) + ay);
    const w = g(f((raw[r + o + 2] as number) / wScale) * aw);
    const h = g(f((raw[r + o + 3] as number) / hScale) * ah);
    if (!(w >= 0 && h >= 0)) continue;
    const halfW = g(w / 2);
    const halfH = g(h / 2);
    boxes.push(g(xc - halfW), g(yc - halfH), g(xc + halfW), g(yc + halfH));
    for (let j = 0; j < nk; j++) {
      const c = r + k + 2 * j;
      keypoints.push(
        g(g(f((raw[c] as number) / xScale) * aw) + ax),
        g(g(f((raw[c + 1] as number) / yScale) * ah) + ay),
      );
    }
    kept.push(scores[i] as number);
  }
  return {
    boxes: { rows: kept.length, cols: 4, data: Float32Array.from(boxes) },
    keypoints: { rows: kept.length, cols: 2 * nk, data: Float32Array.from(keypoints) },
    scores: Float32Array.from(kept),
  };
}
