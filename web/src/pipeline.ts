/**
 * The BlazePose graph for one image, step by step as MediaPipe's `PoseLandmarkCpu` runs it.
 * Python: `vitruvian/pipeline.py`, which this module follows function for function.
 *
 * ```
 * image ─► detect ──────────────► first detection
 *          (letterbox 224x224 in [-1, 1], SSD decode, sigmoid, weighted NMS, letterbox removal)
 *             │
 *             ▼
 *          detectionToRoi      hips centre, 2x circle radius, rotate to 90°, x1.25, square
 *             │
 *             ▼
 *          landmarksFromRoi    rotated 256x256 crop in [0, 1] ─► landmark model
 *                              ─► pose flag ≥ minTrackingConfidence?
 *                              ─► decode 39 landmarks, heatmap refinement
 *                              ─► letterbox removal, projection to the image
 *                              ─► world landmarks rotated back, visibility copied
 *                              ─► segmentation mask warped back to the image
 * ```
 *
 * Stateless apart from the loaded models and reused buffers (crop workspaces, input tensors).
 */

import { detectionToRoi } from "./calculators/detection_to_roi.js";
import {
  CropWorkspace,
  channelsOf,
  imageToTensor,
  padRoi,
  rectTransform,
  roiToPixels,
  type RgbImageLike,
} from "./calculators/image_to_tensor.js";
import { projectLandmarks, projectWorldLandmarks } from "./calculators/landmark_projection.js";
import {
  removeDetectionLetterbox,
  removeLandmarkLetterbox,
} from "./calculators/letterbox_removal.js";
import { weightedNonMaxSuppression } from "./calculators/non_max_suppression.js";
import { refineFromHeatmap } from "./calculators/refine_from_heatmap.js";
import { maskToImage, tensorToMask } from "./calculators/segmentation.js";
import { POSE_DETECTOR_ANCHORS, generateAnchors } from "./calculators/ssd_anchors.js";
import { tensorsToDetections } from "./calculators/tensors_to_detections.js";
import {
  NUM_MODEL_LANDMARKS,
  tensorsToLandmarks,
  tensorsToWorldLandmarks,
} from "./calculators/tensors_to_landmarks.js";
import { type ModelRunner, outputIndices } from "./runtime/model.js";
import {
  NUM_LANDMARKS,
  sliceRows,
  type Detection,
  type Matrix,
  type NormalizedRect,
  type Padding,
  type PoseResult,
} from "./types.js";

export const DETECTOR_SIZE = 224;
export const LANDMARK_SIZE = 256;
export const HEATMAP_SIZE = 64;
/** `pose_detection_cpu.pbtxt`: weighted NMS IoU threshold. */
export const NMS_IOU_THRESHOLD = 0.3;

/** How often each model ran since the pipeline was built. */
export interface PipelineStats {
  detectorRuns: number;
  landmarkRuns: number;
}

/** The pipeline's settings (Python: `PosePipeline`'s arguments). */
export interface PipelineOptions {
  /** Also predict the person mask. */
  enableSegmentation: boolean;
  /** Minimum detector score, in [0, 1]. */
  minDetectionConfidence: number;
  /** Minimum pose-presence score of the landmark model, in [0, 1]. */
  minTrackingConfidence: number;
}

