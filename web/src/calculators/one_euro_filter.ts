/**
 * Low-pass and One-Euro filters (MediaPipe's `LowPassFilter` and `OneEuroFilter`), vectorised:
 * one filter object smooths a whole array of values that share timestamps; Python:
 * `vitruvian/calculators/one_euro_filter.py`.
 *
 * The One-Euro filter (Casiez et al., CHI 2012) is an exponential smoother whose cut-off
 * frequency rises with the signal's speed: `cutoff = minCutoff + beta * |smoothed derivative|`
 * (Hz), so slow jitter is removed and fast motion passes with little lag. Values are filtered
 * element by element; `valueScale` multiplies the derivative (MediaPipe uses `1 / object size`
 * so that the filter behaves the same for near and far people). Timestamps are integer
 * microseconds.
 *
 * State is kept in float32 like MediaPipe's, arithmetic in float64, exactly as the Python does;
 * there is no `exp` or `log`, so results equal Python's bit for bit.
 */

/** MediaPipe's `OneEuroFilter` assumes 30 Hz until two timestamps give the real rate. */
export const DEFAULT_FREQUENCY = 30.0;

/**
 * Exponential smoothing `y = alpha * x + (1 - alpha) * yPrev` over an array of values (its
 * length fixed between calls); the first value after construction or {@link reset} passes.
 */
export class LowPassFilter {
  /** Weight of the new value, used when {@link apply} gets no `alpha`. */
  alpha: number;
  private stored: Float32Array | null = null;
  private raw: Float32Array | null = null;

  constructor(alpha = 1.0) {
    this.alpha = alpha;
  }

  /** Whether a value has been filtered since construction or {@link reset}. */
  get initialized(): boolean {
    return this.stored !== null;
  }

  /** A copy of the last unfiltered input, rounded to float32 (`null` before the first one). */
  get lastRaw(): Float32Array | null {
    return this.raw === null ? null : this.raw.slice();
  }

  /**
   * Filter `value` with `alpha` (a scalar, or one weight per value; default: {@link alpha}),
   * both rounded to float32 first; the blend is computed in float64 and rounded to float32.
   * Returns a new float32 array. Throws if the length differs from the previous value's (or
   * from `value`'s, for per-value weights).
   */
  apply(value: ArrayLike<number>, alpha?: number | ArrayLike<number>): Float32Array {
    const v = Float32Array.from(value);
    const n = v.length;
    let weights: Float32Array | null = null;
    let scalar = 0;
    if (alpha === undefined) scalar = Math.fround(this.alpha);
    else if (typeof alpha === "number") scalar = Math.fround(alpha);
    else {
      weights = Float32Array.from(alpha);
      if (weights.length !== n) {
        throw new Error(`${weights.length} weights for ${n} values`);
      }
    }
    let result: Float32Array;
    if (this.stored === null) {
      result = v.slice();
    } else {
      const stored = this.stored;
      if (stored.length !== n) {
        throw new Error(`${n} values, the filter holds ${stored.length}`);
      }
      result = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = weights === null ? scalar : (weights[i] as number);
        result[i] = a * (v[i] as number) + (1.0 - a) * (stored[i] as number);
      }
    }
    this.raw = v;
    this.stored = result;
    return result.slice();
  }

  /** Forget the past: the next value passes unfiltered. */
  reset(): void {
    this.stored = null;
    this.raw = null;
  }
}

/**
 * One-Euro filter over an array of values with shared timestamps.
 *
 * `minCutoff`: cut-off frequency (Hz) for a still signal, lower smooths more; `beta`: how fast
 * the cut-off rises with speed, higher lags less; `derivateCutoff`: cut-off frequency (Hz) for
 * smoothing the derivative; `frequency`: sampling rate (Hz) assumed until two timestamps are
 * seen. Throws unless `minCutoff`, `derivateCutoff` and `frequency` are > 0.
 */
export class OneEuroFilter {
  readonly minCutoff: number;
  readonly beta: number;
  readonly derivateCutoff: number;
  /** The current sampling rate estimate (Hz): `1e6 / (last timestamp step in us)`. */
  frequency: number;
  private readonly initialFrequency: number;
  private readonly x = new LowPassFilter();
  private readonly dx = new LowPassFilter();
  private lastTimeUs: number | null = null;

  constructor(
    minCutoff: number,
    beta: number,
    derivateCutoff: number,
    frequency: number = DEFAULT_FREQUENCY,
  ) {
    if (minCutoff <= 0 || derivateCutoff <= 0 || frequency <= 0) {
      throw new Error("minCutoff, derivateCutoff and frequency must be > 0");
    }
    this.minCutoff = minCutoff;
    this.beta = beta;
    this.derivateCutoff = derivateCutoff;
    this.initialFrequency = frequency;
    this.frequency = frequency;
  }

  /** Smoothing weight for `cutoff` (Hz) at the current frequency (float64). */
  private alphaOf(cutoff: number): number {
    const te = 1.0 / this.frequency;
    const tau = 1.0 / (2.0 * Math.PI * cutoff);
    return 1.0 / (1.0 + tau / te);
  }

  /**
   * Filter `value` observed at `timestampUs` (microseconds, increasing; truncated to an integer
   * like Python's `int`). A timestamp that does not increase returns `value` (as float32)
   * unchanged and leaves the state alone, as MediaPipe does. A timestamp of 0 never sets the
   * rate (MediaPipe only trusts nonzero ones). Returns a new float32 array.
   */
  apply(value: ArrayLike<number>, timestampUs: number, valueScale = 1.0): Float32Array {
    const t = Math.trunc(timestampUs);
    if (this.lastTimeUs !== null && t <= this.lastTimeUs) {
      return Float32Array.from(value);
    }
    if (this.lastTimeUs !== null && this.lastTimeUs !== 0 && t !== 0) {
      this.frequency = 1e6 / (t - this.lastTimeUs);
    }
    this.lastTimeUs = t;

    const v = Float32Array.from(value);
    const n = v.length;
    const lastRaw = this.x.lastRaw;
    const dvalue = new Float64Array(n);
    if (lastRaw !== null) {
      if (lastRaw.length !== n) throw new Error(`${n} values, the filter holds ${lastRaw.length}`);
      for (let i = 0; i < n; i++) {
        dvalue[i] = ((v[i] as number) - (lastRaw[i] as number)) * valueScale * this.frequency;
      }
    }
    const edvalue = this.dx.apply(dvalue, this.alphaOf(this.derivateCutoff));
    const alphas = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const cutoff = this.minCutoff + this.beta * Math.abs(edvalue[i] as number);
      alphas[i] = this.alphaOf(cutoff);
    }
    return this.x.apply(v, alphas);
  }

  /** Forget the past (values and timing): the next value passes, at the initial frequency. */
  reset(): void {
    this.x.reset();
    this.dx.reset();
    this.lastTimeUs = null;
    this.frequency = this.initialFrequency;
  }
}
