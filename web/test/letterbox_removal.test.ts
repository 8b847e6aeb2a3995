import assert from "node:assert/strict";
import { test } from "node:test";

import {
  removeDetectionLetterbox,
  removeLandmarkLetterbox,
} from "../src/calculators/letterbox_removal.js";
import type { Matrix, Padding, RawDetections } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("letterbox_removal");

function matrixOf(values: unknown, cols: number, dtype: string): Matrix {
  const list = flat(values);
  const data = dtype === "float32" ? Float32Array.from(list) : Float64Array.from(list);
  return { rows: list.length / cols, cols, data };
}

// The same float32 (or float64) operations as numpy's on the same float32 offsets and scales:
// equal bit for bit.
test("detections out of the letterbox equal the Python package's", () => {
  assert.equal(golden.detections.length, 10);
  for (const c of golden.detections) {
    const padding = c.padding as Padding;
    const detections: RawDetections = {
      boxes: matrixOf(c.boxes, 4, c.dtype),
      keypoints: matrixOf(c.keypoints, 8, c.dtype),
      scores: matrixOf(c.scores, 1, c.dtype).data,
    };
    const got = removeDetectionLetterbox(detections, padding);
    const what = `${JSON.stringify(padding)} (${c.dtype})`;
    assert.ok(got.boxes.data instanceof Float32Array);
    assert.ok(got.keypoints.data instanceof Float32Array);
    assert.equal(got.boxes.rows, 17);
    assert.equal(got.keypoints.cols, 8);
    assert.equal(got.scores, detections.scores);
    assertClose(got.boxes.data, c.out_boxes, 0, `boxes ${what}`);
    assertClose(got.keypoints.data, c.out_keypoints, 0, `keypoints ${what}`);
  }
});

test("landmarks out of the letterbox equal the Python package's", () => {
  assert.equal(golden.landmarks.length, 5);
  for (const c of golden.landmarks) {
    const landmarks = matrixOf(c.landmarks, 5, "float64");
    const before = Float64Array.from(landmarks.data);
    const got = removeLandmarkLetterbox(landmarks, c.padding);
    assert.ok(got.data instanceof Float32Array);
    assert.equal(got.rows, 33);
    assert.equal(got.cols, 5);
    assertClose(got.data, c.out, 0, `landmarks ${JSON.stringify(c.padding)}`);
    assert.deepEqual(landmarks.data, before);
  }
});

test("landmarks need 3 columns", () => {
  const twoColumns = { rows: 1, cols: 2, data: new Float32Array(2) };
  assert.throws(() => removeLandmarkLetterbox(twoColumns, golden.landmarks[0].padding));
});
