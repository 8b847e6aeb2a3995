"""Low-pass and One-Euro filters (MediaPipe's ``LowPassFilter`` and ``OneEuroFilter``),
vectorised: one filter object smooths a whole array of values that share timestamps.

The One-Euro filter (Casiez et al., CHI 2012) is an exponential smoother whose cut-off frequency
rises with the signal's speed: ``cutoff = min_cutoff + beta * |smoothed derivative|``, so slow
jitter is removed and fast motion passes with little lag. Values are filtered element by
element; ``value_scale`` multiplies the derivative (MediaPipe uses ``1 / object size`` so that
the filter behaves the same for near and far people).

State is kept in float32 like MediaPipe's, arithmetic in float64.
"""

from __future__ import annotations

import math

import numpy as np

#: MediaPipe's ``OneEuroFilter`` starts at 30 Hz until two timestamps give the real rate.
DEFAULT_FREQUENCY = 30.0


class LowPassFilter:
    """Exponential smoothing ``y = alpha * x + (1 - alpha) * y_prev``; the first value passes."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)
        self._stored: np.ndarray | None = None
        self._raw: np.ndarray | None = None

    @property
    def initialized(self) -> bool:
        """Whether a value has been filtered since construction or :meth:`reset`."""
        return self._stored is not None

    @property
    def last_raw(self) -> np.ndarray | None:
        """The last unfiltered input (``None`` before the first one)."""
        return self._raw

    def apply(self, value: np.ndarray, alpha: float | np.ndarray | None = None) -> np.ndarray:
        """Filter ``value`` (any shape, fixed between calls) with ``alpha`` (scalar or per value;
        default: the constructor's)."""
        value = np.asarray(value, dtype=np.float32)
        a = np.float32(self.alpha) if alpha is None else np.asarray(alpha, dtype=np.float32)
        if self._stored is None:
            result = value.copy()
        else:
            a64 = a.astype(np.float64)
            result = (a64 * value + (1.0 - a64) * self._stored).astype(np.float32)
        self._raw = value.copy()
        self._stored = result
        return result.copy()

    def reset(self) -> None:
        """Forget the past: the next value passes unfiltered."""
        self._stored = None
        self._raw = None


class OneEuroFilter:
    """One-Euro filter over an array of values with shared timestamps.

    Args:
        min_cutoff: cut-off frequency (Hz) for a still signal; lower smooths more.
        beta: how fast the cut-off rises with speed; higher lags less.
        derivate_cutoff: cut-off frequency (Hz) for smoothing the derivative.
        frequency: sampling rate (Hz) assumed until two timestamps are seen.
    """

    def __init__(
        self,
        min_cutoff: float,
        beta: float,
        derivate_cutoff: float,
        frequency: float = DEFAULT_FREQUENCY,
    ) -> None:
        if min_cutoff <= 0 or derivate_cutoff <= 0 or frequency <= 0:
            raise ValueError("min_cutoff, derivate_cutoff and frequency must be > 0")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.derivate_cutoff = float(derivate_cutoff)
        self._initial_frequency = float(frequency)
        self.frequency = float(frequency)
        self._x = LowPassFilter()
        self._dx = LowPassFilter()
        self._last_time_us: int | None = None

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        te = 1.0 / self.frequency
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
        return 1.0 / (1.0 + tau / te)

    def apply(self, value: np.ndarray, timestamp_us: int, value_scale: float = 1.0) -> np.ndarray:
        """Filter ``value`` observed at ``timestamp_us`` (microseconds, increasing).

        A timestamp that does not increase returns ``value`` unchanged, as MediaPipe does.
        """
        timestamp_us = int(timestamp_us)
        if self._last_time_us is not None and timestamp_us <= self._last_time_us:
            return np.asarray(value, dtype=np.float32).copy()
        # MediaPipe only trusts timestamps other than 0 for the rate.
        if self._last_time_us not in (None, 0) and timestamp_us != 0:
            self.frequency = 1e6 / (timestamp_us - self._last_time_us)
        self._last_time_us = timestamp_us

        value = np.asarray(value, dtype=np.float32)
        last_raw = self._x.last_raw
        if last_raw is None:
            dvalue = np.zeros(value.shape, np.float64)
        else:
            dvalue = (value.astype(np.float64) - last_raw) * value_scale * self.frequency
        edvalue = self._dx.apply(dvalue, self._alpha(self.derivate_cutoff))
        cutoff = self.min_cutoff + self.beta * np.abs(edvalue.astype(np.float64))
        return self._x.apply(value, self._alpha(cutoff))

    def reset(self) -> None:
        """Forget the past (values and timing)."""
        self._x.reset()
        self._dx.reset()
        self._last_time_us = None
        self.frequency = self._initial_frequency
