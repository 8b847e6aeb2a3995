/**
 * vitruvian in the browser. For now: the graph's calculators, one module per MediaPipe
 * calculator as in the Python package's `vitruvian.calculators` (the `Pose` Solution API comes
 * on top of them).
 */

export * from "./types.js";
export * from "./calculators/ssd_anchors.js";
export * from "./calculators/image_to_tensor.js";
