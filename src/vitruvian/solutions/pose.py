"""MediaPipe Pose Solution API (``mp.solutions.pose``) on top of :class:`~vitruvian.pipeline.
PosePipeline`.

Runs MediaPipe Pose code unchanged after ``import vitruvian as mp``::

    with mp.solutions.pose.Pose(static_image_mode=True) as pose:
        results = pose.process(cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB))
        if results.pose_landmarks:
            nose = results.pose_landmarks.landmark[mp.solutions.pose.PoseLandmark.NOSE]
            print(nose.x * image_width, nose.y * image_height)  # pixels

``results.pose`` additionally carries the pipeline's plain numpy
:class:`~vitruvian.types.PoseResult` (or ``None``).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from vitruvian.options import check_confidence, check_model_complexity, check_num_poses
from vitruvian.solutions.landmarks import LandmarkList, NormalizedLandmarkList

if TYPE_CHECKING:
    from vitruvian.pipeline import PipelineStats, PosePipeline, RoiLike
    from vitruvian.tracking import PoseTracker, TrackerStats
    from vitruvian.types import PoseResult

__all__ = [
    "POSE_CONNECTIONS",
    "Pose",
    "PoseLandmark",
    "PoseSolutionOutputs",
]


class PoseLandmark(enum.IntEnum):
    """The 33 BlazePose landmarks, with MediaPipe's names and indices.

    "Left" and "right" are the subject's own sides (the subject's left appears on the image's
    right for a person facing the camera).
    """

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


#: The skeleton's edges as pairs of landmark indices (the same 35 pairs as MediaPipe's
#: ``pose_connections.POSE_CONNECTIONS``).
POSE_CONNECTIONS: frozenset[tuple[int, int]] = frozenset(
    [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 7),
        (0, 4),
        (4, 5),
        (5, 6),
        (6, 8),
        (9, 10),
        (11, 12),
        (11, 13),
        (13, 15),
        (15, 17),
        (15, 19),
        (15, 21),
        (17, 19),
        (12, 14),
        (14, 16),
        (16, 18),
        (16, 20),
        (16, 22),
        (18, 20),
        (11, 23),
        (12, 24),
        (23, 24),
        (23, 25),
        (24, 26),
        (25, 27),
        (26, 28),
        (27, 29),
        (28, 30),
        (29, 31),
        (30, 32),
        (27, 31),
        (28, 32),
    ]
)


class PoseSolutionOutputs(NamedTuple):
    """What :meth:`Pose.process` returns (MediaPipe's ``SolutionOutputs`` plus ``pose``).

    Attributes:
        pose_landmarks: the 33 landmarks in normalised image coordinates (x / image width,
            y / image height, origin top-left), or ``None`` when no pose was found.
        pose_world_landmarks: the 33 landmarks in metres, origin at the centre between the
            hips, or ``None`` when no pose was found.
        segmentation_mask: ``(H, W)`` float32 in [0, 1] at the input image's size (1 = person),
            or ``None`` when segmentation is disabled or no pose was found.
        pose: the pipeline's numpy :class:`~vitruvian.types.PoseResult` (``None`` when no pose
            was found); not part of MediaPipe's API.
        multi_pose_landmarks, multi_pose_world_landmarks: every person found (up to
            ``num_poses``), as MediaPipe's multi-object solutions (``multi_hand_landmarks``)
            return them: lists in the same order, ``None`` when no one was found. The first
            person is ``pose_landmarks``.
        multi_segmentation_masks: each person's own mask (with ``enable_segmentation``), in
            the same order; ``segmentation_mask`` is the first person's.
        pose_ids: each person's ID, in the same order. In video mode an ID stays with its
            person while tracked and is never reused within the stream; in static mode it is
            the order found (0 is the person ``num_poses=1`` finds).
        poses: the numpy results, in the same order.
    """

    pose_landmarks: NormalizedLandmarkList | None
    pose_world_landmarks: LandmarkList | None
    segmentation_mask: np.ndarray | None
    pose: PoseResult | None
    multi_pose_landmarks: list[NormalizedLandmarkList] | None = None
    multi_pose_world_landmarks: list[LandmarkList] | None = None
    multi_segmentation_masks: list[np.ndarray | None] | None = None
    pose_ids: list[int] | None = None
    poses: list[PoseResult] | None = None


class Pose:
    """MediaPipe Pose: finds the most prominent person in an RGB image and returns 33 landmarks.

    Drop-in replacement for ``mediapipe.solutions.pose.Pose``, with the same options, defaults
    and outputs. Use it as a context manager or call :meth:`close` when done.

    In video mode (``static_image_mode=False``, the default) the detector runs on the first
    frame and whenever tracking is lost; otherwise each frame's region comes from the previous
    frame's landmarks, and landmarks, visibility and (optionally) the mask are smoothed over
    time (see :mod:`vitruvian.tracking`). Frames of one stream must come in order; call
    :meth:`reset` before an unrelated stream.

    Threads: an instance may be shared between threads. Its calls are serialised by a lock
    (:meth:`process`, :meth:`reset` and :meth:`close` wait for each other), so a shared
    static-mode instance gives each image the same result as serial calls would, one image at
    a time; for throughput, give each thread its own instance (they are independent). In video
    mode an instance follows *one* stream: interleaving the frames of different streams in one
    instance is the caller's error (as in MediaPipe); it does not crash but tracks and smooths
    across the streams. Use one instance per stream.

    Args:
        static_image_mode: treat inputs as unrelated images (True) or as a video stream (False).
        model_complexity: landmark model: 0 (lite), 1 (full) or 2 (heavy).
        smooth_landmarks: in video mode, filter landmarks across frames to reduce jitter.
        enable_segmentation: also predict a person segmentation mask.
        smooth_segmentation: in video mode, filter the mask across frames.
        min_detection_confidence: minimum person-detector score in [0.0, 1.0].
        min_tracking_confidence: minimum landmark-model pose-presence score in [0.0, 1.0]
            (below it the pose counts as lost; in static mode it is applied to each image).
        backend: not in MediaPipe (keyword only): the inference backend, ``"auto"``,
            ``"litert"``, ``"onnxruntime"``, ``"onnxruntime-cpu"``, ``"onnxruntime-cuda"`` or
            ``"onnxruntime-tensorrt"``. ``None`` (the default) reads ``$VITRUVIAN_BACKEND``,
            else ``"auto"``: CUDA through ONNX Runtime when ``onnxruntime-gpu`` and a GPU
            work, otherwise LiteRT on the CPU. See :mod:`vitruvian.models.backends`.
        num_poses: not in MediaPipe (keyword only): find up to this many people (default 1,
            MediaPipe's single person). With more, the ``multi_*`` fields and ``pose_ids`` of
            the results hold every person, each with a stable ID in video mode, while
            ``pose_landmarks`` stays the first person (see :class:`PoseSolutionOutputs`).
            Tracking several people needs scipy (``pip install 'vitruvian[multi]'``).

    Raises:
        ValueError: ``model_complexity`` not in {0, 1, 2}, or a confidence outside [0.0, 1.0].
        TypeError: a confidence that is not a number.
    """

    def __init__(
        self,
        static_image_mode: bool = False,
        model_complexity: int = 1,
        smooth_landmarks: bool = True,
        enable_segmentation: bool = False,
        smooth_segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        *,
        backend: str | None = None,
        num_poses: int = 1,
    ) -> None:
        self._static_image_mode = bool(static_image_mode)
        self._model_complexity = check_model_complexity(model_complexity)
        self._enable_segmentation = bool(enable_segmentation)
        # As MediaPipe does, smoothing only applies in video mode.
        self._smooth_landmarks = bool(smooth_landmarks) and not self._static_image_mode
        self._smooth_segmentation = bool(smooth_segmentation) and not self._static_image_mode
        self._min_detection_confidence = check_confidence(
            "min_detection_confidence", min_detection_confidence
        )
        self._min_tracking_confidence = check_confidence(
            "min_tracking_confidence", min_tracking_confidence
        )

        # Deferred imports: they load the inference runtime.
        from vitruvian.pipeline import PosePipeline
        from vitruvian.tracking import PoseTracker

        self._num_poses = check_num_poses(num_poses)

        self._pipeline: PosePipeline | None = None
        self._tracker: PoseTracker | None = None
        if self._static_image_mode:
            self._pipeline = PosePipeline(
                model_complexity=self._model_complexity,
                enable_segmentation=self._enable_segmentation,
                min_detection_confidence=self._min_detection_confidence,
                min_tracking_confidence=self._min_tracking_confidence,
                backend=backend,
            )
        else:
            self._tracker = PoseTracker(
                model_complexity=self._model_complexity,
                enable_segmentation=self._enable_segmentation,
                smooth_landmarks=self._smooth_landmarks,
                smooth_segmentation=self._smooth_segmentation,
                min_detection_confidence=self._min_detection_confidence,
                min_tracking_confidence=self._min_tracking_confidence,
                backend=backend,
                num_poses=self._num_poses,
            )
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (the models are then released)."""
        return self._closed

    @property
    def static_image_mode(self) -> bool:
        """Whether inputs are treated as unrelated images."""
        return self._static_image_mode

    @property
    def model_complexity(self) -> int:
        """The landmark model in use: 0 (lite), 1 (full) or 2 (heavy)."""
        return self._model_complexity

    @property
    def backend(self) -> str:
        """The inference backend in use (e.g. ``"litert"``, ``"onnxruntime-cuda"``)."""
        pipeline = self._pipeline if self._tracker is None else self._tracker.pipeline
        assert pipeline is not None
        return pipeline.backend

    @property
    def num_poses(self) -> int:
        """At most this many people are found (1: MediaPipe's single person)."""
        return self._num_poses

    @property
    def enable_segmentation(self) -> bool:
        """Whether a segmentation mask is produced."""
        return self._enable_segmentation

    @property
    def stats(self) -> PipelineStats | TrackerStats:
        """Model-run counters (``detector_runs``, ``landmark_runs``; in video mode also
        ``frames`` and ``tracked_frames``)."""
        if self._tracker is not None:
            return self._tracker.stats
        assert self._pipeline is not None
        return self._pipeline.stats

    def process(
        self,
        image: np.ndarray,
        timestamp: float | None = None,
        *,
        timestamp_us: int | None = None,
        roi: RoiLike | None = None,
    ) -> PoseSolutionOutputs:
        """Find the pose of the most prominent person in an RGB image (or the next video frame).

        Args:
            image: ``(H, W, 3)`` uint8 RGB array (convert OpenCV's BGR with
                ``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)``). Grayscale and RGBA arrays are
                accepted too; see :func:`vitruvian.image_input.as_rgb_image` for the rules.
                The array is not modified.
            timestamp: video mode only: the frame's time in **seconds** (e.g.
                ``cap.get(cv2.CAP_PROP_POS_MSEC) / 1000``). Without it, each call advances
                33.333 ms, as MediaPipe does. Must increase from frame to frame.
            timestamp_us: the same in integer **microseconds** (give one or the other).
            roi: not in MediaPipe: the person's box ``[x_min, y_min, x_max, y_max]`` in pixels
                from any person detector (or a :class:`~vitruvian.types.NormalizedRect`); the
                landmark model then looks there instead of running the built-in detector.

        Returns:
            A :class:`PoseSolutionOutputs`; its landmark fields are ``None`` when no pose was
            found. Any size from 1 x 1 pixel to sides of 32766 pixels is accepted; an image
            too small (or too stretched) to show a person simply gives no pose.

        Raises:
            RuntimeError: the object has been closed.
            TypeError: ``image`` is not a numpy array; a timestamp is not a number.
            ValueError: ``image`` has the wrong dtype or shape, is empty or has a side longer
                than 32766 pixels; a timestamp is not finite, negative or not after the previous
                frame's; both timestamps were given; ``roi`` is not a box with
                ``x_max > x_min`` and ``y_max > y_min`` nor a usable rect (see
                :func:`~vitruvian.calculators.detection_to_roi.roi_problem`).
        """
        if timestamp is not None and timestamp_us is not None:
            raise ValueError("give timestamp (seconds) or timestamp_us (microseconds), not both")
        if timestamp is not None:
            from vitruvian.tracking import seconds_to_us  # loaded by __init__ already

            timestamp_us = seconds_to_us(timestamp)
        with self._lock:
            if self._closed:
                raise RuntimeError(
                    "Pose.process() called after close(); create a new Pose object "
                    "(or use `with mp.solutions.pose.Pose(...) as pose:` around all calls)"
                )
            if self._num_poses > 1 and roi is None:
                if self._tracker is not None:
                    return self._to_multi_outputs(self._tracker.process_all(image, timestamp_us))
                return self._to_multi_outputs(self._people_in(image))
            if self._tracker is not None:
                return self._to_outputs(self._tracker.process(image, timestamp_us, roi))
            assert self._pipeline is not None
            return self._to_outputs(self._pipeline.process(image, roi))

    def process_batch(self, images: Sequence[np.ndarray]) -> list[PoseSolutionOutputs]:
        """Static mode only (not in MediaPipe): :meth:`process` on several unrelated images,
        with one model call per stage for the whole batch (see
        :meth:`vitruvian.pipeline.PosePipeline.process_batch`). The results are those of
        ``[pose.process(image) for image in images]``. With ``num_poses > 1`` the images run one
        after another, each image's people batched together
        (:meth:`~vitruvian.pipeline.PosePipeline.process_all`).

        Raises:
            RuntimeError: the object is closed, or in video mode (frames of a stream depend on
                each other; use :meth:`process` frame by frame there).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError(
                    "Pose.process_batch() called after close(); create a new Pose object"
                )
            if self._pipeline is None:
                raise RuntimeError(
                    "process_batch needs static_image_mode=True: in video mode each frame's "
                    "region comes from the previous frame, so frames cannot be batched"
                )
            if self._num_poses > 1:  # each image's people, as process() gives them
                return [self._to_multi_outputs(self._people_in(image)) for image in images]
            return [self._to_outputs(r) for r in self._pipeline.process_batch(list(images))]

    def _people_in(self, image: np.ndarray) -> list[PoseResult]:
        """Static mode, ``num_poses > 1``: the image's people, IDs in the order found."""
        assert self._pipeline is not None
        people = self._pipeline.process_all(image, self._num_poses)
        return [replace(p, person_id=rank) for rank, p in enumerate(people)]

    def _to_outputs(self, result: PoseResult | None) -> PoseSolutionOutputs:
        """Wrap one pipeline result in MediaPipe-style landmark containers."""
        return self._to_multi_outputs([] if result is None else [result])

    def _to_multi_outputs(self, people: Sequence[PoseResult]) -> PoseSolutionOutputs:
        """Wrap the pipeline's people (first person first) in MediaPipe-style containers."""
        if not people:
            return PoseSolutionOutputs(None, None, None, None)
        landmarks = [NormalizedLandmarkList.from_numpy(p.landmarks) for p in people]
        world = [LandmarkList.from_numpy(p.world_landmarks) for p in people]
        masks = None
        if self._enable_segmentation:  # then every pose has its mask
            masks = [p.segmentation_mask for p in people]
        return PoseSolutionOutputs(
            pose_landmarks=landmarks[0],
            pose_world_landmarks=world[0],
            segmentation_mask=masks[0] if masks else None,
            pose=people[0],
            multi_pose_landmarks=landmarks,
            multi_pose_world_landmarks=world,
            multi_segmentation_masks=masks,
            pose_ids=[p.person_id if p.person_id is not None else 0 for p in people],
            poses=list(people),
        )

    def reset(self) -> None:
        """Start a new video stream: forget the tracked pose, the smoothing state and the
        clock, keeping the loaded models. (In static mode there is no state to forget.)

        Raises:
            RuntimeError: the object has been closed.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("Pose.reset() called after close(); create a new Pose object")
            if self._tracker is not None:
                self._tracker.reset()

    def close(self) -> None:
        """Release the models (waiting for a :meth:`process` call running in another thread).

        Calling it again is harmless; :meth:`process`, :meth:`process_batch` and :meth:`reset`
        then raise :class:`RuntimeError`.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._tracker is not None:
                self._tracker.close()
            if self._pipeline is not None:
                self._pipeline.close()

    def __enter__(self) -> Pose:
        """Return ``self``; :meth:`close` runs on leaving the ``with`` block."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
