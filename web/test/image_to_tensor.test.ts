import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CropWorkspace,
  fusedMultiplyAdd,
  imageToTensor,
  invertAffine,
  padRoi,
  rectTransform,
  roiToPixels,
  type RgbImageLike,
} from "../src/calculators/image_to_tensor.js";
import type { Matrix, NormalizedRect, PixelRect } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("image_to_tensor");

/** A copy of base64 little-endian bytes (fresh, aligned buffer). */
function bytesOf(b64: string): ArrayBuffer {
  return Uint8Array.from(Buffer.from(b64, "base64")).buffer;
}

function matrixOf(rows: number[][]): Matrix {
  return { rows: rows.length, cols: 3, data: Float64Array.from(flat(rows)) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function pixelRectOf(python: any): PixelRect {
  return {
    centerX: python.center_x,
    centerY: python.center_y,
    width: python.width,
    height: python.height,
    rotation: python.rotation,
  };
}

const images = new Map<string, RgbImageLike>();
for (const [name, image] of Object.entries(golden.images)) {
  const { width, height, rgb_b64: rgb } = image as {
    width: number;
    height: number;
    rgb_b64: string;
  };
  images.set(name, { width, height, data: new Uint8Array(bytesOf(rgb)) });
}

function imageNamed(name: string): RgbImageLike {
  const image = images.get(name);
  assert.ok(image !== undefined, name);
  return image;
}

function rgba(image: RgbImageLike): RgbImageLike {
  const data = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    data[i * 4] = image.data[i * 3] as number;
    data[i * 4 + 1] = image.data[i * 3 + 1] as number;
    data[i * 4 + 2] = image.data[i * 3 + 2] as number;
    data[i * 4 + 3] = 255 - (i % 256); // alpha must be ignored
  }
  return { width: image.width, height: image.height, data };
}

/** How many values of `a` and `b` differ, and the largest difference. */
function difference(a: ArrayLike<number>, b: ArrayLike<number>): { count: number; max: number } {
  assert.equal(a.length, b.length);
  let count = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (d !== 0) count += 1;
    max = Math.max(max, d);
  }
  return { count, max };
}

test("fusedMultiplyAdd rounds once", () => {
  assert.equal(fusedMultiplyAdd(0.1, 10, -1), 5.551115123125783e-17);
  const e = 2 ** -52;
  assert.equal(fusedMultiplyAdd(1 + e, 1 - e, -1), -(2 ** -104));
  assert.equal(fusedMultiplyAdd(2, 3, 4), 10);
  assert.equal(fusedMultiplyAdd(3, -2, 6), 0);
  assert.equal(fusedMultiplyAdd(1e300, 1e300, 1), Number.POSITIVE_INFINITY);
  assert.equal(fusedMultiplyAdd(2 ** 600, 2 ** 500, -(2 ** 1100)), 2 ** 1100 - 2 ** 1100);
  // 1 + 2^-53 + 2^-105 rounds up to 1 + 2^-52 (the sticky bit breaks the tie) ...
  assert.equal(fusedMultiplyAdd(1 + 2 ** -52, 2 ** -53, 1), 1 + 2 ** -52);
  // ... and 1 + 2^-53 is a tie, to even: 1.
  assert.equal(fusedMultiplyAdd(2 ** -53, 1, 1), 1);
});

test("roiToPixels and padRoi equal the Python package's", () => {
  for (const [name, c] of Object.entries(golden.cases)) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const python = c as any;
    const image = imageNamed(python.image);
    const pixels = roiToPixels(python.rect as NormalizedRect | null, image.width, image.height);
    assert.deepEqual(pixels, pixelRectOf(python.pixels), name);
    const [padded, padding] = padRoi(pixels, python.tensor_width, python.tensor_height);
    assert.deepEqual(padded, pixelRectOf(python.padded), name);
    assert.deepEqual(padding, python.padding, name);
  }
});

