/**
 * Region of interest from a pose detection (MediaPipe's `PoseDetectionToRoi` subgraph:
 * `AlignmentPointsRectsCalculator` then `RectTransformationCalculator`); Python:
 * `vitruvian/calculators/detection_to_roi.py`.
 *
 * The detector's keypoint 0 is the hip midpoint and keypoint 1 a point on the circle enclosing the
 * body (the "Vitruvian man" circle). The ROI is centred on the hips, its side twice the radius,
 * rotated so the hips-to-circle-point vector points up, then enlarged 1.25x and made square.
 *
 * Points are normalised image coordinates (x a fraction of the image width, y of its height,
 * (0, 0) the top-left corner, y down); rects are {@link NormalizedRect}s (rotation in radians,
 * clockwise in the image). All arithmetic is float64, as in Python; `Math.atan2`, `Math.hypot`,
 * `Math.cos` and `Math.sin` may differ from CPython's by an ulp or so of float64.
 *
 * Degenerate geometry is handled so that no later stage divides by zero: a ROI is never smaller
 * than {@link MIN_ROI_SIDE_PX} (two alignment points that coincide give that tiny square), and
 * non-finite keypoints throw. {@link roiProblem} / {@link checkRoi} say whether a rect can be used
 * at all; their messages are Python's, character for character. Python's `ValueError` is a
 * `RangeError` here.
 */

import type { Matrix, NormalizedRect } from "../types.js";
import { normalizeRadians, transformRect } from "./rect_transformation.js";

/** `pose_detection_to_roi.pbtxt`: the keypoint the rotation vector starts at (the hips). */
export const ROTATION_START_KEYPOINT = 0;
/** `pose_detection_to_roi.pbtxt`: the keypoint the rotation vector ends at (the body circle). */
export const ROTATION_END_KEYPOINT = 1;
/**
 * The rotation vector's target direction: 90 degrees (up, counter-clockwise from the x axis with
 * y up), in radians (Python: `math.radians(90.0)`).
 */
export const TARGET_ANGLE = 90.0 * (Math.PI / 180.0);
/** Enlargement of the alignment square. */
export const ROI_SCALE = 1.25;
/** The smallest ROI side (pixels) the pipeline works with. */
export const MIN_ROI_SIDE_PX = 1e-3;
/**
 * A usable ROI's size, and its centre's distance from the image, are at most this many times the
 * image's longer side.
 */
export const MAX_ROI_EXTENT = 100.0;
/** A person box's ROI: a square of the box's longer side times this, centred on the box. */
export const BOX_ROI_SCALE = 1.25;

/** Python's `max(a, b)`: `b` only if `b > a`. */
function pythonMax(a: number, b: number): number {
  return b > a ? b : a;
}

/** Python's `min(a, b)`: `b` only if `b < a`. */
function pythonMin(a: number, b: number): number {
  return b < a ? b : a;
}

/** Python's `repr()` of a float (`0.5`, `1.0`, `1e-05`, `1e+16`, `nan`, `-inf`). */
function pythonRepr(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  // toExponential() gives the shortest round-tripping digits, as Python's repr does.
  const [mantissa, exp] = value.toExponential().split("e") as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  let text: string;
  if (exponent < 0) {
    text = `0.${"0".repeat(-exponent - 1)}${digits}`;
  } else if (digits.length > exponent + 1) {
    text = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    text = `${digits.padEnd(exponent + 1, "0")}.0`;
  }
  return sign + text;
}

/** The exact decimal digits of a positive finite double and the power of ten of the last one. */
function exactDecimal(value: number): { digits: string; exp10: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp2 = (biased === 0 ? 1 : biased) - 1075;
  if (exp2 >= 0) return { digits: (mantissa << BigInt(exp2)).toString(), exp10: 0 };
  // m * 2^-k = m * 5^k * 10^-k.
  return { digits: (mantissa * 5n ** BigInt(-exp2)).toString(), exp10: exp2 };
}

/**
 * Python's `format(value, "g")`: 6 significant digits (rounded half to even on the exact binary
 * value, as Python does), fixed notation for decimal exponents in [-4, 6), scientific otherwise,
 * trailing zeros removed.
 */
