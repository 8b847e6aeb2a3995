/**
 * Temporal smoothing of landmarks (MediaPipe's `LandmarksSmoothingCalculator` with a One-Euro
 * filter, and `VisibilitySmoothingCalculator` with a low-pass filter); Python:
 * `vitruvian/calculators/landmarks_smoothing.py`.
 *
 * Image landmarks (normalised: x over the image width, y over its height, z on the scale of x)
 * are filtered in pixels (x * width, y * height, z * width) with the derivative scaled by
 * `1 / objectScale`, the person's size in pixels, so the filter reacts the same to a near and a
 * far person. World landmarks (metres) are filtered without value scaling. Timestamps are
 * integer microseconds. The smoothers are stateful: they keep the previous frame until
 * `reset()`. float32 arithmetic as in Python, so results equal Python's bit for bit.
 */

import type { Matrix } from "../types.js";
import { LowPassFilter, OneEuroFilter } from "./one_euro_filter.js";

/** `LandmarksSmoothingCalculatorOptions.OneEuroFilter.min_allowed_object_scale` (pixels). */
export const MIN_ALLOWED_OBJECT_SCALE = 1e-6;

/** One-Euro parameters as MediaPipe's graphs configure them (cut-offs in Hz). */
export interface OneEuroSettings {
  readonly minCutoff: number;
  readonly beta: number;
  readonly derivateCutoff: number;
  /** Filter raw values (no `1 / objectScale` on the derivative); default false. */
  readonly disableValueScaling?: boolean;
}

/** `pose_landmark_filtering.pbtxt`: image landmarks. */
export const LANDMARKS_FILTER: OneEuroSettings = {
  minCutoff: 0.05,
  beta: 80.0,
  derivateCutoff: 1.0,
  disableValueScaling: false,
};
/** `pose_landmark_filtering.pbtxt`: world landmarks (metres, no value scaling). */
export const WORLD_LANDMARKS_FILTER: OneEuroSettings = {
  minCutoff: 0.1,
  beta: 40.0,
  derivateCutoff: 1.0,
  disableValueScaling: true,
};
/** `pose_landmark_filtering.pbtxt`: auxiliary (ROI alignment) landmarks. */
export const AUXILIARY_LANDMARKS_FILTER: OneEuroSettings = {
  minCutoff: 0.01,
  beta: 10.0,
  derivateCutoff: 1.0,
  disableValueScaling: false,
};
/** `pose_landmark_filtering.pbtxt`: weight of the new visibility in its low-pass filter. */
export const VISIBILITY_ALPHA = 0.1;

/** One-Euro smoothing of `(N, 3)` landmark coordinates over time. */
export class LandmarksSmoother {
  readonly settings: OneEuroSettings;
  private readonly filter: OneEuroFilter;

  constructor(settings: OneEuroSettings) {
    this.settings = settings;
    this.filter = new OneEuroFilter(settings.minCutoff, settings.beta, settings.derivateCutoff);
  }

  /**
   * A smoothed float32 copy of `xyz`.
   *
   * @param xyz `(N, 3)` coordinates: normalised when `imageSize` is given, else metres.
   * @param timestampUs the frame's time in microseconds.
   * @param objectScale the person's size in pixels (`(roi width + roi height) / 2` of the
   *   alignment rect); required unless value scaling is disabled (else throws). Below
   *   {@link MIN_ALLOWED_OBJECT_SCALE} the frame is returned unfiltered and not remembered.
   * @param imageSize `[width, height]` of the image in pixels, for normalised landmarks.
   */
  apply(
    xyz: Matrix,
    timestampUs: number,
    objectScale?: number | null,
    imageSize?: readonly [number, number] | null,
  ): Matrix {
    let values = Float32Array.from(xyz.data);
    let scale: Float32Array | null = null;
    if (imageSize !== undefined && imageSize !== null) {
      if (xyz.cols !== 3) throw new Error(`image landmarks need 3 columns, got ${xyz.cols}`);
      const [width, height] = imageSize;
      scale = Float32Array.of(width, height, width);
      const scaled = new Float32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        scaled[i] = (values[i] as number) * (scale[i % 3] as number);
      }
      values = scaled;
    }
    let valueScale = 1.0;
    if (!(this.settings.disableValueScaling ?? false)) {
      if (objectScale === undefined || objectScale === null) {
        throw new Error("objectScale is required when value scaling is enabled");
      }
      if (objectScale < MIN_ALLOWED_OBJECT_SCALE) {
        return { rows: xyz.rows, cols: xyz.cols, data: Float32Array.from(xyz.data) };
      }
      valueScale = 1.0 / objectScale;
    }
    const out = this.filter.apply(values, timestampUs, valueScale);
    if (scale !== null) {
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / (scale[i % 3] as number);
    }
    return { rows: xyz.rows, cols: xyz.cols, data: out };
  }

  /** Forget the past (values and timing). */
  reset(): void {
    this.filter.reset();
  }
}

/** Low-pass filter of a visibility column (`alpha` weights the new value). */
export class VisibilitySmoother {
  private readonly filter: LowPassFilter;

  constructor(alpha: number = VISIBILITY_ALPHA) {
    this.filter = new LowPassFilter(alpha);
  }

  /** A smoothed float32 copy of `visibility` (its length fixed between calls). */
  apply(visibility: ArrayLike<number>): Float32Array {
    return this.filter.apply(visibility);
  }

  /** Forget the past: the next value passes unfiltered. */
  reset(): void {
    this.filter.reset();
  }
}
