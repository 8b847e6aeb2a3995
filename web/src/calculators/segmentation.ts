/**
 * Segmentation mask decoding (MediaPipe's `TensorsToSegmentationCalculator` with the SIGMOID
 * activation) and warping the mask back over the image (MediaPipe's `WarpAffineCalculator` with
 * the crop's transform and a zero border); Python: `tensor_to_mask` and `mask_to_image` of
 * `vitruvian/calculators/segmentation.py`.
 *
 * The landmark model's segmentation output is a tensor of logits over its input tensor's pixels
 * (row 0 at the top). {@link tensorToMask} turns it into probabilities; {@link maskToImage}
 * resamples those onto the image's pixel grid.
 *
 * {@link maskToImage} repeats the arithmetic of the kernel Python's `cv2.warpAffine` runs for a
 * float32 mask with `INTER_LINEAR | WARP_INVERSE_MAP` and `BORDER_CONSTANT` 0 (IPP off, as
 * Python turns it off): `warpAffineLinearInvoker_32FC1` of OpenCV 4.11 and later
 * (`imgproc/src/warp_kernels.simd.hpp`), as dispatched for AVX2 on x86-64. That kernel works in
 * float32; OpenCV 4.10 and earlier rounded source coordinates to 1/32 pixel instead
 * (`WarpAffineInvoker`), which moves values by up to about 0.02 on a noisy mask.
 *
 * - the 2x3 matrix is rounded to float32 (`m0..m5`);
 * - columns go 16 at a time (two 8-lane AVX2 vectors): the source x of pixel `(x, y)` is
 *   `fma(m0, x, y * m1 + m2)`, each operation rounded to float32 (y likewise with `m3..m5`); the
 *   last `width % 16` columns take OpenCV's scalar loop, which the compiler contracted to
 *   `fma(x, m0, y * m1) + m2`;
 * - integer part `floor`, fraction `a = sx - floor(sx)` (float32), likewise `b` for y;
 * - taps outside the mask read 0, and a pixel whose 2x2 taps are all outside is 0;
 * - `v0 = fma(a, p01 - p00, p00)`, `v1 = fma(a, p11 - p10, p10)`, `out = fma(b, v1 - v0, v0)`,
 *   all float32.
 *
 * The float32 fused multiply-adds are emulated exactly ({@link fusedMultiplyAddFloat32}), so the
 * result is Python's bit for bit (measured with opencv-python 5.1 on an x86-64 CPU with AVX2).
 * Other OpenCV builds differ in the last bits of the coordinates, so by up to about 3e-5: CPUs
 * without FMA (multiply, then add), other vector widths (NEON: 8 columns), OpenCV before 4.11.
 */

import type { Matrix } from "../types.js";
import { sigmoidFloat32 } from "./tensors_to_detections.js";

/**
 * Probabilities `(H, W)` float32 in [0, 1] (`rows` = H, `cols` = W) from a logits tensor of
 * `shape` `[1, H, W, 1]` or `[H, W]` (row-major `raw`); for a 4-d shape `[B, H, W, C]` the
 * first batch item's first channel is used, as Python's `logits[0, :, :, 0]`. The logits are
 * rounded to float32 and go through {@link sigmoidFloat32} (within a few float32 ulps of
 * numpy's). Throws for other ranks, an empty batch or channel axis, or a `raw` whose length is
 * not the shape's product.
 */
export function tensorToMask(raw: ArrayLike<number>, shape: readonly number[]): Matrix {
  const size = shape.reduce((a, b) => a * b, 1);
  if (raw.length !== size) {
    throw new Error(`mask tensor has ${raw.length} values for shape [${shape.join(", ")}]`);
  }
  let height: number;
  let width: number;
  let channels = 1;
  if (shape.length === 4) {
    const [batch, h, w, c] = shape as [number, number, number, number];
    if (batch < 1 || c < 1) throw new Error(`empty mask tensor, shape [${shape.join(", ")}]`);
    height = h;
    width = w;
    channels = c;
  } else if (shape.length === 2) {
    [height, width] = shape as [number, number];
  } else {
    throw new Error(`expected a (1, H, W, 1) or (H, W) mask tensor, got [${shape.join(", ")}]`);
  }
  const out = new Float32Array(height * width);
  for (let i = 0; i < height * width; i++) {
    out[i] = sigmoidFloat32(Math.fround(raw[i * channels] as number));
  }
  return { rows: height, cols: width, data: out };
}

