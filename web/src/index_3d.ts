/**
 * vitruvian's 3-D landmark view, `@mediapipe/control_utils_3d`'s `LandmarkGrid` on three.js:
 * a bundle of its own (`vitruvian-3d.mjs`, and `vitruvian-3d.js` defining `LandmarkGrid` as a
 * global like MediaPipe's script), so that the pose package does not carry three.js.
 */

export * from "./solutions/control_utils_3d.js";
