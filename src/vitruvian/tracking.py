"""Video mode: the detector-tracker loop and temporal smoothing of MediaPipe's ``PoseLandmarkCpu``
graph with ``use_prev_landmarks``, ``PoseLandmarkFiltering`` and ``PoseSegmentationFiltering``.

Per frame::

    ROI from the previous frame? ──yes──► landmarks_from_roi ──presence ok──► tracked
            │ no                                    │ lost: reset the filters
            ▼                                       ▼
    detect ─► detection_to_roi ─► landmarks_from_roi (same frame) ─► no pose: return None
            │
            ▼
    smooth: visibility low-pass, One-Euro on image landmarks (object-scale normalised) and on
            world landmarks (when smooth_landmarks); One-Euro on the auxiliary landmarks (always);
            segmentation mask blended with the previous one (when smooth_segmentation)
            │
            ▼
    next ROI from the smoothed auxiliary landmarks

Several people: ``PoseTracker(num_poses=N)`` runs this loop for each person, with IDs, on one
pipeline (see :mod:`vitruvian.people_tracking`); with ``num_poses=1`` (the default) nothing of
that runs and the results are MediaPipe's one person, as before.

Time: without a timestamp, each :meth:`PoseTracker.process` call advances 33333 µs, as
MediaPipe's Python solution does (its filters then run at 30 Hz). Give real frame times to make
the smoothing follow the video's actual rate.

Differences from MediaPipe, on purpose:

* when tracking is lost MediaPipe reports no pose for that frame and detects again on the next
  one; here the detector runs again on the same frame, so a pose is not dropped for one frame;
* a frame whose size differs from the previous frame's starts a new track (the detector runs and
  the filters restart; the clock goes on), since a region and filter state measured in the old
  frame's pixels mean nothing in the new one;
* a next-frame region that is degenerate or absurd (see
  :func:`~vitruvian.calculators.detection_to_roi.roi_problem`: not finite, or a hundred times
  larger than the image or that far away from it, which only noise images driven with a
  confidence threshold of 0 produce) is dropped, and the detector runs on the next frame.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from vitruvian.calculators.detection_to_roi import (
    landmarks_to_roi,
    object_scale,
    roi_problem,
)
from vitruvian.calculators.landmarks_smoothing import (
    AUXILIARY_LANDMARKS_FILTER,
    LANDMARKS_FILTER,
    WORLD_LANDMARKS_FILTER,
    LandmarksSmoother,
    VisibilitySmoother,
)
from vitruvian.calculators.segmentation_smoothing import smooth_segmentation
from vitruvian.image_input import as_rgb_image
from vitruvian.options import check_num_poses
from vitruvian.pipeline import PosePipeline, RoiLike, resolve_roi
from vitruvian.types import NormalizedRect, PoseResult

if TYPE_CHECKING:
    from vitruvian.people_tracking import PeopleTracker

#: MediaPipe's Python solution advances its clock by this much per ``process()`` call.
FRAME_STEP_US = 33333
#: ``num_poses > 1``: while fewer people than wanted are tracked, look for more this often
#: (seconds of stream time): someone who walks in is found within half a second.
DETECT_EVERY_S = 0.5
#: ``num_poses > 1``: a person lost for up to this long (seconds of stream time) and found
#: again where they were lost gets their ID back.
GRACE_PERIOD_S = 1.0


def check_seconds(name: str, value: object) -> float:
    """A duration in seconds as a finite float >= 0, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    seconds = float(value)
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


@dataclass(frozen=True)
class TrackerStats:
    """Counters since the tracker was built (:meth:`PoseTracker.reset` keeps them).

    Attributes:
        frames: frames processed.
        tracked_frames: frames whose ROI came from the previous frame and where tracking held
            (the detector did not run); with several people, frames where every person came
            from the previous frame and no search ran.
        detector_runs: person-detector runs.
        landmark_runs: landmark-model runs.
    """

    frames: int
    tracked_frames: int
    detector_runs: int
    landmark_runs: int


