/** Test helpers: the JSON goldens written by `scripts/make_web_goldens.py`, and comparisons. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `make test-web` writes the goldens: `web/build/goldens` (or `$VITRUVIAN_GOLDENS`). */
export const GOLDENS_DIR =
  process.env.VITRUVIAN_GOLDENS ?? join(dirname(fileURLToPath(import.meta.url)), "..", "goldens");

/** The goldens of one module of `scripts/web_goldens/`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadGoldens(name: string): any {
  const path = join(GOLDENS_DIR, `${name}.json`);
  try {
    return JSON.parse(readFileSync(path, "utf-8"));
  } catch (error) {
    throw new Error(
      `cannot read ${path} (${String(error)}): run \`make test-web\`, which writes the goldens ` +
        "with scripts/make_web_goldens.py",
    );
  }
}

/** Flatten nested number arrays (JSON goldens) to one list. */
export function flat(value: unknown): number[] {
  if (Array.isArray(value)) return value.flatMap((item) => flat(item));
  if (typeof value === "number") return [value];
  if (value === "nan" || value === "NaN") return [Number.NaN];
  if (value === "inf") return [Number.POSITIVE_INFINITY];
  if (value === "-inf") return [Number.NEGATIVE_INFINITY];
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  throw new Error(`not a number array: ${JSON.stringify(value)}`);
}

/** Assert every value of `actual` is within `atol + rtol * |expected|` of `expected`. */
export function assertClose(
  actual: unknown,
  expected: unknown,
  atol: number,
  what: string,
  rtol = 0,
): void {
  const got = flat(actual);
  const want = flat(expected);
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const a = got[i] as number;
    const b = want[i] as number;
    if (Number.isNaN(b)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: ${a}, expected NaN`);
      continue;
    }
    const tolerance = atol + rtol * Math.abs(b);
    assert.ok(
      Math.abs(a - b) <= tolerance,
      `${what}[${i}]: ${a}, expected ${b} (tolerance ${tolerance})`,
    );
  }
}
