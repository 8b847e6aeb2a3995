"""Temporal smoothing of landmarks (MediaPipe's ``LandmarksSmoothingCalculator`` with a One-Euro
filter, and ``VisibilitySmoothingCalculator`` with a low-pass filter).

Image landmarks are filtered in pixels (x * width, y * height, z * width) with the derivative
scaled by ``1 / object_scale``, the person's size in pixels, so the filter reacts the same to a
near and a far person. World landmarks (metres) are filtered without value scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitruvian.calculators.one_euro_filter import LowPassFilter, OneEuroFilter

#: ``LandmarksSmoothingCalculatorOptions.OneEuroFilter.min_allowed_object_scale``.
MIN_ALLOWED_OBJECT_SCALE = 1e-6


@dataclass(frozen=True)
class OneEuroSettings:
    """One-Euro parameters as MediaPipe's graphs configure them."""

    min_cutoff: float
    beta: float
    derivate_cutoff: float
    disable_value_scaling: bool = False


#: ``pose_landmark_filtering.pbtxt``: image landmarks, world landmarks, auxiliary landmarks.
LANDMARKS_FILTER = OneEuroSettings(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
WORLD_LANDMARKS_FILTER = OneEuroSettings(
    min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0, disable_value_scaling=True
)
AUXILIARY_LANDMARKS_FILTER = OneEuroSettings(min_cutoff=0.01, beta=10.0, derivate_cutoff=1.0)
#: ``pose_landmark_filtering.pbtxt``: visibility low-pass.
VISIBILITY_ALPHA = 0.1


class LandmarksSmoother:
    """One-Euro smoothing of ``(N, 3)`` landmark coordinates over time."""

    def __init__(self, settings: OneEuroSettings) -> None:
        self.settings = settings
        self._filter = OneEuroFilter(settings.min_cutoff, settings.beta, settings.derivate_cutoff)

    def apply(
        self,
        xyz: np.ndarray,
        timestamp_us: int,
        object_scale: float | None = None,
        image_size: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """Smoothed copy of ``xyz``.

        Args:
            xyz: ``(N, 3)`` coordinates: normalised when ``image_size`` is given, else metres.
            timestamp_us: the frame's time in microseconds.
            object_scale: the person's size in pixels (``(roi width + roi height) / 2`` of the
                alignment rect); required unless value scaling is disabled.
            image_size: ``(width, height)`` of the image for normalised landmarks.
        """
        values = np.asarray(xyz, dtype=np.float32)
        if image_size is not None:
            width, height = image_size
            scale = np.array([width, height, width], np.float32)
            values = values * scale
        value_scale = 1.0
        if not self.settings.disable_value_scaling:
            if object_scale is None:
                raise ValueError("object_scale is required when value scaling is enabled")
            if object_scale < MIN_ALLOWED_OBJECT_SCALE:
                return np.array(xyz, dtype=np.float32, copy=True)
            value_scale = 1.0 / object_scale
        out = self._filter.apply(values, timestamp_us, value_scale)
        if image_size is not None:
            out = out / scale
        return out

    def reset(self) -> None:
        """Forget the past."""
        self._filter.reset()


class VisibilitySmoother:
    """Low-pass filter of a visibility column (``alpha`` weights the new value)."""

    def __init__(self, alpha: float = VISIBILITY_ALPHA) -> None:
        self._filter = LowPassFilter(alpha)

    def apply(self, visibility: np.ndarray) -> np.ndarray:
        """Smoothed copy of ``visibility`` (any shape, fixed between calls)."""
        return self._filter.apply(visibility)

    def reset(self) -> None:
        """Forget the past."""
        self._filter.reset()