test("padRoi letterboxes wide and tall regions", () => {
  const wide: PixelRect = { centerX: 50, centerY: 40, width: 200, height: 100, rotation: 0.5 };
  const [w, wp] = padRoi(wide, 256, 256);
  assert.deepEqual(w, { ...wide, height: 200 });
  assert.deepEqual(wp, { left: 0, top: 0.25, right: 0, bottom: 0.25 });
  const tall: PixelRect = { centerX: 5, centerY: 4, width: 50, height: 200, rotation: -1 };
  const [t, tp] = padRoi(tall, 100, 200);
  assert.deepEqual(t, { ...tall, width: 100 });
  assert.deepEqual(tp, { left: 0.25, top: 0, right: 0.25, bottom: 0 });
});

test("rectTransform and invertAffine equal the Python package's", (t) => {
  interface Entry {
    roi: PixelRect;
    w: number;
    h: number;
    matrix: number[][];
    inverse: number[][];
  }
  const entries: Entry[] = [];
  for (const c of Object.values(golden.cases)) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const python = c as any;
    entries.push({
      roi: pixelRectOf(python.padded),
      w: python.tensor_width,
      h: python.tensor_height,
      matrix: python.matrix,
      inverse: python.inverse,
    });
  }
  for (const r of golden.random_matrices) {
    entries.push({
      roi: pixelRectOf(r.roi),
      w: r.tensor_width,
      h: r.tensor_height,
      matrix: r.matrix,
      inverse: r.inverse,
    });
  }
  let exactMatrices = 0;
  let exactInverses = 0;
  for (const [i, e] of entries.entries()) {
    const matrix = rectTransform(e.roi, e.w, e.h);
    assert.equal(matrix.rows, 2);
    assert.equal(matrix.cols, 3);
    assertClose(matrix.data, e.matrix, 1e-9, `matrix ${i}`, 1e-12);
    if (difference(matrix.data, flat(e.matrix)).count === 0) exactMatrices += 1;
    // Same input matrix as Python: the inverse repeats numpy's (OpenBLAS's) float64 operations.
    const inverse = invertAffine(matrixOf(e.matrix));
    assertClose(inverse.data, e.inverse, 1e-9, `inverse ${i}`, 1e-12);
    if (difference(inverse.data, flat(e.inverse)).count === 0) exactInverses += 1;
  }
  t.diagnostic(
    `bit-identical to Python: ${exactMatrices}/${entries.length} matrices, ` +
      `${exactInverses}/${entries.length} inverses`,
  );
});

/**
 * End to end (ROI -> matrix -> tensor in TypeScript), the uint8 crop may differ from Python's by
 * one level where a source coordinate lies within float64 rounding of a 1/64-pixel tie: the
 * matrices can differ in the last bit because V8's `Math.cos`/`Math.sin` differ from glibc's for
 * about 5% of angles (21 of the 400 random rotations here). Such a pixel has a chance of about
 * 1e-13; none occurs in these goldens (0 of 776,784 values differ).
 */
const END_TO_END_LEVELS = 1;
const END_TO_END_FRACTION = 1e-4;

