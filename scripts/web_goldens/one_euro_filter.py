"""Goldens for web/src/calculators/one_euro_filter.ts: low-pass and One-Euro filter sequences.

Seeded random signals (a random walk with jumps, 12 values per frame) through:

* a ``LowPassFilter`` with its constructor's alpha, a scalar alpha, a per-value alpha, and a reset;
* ``OneEuroFilter``s (with and without value scaling, a custom initial frequency) over frames
  whose timestamps (microseconds) start at 0 (not trusted for the rate), step irregularly,
  repeat and go backwards (the value passes unchanged), with a reset in the middle.

Each step records the input, the output and the filter's state (``initialized``, ``last_raw``,
``frequency``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.one_euro_filter import DEFAULT_FREQUENCY, LowPassFilter, OneEuroFilter

SIZE = 12


def _signal(rng: np.random.Generator, frames: int) -> np.ndarray:
    steps = rng.normal(0.0, 2.0, (frames, SIZE))
    steps[rng.random((frames, SIZE)) < 0.1] *= 40.0
    return (rng.uniform(-100, 100, SIZE) + np.cumsum(steps, axis=0)).astype(np.float32)


def _low_pass(rng: np.random.Generator) -> list[dict[str, Any]]:
    lpf = LowPassFilter(0.3)
    signal = _signal(rng, 10)
    per_value = rng.uniform(0.0, 1.0, SIZE)
    alphas: list[Any] = [None, None, 0.85, per_value, None, "reset", None, 0.05, per_value, 1.0]
    steps = []
    for value, alpha in zip(signal, alphas, strict=True):
        if isinstance(alpha, str):
            lpf.reset()
            steps.append({"reset": True, "initialized": lpf.initialized})
            alpha = None
        out = lpf.apply(value, alpha)
        steps.append(
            {
                "value": value,
                "alpha": alpha,
                "out": out,
                "initialized": lpf.initialized,
                "last_raw": lpf.last_raw,
            }
        )
    return steps


def _one_euro(
    rng: np.random.Generator,
    filt: OneEuroFilter,
    timestamps: list[int | str],
    value_scale: float,
) -> list[dict[str, Any]]:
    signal = _signal(rng, len(timestamps))
    steps = []
    for value, timestamp in zip(signal, timestamps, strict=True):
        if isinstance(timestamp, str):
            filt.reset()
            steps.append({"reset": True, "frequency": filt.frequency})
            continue
        out = filt.apply(value, timestamp, value_scale)
        steps.append(
            {
                "value": value,
                "timestamp_us": timestamp,
                "out": out,
                "frequency": filt.frequency,
            }
        )
    return steps


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(31415)
    timestamps: list[int | str] = [0, 33333, 66667, 100000, 100000, 90000, 133333, 150000]
    timestamps += [183333, 250000, 250001, 283334, "reset", 290000, 290000, 323333, 356666]
    timestamps += [1000000, 1033333, 1066667]
    filters = [
        {
            "name": "landmarks",
            "args": [0.05, 80.0, 1.0, DEFAULT_FREQUENCY],
            "value_scale": 1.0 / 173.5,
            "timestamps": timestamps,
        },
        {
            "name": "world",
            "args": [0.1, 40.0, 1.0, DEFAULT_FREQUENCY],
            "value_scale": 1.0,
            "timestamps": timestamps,
        },
        {
            "name": "custom_frequency",
            "args": [1.3, 0.007, 2.5, 60.0],
            "value_scale": 0.37,
            "timestamps": [5000, 21667, 38333, "reset", 0, 0, 16667, 33333, 50000, 66667],
        },
    ]
    for f in filters:
        filt = OneEuroFilter(*f["args"])
        f["steps"] = _one_euro(rng, filt, f["timestamps"], f["value_scale"])
    return {
        "default_frequency": DEFAULT_FREQUENCY,
        "low_pass": _low_pass(rng),
        "one_euro": filters,
    }
