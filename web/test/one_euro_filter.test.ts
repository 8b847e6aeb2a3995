import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_FREQUENCY,
  LowPassFilter,
  OneEuroFilter,
} from "../src/calculators/one_euro_filter.js";
import { assertClose, flat, loadGoldens } from "./goldens.js";

const golden = loadGoldens("one_euro_filter");

// The filters' arithmetic is float64 with float32 state, as in Python, and has no exp or log:
// outputs are equal bit for bit (tolerance 0).

test("the default frequency equals the Python package's", () => {
  assert.equal(DEFAULT_FREQUENCY, golden.default_frequency);
});

test("a low-pass filter sequence (scalar and per-value alpha, reset) equals Python's", () => {
  const lpf = new LowPassFilter(0.3);
  assert.equal(lpf.initialized, false);
  assert.equal(lpf.lastRaw, null);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  golden.low_pass.forEach((step: any, i: number) => {
    if (step.reset) {
      lpf.reset();
      assert.equal(lpf.initialized, step.initialized);
      assert.equal(lpf.lastRaw, null);
      return;
    }
    const alpha =
      step.alpha === null
        ? undefined
        : typeof step.alpha === "number"
          ? step.alpha
          : flat(step.alpha);
    const out = lpf.apply(flat(step.value), alpha);
    assert.ok(out instanceof Float32Array);
    assertClose(out, step.out, 0, `low-pass step ${i}`);
    assert.equal(lpf.initialized, step.initialized);
    assertClose(lpf.lastRaw, step.last_raw, 0, `low-pass step ${i} last raw`);
  });
});

test("One-Euro sequences (first frame, equal/backward timestamps, reset) equal Python's", () => {
  for (const f of golden.one_euro) {
    const [minCutoff, beta, derivateCutoff, frequency] = f.args as [number, number, number, number];
    const filter = new OneEuroFilter(minCutoff, beta, derivateCutoff, frequency);
    let filtered = 0;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    f.steps.forEach((step: any, i: number) => {
      if (step.reset) {
        filter.reset();
        assert.equal(filter.frequency, step.frequency);
        return;
      }
      const value = flat(step.value);
      const out = filter.apply(value, step.timestamp_us, f.value_scale);
      assertClose(out, step.out, 0, `${f.name} step ${i} (t=${step.timestamp_us})`);
      assert.equal(filter.frequency, step.frequency, `${f.name} step ${i} frequency`);
      if (out.some((v, k) => v !== Math.fround(value[k] as number))) filtered++;
    });
    assert.ok(filtered > 5, `${f.name}: the goldens filter most frames`);
  }
});

test("the filters do not keep or modify the caller's arrays", () => {
  const filter = new OneEuroFilter(1.0, 0.5, 1.0);
  const value = Float32Array.of(1, 2, 3);
  const out = filter.apply(value, 1000);
  assert.deepEqual(out, value);
  assert.notEqual(out, value);
  value[0] = 50;
  const next = filter.apply(Float32Array.of(1, 2, 3), 34333);
  assert.deepEqual(next, Float32Array.of(1, 2, 3));
});

test("invalid parameters and a changed length throw", () => {
  assert.throws(() => new OneEuroFilter(0, 1, 1));
  assert.throws(() => new OneEuroFilter(1, 1, -1));
  assert.throws(() => new OneEuroFilter(1, 1, 1, 0));
  const lpf = new LowPassFilter(0.5);
  lpf.apply([1, 2]);
  assert.throws(() => lpf.apply([1, 2, 3]));
  assert.throws(() => lpf.apply([1, 2], [0.5]));
});
