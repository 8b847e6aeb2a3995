"""Goldens for web/src/calculators/segmentation_smoothing.ts: masks blended with the previous one.

Seeded random 37 x 53 masks (confident pixels near 0 and 1, unsure ones near 0.5, exact 0, 0.5
and 1) blended with a previous mask given as float32 and as float64, with the graph's ratio and
two others (0 and 1.0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.segmentation_smoothing import (
    COMBINE_WITH_PREVIOUS_RATIO,
    smooth_segmentation,
)

H, W = 37, 53


def _mask(rng: np.random.Generator) -> np.ndarray:
    mask = rng.uniform(0.0, 1.0, (H, W))
    confident = rng.random((H, W)) < 0.3
    mask[confident] = rng.beta(0.2, 0.2, int(confident.sum()))
    near_half = rng.random((H, W)) < 0.2
    mask[near_half] = 0.5 + rng.normal(0.0, 0.02, int(near_half.sum()))
    mask[0, :4] = [0.0, 0.5, 1.0, 0.25]
    return np.clip(mask, 0.0, 1.0)


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(99)
    current = _mask(rng).astype(np.float32)
    previous64 = _mask(rng)
    cases = []
    for ratio in (COMBINE_WITH_PREVIOUS_RATIO, 0.0, 1.0, 0.35):
        for name, previous in (("float32", previous64.astype(np.float32)), ("float64", previous64)):
            cases.append(
                {
                    "ratio": ratio,
                    "previous_dtype": name,
                    "out": smooth_segmentation(current, previous, ratio),
                }
            )
    return {
        "ratio": COMBINE_WITH_PREVIOUS_RATIO,
        "shape": [H, W],
        "current": current,
        "previous": previous64,
        "cases": cases,
    }
