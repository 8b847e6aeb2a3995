/**
 * Projection of ROI-relative landmarks to the full image (MediaPipe's
 * `LandmarkProjectionCalculator` and `WorldLandmarkProjectionCalculator`); Python:
 * `vitruvian/calculators/landmark_projection.py`.
 *
 * Rect-normalised landmarks have x, y as fractions of the ROI's width and height, measured in the
 * ROI's own rotated frame ((0, 0) its top-left corner); image-normalised ones are fractions of
 * the image's width and height. The rect is a {@link NormalizedRect} (rotation in radians,
 * clockwise, y down). z stays on the scale of x, so it scales with the rect's width.
 *
 * Arithmetic follows numpy's dtype rules: on float32 landmarks every operation is float32, with
 * the rect's values and the rotation's cosine and sine (computed in float64) rounded to float32
 * first, as numpy does with Python floats; on float64 landmarks it is float64. Results are
 * float32 either way. `Math.cos`/`Math.sin` may differ from the C library's by one float64 ulp,
 * which float32 rounding almost always hides.
 */

import type { Matrix, NormalizedRect } from "../types.js";

const identity = (value: number): number => value;

/** The rounding of numpy's arithmetic on `data`'s dtype, with Python-float scalars. */
function roundingOf(data: Matrix["data"]): (value: number) => number {
  return data instanceof Float32Array ? Math.fround : identity;
}

function checkColumns(landmarks: Matrix, least: number): void {
  if (landmarks.cols < least) {
    throw new Error(`landmarks need at least ${least} columns, got ${landmarks.cols}`);
  }
}

/**
 * Landmarks normalised over `rect` -> normalised over the image (a new float32 matrix).
 *
 * x, y (columns 0, 1) are rotated about the rect centre by its rotation and scaled by its size;
 * z (column 2) is multiplied by the rect width. Other columns are copied. Needs >= 3 columns.
 */
export function projectLandmarks(landmarks: Matrix, rect: NormalizedRect): Matrix {
  checkColumns(landmarks, 3);
  const f = roundingOf(landmarks.data);
  const src = landmarks.data;
  const out = Float32Array.from(src);
  const c = f(Math.cos(rect.rotation));
  const s = f(Math.sin(rect.rotation));
  const width = f(rect.width);
  const height = f(rect.height);
  const xCenter = f(rect.xCenter);
  const yCenter = f(rect.yCenter);
  const cols = landmarks.cols;
  for (let i = 0; i < landmarks.rows; i++) {
    const k = i * cols;
    const x = f((src[k] as number) - 0.5);
    const y = f((src[k + 1] as number) - 0.5);
    out[k] = f(f(f(f(c * x) - f(s * y)) * width) + xCenter);
    out[k + 1] = f(f(f(f(s * x) + f(c * y)) * height) + yCenter);
    out[k + 2] = f((src[k + 2] as number) * width);
  }
  return { rows: landmarks.rows, cols, data: out };
}

/**
 * Inverse of {@link projectLandmarks}: image-normalised -> rect-normalised (a new float32
 * matrix). z is divided by the rect width; other columns beyond 3 are copied.
 */
export function unprojectLandmarks(landmarks: Matrix, rect: NormalizedRect): Matrix {
  checkColumns(landmarks, 3);
  const f = roundingOf(landmarks.data);
  const src = landmarks.data;
  const out = Float32Array.from(src);
  const c = f(Math.cos(rect.rotation));
  const s = f(Math.sin(rect.rotation));
  const minusS = f(-Math.sin(rect.rotation));
  const width = f(rect.width);
  const height = f(rect.height);
  const xCenter = f(rect.xCenter);
  const yCenter = f(rect.yCenter);
  const cols = landmarks.cols;
  for (let i = 0; i < landmarks.rows; i++) {
    const k = i * cols;
    const x = f(f((src[k] as number) - xCenter) / width);
    const y = f(f((src[k + 1] as number) - yCenter) / height);
    out[k] = f(f(f(c * x) + f(s * y)) + 0.5);
    out[k + 1] = f(f(f(minusS * x) + f(c * y)) + 0.5);
    out[k + 2] = f((src[k + 2] as number) / width);
  }
  return { rows: landmarks.rows, cols, data: out };
}

/**
 * World landmarks (metres, `(N, >= 2)`) rotated about the z axis by the rect's rotation, as
 * MediaPipe aligns them with the image (a new float32 matrix; z and other columns copied).
 */
export function projectWorldLandmarks(world: Matrix, rect: NormalizedRect): Matrix {
  checkColumns(world, 2);
  const f = roundingOf(world.data);
  const src = world.data;
  const out = Float32Array.from(src);
  const c = f(Math.cos(rect.rotation));
  const s = f(Math.sin(rect.rotation));
  const cols = world.cols;
  for (let i = 0; i < world.rows; i++) {
    const k = i * cols;
    const x = src[k] as number;
    const y = src[k + 1] as number;
    out[k] = f(f(c * x) - f(s * y));
    out[k + 1] = f(f(s * x) + f(c * y));
  }
  return { rows: world.rows, cols, data: out };
}
