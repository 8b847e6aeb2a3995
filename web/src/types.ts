/**
 * Plain result types of the graph, as in the Python package's `vitruvian/types.py`.
 *
 * Coordinate frames: image landmarks are normalised (x divided by the image width, y by the
 * image height, (0, 0) the top-left corner of the top-left pixel; z a relative depth on the
 * scale of x, origin at the hip midpoint). World landmarks are in metres, origin between the
 * hips, x to image right, y down, z away from the camera.
 */

/** Number of body landmarks BlazePose predicts. */
export const NUM_LANDMARKS = 33;

/**
 * A rotated rectangle in normalised image coordinates (MediaPipe's `NormalizedRect`):
 * `xCenter`/`width` are fractions of the image width, `yCenter`/`height` of its height;
 * `rotation` is in radians, clockwise in the image (y points down).
 */
export interface NormalizedRect {
  xCenter: number;
  yCenter: number;
  width: number;
  height: number;
  rotation: number;
}

/**
 * A row-major matrix of float values: `data[row * cols + col]`. The TypeScript counterpart of
 * the `(rows, cols)` numpy arrays of the Python calculators.
 */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array | Float64Array;
}

/** A matrix of `rows` x `cols` zeros (float64). */
export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/**
 * A rotated rectangle in pixels: centre, size, rotation (radians, clockwise, y down).
 * Python: `image_to_tensor.PixelRect`.
 */
export interface PixelRect {
  centerX: number;
  centerY: number;
  width: number;
  height: number;
  rotation: number;
}

/** Letterbox padding as fractions of the tensor: left, top, right, bottom. */
export interface Padding {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** No padding. */
export const NO_PADDING: Padding = { left: 0, top: 0, right: 0, bottom: 0 };

/**
 * Decoded detections in normalised coordinates (Python: `tensors_to_detections.RawDetections`):
 * `boxes` `(K, 4)` `[xmin, ymin, xmax, ymax]`, `keypoints` `(K, numKeypoints * 2)` `[x, y]`
 * pairs, `scores` `(K)` in [0, 1].
 */
export interface RawDetections {
  boxes: Matrix;
  keypoints: Matrix;
  scores: Float32Array | Float64Array;
}

/**
 * One person found by the detector (Python: `types.Detection`), normalised image coordinates:
 * `box` `[xmin, ymin, xmax, ymax]`; `keypoints` 4 `[x, y]` pairs (hip midpoint, a point on
 * the full-body circle, shoulder midpoint, a point on the upper-body circle); `score` in [0, 1].
 */
export interface Detection {
  box: Float32Array | Float64Array;
  keypoints: Float32Array | Float64Array;
  score: number;
}

/** Column order of {@link PoseResult.landmarks} and {@link PoseResult.worldLandmarks}. */
export const LANDMARK_COLUMNS = ["x", "y", "z", "visibility", "presence"] as const;

/**
 * One pose (Python: `types.PoseResult`).
 *
 * - `landmarks`: `(33, 5)` float32, columns {@link LANDMARK_COLUMNS}, normalised image frame;
 * - `worldLandmarks`: `(33, 5)` float32, same columns, x/y/z in metres (hip-centred);
 * - `segmentationMask`: `(H, W)` float32 in [0, 1] at the input image size, or `null`;
 * - `roi`: the rotated region the landmark model looked at;
 * - `presenceScore`: the landmark model's pose-presence probability in [0, 1];
 * - `detection`: the detection the region came from (`null` when it was given or tracked);
 * - `auxiliaryLandmarks`: `(2, 5)` float32, the alignment points used for tracking.
 */
export interface PoseResult {
  landmarks: Matrix;
  worldLandmarks: Matrix;
  segmentationMask: Matrix | null;
  roi: NormalizedRect;
  presenceScore: number;
  detection: Detection | null;
  auxiliaryLandmarks: Matrix;
}

/** Rows `start` (inclusive) to `end` (exclusive) of `m`, as a float32 copy. */
export function sliceRows(m: Matrix, start: number, end: number): Matrix {
  return {
    rows: end - start,
    cols: m.cols,
    data: Float32Array.from(m.data.subarray(start * m.cols, end * m.cols)),
  };
}
