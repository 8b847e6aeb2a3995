/**
 * Rotated crop of an image into a model's input tensor (MediaPipe's `ImageToTensorCalculator`);
 * Python: `vitruvian/calculators/image_to_tensor.py`.
 *
 * A region of interest is a rotated rectangle in *pixels* ({@link PixelRect}: centre and size in
 * image pixels, rotation in radians, clockwise, y down; (0, 0) is the top-left corner of the
 * top-left pixel). With letterboxing the region is first enlarged to the tensor's aspect ratio
 * ({@link padRoi}); the padding is returned so results can be mapped back (`letterbox_removal`).
 *
 * The crop is one bilinear warp of the uint8 image straight to the tensor size, then a single
 * float32 scale/offset to the model's value range, as in Python. Python computes each tensor
 * pixel's source coordinate in float64, rounds it to 1/32 pixel (OpenCV 3.4's `warpPerspective`,
 * which MediaPipe links) and lets `cv2.remap` sample with fixed-point weights. This module
 * repeats that arithmetic step by step, so the tensor is the one Python builds:
 *
 * - the 2x3 matrices ({@link rectTransform}, {@link invertAffine}) repeat the float64 operations
 *   numpy performs, including the fused multiply-adds of its OpenBLAS kernels (emulated exactly
 *   with {@link fusedMultiplyAdd}); cosine and sine come from `Math.cos`/`Math.sin`, which may
 *   differ from the C library's by one unit in the last place;
 * - the source coordinates are rounded half to even to 1/32 pixel and split into the integer
 *   pixel and the fraction ({@link CropWorkspace.maps}, Python's `warp_maps`);
 * - the sampling is OpenCV's `remap` with `INTER_LINEAR` on uint8 ({@link remapBilinear}):
 *   integer weights `(32 - fx)(32 - fy) * 32` etc. summing to 2^15, rounded by
 *   `(sum + 2^14) >> 15`;
 *   outside the image either black (`BORDER_CONSTANT`, per tap) or the nearest edge pixel
 *   (`BORDER_REPLICATE`).
 */

import type { Matrix, NormalizedRect, Padding, PixelRect } from "../types.js";

/**
 * An 8-bit image in the browser's `ImageData` layout: `data` holds `height` rows of `width`
 * pixels, top row first, no row padding, each pixel RGBA (4 bytes, alpha ignored, as `ImageData`
 * and canvas `getImageData` give) or RGB (3 bytes). The layout is inferred from
 * `data.length`, which must be `width * height * 4` or `width * height * 3`.
 */
export interface RgbImageLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/**
 * A float32 tensor of `height` rows of `width` pixels, 3 interleaved channels (R, G, B): element
 * `(y, x, c)` is `data[(y * width + x) * 3 + c]`. `data` may be a view into a model's input
 * buffer (a `subarray`); it must hold exactly `width * height * 3` values.
 */
