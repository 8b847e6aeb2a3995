import assert from "node:assert/strict";
import { test } from "node:test";

import { normalizeRadians, transformRect } from "../src/calculators/rect_transformation.js";
import type { NormalizedRect } from "../src/types.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("rect_transformation");

function fields(rect: NormalizedRect): number[] {
  return [rect.xCenter, rect.yCenter, rect.width, rect.height, rect.rotation];
}

// Pure float64 arithmetic in Python's order: equal bit for bit.
test("wrapped angles equal the Python package's, also either side of +-pi", () => {
  const angles = flat(golden.angles);
  assert.ok(angles.length > 70);
  const got = angles.map(normalizeRadians);
  assertClose(got, golden.wrapped, 0, "normalizeRadians");
  // In [-pi, pi] up to rounding: the float just below pi wraps to just below -pi, as in Python.
  for (const value of got) assert.ok(Math.abs(value) <= Math.PI + 1e-15);
  // -pi stays, pi wraps to -pi, and the float just above pi to just above -pi.
  assert.equal(normalizeRadians(-Math.PI), -Math.PI);
  assert.equal(normalizeRadians(Math.PI), -Math.PI);
});

test("non-finite angles throw Python's message", () => {
  assert.equal(golden.errors.length, 3);
  for (const e of golden.errors) {
    const angle = e.angle === "nan" ? Number.NaN : e.angle === "inf" ? Infinity : -Infinity;
    assert.throws(() => normalizeRadians(angle), { name: "RangeError", message: e.message });
  }
});

// Math.cos/Math.sin (fdlibm in V8) may differ from the C library's by one float64 ulp, which a
// shifted rotated centre carries (to ~1e-16 of the image); 1e-14 bounds that. Everything else
// is plain float64 arithmetic in Python's order.
test("transformed rects equal the Python package's", () => {
  assert.equal(golden.cases.length, 48);
  for (const c of golden.cases) {
    const options = { ...c.options, shiftX: flat(c.options.shiftX)[0] };
    const got = transformRect(c.rect, c.image_width, c.image_height, options);
    const what = `${JSON.stringify(c.rect)} ${JSON.stringify(c.options)}`;
    const tolerance = c.rect.rotation === 0 ? 0 : 1e-14;
    assertClose(fields(got), fields(c.out), tolerance, what);
    assert.equal(got.rotation, c.rect.rotation);
  }
});

test("a NaN shift moves the centre, as Python's truthy NaN does", () => {
  const c = golden.cases[47];
  assert.equal(c.options.shiftX, "nan");
  const options = { ...c.options, shiftX: Number.NaN };
  const got = transformRect(c.rect, c.image_width, c.image_height, options);
  assert.ok(Number.isNaN(got.xCenter));
  assertClose(fields(got), fields(c.out), 1e-14, "NaN shift");
});

test("the defaults change nothing (as Python's)", () => {
  const got = transformRect(golden.default.rect, 64, 32);
  assertClose(fields(got), fields(golden.default.out), 0, "defaults");
  assert.deepEqual(got, golden.default.rect);
});
