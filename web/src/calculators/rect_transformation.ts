/**
 * Rect enlargement and squaring (MediaPipe's `RectTransformationCalculator`); Python:
 * `vitruvian/calculators/rect_transformation.py`.
 *
 * Rects are {@link NormalizedRect}s: centre and size as fractions of the image's width and height,
 * rotation in radians, clockwise in the image (y down). All arithmetic is float64, as in Python;
 * `Math.cos`/`Math.sin` may differ from the C library's by one float64 ulp.
 */

import type { NormalizedRect } from "../types.js";

/**
 * Wrap an angle in radians to [-pi, pi] (pi itself only through rounding) (Python:
 * `normalize_radians`).
 *
 * @throws RangeError if the angle is not finite (Python: `ValueError`).
 */
export function normalizeRadians(angle: number): number {
  if (!Number.isFinite(angle)) {
    throw new RangeError(`angle must be a finite number of radians, got ${nonFiniteText(angle)}`);
  }
  return angle - 2 * Math.PI * Math.floor((angle + Math.PI) / (2 * Math.PI));
}

/** Python's `max(a, b)`: `b` only if `b > a` (so NaN in `b` is skipped, NaN in `a` kept). */
function pythonMax(a: number, b: number): number {
  return b > a ? b : a;
}

/** Python's `str()` of a non-finite float: `nan`, `inf`, `-inf`. */
function nonFiniteText(value: number): string {
  return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
}

/** Options of {@link transformRect}; each defaults as in Python. */
export interface RectTransformation {
  /** Factor on the width, after squaring (default 1). */
  scaleX?: number;
  /** Factor on the height, after squaring (default 1). */
  scaleY?: number;
  /** Shift of the centre along the rect's rotated x axis, in units of its width (default 0). */
  shiftX?: number;
  /** Shift of the centre along the rect's rotated y axis, in units of its height (default 0). */
  shiftY?: number;
  /** Make the rect square in pixels with its longer side, before scaling (default false). */
  squareLong?: boolean;
}

/**
 * Shift (in units of the rect's size, along its rotated axes), square and scale a rect (Python:
 * `transform_rect`). `squareLong` makes the rect square in *pixels* with the longer side; scaling
 * comes last. A new rect, normalised over the same `imageWidth` x `imageHeight` pixel image; the
 * rotation is unchanged.
 */
export function transformRect(
  rect: NormalizedRect,
  imageWidth: number,
  imageHeight: number,
  transformation: RectTransformation = {},
): NormalizedRect {
  const {
    scaleX = 1.0,
    scaleY = 1.0,
    shiftX = 0.0,
    shiftY = 0.0,
    squareLong = false,
  } = transformation;
  let { width, height } = rect;
  const rotation = rect.rotation;
  let xCenter = rect.xCenter;
  let yCenter = rect.yCenter;
  // Python's `if shift_x or shift_y`: NaN is true there.
  if (shiftX !== 0 || shiftY !== 0) {
    if (rotation === 0.0) {
      xCenter += width * shiftX;
      yCenter += height * shiftY;
    } else {
      const dx = imageWidth * width * shiftX;
      const dy = imageHeight * height * shiftY;
      const c = Math.cos(rotation);
      const s = Math.sin(rotation);
      xCenter += (dx * c - dy * s) / imageWidth;
      yCenter += (dx * s + dy * c) / imageHeight;
    }
  }
  if (squareLong) {
    const longSide = pythonMax(width * imageWidth, height * imageHeight);
    width = longSide / imageWidth;
    height = longSide / imageHeight;
  }
  return { xCenter, yCenter, width: width * scaleX, height: height * scaleY, rotation };
}