export interface TensorView {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** OpenCV's sub-pixel resolution for fixed-point warps (`INTER_TAB_SIZE`): 1/32 pixel. */
export const INTER_TAB_SIZE = 32;
/** `log2(INTER_TAB_SIZE)`. */
export const INTER_BITS = 5;
/** Bits of OpenCV's fixed-point bilinear weights (`INTER_REMAP_COEF_BITS`): they sum to 2^15. */
export const INTER_REMAP_COEF_BITS = 15;
/** Largest source coordinate (in 1/32 px) a fixed-point map holds: OpenCV saturates to it. */
const MAP_LIMIT = 32767 * INTER_TAB_SIZE;

/**
 * A normalised rect in pixels; `null` means the whole image, unrotated. Python: `roi_to_pixels`.
 *
 * @param rect fractions of the image's width (x, width) and height (y, height).
 * @param imageWidth the image's width in pixels.
 * @param imageHeight the image's height in pixels.
 */
export function roiToPixels(
  rect: NormalizedRect | null,
  imageWidth: number,
  imageHeight: number,
): PixelRect {
  if (rect === null) {
    return {
      centerX: imageWidth / 2.0,
      centerY: imageHeight / 2.0,
      width: imageWidth,
      height: imageHeight,
      rotation: 0.0,
    };
  }
  return {
    centerX: rect.xCenter * imageWidth,
    centerY: rect.yCenter * imageHeight,
    width: rect.width * imageWidth,
    height: rect.height * imageHeight,
    rotation: rect.rotation,
  };
}

/**
 * Enlarge `roi` (pixels) to the tensor's aspect ratio, keeping its centre and rotation
 * (letterboxing). Python: `pad_roi`.
 *
 * @returns the enlarged rect (pixels) and the padding it introduces, as fractions of the
 *   tensor's width (left, right) and height (top, bottom).
 */
export function padRoi(
  roi: PixelRect,
  tensorWidth: number,
  tensorHeight: number,
): [PixelRect, Padding] {
  const target = tensorHeight / tensorWidth;
  const aspect = roi.height / roi.width;
  let width: number;
  let height: number;
  let padding: Padding;
  if (target > aspect) {
    width = roi.width;
    height = roi.width * target;
    const vertical = (1.0 - aspect / target) / 2.0;
    padding = { left: 0.0, top: vertical, right: 0.0, bottom: vertical };
  } else {
    width = roi.height / target;
    height = roi.height;
    const horizontal = (1.0 - target / aspect) / 2.0;
    padding = { left: horizontal, top: 0.0, right: horizontal, bottom: 0.0 };
  }
  const { centerX, centerY, rotation } = roi;
  return [{ centerX, centerY, width, height, rotation }, padding];
}

// ---------------------------------------------------------------------------------------------
// Exact fused multiply-add (IEEE 754 fma, round to nearest even), as OpenBLAS's FMA kernels.

const scratch = new DataView(new ArrayBuffer(8));

/** `x` (finite, non-zero) as `mantissa * 2^exponent` with an integer mantissa. */
function decompose(x: number): [bigint, number] {
  scratch.setFloat64(0, x);
  const high = scratch.getUint32(0);
  const low = scratch.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return [high >>> 31 === 1 ? -mantissa : mantissa, exponent];
}

/** `value * 2^exponent` for a float64 `value`, exact unless the result is subnormal. */
function scaleByPowerOfTwo(value: number, exponent: number): number {
  let result = value;
  let left = exponent;
  while (left !== 0) {
    const step = Math.max(-1000, Math.min(1000, left));
    result *= 2 ** step;
    left -= step;
  }
  return result;
}

/**
 * `a * b + c` with a single rounding (IEEE 754 `fusedMultiplyAdd`, as the FMA instructions of
 * numpy's OpenBLAS kernels compute it). Exact via BigInt arithmetic; meant for the few
 * operations of a matrix inverse, not for per-pixel work. Results in the subnormal range may be
 * off by one unit in the last place.
 */
export function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const product = a * b;
  if (!Number.isFinite(product) || !Number.isFinite(c) || a === 0 || b === 0 || c === 0) {
    return product + c; // no rounding of a non-zero exact product is involved, or IEEE specials
  }
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  const ep = ea + eb;
  let exponent = Math.min(ep, ec);
  const sum = ((ma * mb) << BigInt(ep - exponent)) + (mc << BigInt(ec - exponent));
  if (sum === 0n) return 0;
  const negative = sum < 0n;
  let magnitude = negative ? -sum : sum;
  const bits = magnitude.toString(2).length;
  if (bits > 64) {
    // Keep 64 bits and fold the dropped ones into a sticky bit: rounding to 53 bits is unchanged.
    const shift = bits - 64;
    const dropped = magnitude & ((1n << BigInt(shift)) - 1n);
    magnitude >>= BigInt(shift);
    if (dropped !== 0n) magnitude |= 1n;
    exponent += shift;
  }
  const rounded = scaleByPowerOfTwo(Number(magnitude), exponent); // Number(): nearest, ties even
  return negative ? -rounded : rounded;
}

