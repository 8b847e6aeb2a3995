"""Per-repetition events: when a repetition started, hit its bottom and ended, how long it took
and how far the joint moved.

Both counters (:mod:`vitruvian.classify.counter`) build a :class:`Repetition` the same way, with
:class:`RepetitionBuilder`: a repetition *starts* on the first frame that leaves the counter's
rest band (the votes counter: its class's votes reach the exit threshold; the angle counter:
the angle falls below the "up" threshold), its *bottom* is its deepest frame (the most votes, or
the smallest angle) and it *ends* on the frame it is counted. Frames and times are those the
caller gives (frame indices of the stream, seconds of the stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_FIELDS", "Repetition", "RepetitionBuilder"]

#: The columns of an events table (:meth:`Repetition.as_row`).
EVENT_FIELDS = (
    "track_id",
    "index",
    "start_frame",
    "bottom_frame",
    "end_frame",
    "start_s",
    "bottom_s",
    "end_s",
    "duration_s",
    "range_of_motion_deg",
)


@dataclass(frozen=True)
class Repetition:
    """One counted repetition.

    Attributes:
        index: 1 for a person's first repetition, then 2, ...
        start_frame: the first frame of the movement (it left the rest band).
        bottom_frame: its deepest frame (the most votes, or the smallest angle; the first such
            frame on a tie).
        end_frame: the frame it was counted on (back in the rest band).
        start_s, bottom_s, end_s: those frames' times, in seconds of the stream.
        range_of_motion_deg: the watched joint angle's range over the repetition, in degrees:
            the largest angle (the frame before the start, the repetition and its end frame)
            minus the smallest; ``None`` when no angle was given.
        track_id: the person (``None`` for a single-person stream).
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
        """Seconds from the start to the end."""
        return self.end_s - self.start_s

    def as_row(self) -> dict[str, Any]:
        """The event as a table row, keys :data:`EVENT_FIELDS`."""
        return {name: getattr(self, name) for name in EVENT_FIELDS}


class RepetitionBuilder:
    """A repetition under way: its start, its deepest frame so far, the angles it went through.

    Args:
        frame, time_s: the start frame and its time.
        depth: how deep the start frame is (larger is deeper: votes, or minus the angle).
        angle_deg: the start frame's angle, if any.
        angle_before_deg: the angle of the frame before the start, if any (the top of the
            movement, for the range of motion).
    """

    def __init__(
        self,
        frame: int,
        time_s: float,
        depth: float,
        angle_deg: float | None = None,
        angle_before_deg: float | None = None,
    ) -> None:
        self.start = (frame, time_s)
        self.bottom = (frame, time_s)
        self.depth = depth
        self.angles: list[float] = []
        if angle_deg is not None:  # the top before the start counts only with angles here
            self.angles = [a for a in (angle_before_deg, angle_deg) if a is not None]

    def add(self, frame: int, time_s: float, depth: float, angle_deg: float | None = None) -> None:
        """One more frame of the repetition."""
        if depth > self.depth:
            self.depth, self.bottom = depth, (frame, time_s)
        if angle_deg is not None:
            self.angles.append(angle_deg)

    def finish(
        self, index: int, frame: int, time_s: float, track_id: int | None = None
    ) -> Repetition:
        """The :class:`Repetition`, counted on ``frame`` (already :meth:`add`-ed)."""
        motion = max(self.angles) - min(self.angles) if self.angles else None
        return Repetition(
            index=index,
            start_frame=self.start[0],
            bottom_frame=self.bottom[0],
            end_frame=frame,
            start_s=self.start[1],
            bottom_s=self.bottom[1],
            end_s=time_s,
            range_of_motion_deg=motion,
            track_id=track_id,
        )