function pythonFormatG(value: number): string {
  const precision = 6;
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  if (value === 0) return `${sign}0`;
  const { digits, exp10 } = exactDecimal(Math.abs(value));
  let exponent = digits.length - 1 + exp10;
  let kept = digits.slice(0, precision).padEnd(precision, "0");
  const rest = digits.slice(precision);
  if (rest.length > 0) {
    const half = "5".padEnd(rest.length, "0");
    const last = Number(kept[precision - 1]);
    if (rest > half || (rest === half && last % 2 === 1)) {
      const up = (BigInt(kept) + 1n).toString();
      if (up.length > precision) {
        kept = up.slice(0, precision);
        exponent += 1;
      } else {
        kept = up;
      }
    }
  }
  let text: string;
  if (exponent >= -4 && exponent < precision) {
    if (exponent >= 0) {
      text = `${kept.slice(0, exponent + 1)}.${kept.slice(exponent + 1)}`;
    } else {
      text = `0.${"0".repeat(-exponent - 1)}${kept}`;
    }
    text = text.replace(/0+$/, "").replace(/\.$/, "");
  } else {
    const mantissa = `${kept[0]}.${kept.slice(1)}`.replace(/0+$/, "").replace(/\.$/, "");
    const expSign = exponent < 0 ? "-" : "+";
    text = `${mantissa}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return sign + text;
}

/** Python's `repr()` of a `NormalizedRect` dataclass with float fields. */
function rectRepr(rect: NormalizedRect): string {
  const field = (value: unknown): string =>
    typeof value === "number" ? pythonRepr(value) : JSON.stringify(value) ?? String(value);
  return (
    `NormalizedRect(x_center=${field(rect.xCenter)}, y_center=${field(rect.yCenter)}, ` +
    `width=${field(rect.width)}, height=${field(rect.height)}, rotation=${field(rect.rotation)})`
  );
}

/**
 * Why `rect` cannot be used as a region of interest on an `imageWidth` x `imageHeight` pixel
 * image, or `null` if it can (Python: `roi_problem`).
 *
 * A usable rect has finite number fields, a width and a height of at least
 * {@link MIN_ROI_SIDE_PX} pixels, and a size and centre within {@link MAX_ROI_EXTENT} times the
 * image's longer side of the image. The message is Python's (for float fields).
 */
export function roiProblem(
  rect: NormalizedRect,
  imageWidth: number,
  imageHeight: number,
): string | null {
  const values: unknown[] = [rect.xCenter, rect.yCenter, rect.width, rect.height, rect.rotation];
  if (!values.every((v) => typeof v === "number")) {
    return `has a field that is not a number (${rectRepr(rect)})`;
  }
  if (!(values as number[]).every((v) => Number.isFinite(v))) {
    return `has a field that is not finite (${rectRepr(rect)})`;
  }
  const widthPx = rect.width * imageWidth;
  const heightPx = rect.height * imageHeight;
  if (pythonMin(widthPx, heightPx) < MIN_ROI_SIDE_PX) {
    return (
      `is ${pythonFormatG(widthPx)} x ${pythonFormatG(heightPx)} px; width and height must be ` +
      `at least ${pythonFormatG(MIN_ROI_SIDE_PX)} px`
    );
  }
  const limit = MAX_ROI_EXTENT * pythonMax(imageWidth, imageHeight);
  const centreOffset = pythonMax(
    Math.abs(rect.xCenter * imageWidth - imageWidth / 2),
    Math.abs(rect.yCenter * imageHeight - imageHeight / 2),
  );
  if (pythonMax(widthPx, heightPx) > limit || centreOffset > limit) {
    return (
      `is ${pythonFormatG(widthPx)} x ${pythonFormatG(heightPx)} px centred ` +
      `${pythonFormatG(centreOffset)} px from the image centre; a region more than ` +
      `${pythonFormatG(MAX_ROI_EXTENT)} times the image's longer side ` +
      `(${pythonFormatG(limit)} px) larger or farther away cannot hold the person`
    );
  }
  return null;
}