/** `m00 * v0 + m01 * v1` as OpenBLAS's `dgemv` kernel computes it: `fma(m00, v0, m01 * v1)`. */
function dot2(m00: number, m01: number, v0: number, v1: number): number {
  return fusedMultiplyAdd(m00, v0, m01 * v1);
}

/**
 * Columns of the inverse of the 2x2 or 3x3 matrix `a` (row-major `n` x `n`, float64), as
 * `numpy.linalg.inv` computes them with OpenBLAS (`dgesv` on the identity): LU with partial
 * pivoting (first maximal pivot), multipliers and divisions as products with the pivot's
 * reciprocal, elimination without FMA, and back substitution with FMA from the last column to
 * the first. Returns the inverse row-major.
 */
function lapackInverse(a: readonly number[], n: number): number[] {
  const lu = a.slice();
  const pivots: number[] = [];
  const reciprocals: number[] = [];
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let r = k + 1; r < n; r++) {
      if (Math.abs(lu[r * n + k] as number) > Math.abs(lu[p * n + k] as number)) p = r;
    }
    pivots.push(p);
    if (p !== k) {
      for (let c = 0; c < n; c++) {
        const t = lu[k * n + c] as number;
        lu[k * n + c] = lu[p * n + c] as number;
        lu[p * n + c] = t;
      }
    }
    const reciprocal = 1.0 / (lu[k * n + k] as number);
    reciprocals.push(reciprocal);
    for (let r = k + 1; r < n; r++) {
      const l = (lu[r * n + k] as number) * reciprocal;
      lu[r * n + k] = l;
      for (let c = k + 1; c < n; c++) {
        lu[r * n + c] = (lu[r * n + c] as number) - l * (lu[k * n + c] as number);
      }
    }
  }
  const inverse = new Array<number>(n * n).fill(0);
  for (let column = 0; column < n; column++) {
    const y = new Array<number>(n).fill(0);
    y[column] = 1.0;
    for (let k = 0; k < n; k++) {
      const p = pivots[k] as number;
      const t = y[k] as number;
      y[k] = y[p] as number;
      y[p] = t;
    }
    for (let k = 0; k < n; k++) {
      for (let r = k + 1; r < n; r++) {
        y[r] = fusedMultiplyAdd(-(lu[r * n + k] as number), y[k] as number, y[r] as number);
      }
    }
    for (let k = n - 1; k >= 0; k--) {
      const x = (y[k] as number) * (reciprocals[k] as number);
      y[k] = x;
      for (let r = k - 1; r >= 0; r--) {
        y[r] = fusedMultiplyAdd(-(lu[r * n + k] as number), x, y[r] as number);
      }
    }
    for (let r = 0; r < n; r++) inverse[r * n + column] = y[r] as number;
  }
  return inverse;
}

/**
 * The 2x3 affine matrix from image pixels to tensor pixels for a rotated crop (float64, row
 * major). Python: `rect_transform`.
 *
 * Tensor point `(u * tensorWidth, v * tensorHeight)` with `u, v` in [0, 1] comes from image
 * point `centre + R(rotation) @ ((u - 0.5) * width, (v - 0.5) * height)`; the rect's corners
 * land on the tensor's corners. The float64 operations are numpy's, so the matrix is normally
 * bit for bit Python's (up to `Math.cos`/`Math.sin` against the C library's).
 */
