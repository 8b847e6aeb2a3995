"""Goldens for web/src/calculators/letterbox_removal.ts: detections and landmarks out of the
letterbox.

Seeded random detections (float32 and float64, some coordinates outside [0, 1]) and landmarks
(33 x 5, given as float64), for no padding, left-right and top-bottom letterboxes, and uneven
paddings that are no float32 numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.image_to_tensor import Padding
from vitruvian.calculators.letterbox_removal import (
    remove_detection_letterbox,
    remove_landmark_letterbox,
)
from vitruvian.calculators.tensors_to_detections import RawDetections

PADDINGS = [
    Padding(),
    Padding(0.125, 0.0, 0.125, 0.0),
    Padding(0.0, 0.21875, 0.0, 0.21875),
    Padding(0.1, 0.2, 0.3, 0.05),
    Padding(0.0, 0.0, 0.0, 0.3333333333333333),
]


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(1357)
    k = 17
    boxes = np.sort(rng.uniform(-0.1, 1.1, (k, 2, 2)), axis=1).reshape(k, 4)
    keypoints = rng.uniform(-0.1, 1.1, (k, 4, 2))
    scores = rng.uniform(0.5, 1.0, k)
    landmarks = rng.uniform(-0.2, 1.2, (33, 5))
    landmarks[:, 2] = rng.normal(0.0, 0.3, 33)
    cases = []
    for padding in PADDINGS:
        for dtype in (np.float32, np.float64):
            d = RawDetections(boxes.astype(dtype), keypoints.astype(dtype), scores.astype(dtype))
            out = remove_detection_letterbox(d, padding)
            cases.append(
                {
                    "padding": padding,
                    "dtype": np.dtype(dtype).name,
                    "boxes": d.boxes,
                    "keypoints": d.keypoints.reshape(k, 8),
                    "scores": d.scores,
                    "out_boxes": out.boxes,
                    "out_keypoints": out.keypoints.reshape(k, 8),
                }
            )
    landmark_cases = [
        {"padding": p, "landmarks": landmarks, "out": remove_landmark_letterbox(landmarks, p)}
        for p in PADDINGS
    ]
    return {"detections": cases, "landmarks": landmark_cases}
