import assert from "node:assert/strict";
import { test } from "node:test";

import { generateAnchors, POSE_DETECTOR_ANCHORS } from "../src/calculators/ssd_anchors.js";
import { assertClose, loadGoldens } from "./goldens.js";

const golden = loadGoldens("ssd_anchors");

test("the pose detector's 2254 anchors equal the Python package's", () => {
  const anchors = generateAnchors(POSE_DETECTOR_ANCHORS);
  assert.equal(anchors.rows, 2254);
  assert.equal(anchors.cols, 4);
  assertClose(anchors.data, golden.anchors, 0, "anchors");
});

test("options equal the Python package's", () => {
  assert.equal(golden.options.min_scale, POSE_DETECTOR_ANCHORS.minScale);
  assert.equal(golden.options.max_scale, POSE_DETECTOR_ANCHORS.maxScale);
  assert.deepEqual(golden.options.strides, [...POSE_DETECTOR_ANCHORS.strides]);
});