/**
 * `a * b + c` rounded once to float32, for float32 `a`, `b`, `c` (IEEE 754 `fusedMultiplyAdd`
 * in binary32, as the FMA instructions of OpenCV's kernels compute it). The product is exact in
 * float64; rounding the float64 sum to float32 is then correct except when that sum lies exactly
 * half way between two float32 values, where the sum's rounding error (Knuth's two-sum) decides.
 */
export function fusedMultiplyAddFloat32(a: number, b: number, c: number): number {
  const product = a * b;
  const sum = product + c;
  const rounded = Math.fround(sum);
  const excess = sum - rounded;
  if (excess === 0) return rounded;
  const other = rounded + 2 * excess; // the float32 on the far side if `sum` is a midpoint
  if (Math.fround(other) !== other) return rounded; // not a midpoint (or NaN)
  const bVirtual = sum - product;
  const error = product - (sum - bVirtual) + (c - bVirtual);
  if (error === 0) return rounded; // an exact tie: Math.fround rounded it to even
  return (error > 0) === (excess > 0) ? other : rounded;
}

/** Columns per step of OpenCV's vector loop on x86-64 AVX2: two vectors of 8 float32 lanes. */
const VECTOR_COLUMNS = 16;

/**
 * Warp a crop-space mask back over the full image. Python: `mask_to_image`, i.e.
 * `cv2.warpAffine(mask, cropMatrix, (imageWidth, imageHeight), INTER_LINEAR | WARP_INVERSE_MAP,
 * BORDER_CONSTANT, 0)`, whose float32 arithmetic this repeats (see the module comment).
 *
 * @param mask `(h, w)` mask in the crop's tensor pixels (`rows` = h, `cols` = w); values are
 *   read as float32 (a `Float64Array` is rounded to float32 first).
 * @param cropMatrix the 2x3 image-pixels -> tensor-pixels matrix used for the crop (row-major,
 *   as `rectTransform` returns it): image pixel `(x, y)` reads mask point
 *   `(m0 x + m1 y + m2, m3 x + m4 y + m5)`, pixel centres at integer coordinates.
 * @param imageWidth the image's width in pixels.
 * @param imageHeight the image's height in pixels.
 * @returns `(imageHeight, imageWidth)` float32 in [0, 1] for a mask in [0, 1]; zero outside the
 *   crop. Allocates only the output (and a float32 copy of a `Float64Array` mask). Throws for
 *   a matrix that is not 2x3, a mask whose data does not hold `rows * cols` values or is empty,
 *   or an image size that is not positive integers.
 */