export function rectTransform(roi: PixelRect, tensorWidth: number, tensorHeight: number): Matrix {
  const c = Math.cos(roi.rotation);
  const s = Math.sin(roi.rotation);
  const sx = roi.width / tensorWidth;
  const sy = roi.height / tensorHeight;
  // forward: tensor px -> image px
  const a00 = c * sx;
  const a01 = -s * sy;
  const a10 = s * sx;
  const a11 = c * sy;
  const t0 = roi.centerX - dot2(a00, a01, tensorWidth / 2, tensorHeight / 2);
  const t1 = roi.centerY - dot2(a10, a11, tensorWidth / 2, tensorHeight / 2);
  const [i00, i01, i10, i11] = lapackInverse([a00, a01, a10, a11], 2) as [
    number,
    number,
    number,
    number,
  ];
  const data = Float64Array.of(
    i00,
    i01,
    dot2(-i00, -i01, t0, t1),
    i10,
    i11,
    dot2(-i10, -i11, t0, t1),
  );
  return { rows: 2, cols: 3, data };
}

/**
 * The inverse of a 2x3 affine `matrix` (image px -> tensor px), i.e. the matrix from tensor
 * pixels to image pixels, as Python's `CropWorkspace.maps` computes it: `numpy.linalg.inv` of
 * the matrix extended to 3x3 (same float64 operations, see {@link lapackInverse}).
 */
export function invertAffine(matrix: Matrix): Matrix {
  if (matrix.rows !== 2 || matrix.cols !== 3) {
    throw new Error(`expected a 2x3 matrix, got ${matrix.rows}x${matrix.cols}`);
  }
  const m = Array.from(matrix.data);
  const inverse = lapackInverse([...m, 0.0, 0.0, 1.0], 3);
  return { rows: 2, cols: 3, data: Float64Array.from(inverse.slice(0, 6)) };
}