test("crops and tensors equal the Python package's", (t) => {
  let values = 0;
  let differing = 0;
  let maxLevels = 0;
  for (const crop of golden.crops) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const python = golden.cases[crop.case] as any;
    const what = `${crop.case} ${JSON.stringify(crop.value_range)} zero=${crop.border_zero}`;
    const image = imageNamed(python.image);
    const width = python.tensor_width as number;
    const height = python.tensor_height as number;
    const range = crop.value_range as [number, number];
    const wantMap1 = new Int16Array(bytesOf(crop.map1_b64));
    const wantMap2 = new Uint16Array(bytesOf(crop.map2_b64));
    const wantCrop = new Uint8Array(bytesOf(crop.crop_b64));
    const wantTensor = new Float32Array(bytesOf(crop.tensor_b64));

    // Python's matrix: the maps, the crop and the tensor are identical.
    const workspace = new CropWorkspace(width, height);
    const out = { width, height, data: new Float32Array(width * height * 3) };
    imageToTensor(image, matrixOf(python.matrix), out, range, crop.border_zero, workspace);
    assert.deepEqual(difference(workspace.map1, wantMap1), { count: 0, max: 0 }, `map1 ${what}`);
    assert.deepEqual(difference(workspace.map2, wantMap2), { count: 0, max: 0 }, `map2 ${what}`);
    assert.deepEqual(difference(workspace.crop, wantCrop), { count: 0, max: 0 }, `crop ${what}`);
    assert.deepEqual(difference(out.data, wantTensor), { count: 0, max: 0 }, `tensor ${what}`);

    // The same from RGBA pixels (ImageData), into a view of a larger buffer, no workspace.
    const buffer = new Float32Array(width * height * 3 + 8);
    const view = { width, height, data: buffer.subarray(4, 4 + width * height * 3) };
    imageToTensor(rgba(image), matrixOf(python.matrix), view, range, crop.border_zero);
    assert.deepEqual(difference(view.data, wantTensor), { count: 0, max: 0 }, `rgba ${what}`);
    assert.deepEqual(Array.from(buffer.subarray(0, 4)), [0, 0, 0, 0]);

    // End to end from the normalised ROI.
    const [padded] = padRoi(
      roiToPixels(python.rect as NormalizedRect | null, image.width, image.height),
      width,
      height,
    );
    const matrix = rectTransform(padded, width, height);
    imageToTensor(image, matrix, out, range, crop.border_zero, workspace);
    const levels = difference(workspace.crop, wantCrop);
    const scale = (range[1] - range[0]) / 255;
    assertClose(out.data, wantTensor, END_TO_END_LEVELS * scale * (1 + 1e-6), `end to end ${what}`);
    values += wantCrop.length;
    differing += levels.count;
    maxLevels = Math.max(maxLevels, levels.max);
  }
  t.diagnostic(
    `end to end: ${differing}/${values} uint8 values differ from Python's, by at most ${maxLevels}`,
  );
  assert.ok(maxLevels <= END_TO_END_LEVELS);
  assert.ok(differing <= END_TO_END_FRACTION * values, `${differing}/${values} values differ`);
});

test("black borders become the range's low end; replicated borders repeat the edge", () => {
  const data = Uint8Array.of(10, 20, 30, 200, 100, 50);
  const image: RgbImageLike = { width: 2, height: 1, data };
  // Tensor pixel (x, y) reads image point (x - 1, y): the first column is outside the image.
  const matrix: Matrix = { rows: 2, cols: 3, data: Float64Array.of(1, 0, 1, 0, 1, 0) };
  const out = { width: 4, height: 1, data: new Float32Array(12) };
  imageToTensor(image, matrix, out, [-1, 1], true);
  const s = Math.fround(2 / 255);
  const v = (level: number): number => Math.fround(Math.fround(level * s) - 1);
  assert.deepEqual(
    Array.from(out.data),
    [-1, -1, -1, v(10), v(20), v(30), v(200), v(100), v(50), -1, -1, -1],
  );
  imageToTensor(image, matrix, out, [0, 255], false);
  assert.deepEqual(Array.from(out.data), [10, 20, 30, 10, 20, 30, 200, 100, 50, 200, 100, 50]);
  // Half-way between the two pixels: (10 + 200) / 2 = 105 exactly, (20 + 100) / 2, (30 + 50) / 2.
  const half: Matrix = { rows: 2, cols: 3, data: Float64Array.of(1, 0, -0.5, 0, 1, 0) };
  const one = { width: 1, height: 1, data: new Float32Array(3) };
  imageToTensor(image, half, one, [0, 255], false);
  assert.deepEqual(Array.from(one.data), [105, 60, 40]);
});

test("bad inputs are refused", () => {
  const image: RgbImageLike = { width: 2, height: 2, data: new Uint8Array(5) };
  const matrix: Matrix = { rows: 2, cols: 3, data: Float64Array.of(1, 0, 0, 0, 1, 0) };
  const out = { width: 2, height: 2, data: new Float32Array(12) };
  assert.throws(() => imageToTensor(image, matrix, out, [0, 1], true), /RGBA/);
  const good: RgbImageLike = { width: 2, height: 2, data: new Uint8Array(12) };
  const other = new CropWorkspace(3, 2);
  assert.throws(() => imageToTensor(good, matrix, out, [0, 1], true, other), /workspace/);
  const short = { ...out, data: new Float32Array(11) };
  assert.throws(() => imageToTensor(good, matrix, short, [0, 1], true), /values/);
  assert.throws(() => invertAffine({ rows: 3, cols: 3, data: new Float64Array(9) }), /2x3/);
  assert.throws(() => new CropWorkspace(0, 4), /positive/);
});
