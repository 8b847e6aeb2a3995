"""Decoding of landmark tensors (MediaPipe's ``TensorsToLandmarksCalculator``)."""

from __future__ import annotations

import numpy as np

from vitruvian.calculators.tensors_to_detections import sigmoid

#: BlazePose predicts 33 body landmarks, 2 auxiliary alignment points and 4 unused ones.
NUM_MODEL_LANDMARKS = 39


def tensors_to_landmarks(
    raw: np.ndarray, num_landmarks: int, input_width: int, input_height: int
) -> np.ndarray:
    """Normalised landmarks ``(num_landmarks, 5)``: ``[x, y, z, visibility, presence]``.

    ``raw`` holds 5 values per landmark in tensor pixels (x, y, z) and logits (visibility,
    presence). x and z are divided by ``input_width``, y by ``input_height``; the logits go
    through a sigmoid.
    """
    values = np.asarray(raw, dtype=np.float32).reshape(num_landmarks, 5)
    out = np.empty_like(values)
    out[:, 0] = values[:, 0] / input_width
    out[:, 1] = values[:, 1] / input_height
    out[:, 2] = values[:, 2] / input_width
    out[:, 3:5] = sigmoid(values[:, 3:5])
    return out


def tensors_to_world_landmarks(raw: np.ndarray, num_landmarks: int) -> np.ndarray:
    """World landmarks ``(num_landmarks, 3)`` in metres, as the model gives them."""
    return np.asarray(raw, dtype=np.float32).reshape(num_landmarks, 3).copy()
