/**
 * Undo letterboxing (MediaPipe's `DetectionLetterboxRemovalCalculator` and
 * `LandmarkLetterboxRemovalCalculator`); Python: `vitruvian/calculators/letterbox_removal.py`.
 *
 * Coordinates normalised over a letterboxed tensor (fractions of the tensor's width and height,
 * (0, 0) its top-left corner) become normalised over the region that was letterboxed (the ROI or
 * the image): `x' = (x - left) / (1 - left - right)`, likewise for y; z scales like x. The
 * padding is given as fractions of the tensor ({@link Padding}).
 *
 * Arithmetic follows numpy's: `1 - left - right` is float64, then the offsets and scales are
 * rounded to float32 and the coordinates computed in float32 (in float64 for float64 detections,
 * rounded to float32 at the end), so results equal Python's bit for bit.
 */

import type { Matrix, Padding, RawDetections } from "../types.js";

const identity = (value: number): number => value;

/**
 * Map detections out of the letterbox (Python: `remove_detection_letterbox`): boxes
 * `[xmin, ymin, xmax, ymax]` and keypoints `[x, y]` pairs, normalised over the letterboxed tensor,
 * become normalised over the letterboxed region. Boxes and keypoints are new float32 matrices;
 * `scores` is the input's array (not copied).
 */
export function removeDetectionLetterbox(
  detections: RawDetections,
  padding: Padding,
): RawDetections {
  const sx = 1.0 - padding.left - padding.right;
  const sy = 1.0 - padding.top - padding.bottom;
  const offset = [Math.fround(padding.left), Math.fround(padding.top)] as const;
  const scale = [Math.fround(sx), Math.fround(sy)] as const;
  const unbox = (m: Matrix): Matrix => {
    const f = m.data instanceof Float32Array ? Math.fround : identity;
    const out = new Float32Array(m.data.length);
    for (let i = 0; i < m.data.length; i++) {
      // Row-major with an even number of columns: even indices are x, odd ones y.
      const axis = i % 2;
      out[i] = f(f((m.data[i] as number) - offset[axis]) / scale[axis]);
    }
    return { rows: m.rows, cols: m.cols, data: out };
  };
  return {
    boxes: unbox(detections.boxes),
    keypoints: unbox(detections.keypoints),
    scores: detections.scores,
  };
}

/**
 * Map `(N, >= 3)` landmarks `[x, y, z, ...]` out of the letterbox (Python:
 * `remove_landmark_letterbox`): x, y normalised over the letterboxed tensor become normalised over
 * the letterboxed region, z (on the scale of x) is divided by the same factor as x; other columns
 * are copied. A new float32 matrix (the input is rounded to float32 first, then every step is
 * float32).
 */
export function removeLandmarkLetterbox(landmarks: Matrix, padding: Padding): Matrix {
  if (landmarks.cols < 3) {
    throw new Error(`landmarks need at least 3 columns, got ${landmarks.cols}`);
  }
  const f = Math.fround;
  const out = Float32Array.from(landmarks.data);
  const sx = f(1.0 - padding.left - padding.right);
  const sy = f(1.0 - padding.top - padding.bottom);
  const left = f(padding.left);
  const top = f(padding.top);
  const cols = landmarks.cols;
  for (let i = 0; i < landmarks.rows; i++) {
    const k = i * cols;
    out[k] = f(f((out[k] as number) - left) / sx);
    out[k + 1] = f(f((out[k + 1] as number) - top) / sy);
    out[k + 2] = f((out[k + 2] as number) / sx);
  }
  return { rows: landmarks.rows, cols, data: out };
}
