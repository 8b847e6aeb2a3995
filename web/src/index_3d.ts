/**
 * vitruvian's 3-D landmark view: `@mediapipe/control_utils_3d`'s `LandmarkGrid` (and its base
 * `ViewerWidget`) on three.js. It is a bundle of its own, as MediaPipe ships control_utils_3d
 * apart from pose, so that pages without it do not load three.js:
 *
 * - `dist/vitruvian-3d.mjs`: `import { LandmarkGrid } from "./vitruvian-3d.mjs"`;
 * - `dist/vitruvian-3d.js`: a classic `<script>` defining `LandmarkGrid` and `ViewerWidget` as
 *   globals (and the `vitruvian3d` namespace), like MediaPipe's control_utils_3d.js.
 */

export {
  GRID_SIZE,
  LANDMARK_GRID_DEFAULTS,
  LandmarkGrid,
  VIEWER_WIDGET_DEFAULTS,
  ViewerWidget,
} from "./solutions/control_utils_3d.js";
export type {
  ColorMap,
  ColorName,
  Connection,
  ConnectionList,
  LandmarkGridConfig,
  NormalizedLandmark,
  ViewerWidgetConfig,
} from "./solutions/control_utils_3d.js";