/**
 * Return `rect` if it is usable on the image (Python: `check_roi`; see {@link roiProblem}).
 *
 * @throws RangeError naming what is wrong with the rect (Python's `ValueError` message).
 */
export function checkRoi(
  rect: NormalizedRect,
  imageWidth: number,
  imageHeight: number,
): NormalizedRect {
  const problem = roiProblem(rect, imageWidth, imageHeight);
  if (problem !== null) {
    throw new RangeError(
      `roi ${problem}; expected a NormalizedRect inside or around a ` +
        `${imageWidth}x${imageHeight} image, or a box [x_min, y_min, x_max, y_max] in pixels`,
    );
  }
  return rect;
}

/**
 * Rotation (radians, clockwise in the image, wrapped to [-pi, pi]) that turns the vector
 * `start -> end` (normalised `[x, y]` points) to `targetAngle` (radians counter-clockwise from the
 * x axis, with y pointing up) (Python: `compute_rotation`). The vector is taken in pixels.
 */
export function computeRotation(
  start: ArrayLike<number>,
  end: ArrayLike<number>,
  imageWidth: number,
  imageHeight: number,
  targetAngle: number,
): number {
  const x0 = (start[0] as number) * imageWidth;
  const y0 = (start[1] as number) * imageHeight;
  const x1 = (end[0] as number) * imageWidth;
  const y1 = (end[1] as number) * imageHeight;
  return normalizeRadians(targetAngle - Math.atan2(-(y1 - y0), x1 - x0));
}

/**
 * Square rect (in pixels) centred on `center` with side twice the distance to `scalePoint`; both
 * normalised `[x, y]` points, the rect normalised over the same image, rotation 0 (the caller
 * computes it) (Python: `alignment_points_to_rect`).
 */
export function alignmentPointsToRect(
  center: ArrayLike<number>,
  scalePoint: ArrayLike<number>,
  imageWidth: number,
  imageHeight: number,
): NormalizedRect {
  const xc = (center[0] as number) * imageWidth;
  const yc = (center[1] as number) * imageHeight;
  const xs = (scalePoint[0] as number) * imageWidth;
  const ys = (scalePoint[1] as number) * imageHeight;
  const size = Math.hypot(xs - xc, ys - yc) * 2.0;
  return {
    xCenter: xc / imageWidth,
    yCenter: yc / imageHeight,
    width: size / imageWidth,
    height: size / imageHeight,
    rotation: 0.0,
  };
}

/**
 * The landmark model's ROI from a detection's normalised keypoints (Python: `detection_to_roi`).
 *
 * @param keypoints `[x0, y0, x1, y1, ...]` pairs normalised over the image (a row of
 *   `RawDetections.keypoints`); keypoints 0 (hips) and 1 (body circle) are used.
 * @returns a rect square in pixels, rotated so the hips-to-circle vector points up, of side
 *   2.5 times the circle's radius and at least {@link MIN_ROI_SIDE_PX} pixels.
 * @throws RangeError if the alignment keypoints (0 and 1) are not finite.
 */
export function detectionToRoi(
  keypoints: ArrayLike<number>,
  imageWidth: number,
  imageHeight: number,
): NormalizedRect {
  const point = (index: number): [number, number] => [
    Number(keypoints[2 * index]),
    Number(keypoints[2 * index + 1]),
  ];
  const start = point(ROTATION_START_KEYPOINT);
  const end = point(ROTATION_END_KEYPOINT);
  if (![...start, ...end].every((v) => Number.isFinite(v))) {
    const show = (p: number[]): string => `[${p.map(pythonRepr).join(" ")}]`;
    throw new RangeError(`alignment keypoints must be finite, got ${show(start)} and ${show(end)}`);
  }
  let rect = alignmentPointsToRect(start, end, imageWidth, imageHeight);
  const rotation = computeRotation(start, end, imageWidth, imageHeight, TARGET_ANGLE);
  rect = { ...rect, rotation };
  rect = transformRect(rect, imageWidth, imageHeight, {
    scaleX: ROI_SCALE,
    scaleY: ROI_SCALE,
    squareLong: true,
  });
  if (rect.width * imageWidth < MIN_ROI_SIDE_PX) {
    rect = {
      ...rect,
      width: MIN_ROI_SIDE_PX / imageWidth,
      height: MIN_ROI_SIDE_PX / imageHeight,
    };
  }
  return rect;
}

