"""Goldens for web/src/calculators/tensors_to_landmarks.ts: decoded landmark tensors.

Seeded random tensors (x, y, z in tensor pixels, partly outside the tensor; logits from -100 to
100, with 0, +-inf and NaN), decoded by the Python package for the model's 39 landmarks at 256 x
256 and for 3 landmarks at a non-square 192 x 160 input; world landmark tensors copied as float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.tensors_to_landmarks import (
    NUM_MODEL_LANDMARKS,
    tensors_to_landmarks,
    tensors_to_world_landmarks,
)


def _raw(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    raw = np.empty((n, 5), np.float64)
    raw[:, 0] = rng.uniform(-0.3, 1.3, n) * width
    raw[:, 1] = rng.uniform(-0.3, 1.3, n) * height
    raw[:, 2] = rng.normal(0.0, 0.3, n) * width
    raw[:, 3] = rng.normal(0.0, 8.0, n)
    raw[:, 4] = rng.normal(0.0, 8.0, n)
    return raw.astype(np.float32)


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(20260515)
    cases = []
    model = _raw(rng, NUM_MODEL_LANDMARKS, 256, 256)
    # Edge logits: zero, beyond the [-80, 80] clip, infinities and NaN.
    model[:8, 3] = [0.0, -0.0, 80.0, -80.0, 100.0, -100.0, np.inf, -np.inf]
    model[:4, 4] = [np.nan, 1e-8, -1e-8, 17.0]
    small = _raw(rng, 3, 192, 160)
    for raw, n, width, height in ((model, NUM_MODEL_LANDMARKS, 256, 256), (small, 3, 192, 160)):
        cases.append(
            {
                "raw": raw.ravel(),
                "num_landmarks": n,
                "input_width": width,
                "input_height": height,
                "landmarks": tensors_to_landmarks(raw.ravel(), n, width, height),
            }
        )
    world = rng.normal(0.0, 0.5, NUM_MODEL_LANDMARKS * 3)  # float64: rounded to float32
    return {
        "num_model_landmarks": NUM_MODEL_LANDMARKS,
        "cases": cases,
        "world": {
            "raw": world,
            "num_landmarks": NUM_MODEL_LANDMARKS,
            "landmarks": tensors_to_world_landmarks(world, NUM_MODEL_LANDMARKS),
        },
    }
