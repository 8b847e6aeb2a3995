"""SSD anchor generation (MediaPipe's ``SsdAnchorsCalculator``), vectorised.

Anchors are returned as an ``(N, 4)`` float32 array of ``[x_center, y_center, width, height]`` in
normalised detector-input coordinates ([0, 1] over the 224x224 letterboxed input).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SsdAnchorOptions:
    """The subset of ``SsdAnchorsCalculatorOptions`` BlazePose uses."""

    input_size_width: int
    input_size_height: int
    min_scale: float
    max_scale: float
    strides: tuple[int, ...]
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    reduce_boxes_in_lowest_layer: bool = False
    fixed_anchor_size: bool = False


#: The pose detector's anchors, from ``mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt``.
POSE_DETECTOR_ANCHORS = SsdAnchorOptions(
    input_size_width=224,
    input_size_height=224,
    min_scale=0.1484375,
    max_scale=0.75,
    strides=(8, 16, 32, 32, 32),
    fixed_anchor_size=True,
)


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def generate_anchors(options: SsdAnchorOptions) -> np.ndarray:
    """Generate the anchors for ``options``.

    Consecutive layers with the same stride share one feature map; the anchors of each feature
    map are laid out row by row, then column by column, then anchor by anchor, as MediaPipe does.
    """
    num_layers = len(options.strides)
    groups: list[np.ndarray] = []
    layer = 0
    while layer < num_layers:
        widths: list[float] = []
        heights: list[float] = []
        last = layer
        while last < num_layers and options.strides[last] == options.strides[layer]:
            scale = _scale(options.min_scale, options.max_scale, last, num_layers)
            if last == 0 and options.reduce_boxes_in_lowest_layer:
                ratios_scales = [(1.0, 0.1), (2.0, scale), (0.5, scale)]
            else:
                ratios_scales = [(r, scale) for r in options.aspect_ratios]
                if options.interpolated_scale_aspect_ratio > 0.0:
                    scale_next = (
                        1.0
                        if last == num_layers - 1
                        else _scale(options.min_scale, options.max_scale, last + 1, num_layers)
                    )
                    ratios_scales.append(
                        (
                            options.interpolated_scale_aspect_ratio,
                            float(np.sqrt(scale * scale_next)),
                        )
                    )
            for ratio, s in ratios_scales:
                root = float(np.sqrt(ratio))
                heights.append(s / root)
                widths.append(s * root)
            last += 1
        stride = options.strides[layer]
        rows = int(np.ceil(options.input_size_height / stride))
        cols = int(np.ceil(options.input_size_width / stride))
        per_cell = len(widths)
        y = (np.arange(rows, dtype=np.float64) + options.anchor_offset_y) / rows
        x = (np.arange(cols, dtype=np.float64) + options.anchor_offset_x) / cols
        grid = np.empty((rows, cols, per_cell, 4), dtype=np.float64)
        grid[..., 0] = x[None, :, None]
        grid[..., 1] = y[:, None, None]
        if options.fixed_anchor_size:
            grid[..., 2] = 1.0
            grid[..., 3] = 1.0
        else:
            grid[..., 2] = np.asarray(widths)[None, None, :]
            grid[..., 3] = np.asarray(heights)[None, None, :]
        groups.append(grid.reshape(-1, 4))
        layer = last
    return np.concatenate(groups).astype(np.float32)
