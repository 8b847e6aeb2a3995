import assert from "node:assert/strict";
import { test } from "node:test";

import { iou, weightedNonMaxSuppression } from "../src/calculators/non_max_suppression.js";
import type { Matrix, RawDetections } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("non_max_suppression");

function array(values: unknown, dtype: string): Float32Array | Float64Array {
  return dtype === "float32" ? Float32Array.from(flat(values)) : Float64Array.from(flat(values));
}

function matrixOf(values: unknown, cols: number, dtype: string): Matrix {
  const data = array(values, dtype);
  return { rows: data.length / cols, cols, data };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function detectionsOf(c: any): RawDetections {
  const kpCols = c.keypoints.length > 0 ? c.keypoints[0].length : 8;
  return {
    boxes: matrixOf(c.boxes, 4, c.dtype),
    keypoints: matrixOf(c.keypoints, kpCols, c.dtype),
    scores: array(c.scores, c.scores_dtype),
  };
}

// Every step is numpy's, in its dtype and (for the sums) its order: equal bit for bit.
test("merged detections equal the Python package's", () => {
  assert.equal(golden.cases.length, 12);
  for (const c of golden.cases) {
    const detections = detectionsOf(c);
    const got = weightedNonMaxSuppression(detections, c.iou_threshold, c.max_detections);
    const what = `case ${c.name}`;
    assert.equal(got.scores.length, c.out_scores.length, `${what}: count`);
    assert.equal(got.boxes.rows, c.out_scores.length);
    assert.equal(got.keypoints.rows, c.out_scores.length);
    assert.equal(got.keypoints.cols, detections.keypoints.cols);
    assert.ok(got.boxes.data instanceof Float32Array);
    assert.ok(got.keypoints.data instanceof Float32Array);
    assert.ok(got.scores instanceof Float32Array);
    assertClose(got.boxes.data, c.out_boxes, 0, `${what}: boxes`);
    assertClose(got.keypoints.data, c.out_keypoints, 0, `${what}: keypoints`);
    assertClose(got.scores, c.out_scores, 0, `${what}: scores`);
  }
});

test("an IoU of exactly float32(0.3) is not above the threshold 0.3", () => {
  const c = golden.cases.find((x: { name: string }) => x.name === "IoU at the threshold");
  const got = weightedNonMaxSuppression(detectionsOf(c));
  assert.equal(got.scores.length, 2);
  const [first, second] = [flat(c.boxes).slice(0, 4), flat(c.boxes).slice(4)];
  assert.equal(iou(first, matrixOf(second, 4, "float32"))[0], Math.fround(0.3));
});

test("the defaults are Python's (threshold 0.3, no limit)", () => {
  const c = golden.cases[0];
  assert.equal(c.iou_threshold, 0.3);
  assert.equal(c.max_detections, null);
  const got = weightedNonMaxSuppression(detectionsOf(c));
  assertClose(got.boxes.data, c.out_boxes, 0, "boxes");
});

test("the inputs are not modified", () => {
  const detections = detectionsOf(golden.cases[0]);
  const before = Float32Array.from(detections.boxes.data);
  const scores = Float32Array.from(detections.scores);
  weightedNonMaxSuppression(detections);
  assert.deepEqual(detections.boxes.data, before);
  assert.deepEqual(detections.scores, scores);
});

test("IoUs equal the Python package's", () => {
  const g = golden.iou;
  const got = iou(flat(g.box), matrixOf(g.boxes, 4, "float32"));
  assert.ok(got instanceof Float32Array);
  assertClose(got, g.iou, 0, "iou");
});
