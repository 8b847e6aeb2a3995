"""Projection of ROI-relative landmarks to the full image (MediaPipe's
``LandmarkProjectionCalculator`` and ``WorldLandmarkProjectionCalculator``)."""

from __future__ import annotations

import math

import numpy as np

from vitruvian.types import NormalizedRect


def project_landmarks(landmarks: np.ndarray, rect: NormalizedRect) -> np.ndarray:
    """Landmarks normalised over ``rect`` -> normalised over the image (a new array).

    x, y are rotated about the rect centre by its rotation and scaled by its size; z scales with
    the rect width (so it stays on the scale of x). Other columns are copied.
    """
    out = np.array(landmarks, dtype=np.float32, copy=True)
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    x = landmarks[:, 0] - 0.5
    y = landmarks[:, 1] - 0.5
    out[:, 0] = (c * x - s * y) * rect.width + rect.x_center
    out[:, 1] = (s * x + c * y) * rect.height + rect.y_center
    out[:, 2] = landmarks[:, 2] * rect.width
    return out


def unproject_landmarks(landmarks: np.ndarray, rect: NormalizedRect) -> np.ndarray:
    """Inverse of :func:`project_landmarks`: image-normalised -> rect-normalised."""
    out = np.array(landmarks, dtype=np.float32, copy=True)
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    x = (landmarks[:, 0] - rect.x_center) / rect.width
    y = (landmarks[:, 1] - rect.y_center) / rect.height
    out[:, 0] = c * x + s * y + 0.5
    out[:, 1] = -s * x + c * y + 0.5
    out[:, 2] = landmarks[:, 2] / rect.width
    return out


def project_world_landmarks(world: np.ndarray, rect: NormalizedRect) -> np.ndarray:
    """Rotate world landmarks (metres) about the z axis by the rect's rotation (a new array)."""
    out = np.array(world, dtype=np.float32, copy=True)
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    x, y = world[:, 0], world[:, 1]
    out[:, 0] = c * x - s * y
    out[:, 1] = s * x + c * y
    return out