class PoseTracker:
    """Single-person BlazePose on a video stream, with tracking and smoothing.

    Args:
        model_complexity: 0 (lite), 1 (full) or 2 (heavy) landmark model.
        enable_segmentation: also predict the person mask.
        smooth_landmarks: filter image and world landmarks (and visibility) over time.
        smooth_segmentation: blend each mask with the previous one (ratio 0.7 on uncertain
            pixels). MediaPipe 0.10.14's Python solution accepts this option but, because its
            graph loses the calculator's settings, does not actually smooth; here it does.
        min_detection_confidence: minimum detector score, in [0, 1].
        min_tracking_confidence: minimum pose-presence score to keep tracking, in [0, 1].
        num_threads: CPU threads for the models (``None``: up to 4).
        backend: the inference backend (see :class:`~vitruvian.pipeline.PosePipeline`).
        pipeline: run on this already loaded pipeline instead of loading one (its options
            then replace ``model_complexity``, ``enable_segmentation``, the confidences,
            ``num_threads`` and ``backend``). Several trackers may share one pipeline, one
            stream each; :func:`track_batch` runs them together. The tracker does not close a
            pipeline it was given.

    Not thread-safe, and the frames of one stream must come in order: use one tracker per
    stream and per thread (:class:`vitruvian.solutions.pose.Pose` adds a lock around it).
    After :meth:`close` (which may be called again harmlessly) :meth:`process` and
    :meth:`reset` raise :class:`RuntimeError`; so does :meth:`process` on a tracker whose
    shared pipeline was closed.
    """

    def __init__(
        self,
        model_complexity: int = 1,
        enable_segmentation: bool = False,
        smooth_landmarks: bool = True,
        smooth_segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        num_threads: int | None = None,
        backend: str | None = None,
        pipeline: PosePipeline | None = None,
        *,
        num_poses: int = 1,
        detect_every: float = DETECT_EVERY_S,
        grace_period: float = GRACE_PERIOD_S,
    ) -> None:
        self._owns_pipeline = pipeline is None
        if pipeline is None:
            pipeline = PosePipeline(
                model_complexity=model_complexity,
                enable_segmentation=enable_segmentation,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
                num_threads=num_threads,
                backend=backend,
            )
        self.pipeline = pipeline
        self.smooth_landmarks = bool(smooth_landmarks)
        self.smooth_segmentation = bool(smooth_segmentation)
        self.num_poses = check_num_poses(num_poses)
        self.detect_every = check_seconds("detect_every", detect_every)
        self.grace_period = check_seconds("grace_period", grace_period)
        self._person = PersonSmoothing(self.smooth_landmarks, self.smooth_segmentation)
        #: The single-person track's ID (``None`` while no one is tracked) and the next new ID.
        self._person_id: int | None = None
        self._next_id = 0
        self._people: PeopleTracker | None = None
        if self.num_poses > 1:
            from vitruvian.people_tracking import PeopleTracker  # needs scipy

            self._people = PeopleTracker(self)
        self._last_us: int | None = None
        self._size: tuple[int, int] | None = None
        self._frames = 0
        self._tracked = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def _check_open(self, method: str) -> None:
        """Raise the after-close error for ``method`` once the tracker is closed."""
        if self._closed:
            raise RuntimeError(
                f"PoseTracker.{method}() called after close(); create a new PoseTracker"
            )

    @property
    def stats(self) -> TrackerStats:
        """A snapshot of the frame and model-run counters."""
        return TrackerStats(
            frames=self._frames,
            tracked_frames=self._tracked,
            detector_runs=self.pipeline.stats.detector_runs,
            landmark_runs=self.pipeline.stats.landmark_runs,
        )

    def sibling(self) -> PoseTracker:
        """A new tracker for another stream on this tracker's pipeline, with the same smoothing
        options and a fresh state: one of the streams :func:`track_batch` runs together with
        this one. It does not close the shared pipeline."""
        return PoseTracker(
            smooth_landmarks=self.smooth_landmarks,
            smooth_segmentation=self.smooth_segmentation,
            pipeline=self.pipeline,
            num_poses=self.num_poses,
            detect_every=self.detect_every,
            grace_period=self.grace_period,
        )

    def process(
        self, image: np.ndarray, timestamp_us: int | None = None, roi: RoiLike | None = None
    ) -> PoseResult | None:
        """Track the pose in the next frame of the stream.

        Args:
            image: ``(H, W, 3)`` uint8 RGB frame (see :func:`vitruvian.image_input.as_rgb_image`).
            timestamp_us: the frame's time in microseconds, greater than the previous frame's;
                ``None`` advances 33333 µs (30 fps) from the previous frame.
            roi: look here in this frame instead of the tracked region or the detector: a
                person box ``[x_min, y_min, x_max, y_max]`` in pixels or a
                :class:`~vitruvian.types.NormalizedRect`. Tracking goes on from the result.

        Returns:
            The smoothed pose, or ``None`` when no person is found in this frame.

        Raises:
            RuntimeError: the tracker, or the pipeline it runs on, has been closed.
            TypeError: the image is not a numpy array, or the timestamp is not a number.
            ValueError: the image has the wrong dtype, shape or size; a timestamp that is not
                finite, negative or not greater than the previous one; an unusable ``roi``
                (see :func:`~vitruvian.calculators.detection_to_roi.roi_problem`).
        """
        self._check_open("process")
        self.pipeline._check_open("process")
        if self._people is not None:
            if roi is not None:
                raise ValueError("roi= tracks one person; with num_poses > 1 leave it out")
            people = self._people.process(*self._begin_people(image, timestamp_us))
            return people[0] if people else None
        return _track([self], [self._begin(image, timestamp_us, roi)], batched=False)[0]

    def process_all(self, image: np.ndarray, timestamp_us: int | None = None) -> list[PoseResult]:
        """Track every person (up to ``num_poses``) in the next frame of the stream.

        Args:
            image, timestamp_us: as for :meth:`process`.

        Returns:
            The smoothed poses, ordered by ``person_id`` (the longest-tracked person first);
            empty when no one is found. With ``num_poses=1`` this is ``[process(...)]``.

        Raises:
            What :meth:`process` raises.
        """
        self._check_open("process")
        self.pipeline._check_open("process")
        if self._people is not None:
            return self._people.process(*self._begin_people(image, timestamp_us))
        result = _track([self], [self._begin(image, timestamp_us, None)], batched=False)[0]
        return [] if result is None else [result]

    def _begin_people(self, image: np.ndarray, timestamp_us: int | None) -> tuple[_Frame, bool]:
        """Start a multi-person frame: check it and advance the clock; True when its size
        differs from the previous frame's (every track then ends)."""
        image = as_rgb_image(image)
        height, width = image.shape[:2]
        now = self._advance_clock(timestamp_us)
        self._frames += 1
        resized = self._size != (width, height)
        self._size = (width, height)
        return _Frame(image, now, None, False), resized

    def _begin(self, image: np.ndarray, timestamp_us: int | None, roi: RoiLike | None) -> _Frame:
        """Start a frame: check it, advance the clock, and say where to look."""
        image = as_rgb_image(image)
        height, width = image.shape[:2]
        if roi is not None:
            roi = resolve_roi(roi, width, height)
        now = self._advance_clock(timestamp_us)
        self._frames += 1
        if self._size != (width, height):
            self._lose_track()  # a new frame size starts a new track
            self._size = (width, height)
        if roi is not None:
            self._person.roi = roi
            return _Frame(image, now, roi, False)
        tracked_roi = self._person.roi
        return _Frame(image, now, tracked_roi, tracked_roi is not None)

    def _finish(self, result: PoseResult | None, frame: _Frame, tracked: bool) -> PoseResult | None:
        """End a frame with the pipeline's result: smooth it and set the next region."""
        if result is None:
            self._lose_track()
            return None
        if tracked:
            self._tracked += 1
        if self._person_id is None:
            self._person_id = self._new_id()
        height, width = frame.image.shape[:2]
        smoothed = self._person.smooth(result, frame.now_us, width, height)
        return replace(smoothed, person_id=self._person_id)

    def _new_id(self) -> int:
        """The next person ID of this stream (never reused before :meth:`reset`)."""
        self._next_id += 1
        return self._next_id - 1

    def reset(self) -> None:
        """Start a new stream: forget the tracked ROI, the filters' past and the clock.

        Raises:
            RuntimeError: the tracker has been closed.
        """
        self._check_open("reset")
        self._lose_track()
        if self._people is not None:
            self._people.clear()
        self._next_id = 0
        self._last_us = None
        self._size = None

    def close(self) -> None:
        """Release the models (unless the pipeline was given to the constructor). Calling it
        again is harmless."""
        if self._closed:
            return
        self._closed = True
        if self._owns_pipeline:
            self.pipeline.close()

    def __enter__(self) -> PoseTracker:
        """Return ``self``; :meth:`close` runs on leaving the ``with`` block."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _advance_clock(self, timestamp_us: int | None) -> int:
        if timestamp_us is None:
            now = (self._last_us or 0) + FRAME_STEP_US
        else:
            if isinstance(timestamp_us, bool) or not isinstance(timestamp_us, numbers.Real):
                raise TypeError(
                    f"timestamp_us must be an integer number of microseconds, got {timestamp_us!r}"
                )
            if not math.isfinite(timestamp_us):
                raise ValueError(f"timestamps must be finite, got {timestamp_us} µs")
            now = int(timestamp_us)
            if now < 0:
                raise ValueError(f"timestamps must be >= 0, got {now} µs")
            if self._last_us is not None and now <= self._last_us:
                raise ValueError(
                    f"timestamp {now} µs is not after the previous frame's ({self._last_us} µs); "
                    "timestamps must increase within a stream (call reset() to start a new one)"
                )
        self._last_us = now
        return now

    def _lose_track(self) -> None:
        self._person.reset()
        self._person_id = None


class PersonSmoothing:
    """One person's tracking state: the next frame's region and the temporal filters
    (landmarks, world landmarks, auxiliary landmarks, visibility, mask), as
    ``PoseLandmarkFiltering`` and ``PoseSegmentationFiltering`` keep them for MediaPipe's one
    person. :class:`PoseTracker` has one; the multi-person tracker one per person.

    Args:
        smooth_landmarks: filter image and world landmarks and visibility.
        smooth_segmentation: blend each mask with the previous one.
    """

    def __init__(self, smooth_landmarks: bool, smooth_segmentation: bool) -> None:
        self.smooth_landmarks = smooth_landmarks
        self.smooth_segmentation = smooth_segmentation
        self._landmarks = LandmarksSmoother(LANDMARKS_FILTER)
        self._world = LandmarksSmoother(WORLD_LANDMARKS_FILTER)
        self._auxiliary = LandmarksSmoother(AUXILIARY_LANDMARKS_FILTER)
        self._visibility = VisibilitySmoother()
        #: Where to look in the next frame (``None``: nowhere known, run the detector).
        self.roi: NormalizedRect | None = None
        self._mask: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the region and the filters' past (tracking lost)."""
        self.roi = None
        self._mask = None
        for f in (self._landmarks, self._world, self._auxiliary, self._visibility):
            f.reset()

    def smooth(self, result: PoseResult, now: int, width: int, height: int) -> PoseResult:
        """Filter one frame's raw pose (time ``now`` in µs, image ``width`` x ``height`` px)
        and set :attr:`roi` for the next frame from the smoothed auxiliary landmarks."""
        size = (width, height)
        raw_aux = result.auxiliary_landmarks
        assert raw_aux is not None
        scale = object_scale(raw_aux, width, height)

        landmarks = result.landmarks
        world = result.world_landmarks
        if self.smooth_landmarks:
            landmarks = landmarks.copy()
            world = world.copy()
            landmarks[:, 3] = self._visibility.apply(landmarks[:, 3])
            world[:, 3] = landmarks[:, 3]
            landmarks[:, :3] = self._landmarks.apply(landmarks[:, :3], now, scale, size)
            world[:, :3] = self._world.apply(world[:, :3], now)

        aux = raw_aux.copy()
        aux[:, :3] = self._auxiliary.apply(raw_aux[:, :3], now, scale, size)
        self.roi = _next_roi(aux, width, height)

        mask = result.segmentation_mask
        if mask is not None and self.smooth_segmentation:
            if self._mask is not None and self._mask.shape == mask.shape:
                mask = smooth_segmentation(mask, self._mask)
            self._mask = mask

        return PoseResult(
            landmarks=landmarks,
            world_landmarks=world,
            segmentation_mask=mask,
            roi=result.roi,
            presence_score=result.presence_score,
            detection=result.detection,
            auxiliary_landmarks=aux,
        )


