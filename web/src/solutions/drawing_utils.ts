/**
 * `@mediapipe/drawing_utils` (0.3.1675466124): landmarks, connections and rectangles drawn on a
 * 2-D canvas, with the same names, signatures, defaults and behaviour, so that MediaPipe's
 * examples draw the same pixels. Python: `vitruvian/solutions/drawing_utils.py`.
 *
 * Coordinates are normalised: `x` and `y` in [0, 1] of the canvas width and height (as
 * `results.poseLandmarks`); `z` is not used. A style value may be a function of
 * `{index, from, to}` (the landmark, or the connection's two ends) except `visibilityMin`.
 *
 * ```js
 * drawConnectors(ctx, results.poseLandmarks, POSE_CONNECTIONS, {color: '#00FF00', lineWidth: 4});
 * drawLandmarks(ctx, results.poseLandmarks, {color: '#FF0000', lineWidth: 2});
 * ```
 */

import type { NormalizedLandmark, NormalizedLandmarkList } from "./pose.js";

/**
 * The rectangle `drawRectangle` takes (`@mediapipe/drawing_utils`'s `NormalizedRect`):
 * normalised to the canvas, `rotation` in degrees, clockwise. (MediaPipe's own rects, and
 * `NormalizedRect` in `types.ts`, have the rotation in radians; drawing_utils reads
 * degrees, and so does this one, so that the same call draws the same rectangle.)
 */
export interface DrawingRect {
  xCenter: number;
  yCenter: number;
  width: number;
  height: number;
  rotation: number;
}

/** What a style function is given: the landmark's (or connection's) index and its end(s). */
export interface Data {
  index?: number;
  from?: NormalizedLandmark;
  to?: NormalizedLandmark;
}

/** A style value, or a function computing it from {@link Data}. */
export type Fn<I, O> = (input: I) => O;
type Paint = string | CanvasGradient | CanvasPattern;

/** Drawing options; what is left out takes the defaults (see {@link DEFAULT_STYLE}). */
export interface DrawingOptions {
  /** Stroke colour (default white). */
  color?: Paint | Fn<Data, Paint>;
  /** Fill colour of landmarks and rectangles (default: `color` as given, else the context's). */
  fillColor?: Paint | Fn<Data, Paint>;
  /** Line width in canvas pixels (default 4). */
  lineWidth?: number | Fn<Data, number>;
  /** Landmark circle radius in canvas pixels (default 6). */
  radius?: number | Fn<Data, number>;
  /** Landmarks whose visibility is not above this are not drawn (default 0.5). */
  visibilityMin?: number;
}

/** Pairs of landmark indices to join with a line. */
export type LandmarkConnectionArray = Array<[number, number]>;
/** Several lists of landmarks. */
export type NormalizedLandmarkListList = NormalizedLandmarkList[];

/** `@mediapipe/drawing_utils`'s defaults. */
export const DEFAULT_STYLE = Object.freeze({
  color: "white",
  lineWidth: 4,
  radius: 6,
  visibilityMin: 0.5,
});

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

interface Style {
  color: Paint | Fn<Data, Paint>;
  fillColor: Paint | Fn<Data, Paint> | undefined;
  lineWidth: number | Fn<Data, number>;
  radius: number | Fn<Data, number>;
  visibilityMin: number;
}

/** The options over the defaults; `fillColor` defaults to the `color` given (if any). */
function withDefaults(style: DrawingOptions | undefined): Style {
  const given = style ?? {};
  return { ...DEFAULT_STYLE, fillColor: given.color, ...given } as Style;
}

function resolve<T>(value: T | Fn<Data, T>, data: Data): T {
  return typeof value === "function" ? (value as Fn<Data, T>)(data) : value;
}

function isShown(landmark: NormalizedLandmark, visibilityMin: number): boolean {
  return landmark.visibility === undefined || landmark.visibility > visibilityMin;
}

/** `x` limited to the interval between `x0` and `x1` (in either order). */
export function clamp(x: number, x0: number, x1: number): number {
  const low = Math.min(x0, x1);
  const high = Math.max(x0, x1);
  return Math.max(low, Math.min(high, x));
}

/**
 * `y0` at `x0` to `y1` at `x1`, linearly in between, clamped to [`y0`, `y1`] outside (e.g. a
 * radius from a depth: `lerp(landmark.z, -0.15, 0.1, 10, 1)`).
 */
export function lerp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  const t = (x - x0) / (x1 - x0);
  return clamp(y0 * (1 - t) + y1 * t, y0, y1);
}

/**
 * A filled, outlined circle on each landmark shown (visibility absent or above
 * `visibilityMin`). As in MediaPipe, `index` given to style functions counts the landmarks
 * drawn so far, not the landmark's position in the list.
 */
export function drawLandmarks(
  ctx: Context2D,
  landmarks?: NormalizedLandmarkList,
  style?: DrawingOptions,
): void {
  if (!landmarks) return;
  const s = withDefaults(style);
  const { width, height } = ctx.canvas;
  ctx.save();
  let index = 0;
  for (const landmark of landmarks) {
    if (landmark === undefined || !isShown(landmark, s.visibilityMin)) continue;
    const data: Data = { index, from: landmark };
    if (s.fillColor !== undefined) ctx.fillStyle = resolve(s.fillColor, data);
    ctx.strokeStyle = resolve(s.color, data);
    ctx.lineWidth = resolve(s.lineWidth, data);
    const circle = new Path2D();
    circle.arc(landmark.x * width, landmark.y * height, resolve(s.radius, data), 0, 2 * Math.PI);
    ctx.fill(circle);
    ctx.stroke(circle);
    index++;
  }
  ctx.restore();
}

/**
 * A line for each connection whose two landmarks exist and are shown. `index` given to style
 * functions is the connection's position in `connections`.
 */
export function drawConnectors(
  ctx: Context2D,
  landmarks?: NormalizedLandmarkList,
  connections?: LandmarkConnectionArray,
  style?: DrawingOptions,
): void {
  if (!landmarks || !connections) return;
  const s = withDefaults(style);
  const { width, height } = ctx.canvas;
  ctx.save();
  connections.forEach(([start, end], index) => {
    const from = landmarks[start];
    const to = landmarks[end];
    if (!from || !to || !isShown(from, s.visibilityMin) || !isShown(to, s.visibilityMin)) return;
    const data: Data = { index, from, to };
    ctx.strokeStyle = resolve(s.color, data);
    ctx.lineWidth = resolve(s.lineWidth, data);
    ctx.beginPath();
    ctx.moveTo(from.x * width, from.y * height);
    ctx.lineTo(to.x * width, to.y * height);
    ctx.stroke();
  });
  ctx.restore();
}

/** A rectangle rotated about its centre by `rect.rotation` degrees, outlined and filled. */
export function drawRectangle(ctx: Context2D, rect: DrawingRect, style?: DrawingOptions): void {
  const s = withDefaults(style);
  const { width, height } = ctx.canvas;
  ctx.save();
  ctx.beginPath();
  ctx.lineWidth = resolve(s.lineWidth, {});
  ctx.strokeStyle = resolve(s.color, {});
  if (s.fillColor !== undefined) ctx.fillStyle = resolve(s.fillColor, {});
  ctx.translate(rect.xCenter * width, rect.yCenter * height);
  ctx.rotate((rect.rotation * Math.PI) / 180);
  const [w, h] = [rect.width * width, rect.height * height];
  ctx.rect(-w / 2, -h / 2, w, h);
  ctx.stroke();
  ctx.fill();
  ctx.restore();
}
