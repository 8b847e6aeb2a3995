"""The BlazePose graph for one image, step by step as MediaPipe's ``PoseLandmarkCpu`` runs it.

::

    image ──► detect ─────────────────────────────► first detection
              (letterbox 224x224 in [-1, 1], SSD decode, sigmoid, weighted NMS,
               letterbox removal)
                 │
                 ▼
              detection_to_roi        hips centre, 2x circle radius, rotate to 90°, x1.25, square
                 │
                 ▼
              landmarks_from_roi      rotated 256x256 crop in [0, 1] ─► landmark model
                                      ─► pose flag ≥ min_tracking_confidence?
                                      ─► decode 39 landmarks, heatmap refinement
                                      ─► letterbox removal, projection to the image
                                      ─► world landmarks rotated back, visibility copied
                                      ─► segmentation mask warped back to the image

Everything here is stateless apart from the loaded models and reusable buffers (the crops are
built in preallocated :class:`~vitruvian.calculators.image_to_tensor.CropWorkspace` buffers and
converted to float straight into each model's input buffer, so a frame allocates nothing of
the image's size but its results); the compatible
``solutions.pose.Pose`` shell builds on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from vitruvian.calculators.detection_to_roi import box_to_roi, check_roi, detection_to_roi
from vitruvian.calculators.image_to_tensor import (
    CropWorkspace,
    image_to_tensor,
    pad_roi,
    rect_transform,
    roi_to_pixels,
)
from vitruvian.calculators.landmark_projection import project_landmarks, project_world_landmarks
from vitruvian.calculators.letterbox_removal import (
    remove_detection_letterbox,
    remove_landmark_letterbox,
)
from vitruvian.calculators.non_max_suppression import weighted_non_max_suppression
from vitruvian.calculators.person_boxes import (
    blank_boxes,
    box_iou,
    box_overlap_of_smaller,
    landmark_box,
)
from vitruvian.calculators.refine_from_heatmap import refine_from_heatmap
from vitruvian.calculators.segmentation import mask_to_image, tensor_to_mask
from vitruvian.calculators.ssd_anchors import POSE_DETECTOR_ANCHORS, generate_anchors
from vitruvian.calculators.tensors_to_detections import tensors_to_detections
from vitruvian.calculators.tensors_to_landmarks import (
    NUM_MODEL_LANDMARKS,
    tensors_to_landmarks,
    tensors_to_world_landmarks,
)
from vitruvian.image_input import as_rgb_image
from vitruvian.models import model_name_for_complexity
from vitruvian.models.backends import load_model, resolve_backend
from vitruvian.options import check_confidence, check_model_complexity
from vitruvian.types import NUM_LANDMARKS, Detection, NormalizedRect, PoseResult

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
HEATMAP_SIZE = 64
#: ``pose_detection_cpu.pbtxt``: weighted NMS IoU threshold.
NMS_IOU_THRESHOLD = 0.3
#: Auxiliary alignment landmarks (hips centre, circle point) follow the 33 body landmarks.
AUXILIARY_LANDMARKS = slice(33, 35)


@dataclass
class PipelineStats:
    """How often each model ran since the pipeline was built (or the counters were cleared)."""

    detector_runs: int = 0
    landmark_runs: int = 0


#: Detector rounds of :meth:`PosePipeline.process_all` with the built-in detector: each round
#: blanks out the people found so far and runs the detector again (on the 14 ``mmpose`` photos
#: the first round finds 15 people, four rounds 26; no photo needs a fifth).
DETECTOR_ROUNDS = 4
#: A pose whose landmark box overlaps a pose already found by more than this IoU...
DUPLICATE_IOU = 0.4
#: ...or lies this much (share of the smaller box) inside it is the same person again.
DUPLICATE_OVERLAP = 0.6

#: A person detector for :meth:`PosePipeline.process_all`: RGB ``(H, W, 3)`` uint8 image in,
#: ``(boxes, scores)`` out: ``(K, 4)`` person boxes ``[x_min, y_min, x_max, y_max]`` in pixels
#: and ``(K,)`` scores in [0, 1].
PersonDetector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def is_duplicate(box: np.ndarray, known: Sequence[np.ndarray]) -> bool:
    """Whether a person's pixel box (:func:`landmark_box`) is a person in ``known`` again."""
    if not len(known):
        return False
    stacked = np.asarray(known, np.float64)
    return bool(
        box_iou(box, stacked).max() > DUPLICATE_IOU
        or box_overlap_of_smaller(box, stacked).max() > DUPLICATE_OVERLAP
    )