/** Check a confidence option (Python: `options.check_confidence`). */
export function checkConfidence(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be a number in [0, 1], got ${String(value)}`);
  }
  return value;
}

/** Check an image: positive integer size and RGBA (or RGB) bytes of that size. */
export function checkImage(image: RgbImageLike): RgbImageLike {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new TypeError(`image size must be positive integers, got ${width}x${height}`);
  }
  channelsOf(image);
  return image;
}

/**
 * Single-pose BlazePose on still images (Python: `PosePipeline`). Built on two loaded
 * {@link ModelRunner}s: the detector and one landmark model.
 */
export class PosePipeline {
  readonly options: PipelineOptions;
  readonly stats: PipelineStats = { detectorRuns: 0, landmarkRuns: 0 };
  private readonly anchors: Matrix = generateAnchors(POSE_DETECTOR_ANCHORS);
  private readonly detectorOutputs: number[];
  private readonly landmarkOutputs: number[];
  private readonly detectorCrop = new CropWorkspace(DETECTOR_SIZE, DETECTOR_SIZE);
  private readonly landmarkCrop = new CropWorkspace(LANDMARK_SIZE, LANDMARK_SIZE);
  private readonly detectorInput = new Float32Array(DETECTOR_SIZE * DETECTOR_SIZE * 3);
  private readonly landmarkInput = new Float32Array(LANDMARK_SIZE * LANDMARK_SIZE * 3);

  constructor(
    private readonly detector: ModelRunner,
    private readonly landmarker: ModelRunner,
    options: PipelineOptions,
  ) {
    this.options = {
      enableSegmentation: Boolean(options.enableSegmentation),
      minDetectionConfidence: checkConfidence(
        "minDetectionConfidence",
        options.minDetectionConfidence,
      ),
      minTrackingConfidence: checkConfidence("minTrackingConfidence", options.minTrackingConfidence),
    };
    const anchors = this.anchors.rows;
    this.detectorOutputs = outputIndices("the detector", detector.outputShapes, [
      [1, anchors, 12],
      [1, anchors, 1],
    ]);
    const shapes = [
      [1, NUM_MODEL_LANDMARKS * 5],
      [1, 1],
      [1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_MODEL_LANDMARKS],
      [1, NUM_MODEL_LANDMARKS * 3],
    ];
    if (this.options.enableSegmentation) shapes.push([1, LANDMARK_SIZE, LANDMARK_SIZE, 1]);
    this.landmarkOutputs = outputIndices("the landmark model", landmarker.outputShapes, shapes);
  }

  /**
   * Detect the most confident person and predict its landmarks; `null` when nobody is found
   * or the landmark model's presence score is below `minTrackingConfidence`.
   */
  async process(image: RgbImageLike): Promise<PoseResult | null> {
    checkImage(image);
    const detections = await this.detect(image);
    const first = detections[0];
    if (first === undefined) return null;
    const roi = detectionToRoi(first.keypoints, image.width, image.height);
    const result = await this.landmarksFromRoi(image, roi);
    return result === null ? null : { ...result, detection: first };
  }

  /** The person detector (`PoseDetectionCpu`): detections, most confident first. */
  async detect(image: RgbImageLike): Promise<Detection[]> {
    checkImage(image);
    const [roi, padding] = padRoi(
      roiToPixels(null, image.width, image.height),
      DETECTOR_SIZE,
      DETECTOR_SIZE,
    );
    const matrix = rectTransform(roi, DETECTOR_SIZE, DETECTOR_SIZE);
    const tensor = { width: DETECTOR_SIZE, height: DETECTOR_SIZE, data: this.detectorInput };
    imageToTensor(image, matrix, tensor, [-1.0, 1.0], true, this.detectorCrop);
    const [rawBoxes, rawScores] = await this.detector.run(this.detectorInput, this.detectorOutputs);
    this.stats.detectorRuns += 1;
    return this.decodeDetections(rawBoxes as Float32Array, rawScores as Float32Array, padding);
  }

  private decodeDetections(
    rawBoxes: Float32Array,
    rawScores: Float32Array,
    padding: Padding,
  ): Detection[] {
    const decoded = tensorsToDetections(
      rawBoxes,
      rawScores,
      this.anchors,
      this.options.minDetectionConfidence,
    );
    const merged = removeDetectionLetterbox(
      weightedNonMaxSuppression(decoded, NMS_IOU_THRESHOLD),
      padding,
    );
    const out: Detection[] = [];
    for (let i = 0; i < merged.scores.length; i++) {
      const { boxes, keypoints } = merged;
      out.push({
        box: boxes.data.slice(i * boxes.cols, (i + 1) * boxes.cols),
        keypoints: keypoints.data.slice(i * keypoints.cols, (i + 1) * keypoints.cols),
        score: merged.scores[i] as number,
      });
    }
    return out;
  }

  /**
   * The landmark model (`PoseLandmarkByRoiCpu`) on a rotated region of the image; `null` when
   * its presence score is below `minTrackingConfidence`.
   */
  async landmarksFromRoi(image: RgbImageLike, roi: NormalizedRect): Promise<PoseResult | null> {
    checkImage(image);
    const { width, height } = image;
    const [cropRoi, padding] = padRoi(roiToPixels(roi, width, height), LANDMARK_SIZE, LANDMARK_SIZE);
    const matrix = rectTransform(cropRoi, LANDMARK_SIZE, LANDMARK_SIZE);
    const tensor = { width: LANDMARK_SIZE, height: LANDMARK_SIZE, data: this.landmarkInput };
    imageToTensor(image, matrix, tensor, [0.0, 1.0], false, this.landmarkCrop);
    const outputs = await this.landmarker.run(this.landmarkInput, this.landmarkOutputs);
    this.stats.landmarkRuns += 1;
    return this.decodeLandmarks(outputs, width, height, roi, matrix, padding);
  }

  private decodeLandmarks(
    outputs: Float32Array[],
    width: number,
    height: number,
    roi: NormalizedRect,
    matrix: Matrix,
    padding: Padding,
  ): PoseResult | null {
    const [raw, flag, heatmap, rawWorld, seg] = outputs as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array | undefined,
    ];
    const presence = flag[0] as number;
    if (!(presence >= this.options.minTrackingConfidence)) return null;

    let landmarks = tensorsToLandmarks(raw, NUM_MODEL_LANDMARKS, LANDMARK_SIZE, LANDMARK_SIZE);
    landmarks = refineFromHeatmap(landmarks, {
      height: HEATMAP_SIZE,
      width: HEATMAP_SIZE,
      channels: NUM_MODEL_LANDMARKS,
      data: heatmap,
    });
    landmarks = projectLandmarks(removeLandmarkLetterbox(landmarks, padding), roi);

    const world = projectWorldLandmarks(
      sliceRows(tensorsToWorldLandmarks(rawWorld, NUM_MODEL_LANDMARKS), 0, NUM_LANDMARKS),
      roi,
    );
    const worldFull = new Float32Array(NUM_LANDMARKS * 5);
    for (let i = 0; i < NUM_LANDMARKS; i++) {
      worldFull[i * 5] = world.data[i * 3] as number;
      worldFull[i * 5 + 1] = world.data[i * 3 + 1] as number;
      worldFull[i * 5 + 2] = world.data[i * 3 + 2] as number;
      worldFull[i * 5 + 3] = landmarks.data[i * 5 + 3] as number;
      worldFull[i * 5 + 4] = landmarks.data[i * 5 + 4] as number;
    }

    let mask: Matrix | null = null;
    if (seg !== undefined) {
      mask = maskToImage(tensorToMask(seg, [1, LANDMARK_SIZE, LANDMARK_SIZE, 1]), matrix, width, height);
    }
    return {
      landmarks: sliceRows(landmarks, 0, NUM_LANDMARKS),
      worldLandmarks: { rows: NUM_LANDMARKS, cols: 5, data: worldFull },
      segmentationMask: mask,
      roi,
      presenceScore: presence,
      detection: null,
      auxiliaryLandmarks: sliceRows(landmarks, NUM_LANDMARKS, NUM_LANDMARKS + 2),
    };
  }

  /** Release both models; harmless to call again. */
  close(): void {
    this.detector.close();
    this.landmarker.close();
  }
}
