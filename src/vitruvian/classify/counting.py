"""Smoothing class votes and counting repetitions.

* :class:`EMASmoothing`: ML Kit's exponential moving average of the votes over the last 10
  frames (alpha 0.2: the newest frame weighs 1, the one before 0.8, then 0.64, ...).
* :class:`RepetitionCounter`: ML Kit's counter on a class's smoothed votes: a repetition is
  entered when they exceed 6 (of 10) and counted when they then fall below 4, so jitter around
  one threshold never counts.
* :class:`AngleCounter`: a counter that needs no samples: a joint angle (degrees) with
  hysteresis, e.g. the knees for squats (down below 100, up again above 160) or the elbows for
  push-ups (only while the body is roughly horizontal).

Each counted repetition is a :class:`Repetition` event with its start, bottom and end frame and
time, duration and range of motion (degrees, from the angle the counter watches, when it has
one). A counter follows one person; to count several, keep one per person (``track_id``).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vitruvian.solutions.pose import PoseLandmark as P

#: ML Kit's smoothing and counting defaults.
EMA_WINDOW = 10
EMA_ALPHA = 0.2
ENTER_THRESHOLD = 6.0
EXIT_THRESHOLD = 4.0


class EMASmoothing:
    """Exponential moving average of per-class votes over a window of frames."""

    def __init__(self, window: int = EMA_WINDOW, alpha: float = EMA_ALPHA) -> None:
        if window < 1 or not 0.0 <= alpha < 1.0:
            raise ValueError(f"need window >= 1 and alpha in [0, 1), got {window}, {alpha}")
        self.alpha = alpha
        self._window: collections.deque[Mapping[str, float]] = collections.deque(maxlen=window)

    def __call__(self, votes: Mapping[str, float]) -> dict[str, float]:
        """Add this frame's votes; the smoothed votes of every class seen in the window."""
        self._window.appendleft(dict(votes))
        classes = sorted({name for frame in self._window for name in frame})
        weights = (1.0 - self.alpha) ** np.arange(len(self._window))
        return {
            name: float(
                sum(
                    w * frame.get(name, 0.0) for w, frame in zip(weights, self._window, strict=True)
                )
                / weights.sum()
            )
            for name in classes
        }

    def reset(self) -> None:
        self._window.clear()


@dataclass(frozen=True)
class Repetition:
    """One counted repetition.

    Attributes:
        index: 1 for the first repetition.
        start_frame, bottom_frame, end_frame: the frame it began (entered the movement), its
            deepest frame (the most votes, or the smallest angle), and the frame it was counted.
        start_s, bottom_s, end_s: the same in seconds of the stream.
        range_of_motion_deg: the angle's range over the repetition (largest minus smallest, in
            degrees), or ``None`` for a counter without an angle.
        track_id: the person (``None`` for the single-person stream).
    """

    index: int
    start_frame: int
    bottom_frame: int
    end_frame: int
    start_s: float
    bottom_s: float
    end_s: float
    range_of_motion_deg: float | None = None
    track_id: int | None = None

    @property
    def duration_s(self) -> float:
        """Seconds from start to end."""
        return self.end_s - self.start_s


@dataclass
class _Open:
    """A repetition under way."""

    start: tuple[int, float]
    bottom: tuple[int, float]
    best: float
    angles: list[float] = field(default_factory=list)