#: What ``roi=`` accepts: a rotated rect, or a person box ``[x_min, y_min, x_max, y_max]`` (px).
RoiLike = NormalizedRect | Sequence[float] | np.ndarray


def resolve_roi(roi: RoiLike, image_width: int, image_height: int) -> NormalizedRect:
    """A ``roi=`` argument as a :class:`NormalizedRect` (a box becomes :func:`box_to_roi`).

    Raises:
        ValueError: a box or rect that is degenerate, not finite or absurdly large.
    """
    if isinstance(roi, NormalizedRect):
        return check_roi(roi, image_width, image_height)
    values = np.asarray(roi, dtype=np.float64).reshape(-1)
    if values.shape != (4,):
        raise ValueError(
            "roi must be a NormalizedRect or a box [x_min, y_min, x_max, y_max] in pixels, "
            f"got {roi!r}"
        )
    return check_roi(box_to_roi(values, image_width, image_height), image_width, image_height)


def _external_detections(
    person_detector: PersonDetector, image: np.ndarray
) -> list[tuple[NormalizedRect, Detection]]:
    """A :data:`PersonDetector`'s boxes as landmark-model regions, highest score first."""
    height, width = image.shape[:2]
    boxes, scores = person_detector(image)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) if len(boxes) else np.empty((0, 4))
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(
            f"person_detector returned {len(boxes)} boxes but {len(scores)} scores; it must "
            "return (boxes (K, 4) as [x_min, y_min, x_max, y_max] pixels, scores (K,))"
        )
    scale = np.array([width, height, width, height], np.float64)
    out = []
    for i in np.argsort(-scores, kind="stable"):
        detection = Detection(
            box=(boxes[i] / scale).astype(np.float32),
            keypoints=np.empty((0, 2), np.float32),
            score=float(scores[i]),
        )
        out.append((resolve_roi(boxes[i], width, height), detection))
    return out


