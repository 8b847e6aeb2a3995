/**
 * numpy's float arithmetic where its order of operations shows in the last bit, for the ports of
 * the Python calculators that must agree with them exactly.
 */

const PW_BLOCKSIZE = 128;
type Eight = [number, number, number, number, number, number, number, number];

/**
 * Sum of `values[start .. start + n)` in numpy's pairwise order (`@TYPE@_pairwise_sum`): below 8
 * values one by one from -0; up to 128 eight interleaved partial sums combined as
 * `((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`, then the remainder; above that, the two
 * halves (the first a multiple of 8) summed recursively. `round` is applied after every addition
 * (`Math.fround` for float32, identity for float64).
 */
export function pairwiseSum(
  values: ArrayLike<number>,
  start: number,
  n: number,
  round: (value: number) => number,
): number {
  if (n < 8) {
    let res = -0.0;
    for (let i = 0; i < n; i++) res = round(res + (values[start + i] as number));
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = values[start + j] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) {
        r[j] = round((r[j] as number) + (values[start + i + j] as number));
      }
    }
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as Eight;
    let res = round(
      round(round(r0 + r1) + round(r2 + r3)) + round(round(r4 + r5) + round(r6 + r7)),
    );
    for (; i < n; i++) res = round(res + (values[start + i] as number));
    return res;
  }
  let n2 = Math.trunc(n / 2);
  n2 -= n2 % 8;
  return round(
    pairwiseSum(values, start, n2, round) + pairwiseSum(values, start + n2, n - n2, round),
  );
}
