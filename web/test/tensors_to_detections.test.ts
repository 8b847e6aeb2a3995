import assert from "node:assert/strict";
import { test } from "node:test";

import { generateAnchors } from "../src/calculators/ssd_anchors.js";
import {
  POSE_DETECTOR_DECODING,
  sigmoid,
  tensorsToDetections,
} from "../src/calculators/tensors_to_detections.js";
import type { Matrix } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("tensors_to_detections");

function matrixOf(rows: number[][], cols: number, dtype: string): Matrix {
  const values = flat(rows);
  const data = dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values);
  return { rows: values.length / cols, cols, data };
}

test("the pose detector's decoding options equal the Python package's", () => {
  assert.deepEqual({ ...POSE_DETECTOR_DECODING }, golden.options);
});

// Boxes and keypoints come from the same float32 (or float64) operations as numpy's: equal bit
// for bit. Scores go through exp: numpy's vectorised float32 exp is within 2 ulps, Math.exp
// rounded to float32 (nearly) correctly rounded, so scores may differ by a float32 ulp or two
// (1.2e-7 near 1); 1e-6 bounds that. The goldens keep every score at least 8 ulps away from
// min_score (or exactly on it), so both keep the same detections.
test("decoded detections equal the Python package's", () => {
  assert.equal(golden.cases.length, 8);
  for (const c of golden.cases) {
    const anchors = matrixOf(c.anchors, 4, c.anchors_dtype);
    const got = tensorsToDetections(
      Float32Array.from(flat(c.raw_boxes)),
      flat(c.raw_scores),
      anchors,
      c.min_score,
      c.options,
    );
    const what = `case ${c.name}`;
    assert.equal(got.scores.length, c.count, `${what}: count`);
    assert.equal(got.boxes.rows, c.count);
    assert.equal(got.keypoints.cols, 2 * c.options.numKeypoints);
    assert.ok(got.boxes.data instanceof Float32Array);
    assert.ok(got.keypoints.data instanceof Float32Array);
    assert.ok(got.scores instanceof Float32Array);
    assertClose(got.boxes.data, c.boxes, 0, `${what}: boxes`);
    assertClose(got.keypoints.data, c.keypoints, 0, `${what}: keypoints`);
    assertClose(got.scores, c.scores, 1e-6, `${what}: scores`);
  }
});

test("the pipeline's decoding keeps scores of exactly min_score, on the real anchors", () => {
  const c = golden.cases[0];
  assert.equal(c.name, "pipeline");
  assert.ok(c.count > 100);
  // Logit 0 gives exactly 0.5 = min_score: kept (>=).
  assert.ok(flat(c.scores).includes(0.5));
  const anchors = generateAnchors();
  assertClose(anchors.data, flat(c.anchors), 0, "anchors");
  const got = tensorsToDetections(
    { rows: anchors.rows, cols: 12, data: Float32Array.from(flat(c.raw_boxes)) },
    Float64Array.from(flat(c.raw_scores)),
    anchors,
    0.5,
  );
  assertClose(got.boxes.data, c.boxes, 0, "boxes");
});

test("the sigmoid equals the Python package's on float32 and float64 arrays", () => {
  const s32 = golden.sigmoid.float32;
  const y32 = sigmoid(Float32Array.from(flat(s32.x)));
  assert.ok(y32 instanceof Float32Array);
  // float32 exp: see above (a float32 ulp or two).
  assertClose(y32, s32.y, 1e-6, "float32 sigmoid");
  const s64 = golden.sigmoid.float64;
  const y64 = sigmoid(flat(s64.x));
  assert.ok(y64 instanceof Float64Array);
  // float64 exp of numpy and Math.exp may differ by a float64 ulp.
  assertClose(y64, s64.y, 1e-15, "float64 sigmoid");
  assert.ok(Number.isNaN(y32[y32.length - 1] as number));
});

test("mismatched tensors throw", () => {
  const anchors = generateAnchors();
  const scores = new Float32Array(anchors.rows);
  assert.throws(() => tensorsToDetections(new Float32Array(10), scores, anchors, 0.5));
  assert.throws(() =>
    tensorsToDetections(new Float32Array(anchors.rows * 12), new Float32Array(3), anchors, 0.5),
  );
});
