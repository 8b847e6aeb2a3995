"""Goldens for web/src/calculators/landmark_projection.ts: landmarks projected through rects.

Seeded random landmarks (33 x 5, some outside [0, 1]) as float32 and as float64 (numpy computes
in the input's dtype), projected to the image, unprojected back and (as world landmarks)
rotated, for rects upright, rotated either way, upside down, small and off-image.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vitruvian.calculators.landmark_projection import (
    project_landmarks,
    project_world_landmarks,
    unproject_landmarks,
)
from vitruvian.types import NormalizedRect


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(777)
    rects = [
        NormalizedRect(0.5, 0.5, 1.0, 1.0, 0.0),
        NormalizedRect(0.43, 0.61, 0.52, 0.39, math.pi / 3),
        NormalizedRect(0.57, 0.38, 0.81, 1.07, -0.7341),
        NormalizedRect(0.5, 0.5, 0.6, 0.45, math.pi),
        NormalizedRect(-0.1, 1.2, 0.013, 0.021, 2.9),
    ]
    for _ in range(3):
        rects.append(
            NormalizedRect(
                float(rng.uniform(0, 1)),
                float(rng.uniform(0, 1)),
                float(rng.uniform(0.05, 1.5)),
                float(rng.uniform(0.05, 1.5)),
                float(rng.uniform(-math.pi, math.pi)),
            )
        )
    landmarks64 = rng.uniform(-0.2, 1.2, (33, 5))
    landmarks64[:, 2] = rng.normal(0.0, 0.4, 33)
    world64 = rng.normal(0.0, 0.5, (33, 4))
    inputs = {
        "float32": (landmarks64.astype(np.float32), world64.astype(np.float32)),
        "float64": (landmarks64, world64),
    }
    cases = []
    for rect in rects:
        for dtype, (landmarks, world) in inputs.items():
            cases.append(
                {
                    "rect": {
                        "xCenter": rect.x_center,
                        "yCenter": rect.y_center,
                        "width": rect.width,
                        "height": rect.height,
                        "rotation": rect.rotation,
                    },
                    "dtype": dtype,
                    "landmarks": landmarks,
                    "world": world,
                    "projected": project_landmarks(landmarks, rect),
                    "unprojected": unproject_landmarks(landmarks, rect),
                    "world_projected": project_world_landmarks(world, rect),
                }
            )
    return {"cases": cases}
