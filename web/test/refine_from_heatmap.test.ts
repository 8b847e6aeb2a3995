import assert from "node:assert/strict";
import { test } from "node:test";

import {
  HEATMAP_KERNEL_SIZE,
  MIN_CONFIDENCE_TO_REFINE,
  refineFromHeatmap,
  type HeatmapTensor,
} from "../src/calculators/refine_from_heatmap.js";
import { pairwiseSum } from "../src/numpy.js";
import type { Matrix } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("refine_from_heatmap");
const [hmH, hmW, channels] = golden.heatmap_shape as [number, number, number];
const heatmap: HeatmapTensor = {
  height: hmH,
  width: hmW,
  channels,
  data: Float32Array.from(flat(golden.heatmap)),
};

function landmarksOf(rows: number[][]): Matrix {
  return { rows: rows.length, cols: 5, data: Float32Array.from(flat(rows)) };
}

test("defaults equal the Python package's", () => {
  assert.equal(HEATMAP_KERNEL_SIZE, golden.kernel_size);
  assert.equal(MIN_CONFIDENCE_TO_REFINE, golden.min_confidence_to_refine);
});

test("sums in numpy's pairwise order equal numpy's float32 sums", () => {
  for (const s of golden.sums) {
    const values = Float32Array.from(flat(s.values));
    const got = Math.fround(0 + pairwiseSum(values, 0, values.length, Math.fround));
    assert.equal(got, s.sum, `sum of ${values.length}`);
  }
});

test("refined landmarks equal the Python package's", () => {
  let refinedSome = false;
  for (const c of golden.cases) {
    const landmarks = landmarksOf(c.landmarks);
    const got = refineFromHeatmap(landmarks, heatmap, c.kernel_size, c.min_confidence_to_refine);
    assert.equal(got.rows, channels);
    assert.equal(got.cols, 5);
    // Window sums repeat numpy's order; only the float32 sigmoid (numpy's SIMD exp against
    // Math.exp, a few float32 ulps) can differ, moving a weighted mean by far less than 1e-6.
    assertClose(got.data, c.refined, 1e-6, c.name);
    const moved = flat(c.refined).some((v, i) => v !== flat(c.landmarks)[i]);
    if (c.name === "all_outside") assert.ok(!moved, "outside landmarks are left alone");
    else refinedSome ||= moved;
  }
  assert.ok(refinedSome, "the goldens refine some landmarks");
});

test("the input landmarks are not modified, and a channel count mismatch throws", () => {
  const c = golden.cases[0];
  const landmarks = landmarksOf(c.landmarks);
  const before = Float32Array.from(landmarks.data);
  refineFromHeatmap(landmarks, heatmap);
  assert.deepEqual(landmarks.data, before);
  assert.throws(() => refineFromHeatmap(landmarks, { ...heatmap, channels: channels - 1 }));
});
