/**
 * Video mode: the detector-tracker loop and temporal smoothing of MediaPipe's `PoseLandmarkCpu`
 * graph with `use_prev_landmarks`, `PoseLandmarkFiltering` and `PoseSegmentationFiltering`.
 * Python: `vitruvian/tracking.py` (`PoseTracker`), which this class follows step by step.
 *
 * ```
 * ROI from the previous frame? ──yes──► landmarksFromRoi ──presence ok──► tracked
 *         │ no                                │ lost: reset the filters
 *         ▼                                   ▼
 * detect ─► detectionToRoi ─► landmarksFromRoi (same frame) ─► no pose: null
 *         │
 *         ▼
 * smooth: visibility low-pass, One-Euro on image landmarks (object-scale normalised) and on
 *         world landmarks (when smoothLandmarks); One-Euro on the auxiliary landmarks (always);
 *         segmentation mask blended with the previous one (when smoothSegmentation)
 *         │
 *         ▼
 * next ROI from the smoothed auxiliary landmarks
 * ```
 *
 * Timestamps are in microseconds and must increase within a stream; without one, each frame
 * advances 33333 µs (30 fps), as MediaPipe's Python solution does. As in Python, when tracking
 * is lost the detector runs again on the same frame, and a new frame size starts a new track.
 */

import { landmarksToRoi, objectScale, roiProblem } from "./calculators/detection_to_roi.js";
import type { RgbImageLike } from "./calculators/image_to_tensor.js";
import {
  AUXILIARY_LANDMARKS_FILTER,
  LANDMARKS_FILTER,
  LandmarksSmoother,
  VisibilitySmoother,
  WORLD_LANDMARKS_FILTER,
} from "./calculators/landmarks_smoothing.js";
import { smoothSegmentation } from "./calculators/segmentation_smoothing.js";
import { checkImage, type PosePipeline } from "./pipeline.js";
import type { Matrix, NormalizedRect, PoseResult } from "./types.js";

/** MediaPipe's Python solution advances its clock by this much per frame without a timestamp. */
export const FRAME_STEP_US = 33333;

/** Tracking settings (Python: `PoseTracker`'s smoothing arguments). */
export interface TrackerOptions {
  /** Filter image and world landmarks (and visibility) over time. */
  smoothLandmarks: boolean;
  /** Blend each mask with the previous one (ratio 0.7 on uncertain pixels). */
  smoothSegmentation: boolean;
}

/** Columns `start`..`start + count` of every row of `m` (float32 copy). */
function columns(m: Matrix, start: number, count: number): Matrix {
  const out = new Float32Array(m.rows * count);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < count; c++) out[r * count + c] = m.data[r * m.cols + start + c] as number;
  }
  return { rows: m.rows, cols: count, data: out };
}

/** `m` with columns `start`.. replaced by `values` (float32 copy). */
function withColumns(m: Matrix, start: number, values: Matrix): Matrix {
  const out = Float32Array.from(m.data);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < values.cols; c++) {
      out[r * m.cols + start + c] = values.data[r * values.cols + c] as number;
    }
  }
  return { rows: m.rows, cols: m.cols, data: out };
}

/** Single-person BlazePose on a video stream, with tracking and smoothing. */
export class PoseTracker {
  readonly pipeline: PosePipeline;
  readonly options: TrackerOptions;
  private readonly landmarks = new LandmarksSmoother(LANDMARKS_FILTER);
  private readonly world = new LandmarksSmoother(WORLD_LANDMARKS_FILTER);
  private readonly auxiliary = new LandmarksSmoother(AUXILIARY_LANDMARKS_FILTER);
  private readonly visibility = new VisibilitySmoother();
  private roi: NormalizedRect | null = null;
  private mask: Matrix | null = null;
  private lastUs: number | null = null;
  private size: string | null = null;
  /** Frames processed, and frames where the previous frame's region held (no detector run). */
  readonly counts = { frames: 0, trackedFrames: 0 };

  constructor(pipeline: PosePipeline, options: TrackerOptions) {
    this.pipeline = pipeline;
    this.options = {
      smoothLandmarks: Boolean(options.smoothLandmarks),
      smoothSegmentation: Boolean(options.smoothSegmentation),
    };
  }

