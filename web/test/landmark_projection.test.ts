import assert from "node:assert/strict";
import { test } from "node:test";

import {
  projectLandmarks,
  projectWorldLandmarks,
  unprojectLandmarks,
} from "../src/calculators/landmark_projection.js";
import type { Matrix, NormalizedRect } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("landmark_projection");

function matrixOf(rows: number[][], dtype: string): Matrix {
  const values = flat(rows);
  const data = dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values);
  return { rows: rows.length, cols: (rows[0] as number[]).length, data };
}

// Every operation is the one numpy performs in the input's dtype, so results are equal bit for
// bit; only Math.cos/Math.sin could differ from the C library's by one float64 ulp, which the
// float32 rounding of the results hides (measured: 0 difference).
test("projected, unprojected and world-projected landmarks equal the Python package's", () => {
  assert.ok(golden.cases.length >= 16);
  for (const c of golden.cases) {
    const rect = c.rect as NormalizedRect;
    const what = `rect ${JSON.stringify(rect)} (${c.dtype})`;
    const landmarks = matrixOf(c.landmarks, c.dtype);
    const world = matrixOf(c.world, c.dtype);
    const projected = projectLandmarks(landmarks, rect);
    assert.ok(projected.data instanceof Float32Array);
    assert.equal(projected.cols, 5);
    assertClose(projected.data, c.projected, 0, `project ${what}`);
    assertClose(unprojectLandmarks(landmarks, rect).data, c.unprojected, 0, `unproject ${what}`);
    assertClose(projectWorldLandmarks(world, rect).data, c.world_projected, 0, `world ${what}`);
  }
});

test("unprojecting a projection comes back to the landmarks", () => {
  const c = golden.cases[2];
  const landmarks = matrixOf(c.landmarks, "float64");
  const back = unprojectLandmarks(projectLandmarks(landmarks, c.rect), c.rect);
  assertClose(back.data, landmarks.data, 1e-5, "round trip");
});

test("the inputs are not modified", () => {
  const c = golden.cases[1];
  const landmarks = matrixOf(c.landmarks, "float32");
  const before = Float32Array.from(landmarks.data);
  projectLandmarks(landmarks, c.rect);
  unprojectLandmarks(landmarks, c.rect);
  projectWorldLandmarks(landmarks, c.rect);
  assert.deepEqual(landmarks.data, before);
});
