"""Repetition counters, one person each, and :class:`PerPerson` to keep one per person.

* :class:`RepetitionCounter`: ML Kit's (and the Colab's) counter on one class's smoothed k-NN
  votes. The class is *entered* when its votes exceed :data:`ENTER_THRESHOLD` (6 of 10) and a
  repetition is counted when they then fall below :data:`EXIT_THRESHOLD` (4). The gap between
  the two thresholds is the hysteresis: votes that jitter around either threshold alone never
  count.
* :class:`AngleCounter`: needs no samples: a joint angle (:mod:`vitruvian.classify.angles`)
  with hysteresis. A movement starts when the angle falls below the exercise's ``up_deg``,
  becomes a repetition once it falls below ``down_deg``, and is counted when the angle is back
  above ``up_deg``; a movement that turns back before ``down_deg`` (a half squat, jitter around
  ``up_deg``) is dropped.

Both return a :class:`~vitruvian.classify.events.Repetition` (start, bottom and end frame and
time, duration, range of motion) from ``update`` on the frame that completes one, and keep
them in ``events``. Frames without a pose are simply not given to a counter (ML Kit feeds the
smoothing but not the counter): a repetition may span them.

Per person: a counter follows one person; give it that person's ``track_id`` (it is copied to
its events), or keep one per track with :class:`PerPerson`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from vitruvian.classify.angles import Exercise, get_exercise
from vitruvian.classify.events import Repetition, RepetitionBuilder

__all__ = [
    "ENTER_THRESHOLD",
    "EXIT_THRESHOLD",
    "AngleCounter",
    "PerPerson",
    "RepetitionCounter",
]

#: ML Kit's thresholds on a class's smoothed votes (0 to 10).
ENTER_THRESHOLD = 6.0
EXIT_THRESHOLD = 4.0


class RepetitionCounter:
    """ML Kit's repetition counter on one class's smoothed votes (see the module docstring).

    A repetition starts on the first frame of the run of frames whose votes are at least
    ``exit_threshold`` that leads to entering the class; its bottom is the frame with the most
    votes; it ends on the frame it is counted.

    Args:
        class_name: the class to count, e.g. ``"squats_down"``.
        enter_threshold: votes above which the class is entered (ML Kit: 6).
        exit_threshold: votes below which an entered class counts a repetition (ML Kit: 4).
        track_id: the person this counter follows (copied to its events).
    """

    def __init__(
        self,
        class_name: str,
        enter_threshold: float = ENTER_THRESHOLD,
        exit_threshold: float = EXIT_THRESHOLD,
        track_id: int | None = None,
    ) -> None:
        if exit_threshold > enter_threshold:
            raise ValueError(
                f"exit_threshold ({exit_threshold}) must not exceed enter_threshold "
                f"({enter_threshold})"
            )
        self.class_name = class_name
        self.enter_threshold = float(enter_threshold)
        self.exit_threshold = float(exit_threshold)
        self.track_id = track_id
        #: The repetitions counted so far, in order.
        self.events: list[Repetition] = []
        self._rising: RepetitionBuilder | None = None  # out of the rest band
        self._entered = False
        self._last_angle: float | None = None

    @property
    def count(self) -> int:
        """Repetitions counted so far."""
        return len(self.events)

    @property
    def entered(self) -> bool:
        """Whether the class is entered (a repetition waits for the votes to fall)."""
        return self._entered

    def update(
        self,
        votes: Mapping[str, float],
        frame: int,
        time_s: float,
        angle_deg: float | None = None,
    ) -> Repetition | None:
        """Add one frame with a pose.

        Args:
            votes: the frame's smoothed votes per class (a missing class has 0).
            frame: the frame's index in the stream.
            time_s: its time, seconds.
            angle_deg: the watched joint angle, degrees, for the range of motion (optional).

        Returns:
            The repetition this frame completes, or ``None``.
        """
        value = float(votes.get(self.class_name, 0.0))
        angle_before, self._last_angle = self._last_angle, angle_deg
        if not self._entered:
            if value < self.exit_threshold:
                self._rising = None
                return None
            if self._rising is None:
                self._rising = RepetitionBuilder(frame, time_s, value, angle_deg, angle_before)
            else:
                self._rising.add(frame, time_s, value, angle_deg)
            self._entered = value > self.enter_threshold
            return None
        assert self._rising is not None
        self._rising.add(frame, time_s, value, angle_deg)
        if value >= self.exit_threshold:
            return None
        event = self._rising.finish(self.count + 1, frame, time_s, self.track_id)
        self._rising, self._entered = None, False
        self.events.append(event)
        return event

    def reset(self) -> None:
        """Forget the count, the events and any repetition under way."""
        self.events = []
        self._rising, self._entered, self._last_angle = None, False, None


class AngleCounter:
    """Repetitions from a joint angle with hysteresis (see the module docstring).

    A repetition starts on the first frame below ``up_deg``, its bottom is its smallest angle,
    it ends on the first frame above ``up_deg`` again, and it counts only if the angle fell
    below ``down_deg`` in between.

    Args:
        exercise: a name of :data:`~vitruvian.classify.angles.EXERCISES` or an
            :class:`~vitruvian.classify.angles.Exercise`.
        track_id: the person this counter follows (copied to its events).
        down_deg, up_deg: override the exercise's thresholds (degrees).
    """

    def __init__(
        self,
        exercise: str | Exercise = "squats",
        track_id: int | None = None,
        *,
        down_deg: float | None = None,
        up_deg: float | None = None,
    ) -> None:
        exercise = get_exercise(exercise)
        self.exercise = Exercise(
            exercise.name,
            exercise.joints,
            exercise.down_deg if down_deg is None else float(down_deg),
            exercise.up_deg if up_deg is None else float(up_deg),
            exercise.max_tilt_deg,
        )
        self.track_id = track_id
        #: The repetitions counted so far, in order.
        self.events: list[Repetition] = []
        self._moving: RepetitionBuilder | None = None
        self._went_down = False
        self._last_angle: float | None = None

    @property
    def count(self) -> int:
        """Repetitions counted so far."""
        return len(self.events)

    @property
    def entered(self) -> bool:
        """Whether a repetition is under way and has gone below ``down_deg``."""
        return self._moving is not None and self._went_down

    def update(self, angle_deg: float | None, frame: int, time_s: float) -> Repetition | None:
        """Add one frame's angle in degrees (``None``: no pose, or the exercise does not apply
        to this posture; the frame is skipped).

        Returns:
            The repetition this frame completes, or ``None``.
        """
        if angle_deg is None:
            return None
        angle = float(angle_deg)
        up, down = self.exercise.up_deg, self.exercise.down_deg
        angle_before, self._last_angle = self._last_angle, angle
        if self._moving is None:
            if angle < up:
                self._moving = RepetitionBuilder(frame, time_s, -angle, angle, angle_before)
                self._went_down = angle < down
            return None
        self._moving.add(frame, time_s, -angle, angle)
        self._went_down |= angle < down
        if angle <= up:
            return None
        moving, went_down = self._moving, self._went_down
        self._moving, self._went_down = None, False
        if not went_down:
            return None  # turned back before going down: not a repetition
        event = moving.finish(self.count + 1, frame, time_s, self.track_id)
        self.events.append(event)
        return event

    def reset(self) -> None:
        """Forget the count, the events and any repetition under way."""
        self.events = []
        self._moving, self._went_down, self._last_angle = None, False, None


C = TypeVar("C")


class PerPerson(Generic[C]):
    """One counter (or any per-person state) per person, made on first use.

    ``make(track_id)`` builds the counter of a new person::

        counters = PerPerson(lambda track_id: AngleCounter("squats", track_id))
        counters[track_id].update(angle, frame, time_s)
        counters.counts()  # {track_id: count}

    ``None`` is a valid key (the single person of a stream without tracking).
    """

    def __init__(self, make: Callable[[int | None], C]) -> None:
        self._make = make
        self._items: dict[int | None, C] = {}

    def __getitem__(self, track_id: int | None) -> C:
        if track_id not in self._items:
            self._items[track_id] = self._make(track_id)
        return self._items[track_id]

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._items

    def __iter__(self) -> Iterator[int | None]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[int | None, C]]:
        """``(track_id, counter)`` pairs, in the order the people appeared."""
        return list(self._items.items())

    def counts(self) -> dict[int | None, int]:
        """Each person's count (for counters with a ``count``)."""
        return {key: item.count for key, item in self._items.items()}  # type: ignore[attr-defined]

    def events(self) -> list[Repetition]:
        """Every person's repetitions, by end frame (for counters with ``events``)."""
        found: list[Repetition] = [
            event
            for item in self._items.values()
            for event in item.events  # type: ignore[attr-defined]
        ]
        return sorted(found, key=lambda e: (e.end_frame, str(e.track_id)))

    def drop(self, track_id: int | None) -> None:
        """Forget a person (e.g. a track that ended)."""
        self._items.pop(track_id, None)
