import assert from "node:assert/strict";
import { test } from "node:test";

import { sigmoidFloat32 } from "../src/calculators/tensors_to_detections.js";
import {
  NUM_MODEL_LANDMARKS,
  tensorsToLandmarks,
  tensorsToWorldLandmarks,
} from "../src/calculators/tensors_to_landmarks.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("tensors_to_landmarks");

/** Column `col` of an `(n, 5)` row-major list. */
function column(values: ArrayLike<number>, col: number): number[] {
  return Array.from(values).filter((_, i) => i % 5 === col);
}

test("the model's landmark count equals the Python package's", () => {
  assert.equal(NUM_MODEL_LANDMARKS, golden.num_model_landmarks);
});

test("decoded landmarks equal the Python package's", () => {
  for (const c of golden.cases) {
    const raw = flat(c.raw);
    const got = tensorsToLandmarks(raw, c.num_landmarks, c.input_width, c.input_height);
    assert.equal(got.rows, c.num_landmarks);
    assert.equal(got.cols, 5);
    assert.ok(got.data instanceof Float32Array);
    const want = flat(c.landmarks);
    // x, y, z: one float32 division each, the same in both: equal bit for bit.
    for (const col of [0, 1, 2]) {
      const what = `case ${c.num_landmarks}: col ${col}`;
      assertClose(column(got.data, col), column(want, col), 0, what);
    }
    // Visibility and presence: numpy's SIMD float32 exp is within a few ulps, Math.exp rounded
    // to float32 is (nearly) correctly rounded, so the sigmoids differ by a few float32 ulps.
    for (const col of [3, 4]) {
      const what = `case ${c.num_landmarks}: col ${col}`;
      assertClose(column(got.data, col), column(want, col), 1e-6, what);
    }
  }
});

test("the sigmoid clips at +-80 and keeps NaN", () => {
  assert.equal(sigmoidFloat32(0), 0.5);
  assert.equal(sigmoidFloat32(1000), sigmoidFloat32(80));
  assert.equal(sigmoidFloat32(Number.POSITIVE_INFINITY), 1);
  assert.equal(sigmoidFloat32(-1000), sigmoidFloat32(-80));
  assert.ok(sigmoidFloat32(-80) > 0);
  assert.ok(Number.isNaN(sigmoidFloat32(Number.NaN)));
});

test("world landmarks are a float32 copy of the tensor", () => {
  const w = golden.world;
  const raw = flat(w.raw);
  const got = tensorsToWorldLandmarks(raw, w.num_landmarks);
  assert.equal(got.rows, w.num_landmarks);
  assert.equal(got.cols, 3);
  assertClose(got.data, w.landmarks, 0, "world");
  raw[0] = 123;
  assert.notEqual(got.data[0], 123);
});

test("a tensor of the wrong size throws", () => {
  assert.throws(() => tensorsToLandmarks(new Float32Array(39 * 5 - 1), 39, 256, 256));
  assert.throws(() => tensorsToWorldLandmarks(new Float32Array(39 * 3 + 1), 39));
});
