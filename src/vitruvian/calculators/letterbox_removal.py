"""Undo letterboxing (MediaPipe's ``DetectionLetterboxRemovalCalculator`` and
``LandmarkLetterboxRemovalCalculator``).

Coordinates normalised over a letterboxed tensor become normalised over the region that was
letterboxed: ``x' = (x - left) / (1 - left - right)``, likewise for y; z scales like x.
"""

from __future__ import annotations

import numpy as np

from vitruvian.calculators.image_to_tensor import Padding
from vitruvian.calculators.tensors_to_detections import RawDetections


def remove_detection_letterbox(detections: RawDetections, padding: Padding) -> RawDetections:
    """Map boxes ``[xmin, ymin, xmax, ymax]`` and keypoints out of the letterbox."""
    sx = 1.0 - padding.left - padding.right
    sy = 1.0 - padding.top - padding.bottom
    offset = np.array([padding.left, padding.top], np.float32)
    scale = np.array([sx, sy], np.float32)
    boxes = ((detections.boxes.reshape(-1, 2, 2) - offset) / scale).reshape(-1, 4)
    keypoints = (detections.keypoints - offset) / scale
    return RawDetections(boxes.astype(np.float32), keypoints.astype(np.float32), detections.scores)


def remove_landmark_letterbox(landmarks: np.ndarray, padding: Padding) -> np.ndarray:
    """Map ``(N, >=3)`` landmarks ``[x, y, z, ...]`` out of the letterbox (a new array)."""
    out = np.array(landmarks, dtype=np.float32, copy=True)
    sx = 1.0 - padding.left - padding.right
    sy = 1.0 - padding.top - padding.bottom
    out[:, 0] = (out[:, 0] - padding.left) / sx
    out[:, 1] = (out[:, 1] - padding.top) / sy
    out[:, 2] = out[:, 2] / sx
    return out
