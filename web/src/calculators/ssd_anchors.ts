/**
 * SSD anchor generation (MediaPipe's `SsdAnchorsCalculator`); Python: `ssd_anchors.py`.
 *
 * Anchors are `[xCenter, yCenter, width, height]` rows in normalised detector-input coordinates
 * ([0, 1] over the 224x224 letterboxed input).
 */

import type { Matrix } from "../types.js";

/** The subset of `SsdAnchorsCalculatorOptions` BlazePose uses. */
export interface SsdAnchorOptions {
  inputSizeWidth: number;
  inputSizeHeight: number;
  minScale: number;
  maxScale: number;
  strides: readonly number[];
  anchorOffsetX: number;
  anchorOffsetY: number;
  aspectRatios: readonly number[];
  interpolatedScaleAspectRatio: number;
  reduceBoxesInLowestLayer: boolean;
  fixedAnchorSize: boolean;
}

/** The pose detector's anchors, from `mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt`. */
export const POSE_DETECTOR_ANCHORS: SsdAnchorOptions = {
  inputSizeWidth: 224,
  inputSizeHeight: 224,
  minScale: 0.1484375,
  maxScale: 0.75,
  strides: [8, 16, 32, 32, 32],
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  aspectRatios: [1.0],
  interpolatedScaleAspectRatio: 1.0,
  reduceBoxesInLowestLayer: false,
  fixedAnchorSize: true,
};

function scaleOf(minScale: number, maxScale: number, index: number, count: number): number {
  if (count === 1) return (minScale + maxScale) * 0.5;
  return minScale + ((maxScale - minScale) * index) / (count - 1.0);
}

/**
 * Generate the anchors for `options` as an `(N, 4)` float32 matrix. Consecutive layers with the
 * same stride share one feature map; each map's anchors are laid out row by row, then column by
 * column, then anchor by anchor, as MediaPipe does.
 */
export function generateAnchors(options: SsdAnchorOptions = POSE_DETECTOR_ANCHORS): Matrix {
  const numLayers = options.strides.length;
  const out: number[] = [];
  let layer = 0;
  while (layer < numLayers) {
    const widths: number[] = [];
    const heights: number[] = [];
    let last = layer;
    while (last < numLayers && options.strides[last] === options.strides[layer]) {
      const scale = scaleOf(options.minScale, options.maxScale, last, numLayers);
      let ratiosScales: Array<[number, number]>;
      if (last === 0 && options.reduceBoxesInLowestLayer) {
        ratiosScales = [
          [1.0, 0.1],
          [2.0, scale],
          [0.5, scale],
        ];
      } else {
        ratiosScales = options.aspectRatios.map((ratio): [number, number] => [ratio, scale]);
        if (options.interpolatedScaleAspectRatio > 0.0) {
          const next =
            last === numLayers - 1
              ? 1.0
              : scaleOf(options.minScale, options.maxScale, last + 1, numLayers);
          ratiosScales.push([options.interpolatedScaleAspectRatio, Math.sqrt(scale * next)]);
        }
      }
      for (const [ratio, s] of ratiosScales) {
        const root = Math.sqrt(ratio);
        heights.push(s / root);
        widths.push(s * root);
      }
      last += 1;
    }
    const stride = options.strides[layer] as number;
    const rows = Math.ceil(options.inputSizeHeight / stride);
    const cols = Math.ceil(options.inputSizeWidth / stride);
    for (let row = 0; row < rows; row++) {
      const y = (row + options.anchorOffsetY) / rows;
      for (let col = 0; col < cols; col++) {
        const x = (col + options.anchorOffsetX) / cols;
        for (let k = 0; k < widths.length; k++) {
          const fixed = options.fixedAnchorSize;
          out.push(x, y, fixed ? 1.0 : (widths[k] as number), fixed ? 1.0 : (heights[k] as number));
        }
      }
    }
    layer = last;
  }
  return { rows: out.length / 4, cols: 4, data: Float32Array.from(out) };
}
