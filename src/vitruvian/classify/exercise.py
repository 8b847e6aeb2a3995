"""One person's exercise, frame by frame from :class:`~vitruvian.types.PoseResult`: the watched
angle, the k-NN votes and their smoothing, and the count, in one call per frame.

:class:`ExerciseCounter` is what ``vitruvian reps`` runs on every frame::

    from vitruvian.classify import ExerciseCounter, PoseClassifier
    from vitruvian.extract import extract_video

    counter = ExerciseCounter("squats")  # the knee angle; or, with samples:
    # counter = ExerciseCounter("squats", classifier=PoseClassifier.from_csv("samples.csv"))
    for info, pose in extract_video("squats.mp4"):
        state = counter.update(pose, info.index, info.timestamp_s, (info.width, info.height))
        if state.repetition is not None:
            print(state.repetition)

With a ``classifier`` it counts like ML Kit (votes of ``class_name``, by default
``<exercise>_down``, smoothed, then :class:`~vitruvian.classify.counter.RepetitionCounter`);
without, with :class:`~vitruvian.classify.counter.AngleCounter`. The angle is measured either
way (for the range of motion). Several people: one ``ExerciseCounter`` each
(:class:`~vitruvian.classify.counter.PerPerson`), each with its own smoothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vitruvian.classify.angles import Exercise, exercise_angle, get_exercise
from vitruvian.classify.counter import (
    ENTER_THRESHOLD,
    EXIT_THRESHOLD,
    AngleCounter,
    RepetitionCounter,
)
from vitruvian.classify.events import Repetition
from vitruvian.classify.knn import PoseClassifier
from vitruvian.classify.smoothing import EMASmoothing
from vitruvian.types import PoseResult

__all__ = ["ExerciseCounter", "FrameState"]


@dataclass(frozen=True)
class FrameState:
    """What one frame did to a person's count.

    Attributes:
        frame, time_s: the frame's index and time (seconds).
        pose_present: whether the frame had a pose.
        angle_deg: the watched joint angle (degrees), or ``None`` (no pose, or the exercise
            does not apply to the posture).
        votes: the frame's raw k-NN votes per class (k-NN counter and a pose; else empty).
        smoothed: the smoothed votes per class (k-NN counter; else empty).
        count: repetitions so far, this frame's included.
        entered: whether a repetition is under way past its threshold (votes above 6, or the
            angle below ``down_deg``).
        repetition: the repetition this frame completed, or ``None``.
        track_id: the person.
    """

    frame: int
    time_s: float
    pose_present: bool
    angle_deg: float | None
    votes: dict[str, int] = field(default_factory=dict)
    smoothed: dict[str, float] = field(default_factory=dict)
    count: int = 0
    entered: bool = False
    repetition: Repetition | None = None
    track_id: int | None = None


class ExerciseCounter:
    """One person's repetitions of an exercise from their pose in each frame.

    Args:
        exercise: a name of :data:`~vitruvian.classify.angles.EXERCISES` or an
            :class:`~vitruvian.classify.angles.Exercise`: the angle watched (and counted,
            without a classifier).
        classifier: count with k-NN votes of these samples instead of the angle.
        class_name: the class to count (default ``<exercise>_down``); must be a class of the
            classifier.
        track_id: the person.
        enter_threshold, exit_threshold: the votes counter's thresholds (ML Kit: 6, 4).
        smoothing: the votes' smoothing (default: ML Kit's, window 10, alpha 0.2).

    Raises:
        ValueError: an unknown exercise, or a class the classifier does not have.
    """

    def __init__(
        self,
        exercise: str | Exercise = "squats",
        *,
        classifier: PoseClassifier | None = None,
        class_name: str | None = None,
        track_id: int | None = None,
        enter_threshold: float = ENTER_THRESHOLD,
        exit_threshold: float = EXIT_THRESHOLD,
        smoothing: EMASmoothing | None = None,
    ) -> None:
        exercise = get_exercise(exercise)
        self.exercise = exercise
        self.classifier = classifier
        self.track_id = track_id
        self.counter: RepetitionCounter | AngleCounter
        if classifier is not None:
            self.class_name = class_name or f"{exercise.name}_down"
            if self.class_name not in classifier.classes:
                raise ValueError(
                    f"class {self.class_name!r} is not among the samples' classes "
                    f"({', '.join(classifier.classes)})"
                )
            self.smoothing = smoothing or EMASmoothing()
            self.counter = RepetitionCounter(
                self.class_name, enter_threshold, exit_threshold, track_id
            )
        else:
            self.class_name = exercise.name
            self.smoothing = None
            self.counter = AngleCounter(exercise, track_id)

    @property
    def count(self) -> int:
        """Repetitions counted so far."""
        return self.counter.count

    @property
    def events(self) -> list[Repetition]:
        """The repetitions counted so far."""
        return self.counter.events

    def update(
        self,
        pose: PoseResult | None,
        frame: int,
        time_s: float,
        image_size: tuple[int, int] | None = None,
    ) -> FrameState:
        """Add one frame.

        Args:
            pose: the person's pose in the frame, or ``None`` (not found).
            frame: the frame's index in the stream.
            time_s: its time, seconds.
            image_size: ``(width, height)`` of the frame in pixels (needed by the k-NN counter,
                whose samples are in pixels).
        """
        angle = None if pose is None else exercise_angle(pose.world_landmarks, self.exercise)
        votes: dict[str, int] = {}
        smoothed: dict[str, float] = {}
        event: Repetition | None
        if isinstance(self.counter, RepetitionCounter):
            assert self.classifier is not None and self.smoothing is not None
            if pose is not None:
                if image_size is None:
                    raise ValueError("the k-NN counter needs the frame's image_size")
                votes = self.classifier.classify(pose.landmarks, image_size=image_size)
            smoothed = self.smoothing(votes, time_s)
            for name in self.classifier.classes:
                smoothed.setdefault(name, 0.0)
            smoothed = dict(sorted(smoothed.items()))
            event = None if pose is None else self.counter.update(smoothed, frame, time_s, angle)
        else:
            event = self.counter.update(angle, frame, time_s)
        return FrameState(
            frame=frame,
            time_s=time_s,
            pose_present=pose is not None,
            angle_deg=angle,
            votes=votes,
            smoothed=smoothed,
            count=self.counter.count,
            entered=self.counter.entered,
            repetition=event,
            track_id=self.track_id,
        )

    def reset(self) -> None:
        """Start again: count, events, smoothing."""
        self.counter.reset()
        if self.smoothing is not None:
            self.smoothing.reset()
