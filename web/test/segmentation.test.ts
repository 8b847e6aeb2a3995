import assert from "node:assert/strict";
import { test } from "node:test";

import { padRoi, rectTransform, roiToPixels } from "../src/calculators/image_to_tensor.js";
import {
  fusedMultiplyAddFloat32,
  maskToImage,
  tensorToMask,
} from "../src/calculators/segmentation.js";
import type { Matrix, NormalizedRect } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("segmentation");

/** A float32 array from base64 little-endian bytes (fresh, aligned buffer). */
function float32Of(b64: string): Float32Array {
  return new Float32Array(Uint8Array.from(Buffer.from(b64, "base64")).buffer);
}

const masks = new Map<string, Matrix>();
for (const [name, mask] of Object.entries(golden.masks)) {
  const { rows, cols, data_b64: data } = mask as { rows: number; cols: number; data_b64: string };
  masks.set(name, { rows, cols, data: float32Of(data) });
}

function maskNamed(name: string): Matrix {
  const mask = masks.get(name);
  assert.ok(mask !== undefined, name);
  return mask;
}

interface Warp {
  name: string;
  mask: string;
  roi: NormalizedRect;
  image_width: number;
  image_height: number;
  matrix: number[][];
  image_b64: string;
}

const warps = golden.warps as Warp[];

/** How many values of `a` and `b` differ, and the largest difference. */
function difference(a: ArrayLike<number>, b: ArrayLike<number>): { count: number; max: number } {
  assert.equal(a.length, b.length);
  let count = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d === 0)) count += 1;
    max = Math.max(max, Number.isNaN(d) ? Infinity : d);
  }
  return { count, max };
}

// Measured against opencv-python 5.1.0 on x86-64 (AVX2 kernels): max abs difference 0, i.e. the
// same float32 bits, in every case (9 pipeline-like warps, up to 1280x720, and 60 random ones).
// OpenCV's float kernel differs with the CPU's vector width and FMA (a source coordinate off by
// one float32 ulp moves a value by up to about 3e-5), which the tolerance allows; OpenCV before
// 4.11 (a fixed-point kernel, about 0.02 away) and a wrong port do not pass.
const WARP_TOLERANCE = 1e-4;

test("masks decoded from logit tensors equal the Python package's", () => {
  for (const c of golden.cases) {
    const shape = c.shape as number[];
    const mask = tensorToMask(Float32Array.from(flat(c.raw)), shape);
    const h = shape.length === 4 ? shape[1] : shape[0];
    const w = shape.length === 4 ? shape[2] : shape[1];
    assert.equal(mask.rows, h);
    assert.equal(mask.cols, w);
    assert.ok(mask.data instanceof Float32Array);
    // numpy's SIMD float32 exp against Math.exp rounded to float32: a few float32 ulps.
    assertClose(mask.data, c.mask, 1e-6, `shape [${shape.join(", ")}]`);
  }
});

test("other tensor shapes throw", () => {
  assert.throws(() => tensorToMask(new Float32Array(24), [2, 3, 4]));
  assert.throws(() => tensorToMask(new Float32Array(24), [4, 5]));
  assert.throws(() => tensorToMask(new Float32Array(0), [0, 4, 5, 1]));
});

test("fusedMultiplyAddFloat32 rounds once to float32", () => {
  const f = Math.fround;
  // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24 exactly; in float32 the square ties down to 1 + 2^-11.
  const near = f(1 + 2 ** -12);
  assert.equal(fusedMultiplyAddFloat32(near, near, -1), 2 ** -11 + 2 ** -24);
  assert.equal(f(f(near * near) - 1), 2 ** -11);
  // near * near + 2^-60 is just above the midpoint 1 + 2^-11 + 2^-24 of the float32 values
  // 1 + 2^-11 and 1 + 2^-11 + 2^-23, but its float64 rounding is the midpoint itself, which
  // float32 rounding would tie to even (down): the single rounding goes up.
  const tiny = 2 ** -60;
  assert.equal(near * near + tiny, 1 + 2 ** -11 + 2 ** -24);
  assert.equal(fusedMultiplyAddFloat32(near, near, tiny), 1 + 2 ** -11 + 2 ** -23);
  assert.equal(fusedMultiplyAddFloat32(near, near, -tiny), 1 + 2 ** -11);
  assert.equal(fusedMultiplyAddFloat32(near, near, 0), 1 + 2 ** -11); // a true tie: to even
  assert.ok(Number.isNaN(fusedMultiplyAddFloat32(Number.NaN, 1, 0)));
});

