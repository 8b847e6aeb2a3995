"""Goldens for web/src/calculators/landmarks_smoothing.ts: landmark and visibility smoothing.

Seeded random 33-landmark tracks (normalised image landmarks with a person size in pixels per
frame, world landmarks in metres, auxiliary landmarks) through the Python smoothers frame by
frame: the first frame, irregular steps, a repeated and a backward timestamp, a person size below
the minimum (the frame passes), a reset; visibility through the low-pass smoother with a reset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.landmarks_smoothing import (
    AUXILIARY_LANDMARKS_FILTER,
    LANDMARKS_FILTER,
    MIN_ALLOWED_OBJECT_SCALE,
    VISIBILITY_ALPHA,
    WORLD_LANDMARKS_FILTER,
    LandmarksSmoother,
    OneEuroSettings,
    VisibilitySmoother,
)

N = 33
TIMESTAMPS: list[int | str] = [1000, 34333, 67667, 101000, 101000, 95000, 134333, 167667]
TIMESTAMPS += [201000, 267667, "reset", 301000, 334333, 367667, 401000]


def _settings(settings: OneEuroSettings) -> dict[str, Any]:
    return {
        "minCutoff": settings.min_cutoff,
        "beta": settings.beta,
        "derivateCutoff": settings.derivate_cutoff,
        "disableValueScaling": settings.disable_value_scaling,
    }


def _track(rng: np.random.Generator, frames: int, start: np.ndarray, step: float) -> np.ndarray:
    moves = rng.normal(0.0, step, (frames, *start.shape))
    moves[rng.random(moves.shape) < 0.08] *= 25.0
    return (start + np.cumsum(moves, axis=0)).astype(np.float32)


def _run(
    smoother: LandmarksSmoother,
    track: np.ndarray,
    scales: list[float | None],
    image_size: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    steps = []
    for xyz, timestamp, scale in zip(track, TIMESTAMPS, scales, strict=True):
        if isinstance(timestamp, str):
            smoother.reset()
            steps.append({"reset": True})
            continue
        out = smoother.apply(xyz, timestamp, scale, image_size)
        steps.append({"xyz": xyz, "timestamp_us": timestamp, "object_scale": scale, "out": out})
    return steps


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(2718)
    frames = len(TIMESTAMPS)
    image_size = (640, 480)
    scales: list[float | None] = [float(s) for s in rng.uniform(120.0, 260.0, frames)]
    scales[6] = 1e-7  # below MIN_ALLOWED_OBJECT_SCALE: the frame passes unfiltered
    image = _track(rng, frames, rng.uniform(0.1, 0.9, (N, 3)), 0.004)
    world = _track(rng, frames, rng.normal(0.0, 0.4, (N, 3)), 0.01)
    auxiliary = _track(rng, frames, rng.uniform(0.2, 0.8, (2, 3)), 0.003)
    visibility = rng.uniform(0.0, 1.0, (frames, N)).astype(np.float32)
    vis = VisibilitySmoother()
    vis_steps = []
    for i, v in enumerate(visibility):
        if i == 9:
            vis.reset()
            vis_steps.append({"reset": True})
        vis_steps.append({"visibility": v, "out": vis.apply(v)})
    return {
        "min_allowed_object_scale": MIN_ALLOWED_OBJECT_SCALE,
        "visibility_alpha": VISIBILITY_ALPHA,
        "settings": {
            "landmarks": _settings(LANDMARKS_FILTER),
            "world": _settings(WORLD_LANDMARKS_FILTER),
            "auxiliary": _settings(AUXILIARY_LANDMARKS_FILTER),
        },
        "image_size": list(image_size),
        "landmarks": _run(LandmarksSmoother(LANDMARKS_FILTER), image, scales, image_size),
        "auxiliary": _run(
            LandmarksSmoother(AUXILIARY_LANDMARKS_FILTER), auxiliary, scales, image_size
        ),
        "world": _run(LandmarksSmoother(WORLD_LANDMARKS_FILTER), world, [None] * frames, None),
        "visibility": vis_steps,
    }
