/**
 * Segmentation mask decoding (MediaPipe's `TensorsToSegmentationCalculator` with the SIGMOID
 * activation); Python: `tensor_to_mask` of `vitruvian/calculators/segmentation.py`.
 *
 * The landmark model's segmentation output is a tensor of logits over its input tensor's pixels
 * (row 0 at the top). Warping the mask back onto the image (`mask_to_image`) is not part of
 * this module.
 */

import type { Matrix } from "../types.js";
import { sigmoidFloat32 } from "./tensors_to_detections.js";

/**
 * Probabilities `(H, W)` float32 in [0, 1] (`rows` = H, `cols` = W) from a logits tensor of
 * `shape` `[1, H, W, 1]` or `[H, W]` (row-major `raw`); for a 4-d shape `[B, H, W, C]` the
 * first batch item's first channel is used, as Python's `logits[0, :, :, 0]`. The logits are
 * rounded to float32 and go through {@link sigmoidFloat32} (within a few float32 ulps of
 * numpy's). Throws for other ranks, an empty batch or channel axis, or a `raw` whose length is
 * not the shape's product.
 */
export function tensorToMask(raw: ArrayLike<number>, shape: readonly number[]): Matrix {
  const size = shape.reduce((a, b) => a * b, 1);
  if (raw.length !== size) {
    throw new Error(`mask tensor has ${raw.length} values for shape [${shape.join(", ")}]`);
  }
  let height: number;
  let width: number;
  let channels = 1;
  if (shape.length === 4) {
    const [batch, h, w, c] = shape as [number, number, number, number];
    if (batch < 1 || c < 1) throw new Error(`empty mask tensor, shape [${shape.join(", ")}]`);
    height = h;
    width = w;
    channels = c;
  } else if (shape.length === 2) {
    [height, width] = shape as [number, number];
  } else {
    throw new Error(`expected a (1, H, W, 1) or (H, W) mask tensor, got [${shape.join(", ")}]`);
  }
  const out = new Float32Array(height * width);
  for (let i = 0; i < height * width; i++) {
    out[i] = sigmoidFloat32(Math.fround(raw[i * channels] as number));
  }
  return { rows: height, cols: width, data: out };
}
