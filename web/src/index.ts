/**
 * vitruvian in the browser: MediaPipe Pose's JavaScript Solution API (`Pose`, the landmark
 * constants, `@mediapipe/drawing_utils` and `camera_utils`) on the BlazePose graph written out
 * in TypeScript, one module per MediaPipe calculator as in the Python package's
 * `vitruvian.calculators`, running the `.tflite` models with LiteRT.js; and a reader of
 * `vitruvian run` tables. The 3-D `LandmarkGrid` is a separate bundle (`vitruvian-3d`).
 */

export * from "./solutions/pose.js";
export * from "./solutions/landmarks.js";
export * from "./solutions/drawing_utils.js";
export * from "./solutions/camera_utils.js";
export * from "./run_output.js";
export * from "./pipeline.js";
export * from "./tracking.js";
export * from "./models.js";
export * from "./runtime/model.js";
export * from "./runtime/litert.js";
export * from "./types.js";
export * from "./calculators/ssd_anchors.js";
export * from "./calculators/image_to_tensor.js";
export * from "./calculators/tensors_to_detections.js";
export * from "./calculators/non_max_suppression.js";
export * from "./calculators/letterbox_removal.js";
export * from "./calculators/rect_transformation.js";
export * from "./calculators/detection_to_roi.js";
export * from "./calculators/tensors_to_landmarks.js";
export * from "./calculators/refine_from_heatmap.js";
export * from "./calculators/landmark_projection.js";
export * from "./calculators/one_euro_filter.js";
export * from "./calculators/landmarks_smoothing.js";
export * from "./calculators/segmentation_smoothing.js";
export * from "./calculators/segmentation.js";
