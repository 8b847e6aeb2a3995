"""Validation of the options shared by :class:`~vitruvian.pipeline.PosePipeline` and the
MediaPipe-compatible ``Pose``: checked before any model is loaded."""

from __future__ import annotations

import math
import numbers

#: Accepted ``backend=`` values (see :mod:`vitruvian.models.backends`).
BACKENDS: tuple[str, ...] = (
    "auto",
    "litert",
    "onnxruntime",
    "onnxruntime-cpu",
    "onnxruntime-cuda",
    "onnxruntime-tensorrt",
)


def check_confidence(name: str, value: object) -> float:
    """Return ``value`` as a float in [0, 1] or raise (TypeError/ValueError) naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0.0, 1.0], got {value!r}")
    result = float(value)
    if math.isnan(result) or not 0.0 <= result <= 1.0:
        raise ValueError(f"{name} must be in [0.0, 1.0], got {value!r}")
    return result


def check_model_complexity(value: object) -> int:
    """Return ``value`` as an int in {0, 1, 2} or raise ValueError."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in (0, 1, 2):
        return int(value)
    raise ValueError(f"model_complexity must be 0 (lite), 1 (full) or 2 (heavy), got {value!r}")