export function maskToImage(
  mask: Matrix,
  cropMatrix: Matrix,
  imageWidth: number,
  imageHeight: number,
): Matrix {
  if (cropMatrix.rows !== 2 || cropMatrix.cols !== 3 || cropMatrix.data.length !== 6) {
    throw new Error(`expected a 2x3 crop matrix, got ${cropMatrix.rows}x${cropMatrix.cols}`);
  }
  const { rows, cols } = mask;
  if (!(rows > 0 && cols > 0) || mask.data.length !== rows * cols) {
    throw new Error(`mask of ${mask.data.length} values is not ${rows}x${cols} (non-empty)`);
  }
  if (
    !Number.isInteger(imageWidth) ||
    !Number.isInteger(imageHeight) ||
    imageWidth <= 0 ||
    imageHeight <= 0
  ) {
    throw new Error(`image size must be positive integers, got ${imageWidth}x${imageHeight}`);
  }
  const src = mask.data instanceof Float32Array ? mask.data : Float32Array.from(mask.data);
  const f = Math.fround;
  const fma = fusedMultiplyAddFloat32;
  const m = cropMatrix.data;
  const m0 = f(m[0] as number);
  const m1 = f(m[1] as number);
  const m2 = f(m[2] as number);
  const m3 = f(m[3] as number);
  const m4 = f(m[4] as number);
  const m5 = f(m[5] as number);
  const out = new Float32Array(imageWidth * imageHeight);
  const vectorEnd = imageWidth - (imageWidth % VECTOR_COLUMNS);
  const lastCol = cols - 1;
  const lastRow = rows - 1;

  for (let y = 0; y < imageHeight; y++) {
    const rowStart = y * imageWidth;
    // y < 2^24 is exact in float32, so `y * m1` is the float32 product once rounded.
    const productX = f(y * m1);
    const productY = f(y * m4);
    const rowX = f(productX + m2);
    const rowY = f(productY + m5);
    // Only columns whose source point may have a tap inside the mask (a float64 bound with a
    // margin for float32 rounding); the rest stay 0. The exact test is made per pixel below.
    const sizeX = Math.abs(productX) + Math.abs(m2);
    const sizeY = Math.abs(productY) + Math.abs(m5);
    const start = Math.max(
      columnBound(m0, rowX, sizeX, cols, imageWidth, false),
      columnBound(m3, rowY, sizeY, rows, imageWidth, false),
    );
    const end = Math.min(
      columnBound(m0, rowX, sizeX, cols, imageWidth, true),
      columnBound(m3, rowY, sizeY, rows, imageWidth, true),
    );
    for (let x = start; x < end; x++) {
      let sx: number;
      let sy: number;
      if (x < vectorEnd) {
        sx = fma(m0, x, rowX);
        sy = fma(m3, x, rowY);
      } else {
        sx = f(fma(x, m0, productX) + m2);
        sy = f(fma(x, m3, productY) + m5);
      }
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      // All four taps outside (or NaN): the zero border, which `out` already holds.
      if (!(ix >= -1 && ix <= lastCol && iy >= -1 && iy <= lastRow)) continue;
      const a = f(sx - ix);
      const b = f(sy - iy);
      const i = iy * cols + ix;
      let p00: number;
      let p01: number;
      let p10: number;
      let p11: number;
      if (ix >= 0 && ix < lastCol && iy >= 0 && iy < lastRow) {
        p00 = src[i] as number;
        p01 = src[i + 1] as number;
        p10 = src[i + cols] as number;
        p11 = src[i + cols + 1] as number;
      } else {
        const left = ix >= 0;
        const right = ix < lastCol;
        const top = iy >= 0;
        const bottom = iy < lastRow;
        p00 = top && left ? (src[i] as number) : 0;
        p01 = top && right ? (src[i + 1] as number) : 0;
        p10 = bottom && left ? (src[i + cols] as number) : 0;
        p11 = bottom && right ? (src[i + cols + 1] as number) : 0;
      }
      const v0 = fma(a, f(p01 - p00), p00);
      const v1 = fma(a, f(p11 - p10), p10);
      out[rowStart + x] = fma(b, f(v1 - v0), v0);
    }
  }
  return { rows: imageHeight, cols: imageWidth, data: out };
}

/**
 * Where the source coordinate `slope * x + offset` of the columns `x` in `[0, width)` may come
 * within reach of a mask axis of `size` pixels (`[-1, size)`, where a tap can be inside): the
 * first such column (`upper` false) or one past the last (`upper` true), clamped to
 * `[0, width]`. A float64 bound widened by one source pixel plus 1e-5 of the magnitudes
 * involved (`rowSize` bounds the row's terms), far more than the float32 rounding of the
 * kernel's coordinates; the exact test is made per pixel. A non-finite bound (a huge or NaN
 * matrix) does not narrow the range.
 */
function columnBound(
  slope: number,
  offset: number,
  rowSize: number,
  size: number,
  width: number,
  upper: boolean,
): number {
  const margin = 1 + 1e-5 * (rowSize + Math.abs(slope) * width + size);
  const low = -1 - margin - offset;
  const high = size + margin - offset;
  if (slope === 0) return low < 0 && high > 0 && upper ? width : 0;
  const bound = (slope > 0 === upper ? high : low) / slope;
  if (!Number.isFinite(bound)) return upper ? width : 0;
  if (upper) return Math.min(width, Math.max(0, Math.ceil(bound) + 1));
  return Math.max(0, Math.min(width, Math.floor(bound)));
}
