import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AUXILIARY_LANDMARKS_FILTER,
  LANDMARKS_FILTER,
  LandmarksSmoother,
  MIN_ALLOWED_OBJECT_SCALE,
  type OneEuroSettings,
  VISIBILITY_ALPHA,
  VisibilitySmoother,
  WORLD_LANDMARKS_FILTER,
} from "../src/calculators/landmarks_smoothing.js";
import type { Matrix } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("landmarks_smoothing");

function matrixOf(rows: number[][]): Matrix {
  return { rows: rows.length, cols: 3, data: Float32Array.from(flat(rows)) };
}

// float32 state, float64 filter arithmetic and float32 pixel scaling as in Python, no exp or
// log: outputs are equal bit for bit (tolerance 0).

test("settings and constants equal the Python package's", () => {
  assert.equal(MIN_ALLOWED_OBJECT_SCALE, golden.min_allowed_object_scale);
  assert.equal(VISIBILITY_ALPHA, golden.visibility_alpha);
  assert.deepEqual(LANDMARKS_FILTER, golden.settings.landmarks);
  assert.deepEqual(WORLD_LANDMARKS_FILTER, golden.settings.world);
  assert.deepEqual(AUXILIARY_LANDMARKS_FILTER, golden.settings.auxiliary);
});

function runTrack(
  name: string,
  settings: OneEuroSettings,
  imageSize: [number, number] | null,
): void {
  const smoother = new LandmarksSmoother(settings);
  let smoothed = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  golden[name].forEach((step: any, i: number) => {
    if (step.reset) {
      smoother.reset();
      return;
    }
    const xyz = matrixOf(step.xyz);
    const out = smoother.apply(xyz, step.timestamp_us, step.object_scale, imageSize);
    assert.equal(out.rows, xyz.rows);
    assert.equal(out.cols, 3);
    assertClose(out.data, step.out, 0, `${name} frame ${i} (t=${step.timestamp_us})`);
    if (flat(step.out).some((v, k) => v !== xyz.data[k])) smoothed++;
  });
  assert.ok(smoothed > 5, `${name}: the goldens smooth most frames`);
}

test("image landmarks (object scale, tiny scale, equal timestamps, reset) equal Python's", () => {
  runTrack("landmarks", LANDMARKS_FILTER, golden.image_size);
});

test("auxiliary landmarks equal Python's", () => {
  runTrack("auxiliary", AUXILIARY_LANDMARKS_FILTER, golden.image_size);
});

test("world landmarks (metres, no value scaling) equal Python's", () => {
  runTrack("world", WORLD_LANDMARKS_FILTER, null);
});

test("visibility smoothing (first frame, reset) equals Python's", () => {
  const smoother = new VisibilitySmoother();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  golden.visibility.forEach((step: any, i: number) => {
    if (step.reset) {
      smoother.reset();
      return;
    }
    assertClose(smoother.apply(flat(step.visibility)), step.out, 0, `visibility frame ${i}`);
  });
});

test("value scaling needs an object scale", () => {
  const smoother = new LandmarksSmoother(LANDMARKS_FILTER);
  const xyz = matrixOf([[0.5, 0.5, 0.1]]);
  assert.throws(() => smoother.apply(xyz, 1000));
  assert.throws(() => smoother.apply(xyz, 1000, null, [640, 480]));
  const world = new LandmarksSmoother(WORLD_LANDMARKS_FILTER);
  assert.deepEqual(world.apply(xyz, 1000).data, xyz.data);
});
