/**
 * Decoding of the landmark model's tensors (MediaPipe's `TensorsToLandmarksCalculator`);
 * Python: `vitruvian/calculators/tensors_to_landmarks.py`.
 *
 * The landmark tensor holds 5 values per landmark: x, y, z in tensor pixels (over the model's
 * `inputWidth` x `inputHeight` input, (0, 0) the top-left corner) and two logits (visibility,
 * presence). Decoding gives `[x, y, z, visibility, presence]` rows normalised over the tensor:
 * x and z divided by the input width, y by the input height, the logits through a sigmoid. All
 * arithmetic is float32, as numpy does it in Python.
 */

import type { Matrix } from "../types.js";
import { sigmoidFloat32 } from "./tensors_to_detections.js";

/** BlazePose predicts 33 body landmarks, 2 auxiliary alignment points and 4 unused ones. */
export const NUM_MODEL_LANDMARKS = 39;

/**
 * Normalised landmarks `(numLandmarks, 5)` float32: `[x, y, z, visibility, presence]`.
 *
 * `raw` holds `numLandmarks * 5` values (the model's output in tensor pixels for x, y, z, logits
 * for visibility and presence); x and z are divided by `inputWidth`, y by `inputHeight` (tensor
 * pixels -> fractions of the tensor), visibility and presence go through {@link sigmoidFloat32}.
 * Throws if `raw` does not hold exactly `numLandmarks * 5` values (Python's reshape fails).
 */
export function tensorsToLandmarks(
  raw: ArrayLike<number>,
  numLandmarks: number,
  inputWidth: number,
  inputHeight: number,
): Matrix {
  if (raw.length !== numLandmarks * 5) {
    throw new Error(`landmark tensor has ${raw.length} values, expected ${numLandmarks} x 5`);
  }
  const values = Float32Array.from(raw);
  const out = new Float32Array(numLandmarks * 5);
  for (let i = 0; i < numLandmarks; i++) {
    const k = i * 5;
    out[k] = (values[k] as number) / inputWidth;
    out[k + 1] = (values[k + 1] as number) / inputHeight;
    out[k + 2] = (values[k + 2] as number) / inputWidth;
    out[k + 3] = sigmoidFloat32(values[k + 3] as number);
    out[k + 4] = sigmoidFloat32(values[k + 4] as number);
  }
  return { rows: numLandmarks, cols: 5, data: out };
}

/**
 * World landmarks `(numLandmarks, 3)` float32, in metres (origin between the hips, x to image
 * right, y down, z away from the camera), as the model gives them: a float32 copy of `raw`.
 * Throws if `raw` does not hold exactly `numLandmarks * 3` values.
 */
export function tensorsToWorldLandmarks(raw: ArrayLike<number>, numLandmarks: number): Matrix {
  if (raw.length !== numLandmarks * 3) {
    throw new Error(`world landmark tensor has ${raw.length} values, expected ${numLandmarks} x 3`);
  }
  return { rows: numLandmarks, cols: 3, data: Float32Array.from(raw) };
}