class RepetitionCounter:
    """ML Kit's counter on one class's (smoothed) votes; see the module docstring."""

    def __init__(
        self,
        class_name: str,
        enter_threshold: float = ENTER_THRESHOLD,
        exit_threshold: float = EXIT_THRESHOLD,
        track_id: int | None = None,
    ) -> None:
        if exit_threshold > enter_threshold:
            raise ValueError("exit_threshold must not exceed enter_threshold")
        self.class_name = class_name
        self.enter_threshold = enter_threshold
        self.exit_threshold = exit_threshold
        self.track_id = track_id
        self.events: list[Repetition] = []
        self._open: _Open | None = None

    @property
    def count(self) -> int:
        return len(self.events)

    def update(self, votes: Mapping[str, float], frame: int, time_s: float) -> Repetition | None:
        """Add one frame's votes; the repetition it completes, if any."""
        value = float(votes.get(self.class_name, 0.0))
        if self._open is None:
            if value > self.enter_threshold:
                self._open = _Open((frame, time_s), (frame, time_s), value)
            return None
        if value > self._open.best:
            self._open.best, self._open.bottom = value, (frame, time_s)
        if value >= self.exit_threshold:
            return None
        opened, self._open = self._open, None
        event = Repetition(
            self.count + 1,
            opened.start[0],
            opened.bottom[0],
            frame,
            opened.start[1],
            opened.bottom[1],
            time_s,
            None,
            self.track_id,
        )
        self.events.append(event)
        return event


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle at ``b`` between ``b -> a`` and ``b -> c``, in degrees (0 to 180)."""
    u = np.asarray(a, np.float64) - b
    v = np.asarray(c, np.float64) - b
    cos = float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-12))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


#: Per exercise: the joints (outer, joint, outer) on each side, and the down / up thresholds.
EXERCISES: dict[str, tuple[tuple[tuple[int, int, int], ...], float, float]] = {
    "squats": (
        ((P.LEFT_HIP, P.LEFT_KNEE, P.LEFT_ANKLE), (P.RIGHT_HIP, P.RIGHT_KNEE, P.RIGHT_ANKLE)),
        100.0,
        160.0,
    ),
    "pushups": (
        (
            (P.LEFT_SHOULDER, P.LEFT_ELBOW, P.LEFT_WRIST),
            (P.RIGHT_SHOULDER, P.RIGHT_ELBOW, P.RIGHT_WRIST),
        ),
        90.0,
        150.0,
    ),
}
#: Push-ups count only while the body (shoulders' midpoint to hips' midpoint) is within this
#: many degrees of horizontal.
PUSHUP_MAX_TILT_DEG = 45.0


def exercise_angle(world: np.ndarray, exercise: str) -> float | None:
    """The watched angle (degrees, mean of both sides) of world landmarks ``(33, >=3)`` in
    metres, or ``None`` when it does not apply (push-ups with the body upright)."""
    joints, _, _ = EXERCISES[exercise]
    xyz = np.asarray(world, np.float64)[:, :3]
    if exercise == "pushups":
        torso = (
            xyz[P.LEFT_SHOULDER] + xyz[P.RIGHT_SHOULDER] - xyz[P.LEFT_HIP] - xyz[P.RIGHT_HIP]
        ) / 2
        tilt = np.degrees(np.arctan2(abs(torso[1]), np.hypot(torso[0], torso[2])))
        if tilt > PUSHUP_MAX_TILT_DEG:
            return None
    return float(np.mean([joint_angle(xyz[a], xyz[b], xyz[c]) for a, b, c in joints]))


class AngleCounter:
    """Repetitions of ``exercise`` from a joint angle with hysteresis: a repetition starts when
    the angle falls below the up threshold, is real once below the down threshold, and is
    counted when the angle is back above the up threshold."""

    def __init__(self, exercise: str = "squats", track_id: int | None = None) -> None:
        if exercise not in EXERCISES:
            raise ValueError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
        self.exercise = exercise
        _, self.down_deg, self.up_deg = EXERCISES[exercise]
        self.track_id = track_id
        self.events: list[Repetition] = []
        self._open: _Open | None = None
        self._went_down = False

    @property
    def count(self) -> int:
        return len(self.events)

    def update(self, angle: float | None, frame: int, time_s: float) -> Repetition | None:
        """Add one frame's angle (``None``: no pose, or not applicable); the repetition it
        completes, if any."""
        if angle is None:
            return None
        if self._open is None:
            if angle < self.up_deg:
                self._open = _Open((frame, time_s), (frame, time_s), -angle, [angle])
                self._went_down = angle < self.down_deg
            return None
        self._open.angles.append(angle)
        if -angle > self._open.best:
            self._open.best, self._open.bottom = -angle, (frame, time_s)
        self._went_down |= angle < self.down_deg
        if angle <= self.up_deg:
            return None
        opened, went_down, self._open = self._open, self._went_down, None
        if not went_down:
            return None  # a half movement that never got deep enough
        event = Repetition(
            self.count + 1,
            opened.start[0],
            opened.bottom[0],
            frame,
            opened.start[1],
            opened.bottom[1],
            time_s,
            max(opened.angles + [angle]) - min(opened.angles),
            self.track_id,
        )
        self.events.append(event)
        return event