class PosePipeline:
    """Single-pose BlazePose on still images, returning plain numpy results.

    Args:
        model_complexity: 0 (lite), 1 (full) or 2 (heavy) landmark model.
        enable_segmentation: also predict the person mask.
        min_detection_confidence: minimum detector score, in [0, 1].
        min_tracking_confidence: minimum pose-presence score of the landmark model, in [0, 1];
            below it the pose is reported absent (MediaPipe applies it in static mode too).
        num_threads: CPU threads for the models (``None``: up to 4, the machine's cores).
        backend: ``"auto"``, ``"litert"``, ``"onnxruntime"``, ``"onnxruntime-cpu"``,
            ``"onnxruntime-cuda"`` or ``"onnxruntime-tensorrt"`` (see
            :mod:`vitruvian.models.backends`); ``None`` reads ``$VITRUVIAN_BACKEND``, else
            ``"auto"`` (LiteRT unless ONNX Runtime has a working GPU).

    Attributes:
        backend: the concrete backend in use (e.g. ``"litert"``, ``"onnxruntime-cuda"``).

    Not thread-safe: use one instance per thread. After :meth:`close` (which may be called
    again harmlessly) every method that runs a model raises :class:`RuntimeError`.
    """

    def __init__(
        self,
        model_complexity: int = 1,
        enable_segmentation: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        num_threads: int | None = None,
        backend: str | None = None,
    ) -> None:
        self.model_complexity = check_model_complexity(model_complexity)
        landmark_model = model_name_for_complexity(self.model_complexity)
        self.enable_segmentation = bool(enable_segmentation)
        self.min_detection_confidence = check_confidence(
            "min_detection_confidence", min_detection_confidence
        )
        self.min_tracking_confidence = check_confidence(
            "min_tracking_confidence", min_tracking_confidence
        )
        self._anchors = generate_anchors(POSE_DETECTOR_ANCHORS)
        self.backend = resolve_backend(backend)
        self._detector = load_model("pose_detection", self.backend, num_threads)
        self._detector_outputs = self._detector.output_indices(
            [(1, len(self._anchors), 12), (1, len(self._anchors), 1)]
        )
        self._landmarker = load_model(landmark_model, self.backend, num_threads)
        # Outputs: landmarks, pose flag, heatmap, world landmarks (+ the mask when enabled).
        shapes = [
            (1, NUM_MODEL_LANDMARKS * 5),
            (1, 1),
            (1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_MODEL_LANDMARKS),
            (1, NUM_MODEL_LANDMARKS * 3),
        ]
        if self.enable_segmentation:
            shapes.append((1, LANDMARK_SIZE, LANDMARK_SIZE, 1))
        self._landmarker_outputs = self._landmarker.output_indices(shapes)
        # Per-model crop buffers: the crops are written straight into the models' input buffers.
        self._detector_crop = CropWorkspace(DETECTOR_SIZE, DETECTOR_SIZE)
        self._landmark_crop = CropWorkspace(LANDMARK_SIZE, LANDMARK_SIZE)
        # Batch inputs for process_batch, grown on demand and reused.
        self._detector_batch = np.empty((0, DETECTOR_SIZE, DETECTOR_SIZE, 3), np.float32)
        self._landmark_batch = np.empty((0, LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
        #: Model run counters (public, e.g. to check that tracking skips the detector).
        self.stats = PipelineStats()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (the models are then released)."""
        return self._closed

    def _check_open(self, method: str) -> None:
        """Raise the after-close error for ``method`` once the models are released."""
        if self._closed:
            raise RuntimeError(
                f"PosePipeline.{method}() called after close(); the models are released, "
                f"create a new PosePipeline"
            )

    # -- the graph -------------------------------------------------------------------------------

    def process(self, image: np.ndarray, roi: RoiLike | None = None) -> PoseResult | None:
        """Detect the most confident person in an RGB image and predict its landmarks.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (see :func:`vitruvian.image_input.as_rgb_image` for
                the other layouts accepted).
            roi: skip the person detector and look here instead: a person box
                ``[x_min, y_min, x_max, y_max]`` in pixels from any detector (see
                :func:`~vitruvian.calculators.detection_to_roi.box_to_roi`), or a
                :class:`~vitruvian.types.NormalizedRect`.

        Returns:
            The pose, or ``None`` when no person is detected or the landmark model's presence
            score is below ``min_tracking_confidence``.

        Raises:
            RuntimeError: the pipeline has been closed.
        """
        self._check_open("process")
        image = as_rgb_image(image)
        height, width = image.shape[:2]
        if roi is not None:
            return self.landmarks_from_roi(image, resolve_roi(roi, width, height))
        detections = self.detect(image)
        if not detections:
            return None
        roi = detection_to_roi(detections[0].keypoints, width, height)
        result = self.landmarks_from_roi(image, roi)
        return None if result is None else replace(result, detection=detections[0])

    def process_all(
        self,
        image: np.ndarray,
        max_poses: int = 5,
        *,
        rois: Sequence[RoiLike] | None = None,
        person_detector: PersonDetector | None = None,
    ) -> list[PoseResult]:
        """Every person in an RGB image, up to ``max_poses``, in the order found.

        With the built-in detector, each detection above ``min_detection_confidence`` (after
        non-maximum suppression) is a candidate; then the people found are blanked out and the
        detector runs again, up to :data:`DETECTOR_ROUNDS` rounds, which finds people the
        first pass misses next to a more prominent one. All of a round's crops go through the
        landmark model in one batched call. A pose whose landmark box overlaps one already
        found is the same person again and is dropped (:func:`is_duplicate`).

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            max_poses: at most this many people (>= 1). ``max_poses=1`` is :meth:`process`.
            rois: skip detection: look for one person in each of these regions (person boxes
                in pixels or :class:`~vitruvian.types.NormalizedRect`); duplicates are still
                dropped, the order is kept.
            person_detector: find people with this callable instead of the built-in detector
                (one round; see :data:`PersonDetector`); e.g. with Ultralytics YOLO::

                    def yolo_people(rgb):
                        boxes = yolo(rgb, classes=[0], verbose=False)[0].boxes
                        return boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy()

                    people = pipeline.process_all(rgb, 10, person_detector=yolo_people)

                Each result's ``detection`` then holds the person box (normalised) and score,
                with no keypoints.

        Returns:
            The poses, at most ``max_poses``, each with its ``detection`` (``None`` for
            ``rois``): the first detector round's by detection score (so the first is the
            pose :meth:`process` finds), then each later round's; with ``person_detector``
            by its scores; with ``rois`` in their order.

        Raises:
            RuntimeError: the pipeline has been closed.
            ValueError: ``max_poses`` < 1, a bad ``roi``, or boxes and scores from
                ``person_detector`` that do not match.
        """
        self._check_open("process_all")
        if isinstance(max_poses, bool) or not isinstance(max_poses, int) or max_poses < 1:
            raise ValueError(f"max_poses must be an integer >= 1, got {max_poses!r}")
        image = as_rgb_image(image)
        height, width = image.shape[:2]
        if rois is not None:
            found = self._new_people(image, [(resolve_roi(r, width, height), None) for r in rois])
            return found[:max_poses]
        if person_detector is not None:
            candidates = _external_detections(person_detector, image)
            return self._new_people(image, candidates, limit=max_poses)
        if max_poses == 1:
            result = self.process(image)
            return [] if result is None else [result]
        return self.find_people(image, [], max_poses)

    def find_people(
        self,
        image: np.ndarray,
        known_boxes: Sequence[np.ndarray],
        max_new: int,
        rounds: int = DETECTOR_ROUNDS,
    ) -> list[PoseResult]:
        """People in ``image`` other than those in ``known_boxes``, with the built-in detector.

        The known people (pixel boxes, e.g. the tracked people's :func:`landmark_box`) are
        blanked out before the first detector round, then each round also blanks out the
        people it found; it stops after ``rounds`` rounds, a round that finds nobody new, or
        ``max_new`` people. Used by :meth:`process_all` and by the multi-person tracker.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (already checked).
            known_boxes: pixel boxes of people already found.
            max_new: at most this many new people.
            rounds: at most this many detector runs.

        Returns:
            The new people (each with its ``detection``), in the order found.
        """
        height, width = image.shape[:2]
        known = [np.asarray(b, np.float64) for b in known_boxes]
        found: list[PoseResult] = []
        searched = blank_boxes(image, known) if known else image
        for _ in range(rounds):
            if len(found) >= max_new:
                break
            candidates = [
                (detection_to_roi(d.keypoints, width, height), d) for d in self.detect(searched)
            ]
            new = self._new_people(image, candidates, known, max_new - len(found))
            if not new:
                break
            found += new
            known += [landmark_box(r.landmarks, width, height) for r in new]
            searched = blank_boxes(image, known)
        return found

    def _new_people(
        self,
        image: np.ndarray,
        candidates: Sequence[tuple[NormalizedRect, Detection | None]],
        known: list[np.ndarray] | None = None,
        limit: int | None = None,
    ) -> list[PoseResult]:
        """The landmark model on every candidate region (one batched call), keeping the poses
        that are not a person of ``known`` or of an earlier candidate, at most ``limit``."""
        if not candidates:
            return []
        height, width = image.shape[:2]
        known = [] if known is None else known
        results = self.process_batch([image] * len(candidates), [roi for roi, _ in candidates])
        people: list[PoseResult] = []
        boxes = list(known)
        for result, (_, detection) in zip(results, candidates, strict=True):
            if result is None:
                continue
            box = landmark_box(result.landmarks, width, height)
            if is_duplicate(box, boxes):
                continue
            boxes.append(box)
            people.append(result if detection is None else replace(result, detection=detection))
            if limit is not None and len(people) >= limit:
                break
        return people

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Run the person detector (``PoseDetectionCpu``) on an RGB image.

        Returns detections in normalised image coordinates, most confident first.

        Raises:
            RuntimeError: the pipeline has been closed.
        """
        self._check_open("detect")
        image = as_rgb_image(image)
        matrix, padding = self._detector_transform(image)
        raw_boxes, raw_scores = self._detector.run_filled(
            lambda tensor: self._detector_input(image, matrix, tensor[0]), self._detector_outputs
        )
        self.stats.detector_runs += 1
        return self._decode_detections(raw_boxes[0], raw_scores[0], padding)

    def _detector_transform(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The letterbox crop's matrix and padding for the detector's 224x224 input."""
        height, width = image.shape[:2]
        roi, padding = pad_roi(roi_to_pixels(None, width, height), DETECTOR_SIZE, DETECTOR_SIZE)
        return rect_transform(roi, DETECTOR_SIZE, DETECTOR_SIZE), padding

    def _detector_input(self, image: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> None:
        image_to_tensor(image, matrix, out, (-1.0, 1.0), True, workspace=self._detector_crop)

    def _decode_detections(
        self, raw_boxes: np.ndarray, raw_scores: np.ndarray, padding: np.ndarray
    ) -> list[Detection]:
        decoded = tensors_to_detections(
            raw_boxes, raw_scores, self._anchors, self.min_detection_confidence
        )
        merged = weighted_non_max_suppression(decoded, NMS_IOU_THRESHOLD)
        merged = remove_detection_letterbox(merged, padding)
        return [
            Detection(box=merged.boxes[i], keypoints=merged.keypoints[i], score=float(s))
            for i, s in enumerate(merged.scores)
        ]

    def landmarks_from_roi(self, image: np.ndarray, roi: NormalizedRect) -> PoseResult | None:
        """Run the landmark model (``PoseLandmarkByRoiCpu``) on a rotated region of the image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            roi: the region, normalised to the image (e.g. from a detection or a tracker).

        Returns:
            The pose (``detection`` left ``None``), or ``None`` when the landmark model's
            presence score is below ``min_tracking_confidence``.

        Raises:
            RuntimeError: the pipeline has been closed.
        """
        self._check_open("landmarks_from_roi")
        image = as_rgb_image(image)
        matrix, padding = self._landmark_transform(image, roi)
        outputs = self._landmarker.run_filled(
            lambda tensor: self._landmark_input(image, matrix, tensor[0]), self._landmarker_outputs
        )
        self.stats.landmark_runs += 1
        return self._decode_landmarks([o[0] for o in outputs], image, roi, matrix, padding)

    def _landmark_transform(
        self, image: np.ndarray, roi: NormalizedRect
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rotated crop's matrix and letterbox padding for the landmark model's input."""
        height, width = image.shape[:2]
        crop_roi, padding = pad_roi(roi_to_pixels(roi, width, height), LANDMARK_SIZE, LANDMARK_SIZE)
        return rect_transform(crop_roi, LANDMARK_SIZE, LANDMARK_SIZE), padding

    def _landmark_input(self, image: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> None:
        image_to_tensor(image, matrix, out, (0.0, 1.0), False, workspace=self._landmark_crop)

    def _decode_landmarks(
        self,
        outputs: list[np.ndarray],
        image: np.ndarray,
        roi: NormalizedRect,
        matrix: np.ndarray,
        padding: np.ndarray,
    ) -> PoseResult | None:
        """One crop's landmark-model outputs (batch dimension removed) as a pose in the image."""
        raw, flag, heatmap, raw_world, *seg = outputs
        presence = float(flag.reshape(-1)[0])
        if presence < self.min_tracking_confidence:
            return None
        height, width = image.shape[:2]

        landmarks = tensors_to_landmarks(raw, NUM_MODEL_LANDMARKS, LANDMARK_SIZE, LANDMARK_SIZE)
        landmarks = refine_from_heatmap(landmarks, heatmap)
        landmarks = project_landmarks(remove_landmark_letterbox(landmarks, padding), roi)

        world = tensors_to_world_landmarks(raw_world, NUM_MODEL_LANDMARKS)[:NUM_LANDMARKS]
        world = project_world_landmarks(world, roi)
        world_full = np.empty((NUM_LANDMARKS, 5), np.float32)
        world_full[:, :3] = world
        world_full[:, 3:] = landmarks[:NUM_LANDMARKS, 3:5]

        mask = None
        if seg:
            mask = mask_to_image(tensor_to_mask(seg[0][None]), matrix, width, height)

        return PoseResult(
            landmarks=np.ascontiguousarray(landmarks[:NUM_LANDMARKS]),
            world_landmarks=world_full,
            segmentation_mask=mask,
            roi=roi,
            presence_score=presence,
            auxiliary_landmarks=np.ascontiguousarray(landmarks[AUXILIARY_LANDMARKS]),
        )

    # -- batches ---------------------------------------------------------------------------------

    def process_batch(
        self, images: Sequence[np.ndarray], rois: Sequence[RoiLike | None] | None = None
    ) -> list[PoseResult | None]:
        """:meth:`process` on several images, with one model call per stage for the batch.

        The detector runs once on the images that have no ``roi``, then the landmark model once
        on all the crops. On ONNX Runtime that is a real batch (``N`` crops in one call: faster
        on GPUs); LiteRT's graphs have a fixed batch of 1 and run the items one after another.
        Results are those of ``[process(image, roi) for ...]``.

        Args:
            images: RGB images (any sizes; see :meth:`process`).
            rois: ``None``, or one ``roi=`` per image (``None`` entries are detected).

        Returns:
            One result (or ``None``) per image, in order.

        Raises:
            RuntimeError: the pipeline has been closed.
            ValueError: ``rois`` and ``images`` differ in length; what :meth:`process` raises
                for a bad image or ``roi``.
        """
        self._check_open("process_batch")
        images = [as_rgb_image(image) for image in images]
        if rois is None:
            rois = [None] * len(images)
        if len(rois) != len(images):
            raise ValueError(f"got {len(images)} images but {len(rois)} rois")
        resolved: list[NormalizedRect | None] = [
            None if roi is None else resolve_roi(roi, image.shape[1], image.shape[0])
            for image, roi in zip(images, rois, strict=True)
        ]
        detections: list[Detection | None] = [None] * len(images)

        to_detect = [i for i, roi in enumerate(resolved) if roi is None]
        if to_detect:
            batch = self._batch_buffer("_detector_batch", len(to_detect))
            paddings = []
            for row, i in enumerate(to_detect):
                matrix, padding = self._detector_transform(images[i])
                self._detector_input(images[i], matrix, batch[row])
                paddings.append(padding)
            raw_boxes, raw_scores = self._detector.run_batch(batch, self._detector_outputs)
            self.stats.detector_runs += len(to_detect)
            for row, i in enumerate(to_detect):
                found = self._decode_detections(raw_boxes[row], raw_scores[row], paddings[row])
                if found:
                    detections[i] = found[0]
                    height, width = images[i].shape[:2]
                    resolved[i] = detection_to_roi(found[0].keypoints, width, height)

        results: list[PoseResult | None] = [None] * len(images)
        to_track = [i for i, roi in enumerate(resolved) if roi is not None]
        if not to_track:
            return results
        batch = self._batch_buffer("_landmark_batch", len(to_track))
        transforms = []
        for row, i in enumerate(to_track):
            roi = resolved[i]
            assert roi is not None
            transforms.append(self._landmark_transform(images[i], roi))
            self._landmark_input(images[i], transforms[-1][0], batch[row])
        outputs = self._landmarker.run_batch(batch, self._landmarker_outputs)
        self.stats.landmark_runs += len(to_track)
        for row, i in enumerate(to_track):
            roi = resolved[i]
            assert roi is not None
            matrix, padding = transforms[row]
            result = self._decode_landmarks(
                [o[row] for o in outputs], images[i], roi, matrix, padding
            )
            if result is not None and detections[i] is not None:
                result = replace(result, detection=detections[i])
            results[i] = result
        return results

    def _batch_buffer(self, attribute: str, size: int) -> np.ndarray:
        """The first ``size`` rows of a reused input batch, grown (doubled) when too small."""
        buffer = getattr(self, attribute)
        if len(buffer) < size:
            buffer = np.empty((max(size, 2 * len(buffer)), *buffer.shape[1:]), np.float32)
            setattr(self, attribute, buffer)
        return buffer[:size]

    def close(self) -> None:
        """Release the models. Calling it again is harmless; the methods that run a model then
        raise :class:`RuntimeError`."""
        if self._closed:
            return
        self._closed = True
        self._detector.close()
        self._landmarker.close()

    def __enter__(self) -> PosePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