def track_batch(
    trackers: Sequence[PoseTracker],
    images: Sequence[np.ndarray],
    timestamps_us: Sequence[int | None] | None = None,
) -> list[PoseResult | None]:
    """The next frame of several streams at once, one tracker per stream, batched.

    Equivalent to ``[t.process(image, ts) for t, image, ts in zip(...)]``, but with one
    landmark-model call for all the tracked streams, then one detector call (and one more
    landmark call) for the streams that need the detector (first frame, or tracking lost on
    this frame). On ONNX Runtime each call is a real batch, which is what a GPU needs to be
    busy; with LiteRT the items run one after another.

    Args:
        trackers: distinct trackers sharing one pipeline (``PoseTracker(pipeline=...)``).
        images: one RGB frame per tracker.
        timestamps_us: one timestamp (or ``None``) per tracker, as for :meth:`PoseTracker.process`.

    Raises:
        RuntimeError: a tracker or the shared pipeline has been closed (checked before any
            clock advances).
        ValueError: lengths differ, a tracker repeats, the trackers do not share a pipeline
            or one has ``num_poses > 1``;
            and what :meth:`PoseTracker.process` raises for a bad frame or timestamp. Every
            image is checked before any clock advances; a bad timestamp is found stream by
            stream, so the streams before it have then begun their frame (``reset()`` them).
    """
    if timestamps_us is None:
        timestamps_us = [None] * len(trackers)
    if not len(trackers) == len(images) == len(timestamps_us):
        raise ValueError(
            f"got {len(trackers)} trackers, {len(images)} images and {len(timestamps_us)} "
            "timestamps; give one of each per stream"
        )
    if not trackers:
        return []
    if len({id(t) for t in trackers}) != len(trackers):
        raise ValueError("each tracker follows one stream: a tracker appears twice")
    pipeline = trackers[0].pipeline
    if any(t.pipeline is not pipeline for t in trackers):
        raise ValueError("track_batch needs trackers that share one PosePipeline")
    if any(t.num_poses > 1 for t in trackers):
        raise ValueError(
            "track_batch follows one person per stream; with num_poses > 1 call each "
            "tracker's process_all()"
        )
    for tracker in trackers:
        tracker._check_open("process")
    pipeline._check_open("process_batch")

    images = [as_rgb_image(image) for image in images]
    frames = [
        t._begin(image, ts, None)
        for t, image, ts in zip(trackers, images, timestamps_us, strict=True)
    ]
    return _track(trackers, frames, batched=True)


