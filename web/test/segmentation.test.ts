import assert from "node:assert/strict";
import { test } from "node:test";

import { tensorToMask } from "../src/calculators/segmentation.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("segmentation");

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
