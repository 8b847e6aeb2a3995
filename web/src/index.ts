/**
 * vitruvian in the browser. For now: the graph's calculators, one module per MediaPipe
 * calculator as in the Python package's `vitruvian.calculators` (the `Pose` Solution API comes
 * on top of them).
 */

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
