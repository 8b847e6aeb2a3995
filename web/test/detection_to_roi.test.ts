import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BOX_ROI_SCALE,
  boxToRoi,
  checkRoi,
  detectionToRoi,
  landmarksToRoi,
  MAX_ROI_EXTENT,
  MIN_ROI_SIDE_PX,
  objectScale,
  ROI_SCALE,
  roiProblem,
  ROTATION_END_KEYPOINT,
  ROTATION_START_KEYPOINT,
  TARGET_ANGLE,
} from "../src/calculators/detection_to_roi.js";
import type { NormalizedRect } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("detection_to_roi");

function fields(rect: NormalizedRect): number[] {
  return [rect.xCenter, rect.yCenter, rect.width, rect.height, rect.rotation];
}

/** A golden rect, its "nan"/"inf" strings as numbers. */
function rectOf(r: Record<string, unknown>): NormalizedRect {
  const [xCenter, yCenter, width, height, rotation] = flat([
    r.xCenter,
    r.yCenter,
    r.width,
    r.height,
    r.rotation,
  ]) as [number, number, number, number, number];
  return { xCenter, yCenter, width, height, rotation };
}

// Math.atan2, Math.hypot, Math.cos and Math.sin (V8's fdlibm and Kahan-summed hypot) may differ
// from CPython's (the C library's atan2, CPython's own hypot) by an ulp or so of float64; the
// ROIs carry that relatively (centres and sizes up to ~30 image sizes here), so the comparison
// allows 1e-14 + 1e-14 * |value|. The rest is float64 arithmetic in Python's order.
const ATOL = 1e-14;
const RTOL = 1e-14;

test("constants equal the Python package's", () => {
  const c = golden.constants;
  assert.equal(ROTATION_START_KEYPOINT, c.ROTATION_START_KEYPOINT);
  assert.equal(ROTATION_END_KEYPOINT, c.ROTATION_END_KEYPOINT);
  assert.equal(TARGET_ANGLE, c.TARGET_ANGLE);
  assert.equal(ROI_SCALE, c.ROI_SCALE);
  assert.equal(MIN_ROI_SIDE_PX, c.MIN_ROI_SIDE_PX);
  assert.equal(MAX_ROI_EXTENT, c.MAX_ROI_EXTENT);
  assert.equal(BOX_ROI_SCALE, c.BOX_ROI_SCALE);
});

test("ROIs from detections equal the Python package's", () => {
  assert.equal(golden.detections.length, 40);
  for (const d of golden.detections) {
    const got = detectionToRoi(flat(d.keypoints), d.image_width, d.image_height);
    const what = `keypoints ${JSON.stringify(d.keypoints)} on ${d.image_width}x${d.image_height}`;
    assertClose(fields(got), fields(d.roi), ATOL, what, RTOL);
    // Square in pixels, at least the minimum side.
    const side = got.width * d.image_width;
    assert.ok(Math.abs(side - got.height * d.image_height) <= 1e-12 * side, what);
    assert.ok(side >= MIN_ROI_SIDE_PX * (1 - 1e-12), what);
  }
});

test("the rotation wraps around at +-pi as in Python", () => {
  const [up, down, rightOfDown, leftOfDown] = golden.detections;
  const rotation = (d: { keypoints: unknown; image_width: number; image_height: number }): number =>
    detectionToRoi(flat(d.keypoints), d.image_width, d.image_height).rotation;
  assert.equal(rotation(up), 0);
  assert.equal(rotation(down), -Math.PI);
  assert.equal(down.roi.rotation, -Math.PI);
  // Just right of straight down: just below pi; just left: just above pi, wrapped to -pi.
  assert.ok(rotation(rightOfDown) > 3.14 && rightOfDown.roi.rotation > 3.14);
  assert.ok(rotation(leftOfDown) < -3.14 && leftOfDown.roi.rotation < -3.14);
});

test("coinciding alignment points give the minimum ROI", () => {
  const d = golden.detections[6];
  const got = detectionToRoi(flat(d.keypoints), d.image_width, d.image_height);
  assert.equal(got.width * d.image_width, MIN_ROI_SIDE_PX);
  assertClose(fields(got), fields(d.roi), 0, "minimum ROI");
});

test("non-finite alignment keypoints throw; keypoints 2 and 3 are not used", () => {
  assert.equal(golden.bad_points.length, 2);
  for (const b of golden.bad_points) {
    assert.match(b.message, /^alignment keypoints must be finite, got /);
    assert.throws(() => detectionToRoi(flat(b.keypoints), 64, 48), {
      name: "RangeError",
      message: /^alignment keypoints must be finite, got \[0\.5 0\.5\] and \[(nan|inf) 0\.5\]$/,
    });
  }
  const got = detectionToRoi(flat(golden.ignored.keypoints), 64, 48);
  assertClose(fields(got), fields(golden.ignored.roi), ATOL, "ignored", RTOL);
});

test("ROIs and object scales from auxiliary landmarks equal the Python package's", () => {
  for (const l of golden.landmarks) {
    const aux = { rows: 2, cols: 5, data: Float32Array.from(flat(l.aux)) };
    const got = landmarksToRoi(aux, l.image_width, l.image_height);
    assertClose(fields(got), fields(l.roi), ATOL, "landmarks to ROI", RTOL);
    const scale = objectScale(aux, l.image_width, l.image_height);
    assertClose([scale], [l.object_scale], ATOL, "object scale", RTOL);
  }
});

test("ROIs from person boxes, and the errors, equal the Python package's", () => {
  assert.equal(golden.boxes.length, 11);
  for (const b of golden.boxes) {
    const box = flat(b.box);
    if (b.message === null) {
      const got = boxToRoi(box, 640, 480, b.scale);
      assertClose(fields(got), fields(b.roi), 0, `box ${JSON.stringify(b.box)}`);
    } else {
      assert.throws(() => boxToRoi(box, 640, 480, b.scale), {
        name: "RangeError",
        message: b.message,
      });
    }
  }
  const first = golden.boxes[0];
  assert.deepEqual(boxToRoi(flat(first.box), 640, 480), rectOf(first.roi));
});

test("ROI problems and checks, with their messages, equal the Python package's", () => {
  assert.equal(golden.problems.length, 34);
  for (const p of golden.problems) {
    const rect = rectOf(p.rect);
    assert.equal(roiProblem(rect, p.image_width, p.image_height), p.problem);
    if (p.check === null) {
      assert.equal(checkRoi(rect, p.image_width, p.image_height), rect);
    } else {
      assert.throws(() => checkRoi(rect, p.image_width, p.image_height), {
        name: "RangeError",
        message: p.check,
      });
    }
  }
});
