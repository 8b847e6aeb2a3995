import assert from "node:assert/strict";
import { test } from "node:test";

import {
  COMBINE_WITH_PREVIOUS_RATIO,
  smoothSegmentation,
} from "../src/calculators/segmentation_smoothing.js";
import type { Matrix } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("segmentation_smoothing");
const [height, width] = golden.shape as [number, number];
const current: Matrix = {
  rows: height,
  cols: width,
  data: Float32Array.from(flat(golden.current)),
};
const previous64: Matrix = {
  rows: height,
  cols: width,
  data: Float64Array.from(flat(golden.previous)),
};
const previous32: Matrix = { ...previous64, data: Float32Array.from(previous64.data) };

test("the ratio equals the Python package's", () => {
  assert.equal(COMBINE_WITH_PREVIOUS_RATIO, golden.ratio);
});

// Every step is one float32 operation in Python's order: equal bit for bit (tolerance 0).
test("smoothed masks equal the Python package's", () => {
  for (const c of golden.cases) {
    const previous = c.previous_dtype === "float32" ? previous32 : previous64;
    const out = smoothSegmentation(current, previous, c.ratio);
    assert.equal(out.rows, height);
    assert.equal(out.cols, width);
    assert.ok(out.data instanceof Float32Array);
    assertClose(out.data, c.out, 0, `ratio ${c.ratio}, previous ${c.previous_dtype}`);
  }
  const byDefault = smoothSegmentation(current, previous32);
  assertClose(byDefault.data, golden.cases[0].out, 0, "default ratio");
});

test("masks of different shapes throw", () => {
  const transposed: Matrix = { rows: width, cols: height, data: current.data };
  assert.throws(() => smoothSegmentation(current, transposed));
});
