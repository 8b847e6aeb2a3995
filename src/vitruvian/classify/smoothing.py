"""Smoothing of k-NN votes over frames: ML Kit's ``EMASmoothing`` (and the Colab's
``EMADictSmoothing``).

The newest :data:`EMA_WINDOW` (10) frames are kept; a class's smoothed votes are the weighted
mean of its votes in them (0 in a frame that does not list it), the newest frame weighing 1,
the one before ``1 - alpha`` = 0.8, then 0.64, and so on (:data:`EMA_ALPHA` 0.2). A frame
without a pose is smoothed in as ``{}`` (all classes 0), as ML Kit does, so the votes decay.

ML Kit also clears the window when more than 100 ms of wall-clock time pass between two
inputs (a live camera that stalled); the Colab does not. Here that is ``max_gap_s`` (stream
seconds, off by default: at a video's 5 fps every gap is 200 ms).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

__all__ = ["EMA_ALPHA", "EMA_WINDOW", "EMASmoothing"]

#: Frames in the window.
EMA_WINDOW = 10
#: Each older frame weighs ``1 - alpha`` times the next newer one.
EMA_ALPHA = 0.2


class EMASmoothing:
    """Exponential moving average of per-class votes over a window of frames.

    Args:
        window: frames kept (at least 1).
        alpha: in [0, 1): each older frame weighs ``1 - alpha`` times the next newer one.
        max_gap_s: clear the window first when a frame comes more than this many seconds after
            the previous one (``None``: never).
    """

    def __init__(
        self, window: int = EMA_WINDOW, alpha: float = EMA_ALPHA, max_gap_s: float | None = None
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.window = int(window)
        self.alpha = float(alpha)
        self.max_gap_s = max_gap_s
        self._frames: collections.deque[dict[str, float]] = collections.deque(maxlen=window)
        self._last_s: float | None = None

    def __call__(self, votes: Mapping[str, float], time_s: float | None = None) -> dict[str, float]:
        """Add one frame's votes (``{}`` for a frame without a pose); returns the smoothed votes
        of every class seen in the window, sorted by name.

        Args:
            votes: this frame's votes per class.
            time_s: the frame's time in seconds (only used with ``max_gap_s``).
        """
        if self.max_gap_s is not None and time_s is not None:
            if self._last_s is not None and time_s - self._last_s > self.max_gap_s:
                self._frames.clear()
            self._last_s = time_s
        self._frames.appendleft({k: float(v) for k, v in votes.items()})
        classes = sorted({name for frame in self._frames for name in frame})
        total = {name: 0.0 for name in classes}
        weight, weights = 1.0, 0.0
        for frame in self._frames:  # newest first
            for name, value in frame.items():
                total[name] += weight * value
            weights += weight
            weight *= 1.0 - self.alpha
        return {name: total[name] / weights for name in classes}

    def reset(self) -> None:
        """Forget every frame (e.g. before an unrelated stream)."""
        self._frames.clear()
        self._last_s = None