test("masks warped back over the image equal the Python package's (cv2.warpAffine)", () => {
  assert.ok(warps.length >= 8);
  let worst = 0;
  for (const warp of warps) {
    const matrix: Matrix = { rows: 2, cols: 3, data: Float64Array.from(flat(warp.matrix)) };
    const image = maskToImage(maskNamed(warp.mask), matrix, warp.image_width, warp.image_height);
    assert.equal(image.rows, warp.image_height, warp.name);
    assert.equal(image.cols, warp.image_width, warp.name);
    assert.ok(image.data instanceof Float32Array, warp.name);
    const expected = float32Of(warp.image_b64);
    const { count, max } = difference(image.data, expected);
    worst = Math.max(worst, max);
    assert.ok(
      max <= WARP_TOLERANCE,
      `${warp.name}: ${count} values differ, by up to ${max} (goldens from OpenCV ` +
        `${golden.opencv_version}; this emulates the float32 kernel of OpenCV 4.11+ on AVX2)`,
    );
  }
  assert.ok(worst <= WARP_TOLERANCE);
});

test("random affine warps of a small mask equal cv2.warpAffine's, edges and tails included", () => {
  const mask = maskNamed("small");
  const randomWarps = golden.random_warps as {
    matrix: number[][];
    width: number;
    height: number;
    image_b64: string;
  }[];
  assert.ok(randomWarps.length >= 50);
  randomWarps.forEach((warp, i) => {
    const matrix: Matrix = { rows: 2, cols: 3, data: Float64Array.from(flat(warp.matrix)) };
    const image = maskToImage(mask, matrix, warp.width, warp.height);
    const { count, max } = difference(image.data, float32Of(warp.image_b64));
    assert.ok(max <= WARP_TOLERANCE, `random warp ${i}: ${count} values differ, by up to ${max}`);
  });
});

test("the pipeline's crop matrix made in TypeScript warps the mask as Python's does", () => {
  for (const warp of warps) {
    const mask = maskNamed(warp.mask);
    const pixels = roiToPixels(warp.roi, warp.image_width, warp.image_height);
    const [cropRoi] = padRoi(pixels, mask.cols, mask.rows);
    const matrix = rectTransform(cropRoi, mask.cols, mask.rows);
    // Math.cos/Math.sin may differ from the C library's by an ulp; the float32 matrix rarely.
    assertClose(matrix.data, warp.matrix, 1e-9, `${warp.name} matrix`, 1e-12);
    const image = maskToImage(mask, matrix, warp.image_width, warp.image_height);
    assertClose(image.data, float32Of(warp.image_b64), WARP_TOLERANCE, warp.name);
  }
});

test("maskToImage: float64 masks are read as float32, zero outside, bad input throws", () => {
  const warp = warps.find((w) => w.name === "odd_size_non_square_mask");
  assert.ok(warp !== undefined);
  const mask = maskNamed(warp.mask);
  const matrix: Matrix = { rows: 2, cols: 3, data: Float64Array.from(flat(warp.matrix)) };
  const wide: Matrix = { rows: mask.rows, cols: mask.cols, data: Float64Array.from(mask.data) };
  const image = maskToImage(wide, matrix, warp.image_width, warp.image_height);
  assert.deepEqual(image.data, float32Of(warp.image_b64));

  // Identity: pixel (x, y) reads mask pixel (x, y); beyond the mask's last column and row the
  // zero border blends in over one pixel, further out everything is 0.
  const identity: Matrix = { rows: 2, cols: 3, data: Float64Array.of(1, 0, 0, 0, 1, 0) };
  const ones: Matrix = { rows: 3, cols: 4, data: new Float32Array(12).fill(1) };
  const big = maskToImage(ones, identity, 20, 5);
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 20; x++) {
      assert.equal(big.data[y * 20 + x], x < 4 && y < 3 ? 1 : 0, `(${x}, ${y})`);
    }
  }
  const half: Matrix = { rows: 2, cols: 3, data: Float64Array.of(1, 0, -0.5, 0, 1, -0.5) };
  const shifted = maskToImage(ones, half, 5, 4);
  assert.equal(shifted.data[0], 0.25); // (-0.5, -0.5): one of four taps inside
  assert.equal(shifted.data[1], 0.5);
  assert.equal(shifted.data[5 + 1], 1);
  assert.equal(shifted.data[4], 0.25); // (3.5, -0.5): column 3 is the mask's last
  assert.equal(shifted.data[5 + 4], 0.5); // (3.5, 0.5)

  const square: Matrix = { rows: 3, cols: 3, data: new Float64Array(9) };
  assert.throws(() => maskToImage(ones, square, 4, 4));
  const short: Matrix = { rows: 3, cols: 4, data: new Float32Array(11) };
  assert.throws(() => maskToImage(short, identity, 4, 4));
  const empty: Matrix = { rows: 0, cols: 4, data: new Float32Array(0) };
  assert.throws(() => maskToImage(empty, identity, 4, 4));
  assert.throws(() => maskToImage(ones, identity, 0, 4));
  assert.throws(() => maskToImage(ones, identity, 4, 2.5));
});