/** Rows 0 and 1, columns 0 and 1 of `(>= 2, >= 2)` landmarks, as `[x0, y0, x1, y1]`. */
function alignmentPoints(landmarks: Matrix): [number, number, number, number] {
  if (landmarks.rows < 2 || landmarks.cols < 2) {
    const shape = `${landmarks.rows}x${landmarks.cols}`;
    throw new Error(`need 2 landmarks of at least 2 columns, got ${shape}`);
  }
  const c = landmarks.cols;
  const d = landmarks.data;
  return [d[0] as number, d[1] as number, d[c] as number, d[c + 1] as number];
}

/**
 * The next frame's ROI from the 2 auxiliary alignment landmarks (`PoseLandmarksToRoi`; Python:
 * `landmarks_to_roi`): rows `[x, y, ...]` normalised over the image, the hip midpoint and a point
 * on the body circle, so the ROI is built exactly as from a detection ({@link detectionToRoi}).
 */
export function landmarksToRoi(
  auxiliaryLandmarks: Matrix,
  imageWidth: number,
  imageHeight: number,
): NormalizedRect {
  return detectionToRoi(alignmentPoints(auxiliaryLandmarks), imageWidth, imageHeight);
}

/**
 * The person's size in pixels for landmark smoothing (Python: `object_scale`): the mean side of
 * the (unscaled) alignment rect of the 2 auxiliary landmarks (normalised `[x, y, ...]` rows),
 * i.e. twice the hips-to-circle distance in pixels.
 */
export function objectScale(
  auxiliaryLandmarks: Matrix,
  imageWidth: number,
  imageHeight: number,
): number {
  const [x0, y0, x1, y1] = alignmentPoints(auxiliaryLandmarks);
  const rect = alignmentPointsToRect([x0, y0], [x1, y1], imageWidth, imageHeight);
  return (rect.width * imageWidth + rect.height * imageHeight) / 2.0;
}

/**
 * The landmark model's ROI for a person box from any detector (not part of MediaPipe; Python:
 * `box_to_roi`).
 *
 * @param box `[xMin, yMin, xMax, yMax]` in pixels, enclosing the whole person.
 * @param scale enlargement of the square around the box (default {@link BOX_ROI_SCALE}).
 * @returns an unrotated ROI, square in pixels with the box's longer side times `scale`, centred
 *   on the box, normalised over the image.
 * @throws RangeError if the box is not finite, or `xMax <= xMin` or `yMax <= yMin`, or its size
 *   or centre overflow floating point.
 */
export function boxToRoi(
  box: ArrayLike<number>,
  imageWidth: number,
  imageHeight: number,
  scale: number = BOX_ROI_SCALE,
): NormalizedRect {
  const values = Array.from(box, Number);
  if (values.length !== 4) throw new RangeError(`box must have 4 values, got ${values.length}`);
  const [x0, y0, x1, y1] = values as [number, number, number, number];
  const message =
    "box must be [x_min, y_min, x_max, y_max] in pixels with x_max > x_min and " +
    `y_max > y_min, got [${values.map(pythonRepr).join(", ")}]`;
  if (!(values.every((v) => Number.isFinite(v)) && x1 > x0 && y1 > y0)) {
    throw new RangeError(message);
  }
  const side = pythonMax(x1 - x0, y1 - y0);
  let rect: NormalizedRect = {
    xCenter: (x0 + x1) / 2 / imageWidth,
    yCenter: (y0 + y1) / 2 / imageHeight,
    width: side / imageWidth,
    height: side / imageHeight,
    rotation: 0.0,
  };
  rect = transformRect(rect, imageWidth, imageHeight, { scaleX: scale, scaleY: scale });
  if (![rect.xCenter, rect.yCenter, rect.width, rect.height].every((v) => Number.isFinite(v))) {
    throw new RangeError(`${message} (its size or centre overflows floating point)`);
  }
  return rect;
}