def seconds_to_us(timestamp: object) -> int:
    """A frame time in seconds as the integer microseconds :meth:`PoseTracker.process` takes
    (``Pose.process(image, timestamp=seconds)`` and the extractor convert the same way, so that
    their results are equal).

    Raises:
        TypeError: not a real number.
        ValueError: not finite.
    """
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Real):
        raise TypeError(f"timestamp must be a number of seconds, got {timestamp!r}")
    seconds = float(timestamp)
    if not math.isfinite(seconds):
        raise ValueError(f"timestamp must be a finite number of seconds, got {seconds}")
    return round(seconds * 1e6)


class _Frame(NamedTuple):
    """A frame begun by :meth:`PoseTracker._begin`."""

    image: np.ndarray
    now_us: int
    #: where the landmark model looks first; ``None``: run the detector.
    roi: NormalizedRect | None
    #: whether ``roi`` is the region tracked from the previous frame (not the caller's).
    tracked: bool


def _track(
    trackers: Sequence[PoseTracker], frames: Sequence[_Frame], batched: bool
) -> list[PoseResult | None]:
    """The detector-or-track step for one begun frame per tracker (all on one pipeline).

    The frames with a region run the landmark model on it; where it finds no pose, tracking is
    lost (the filters restart) and the frame joins those without a region, which run the
    detector and the landmark model on its region, on the same frame. Then each result is
    smoothed and sets its tracker's next region. ``batched``: one model call per stage for all
    the frames (:meth:`~vitruvian.pipeline.PosePipeline.process_batch`); otherwise frame by
    frame (``landmarks_from_roi`` and ``process``, which write each crop straight into the
    model's input).
    """
    pipeline = trackers[0].pipeline
    results: list[PoseResult | None] = [None] * len(frames)
    tracked = [False] * len(frames)
    with_roi = [(i, frame.roi) for i, frame in enumerate(frames) if frame.roi is not None]
    if with_roi:
        images = [frames[i].image for i, _ in with_roi]
        rois = [roi for _, roi in with_roi]
        if batched:
            found = pipeline.process_batch(images, rois)
        else:
            found = list(map(pipeline.landmarks_from_roi, images, rois))
        for (i, _), result in zip(with_roi, found, strict=True):
            if result is None:
                trackers[i]._lose_track()
            else:
                results[i], tracked[i] = result, frames[i].tracked
    to_detect = [i for i, result in enumerate(results) if result is None]
    if to_detect:
        images = [frames[i].image for i in to_detect]
        if batched:
            found = pipeline.process_batch(images)
        else:
            found = list(map(pipeline.process, images))
        for i, result in zip(to_detect, found, strict=True):
            results[i] = result
    return [
        t._finish(result, frame, was_tracked)
        for t, result, frame, was_tracked in zip(trackers, results, frames, tracked, strict=True)
    ]


def _next_roi(auxiliary: np.ndarray, width: int, height: int) -> NormalizedRect | None:
    """The next frame's region from the smoothed auxiliary landmarks, or ``None`` (run the
    detector) when it would be unusable."""
    if not np.isfinite(auxiliary[:, :2]).all():
        return None
    roi = landmarks_to_roi(auxiliary, width, height)
    return None if roi_problem(roi, width, height) is not None else roi