/** `value` rounded to the nearest integer, ties to even (numpy's `rint`). */
function roundHalfEven(value: number): number {
  const rounded = Math.round(value); // ties towards +infinity
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/**
 * Reusable buffers for the crops of one tensor size: OpenCV's fixed-point remap maps and the
 * uint8 crop (Python: `CropWorkspace`). A workspace belongs to one caller: each call overwrites
 * its buffers.
 */
export class CropWorkspace {
  /** The tensor's width in pixels. */
  readonly width: number;
  /** The tensor's height in pixels. */
  readonly height: number;
  /**
   * Integer source pixel of each tensor pixel, `(x, y)` pairs row by row (`cv2.remap`'s
   * `CV_16SC2` map1): `floor(coordinate)` in image pixels.
   */
  readonly map1: Int16Array;
  /**
   * Fraction of each source coordinate in 1/32 pixel, `fy * 32 + fx` (`cv2.remap`'s `CV_16UC1`
   * map2), `fx, fy` in [0, 31].
   */
  readonly map2: Uint16Array;
  /** The uint8 RGB crop, `(height, width, 3)` interleaved. */
  readonly crop: Uint8Array;

  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(`tensor size must be positive integers, got ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    this.map1 = new Int16Array(width * height * 2);
    this.map2 = new Uint16Array(width * height);
    this.crop = new Uint8Array(width * height * 3);
  }

  /**
   * Fill {@link map1} and {@link map2} for warping by `matrix` (image px -> tensor px, 2x3), as
   * Python's `warp_maps`: tensor pixel `(x, y)` reads image point `inverse @ (x, y, 1)`, computed
   * in 1/32 px as `(b * y + c) * 32 + (a * x) * 32` for an inverse row `(a, b, c)` (OpenCV
   * 3.4's order), clamped to OpenCV's int16 range, rounded half to even, then split into the
   * integer pixel (floor) and the fraction.
   */
  maps(matrix: Matrix): void {
    const inverse = invertAffine(matrix).data;
    const ax = inverse[0] as number;
    const bx = inverse[1] as number;
    const cx = inverse[2] as number;
    const ay = inverse[3] as number;
    const by = inverse[4] as number;
    const cy = inverse[5] as number;
    const { width, height, map1, map2 } = this;
    const columnX = new Float64Array(width);
    const columnY = new Float64Array(width);
    for (let x = 0; x < width; x++) {
      columnX[x] = ax * x * INTER_TAB_SIZE;
      columnY[x] = ay * x * INTER_TAB_SIZE;
    }
    for (let y = 0; y < height; y++) {
      const rowX = (bx * y + cx) * INTER_TAB_SIZE;
      const rowY = (by * y + cy) * INTER_TAB_SIZE;
      for (let x = 0; x < width; x++) {
        const fx = Math.min(MAP_LIMIT, Math.max(-MAP_LIMIT, rowX + (columnX[x] as number)));
        const fy = Math.min(MAP_LIMIT, Math.max(-MAP_LIMIT, rowY + (columnY[x] as number)));
        const ix = roundHalfEven(fx);
        const iy = roundHalfEven(fy);
        const i = y * width + x;
        map1[i * 2] = ix >> INTER_BITS;
        map1[i * 2 + 1] = iy >> INTER_BITS;
        map2[i] = ((iy & (INTER_TAB_SIZE - 1)) << INTER_BITS) | (ix & (INTER_TAB_SIZE - 1));
      }
    }
  }
}

/** Bytes per pixel of `image` (3 or 4), from its data length. */
/** Channels of an RGBA (4) or RGB (3) image; a TypeError when the data fits neither. */
export function channelsOf(image: RgbImageLike): number {
  const pixels = image.width * image.height;
  if (image.data.length === pixels * 4) return 4;
  if (image.data.length === pixels * 3) return 3;
  throw new TypeError(
    `image data has ${image.data.length} bytes, expected ${pixels * 4} (RGBA) or ${pixels * 3} ` +
      `(RGB) for ${image.width}x${image.height}`,
  );
}

/**
 * OpenCV's `remap(src, map1, map2, INTER_LINEAR)` for a uint8 RGB(A) image into `out`
 * (`width * height * 3` RGB bytes): the fixed-point bilinear of `remapBilinear`. Each output
 * channel is `(w00 p00 + w10 p10 + w01 p01 + w11 p11 + 2^14) >> 15` with `w00 = (32 - fx)(32 -
 * fy) * 32`, `w10 = fx (32 - fy) * 32`, `w01 = (32 - fx) fy * 32`, `w11 = fx fy * 32`, the
 * taps at source pixels `(sx, sy)`, `(sx + 1, sy)`, `(sx, sy + 1)`, `(sx + 1, sy + 1)`. Taps
 * outside the image are 0 with `borderZero` (`BORDER_CONSTANT`, value 0) and the nearest edge
 * pixel otherwise (`BORDER_REPLICATE`).
 */
export function remapBilinear(
  image: RgbImageLike,
  map1: Int16Array,
  map2: Uint16Array,
  out: Uint8Array,
  borderZero: boolean,
): void {
  const count = map2.length;
  if (map1.length !== count * 2 || out.length !== count * 3) {
    throw new Error(`maps and output disagree: ${map1.length / 2}, ${count}, ${out.length / 3}`);
  }
  const channels = channelsOf(image);
  const { width, height, data } = image;
  const stride = width * channels;
  const half = 1 << (INTER_REMAP_COEF_BITS - 1);
  for (let i = 0; i < count; i++) {
    const sx = map1[i * 2] as number;
    const sy = map1[i * 2 + 1] as number;
    const fraction = map2[i] as number;
    const fx = fraction & (INTER_TAB_SIZE - 1);
    const fy = fraction >> INTER_BITS;
    const w00 = (INTER_TAB_SIZE - fx) * (INTER_TAB_SIZE - fy) * INTER_TAB_SIZE;
    const w10 = fx * (INTER_TAB_SIZE - fy) * INTER_TAB_SIZE;
    const w01 = (INTER_TAB_SIZE - fx) * fy * INTER_TAB_SIZE;
    const w11 = fx * fy * INTER_TAB_SIZE;
    const o = i * 3;
    if (sx >= 0 && sy >= 0 && sx + 1 < width && sy + 1 < height) {
      const p00 = sy * stride + sx * channels;
      const p01 = p00 + stride;
      for (let k = 0; k < 3; k++) {
        const sum =
          w00 * (data[p00 + k] as number) +
          w10 * (data[p00 + channels + k] as number) +
          w01 * (data[p01 + k] as number) +
          w11 * (data[p01 + channels + k] as number);
        out[o + k] = (sum + half) >> INTER_REMAP_COEF_BITS;
      }
      continue;
    }
    let x0 = sx;
    let x1 = sx + 1;
    let y0 = sy;
    let y1 = sy + 1;
    if (borderZero) {
      if (sx >= width || sx + 1 < 0 || sy >= height || sy + 1 < 0) {
        out[o] = 0;
        out[o + 1] = 0;
        out[o + 2] = 0;
        continue;
      }
    } else {
      x0 = Math.min(Math.max(x0, 0), width - 1);
      x1 = Math.min(Math.max(x1, 0), width - 1);
      y0 = Math.min(Math.max(y0, 0), height - 1);
      y1 = Math.min(Math.max(y1, 0), height - 1);
    }
    const inX0 = x0 >= 0 && x0 < width;
    const inX1 = x1 >= 0 && x1 < width;
    const inY0 = y0 >= 0 && y0 < height;
    const inY1 = y1 >= 0 && y1 < height;
    for (let k = 0; k < 3; k++) {
      const v00 = inY0 && inX0 ? (data[y0 * stride + x0 * channels + k] as number) : 0;
      const v10 = inY0 && inX1 ? (data[y0 * stride + x1 * channels + k] as number) : 0;
      const v01 = inY1 && inX0 ? (data[y1 * stride + x0 * channels + k] as number) : 0;
      const v11 = inY1 && inX1 ? (data[y1 * stride + x1 * channels + k] as number) : 0;
      const sum = w00 * v00 + w10 * v10 + w01 * v01 + w11 * v11;
      out[o + k] = (sum + half) >> INTER_REMAP_COEF_BITS;
    }
  }
}

/**
 * Warp `image` with `matrix` (image px -> tensor px, 2x3, e.g. from {@link rectTransform}) into
 * `out`, in place. Python: `image_to_tensor`.
 *
 * Pixels are mapped from [0, 255] to `valueRange` in float32, as numpy does:
 * `fround(fround(v * scale) + lo)` with `scale = fround((hi - lo) / 255)`. Outside the image,
 * `borderZero` pads with black (before the range mapping, as MediaPipe does: black becomes
 * `lo`); otherwise edge pixels repeat. `workspace` (for `out`'s size) avoids allocating the
 * maps and the crop; its {@link CropWorkspace.crop} then holds the uint8 crop.
 */
export function imageToTensor(
  image: RgbImageLike,
  matrix: Matrix,
  out: TensorView,
  valueRange: readonly [number, number],
  borderZero: boolean,
  workspace?: CropWorkspace,
): void {
  const { width, height } = out;
  if (out.data.length !== width * height * 3) {
    throw new Error(`out has ${out.data.length} values, expected ${width * height * 3}`);
  }
  let space = workspace;
  if (space === undefined) {
    space = new CropWorkspace(width, height);
  } else if (space.width !== width || space.height !== height) {
    throw new Error(`workspace is for ${space.width}x${space.height}, out is ${width}x${height}`);
  }
  space.maps(matrix);
  remapBilinear(image, space.map1, space.map2, space.crop, borderZero);
  const [lo, hi] = valueRange;
  const scale = Math.fround((hi - lo) / 255.0);
  const offset = Math.fround(lo);
  const crop = space.crop;
  const data = out.data;
  if (offset === 0) {
    for (let i = 0; i < crop.length; i++) data[i] = (crop[i] as number) * scale;
  } else {
    for (let i = 0; i < crop.length; i++) {
      data[i] = Math.fround((crop[i] as number) * scale) + offset;
    }
  }
}