  /**
   * Track the pose in the next frame.
   *
   * @param timestampUs the frame's time in microseconds, greater than the previous frame's;
   *   `undefined` advances 33333 µs.
   * @returns the smoothed pose, or `null` when no person is found in this frame.
   */
  async process(image: RgbImageLike, timestampUs?: number): Promise<PoseResult | null> {
    checkImage(image);
    const now = this.advanceClock(timestampUs);
    this.counts.frames += 1;
    const size = `${image.width}x${image.height}`;
    if (this.size !== size) {
      this.loseTrack();
      this.size = size;
    }
    let result: PoseResult | null = null;
    let tracked = false;
    if (this.roi !== null) {
      result = await this.pipeline.landmarksFromRoi(image, this.roi);
      if (result === null) this.loseTrack();
      else tracked = true;
    }
    if (result === null) result = await this.pipeline.process(image);
    if (result === null) {
      this.loseTrack();
      return null;
    }
    if (tracked) this.counts.trackedFrames += 1;
    return this.smooth(result, now, image.width, image.height);
  }

  /** Start a new stream: forget the tracked region, the filters' past and the clock. */
  reset(): void {
    this.loseTrack();
    this.lastUs = null;
    this.size = null;
  }

  private advanceClock(timestampUs: number | undefined): number {
    let now: number;
    if (timestampUs === undefined) {
      now = (this.lastUs ?? 0) + FRAME_STEP_US;
    } else {
      if (typeof timestampUs !== "number" || !Number.isFinite(timestampUs)) {
        throw new TypeError(`timestamps must be finite numbers, got ${String(timestampUs)}`);
      }
      now = Math.trunc(timestampUs);
      if (now < 0) throw new RangeError(`timestamps must be >= 0, got ${now} µs`);
      if (this.lastUs !== null && now <= this.lastUs) {
        throw new RangeError(
          `timestamp ${now} µs is not after the previous frame's (${this.lastUs} µs); ` +
            "timestamps must increase within a stream (call reset() to start a new one)",
        );
      }
    }
    this.lastUs = now;
    return now;
  }

  private loseTrack(): void {
    this.roi = null;
    this.mask = null;
    this.landmarks.reset();
    this.world.reset();
    this.auxiliary.reset();
    this.visibility.reset();
  }

  private smooth(result: PoseResult, now: number, width: number, height: number): PoseResult {
    const size: [number, number] = [width, height];
    const rawAux = result.auxiliaryLandmarks;
    const scale = objectScale(rawAux, width, height);

    let landmarks = result.landmarks;
    let world = result.worldLandmarks;
    if (this.options.smoothLandmarks) {
      const visibility = this.visibility.apply(columns(landmarks, 3, 1).data);
      const vis: Matrix = { rows: landmarks.rows, cols: 1, data: visibility };
      landmarks = withColumns(landmarks, 3, vis);
      world = withColumns(world, 3, vis);
      landmarks = withColumns(
        landmarks,
        0,
        this.landmarks.apply(columns(landmarks, 0, 3), now, scale, size),
      );
      world = withColumns(world, 0, this.world.apply(columns(world, 0, 3), now));
    }

    const aux = withColumns(rawAux, 0, this.auxiliary.apply(columns(rawAux, 0, 3), now, scale, size));
    this.roi = nextRoi(aux, width, height);

    let mask = result.segmentationMask;
    if (mask !== null && this.options.smoothSegmentation) {
      const previous = this.mask;
      if (previous !== null && previous.rows === mask.rows && previous.cols === mask.cols) {
        mask = smoothSegmentation(mask, previous);
      }
      this.mask = mask;
    }
    return { ...result, landmarks, worldLandmarks: world, segmentationMask: mask, auxiliaryLandmarks: aux };
  }
}

/** The next frame's region from the smoothed auxiliary landmarks, or `null` (detect again). */
function nextRoi(auxiliary: Matrix, width: number, height: number): NormalizedRect | null {
  for (let r = 0; r < auxiliary.rows; r++) {
    for (let c = 0; c < 2; c++) {
      if (!Number.isFinite(auxiliary.data[r * auxiliary.cols + c] as number)) return null;
    }
  }
  const roi = landmarksToRoi(auxiliary, width, height);
  return roiProblem(roi, width, height) === null ? roi : null;
}
