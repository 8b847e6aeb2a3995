"""COCO keypoint data, the evaluation protocols, and predictions in COCO results format.

Protocols (``vitruvian eval coco --protocol``):

* ``"crops"`` (default): one input per *evaluated person*, i.e. every non-crowd person
  annotation with at least ``min_keypoints`` labelled keypoints (``v > 0``). The input is the
  square crop of :func:`vitruvian.crops.person_crop` around the person's box (side = the box's
  longer side enlarged by ``margin`` = 25 % on each side, zero padding outside the image, no
  resize). The pose found in the crop is that person's prediction. With ``roi_from_box`` the
  person's ground-truth box (in crop pixels) is given to ``process(roi=...)`` instead of running
  the built-in person detector.
* ``"image"``: one input per image that holds at least one evaluated person: the whole image,
  one pose per image (MediaPipe Pose finds a single person), or with ``num_poses`` > 1 every
  person found, up to that many (:meth:`vitruvian.pipeline.PosePipeline.process_all`), each a
  prediction of its own.

Keypoints: COCO's 17 keypoints are BlazePose landmarks :data:`BLAZEPOSE_INDEX_FOR_COCO` (nose,
eyes, ears, shoulders, elbows, wrists, hips, knees, ankles). Landmarks are normalised to the
input the model saw (``x`` / input width, ``y`` / input height, origin at the input's top-left
corner); :func:`to_coco_keypoints` turns them into source-image pixels with the input's
``(2, 3)`` affine (crop pixels -> image pixels; identity for a whole image).

Predictions (:func:`prediction_record`) follow COCO's results format: ``image_id``,
``category_id`` 1, ``keypoints`` as 17 x ``[x, y, v]`` flattened (pixels of the source image)
with ``v`` the landmark's visibility in [0, 1], and ``score`` = the mean visibility of the 17
keypoints (:func:`prediction_score`). MediaPipe 0.10.14's Python solution gives no pose-presence
score, so this rule ranks both implementations' poses the same way. An input without a pose
gives no prediction.

:func:`run_vitruvian` runs our pipeline on the inputs; :func:`run_mediapipe` runs MediaPipe in a
reference Python through :mod:`vitruvian.reference`. Both return
:class:`RunResult` objects that :func:`vitruvian.eval.metrics.evaluate_run` scores.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vitruvian import crops, reference
from vitruvian.eval import EvalError

__all__ = [
    "BLAZEPOSE_INDEX_FOR_COCO",
    "COCO_KEYPOINT_NAMES",
    "CROP_MARGIN",
    "DEFAULT_MIN_KEYPOINTS",
    "DEFAULT_MIN_PRESENCE",
    "MEDIAPIPE",
    "PERSON_CATEGORY_ID",
    "PROTOCOLS",
    "REFERENCE_ENV_VAR",
    "VITRUVIAN",
    "CocoImage",
    "CocoKeypoints",
    "EvalItem",
    "ModelInput",
    "Person",
    "RunResult",
    "build_input",
    "crop_affine",
    "eval_items",
    "load_coco_keypoints",
    "prediction_record",
    "prediction_score",
    "read_rgb",
    "resolve_reference_python",
    "run_mediapipe",
    "run_vitruvian",
    "to_coco_keypoints",
]

#: COCO's person keypoints, in COCO's order.
COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: The BlazePose landmark index of each COCO keypoint (same order as :data:`COCO_KEYPOINT_NAMES`).
BLAZEPOSE_INDEX_FOR_COCO: tuple[int, ...] = (
    0,
    2,
    5,
    7,
    8,
    11,
    12,
    13,
    14,
    15,
    16,
    23,
    24,
    25,
    26,
    27,
    28,
)

#: The evaluation protocols.
PROTOCOLS = ("crops", "image")
#: Extra space around a person's box on each side, as a fraction of the box's longer side.
CROP_MARGIN = 0.25
#: Persons with fewer labelled keypoints are not evaluated.
DEFAULT_MIN_KEYPOINTS = 5
#: The landmark model's pose-presence threshold (MediaPipe's ``min_tracking_confidence``, which
#: it applies in static mode too). ``roi_from_box`` runs use 0: the box says a person is there.
DEFAULT_MIN_PRESENCE = 0.5
#: COCO's category id for persons.
PERSON_CATEGORY_ID = 1
#: Implementation names of :attr:`RunResult.implementation`.
VITRUVIAN = "vitruvian"
MEDIAPIPE = "mediapipe"
#: Environment variable naming the reference Python (one with ``mediapipe`` installed).
REFERENCE_ENV_VAR = reference.REFERENCE_ENV_VAR


@dataclass(frozen=True)
class CocoImage:
    """One image of the annotation file (``width``/``height`` in pixels, 0 when not given)."""

    id: int
    file_name: str
    width: int
    height: int


@dataclass(frozen=True)
class Person:
    """One evaluated person annotation.

    Attributes:
        ann_id: the annotation's id.
        image_id: the id of its image.
        bbox: COCO box ``(x, y, width, height)`` in image pixels.
        keypoints: ``(17, 3)`` float64 ``[x, y, v]`` in image pixels (COCO order; ``v`` 0 means
            not labelled, 1 labelled but hidden, 2 labelled and visible).
    """

    ann_id: int
    image_id: int
    bbox: tuple[float, float, float, float]
    keypoints: np.ndarray

    @property
    def num_labelled(self) -> int:
        """How many of the 17 keypoints are labelled (``v > 0``)."""
        return int(np.count_nonzero(self.keypoints[:, 2] > 0))


@dataclass(frozen=True)
class CocoKeypoints:
    """A COCO person-keypoints annotation file and the persons it evaluates.

    Attributes:
        path: the annotation file.
        data: its parsed content, unmodified (COCO format: ``images``, ``annotations``,
            ``categories``).
        images: every image by id.
        persons: the evaluated persons (non-crowd, category person, at least ``min_keypoints``
            labelled keypoints), sorted by image file name, then annotation id.
        min_keypoints: the labelled-keypoint threshold used.
    """

    path: Path
    data: dict[str, Any]
    images: dict[int, CocoImage]
    persons: tuple[Person, ...]
    min_keypoints: int

    @property
    def image_ids(self) -> list[int]:
        """Ids of the images that hold at least one evaluated person, sorted."""
        return sorted({person.image_id for person in self.persons})

    def person(self, ann_id: int) -> Person:
        """The evaluated person with annotation id ``ann_id``."""
        for person in self.persons:
            if person.ann_id == ann_id:
                return person
        raise KeyError(f"annotation {ann_id} is not an evaluated person")

    def ground_truth(self) -> dict[str, Any]:
        """The ground truth for pycocotools' ``COCOeval``: a deep copy of :attr:`data` where
        person annotations outside the evaluated set are marked ignored.

        A non-crowd person with fewer than :attr:`min_keypoints` labelled keypoints gets
        ``num_keypoints = 0``, which ``COCOeval`` (iouType ``"keypoints"``) treats like a crowd
        region: it counts neither as a miss nor, when a prediction lands on it, as a false
        positive. So a perfect prediction for every evaluated person scores AP 100.
        """
        data = copy.deepcopy(self.data)
        evaluated = {person.ann_id for person in self.persons}
        for ann in data.get("annotations", []):
            if ann.get("category_id") == PERSON_CATEGORY_ID and ann["id"] not in evaluated:
                ann["num_keypoints"] = 0
        return data


def load_coco_keypoints(
    path: str | os.PathLike[str], min_keypoints: int = DEFAULT_MIN_KEYPOINTS
) -> CocoKeypoints:
    """Read a COCO person-keypoints annotation file (e.g. ``person_keypoints_val2017.json``).

    Args:
        path: the JSON file.
        min_keypoints: evaluate only persons with at least this many labelled keypoints.

    Returns:
        The data set, with its evaluated persons.

    Raises:
        EvalError: the file cannot be read, is not COCO keypoints JSON, or holds no person to
            evaluate.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"cannot read {path} as COCO annotations: {exc}") from exc
    if not isinstance(data, dict) or not {"images", "annotations"} <= data.keys():
        raise EvalError(f"{path} is not a COCO annotation file (no 'images' or 'annotations')")
    if min_keypoints < 0:
        raise EvalError(f"min_keypoints must be >= 0, got {min_keypoints}")
    try:
        images = {
            int(img["id"]): CocoImage(
                int(img["id"]),
                str(img["file_name"]),
                int(img.get("width", 0)),
                int(img.get("height", 0)),
            )
            for img in data["images"]
        }
        persons = []
        for ann in data["annotations"]:
            if ann.get("category_id", PERSON_CATEGORY_ID) != PERSON_CATEGORY_ID:
                continue
            if ann.get("iscrowd", 0) or "keypoints" not in ann:
                continue
            keypoints = np.asarray(ann["keypoints"], dtype=np.float64).reshape(17, 3)
            if np.count_nonzero(keypoints[:, 2] > 0) < max(min_keypoints, 1):
                continue
            image_id = int(ann["image_id"])
            if image_id not in images:
                raise EvalError(
                    f"{path}: annotation {ann['id']} refers to unknown image {image_id}"
                )
            x, y, w, h = (float(v) for v in ann["bbox"])
            persons.append(Person(int(ann["id"]), image_id, (x, y, w, h), keypoints))
    except (KeyError, TypeError, ValueError) as exc:
        raise EvalError(f"{path} is not valid COCO keypoint annotations: {exc!r}") from exc
    if not persons:
        raise EvalError(
            f"{path} holds no non-crowd person with at least {min_keypoints} labelled keypoints"
        )
    persons.sort(key=lambda p: (images[p.image_id].file_name, p.ann_id))
    return CocoKeypoints(path, data, images, tuple(persons), int(min_keypoints))


@dataclass(frozen=True)
class EvalItem:
    """One model input of a protocol.

    Attributes:
        id: ``"<file stem>/ann<annotation id>"`` for a person crop, ``"<file stem>"`` for a
            whole image.
        image_id: the COCO image id.
        file_name: the image file, relative to the images folder.
        ann_id: the person a crop is cut around (``None`` for a whole image).
        bbox: that person's COCO box ``(x, y, w, h)`` in image pixels (``None`` for an image).
    """

    id: str
    image_id: int
    file_name: str
    ann_id: int | None = None
    bbox: tuple[float, float, float, float] | None = None


def eval_items(dataset: CocoKeypoints, protocol: str) -> list[EvalItem]:
    """The inputs of ``protocol`` (``"crops"`` or ``"image"``), sorted by image file name.

    Raises:
        ValueError: unknown protocol.
    """
    if protocol == "crops":
        items = []
        for person in dataset.persons:
            image = dataset.images[person.image_id]
            stem = Path(image.file_name).stem
            items.append(
                EvalItem(
                    f"{stem}/ann{person.ann_id}",
                    image.id,
                    image.file_name,
                    person.ann_id,
                    person.bbox,
                )
            )
        return items
    if protocol == "image":
        images = sorted(
            (dataset.images[i] for i in dataset.image_ids), key=lambda img: (img.file_name, img.id)
        )
        return [EvalItem(Path(img.file_name).stem, img.id, img.file_name) for img in images]
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")


@dataclass(frozen=True)
class ModelInput:
    """What the model is fed for one item.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB: the crop, or the whole image.
        affine: ``(2, 3)`` float64 mapping input pixels to source-image pixels
            (``[x_img, y_img] = affine @ [x, y, 1]``).
        gt_box: the item's person box ``[x_min, y_min, x_max, y_max]`` in *input* pixels (for
            ``process(roi=...)``), or ``None`` for a whole image.
    """

    image: np.ndarray
    affine: np.ndarray
    gt_box: np.ndarray | None


def read_rgb(images_dir: str | os.PathLike[str], file_name: str) -> np.ndarray:
    """Decode ``images_dir / file_name`` to ``(H, W, 3)`` uint8 RGB (``cv2.imread``, BGR->RGB).

    Raises:
        EvalError: the file is missing or cannot be decoded.
    """
    path = Path(images_dir) / file_name
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if bgr is None:
        problem = "cannot be decoded as an image" if path.is_file() else "not found"
        raise EvalError(f"image {path} {problem}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def build_input(item: EvalItem, rgb: np.ndarray, margin: float = CROP_MARGIN) -> ModelInput:
    """Build the model input of ``item`` from its decoded source image.

    Args:
        item: a crop or whole-image item.
        rgb: the item's source image, ``(H, W, 3)`` uint8 RGB.
        margin: crop margin (see :func:`vitruvian.crops.person_crop`).
    """
    if item.bbox is None:
        return ModelInput(rgb, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), None)
    crop, affine = crops.person_crop(rgb, item.bbox, margin)
    x, y, w, h = item.bbox
    left, top = affine[0, 2], affine[1, 2]
    gt_box = np.array([x - left, y - top, x + w - left, y + h - top], dtype=np.float64)
    return ModelInput(np.ascontiguousarray(crop), affine, gt_box)


def crop_affine(bbox: Sequence[float], margin: float = CROP_MARGIN) -> np.ndarray:
    """The ``(2, 3)`` crop-pixel -> image-pixel affine of :func:`vitruvian.crops.person_crop`
    for a COCO box, without building the crop."""
    left, top, _ = crops.crop_geometry(bbox, margin)
    return np.array([[1.0, 0.0, float(left)], [0.0, 1.0, float(top)]], dtype=np.float64)


def to_coco_keypoints(
    landmarks: np.ndarray, input_size: tuple[int, int], affine: np.ndarray
) -> np.ndarray:
    """Map BlazePose landmarks to COCO's 17 keypoints in source-image pixels.

    Args:
        landmarks: ``(33, >=4)`` array ``[x, y, z, visibility, ...]`` with ``x``, ``y``
            normalised to the input (``x`` / input width, ``y`` / input height).
        input_size: the input's ``(width, height)`` in pixels.
        affine: ``(2, 3)`` input-pixel -> source-image-pixel affine.

    Returns:
        ``(17, 3)`` float64 ``[x, y, visibility]``, ``x``/``y`` in source-image pixels.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[0] < 33 or landmarks.shape[1] < 4:
        raise ValueError(f"landmarks must be (33, >=4), got shape {landmarks.shape}")
    selected = landmarks[list(BLAZEPOSE_INDEX_FOR_COCO)]
    width, height = input_size
    pixels = np.stack([selected[:, 0] * width, selected[:, 1] * height, np.ones(17)], axis=1)
    out = np.empty((17, 3), dtype=np.float64)
    out[:, :2] = pixels @ np.asarray(affine, dtype=np.float64).T
    out[:, 2] = selected[:, 3]
    return out


def prediction_score(keypoints: np.ndarray) -> float:
    """A prediction's score: the mean visibility of its 17 keypoints (column 2), in [0, 1]."""
    return float(np.mean(np.asarray(keypoints, dtype=np.float64)[:, 2]))


def prediction_record(image_id: int, keypoints: np.ndarray) -> dict[str, Any]:
    """One prediction in COCO results format.

    Args:
        image_id: the COCO image id.
        keypoints: ``(17, 3)`` ``[x, y, visibility]`` in image pixels.

    Returns:
        ``{"image_id", "category_id": 1, "keypoints": [x1, y1, v1, ...], "score"}`` with the
        score of :func:`prediction_score`.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.shape != (17, 3):
        raise ValueError(f"keypoints must be (17, 3), got shape {keypoints.shape}")
    return {
        "image_id": int(image_id),
        "category_id": PERSON_CATEGORY_ID,
        "keypoints": [float(v) for v in keypoints.reshape(-1)],
        "score": prediction_score(keypoints),
    }


@dataclass
class RunResult:
    """One implementation's outputs at one complexity on a protocol's items.

    Attributes:
        implementation: :data:`VITRUVIAN` or :data:`MEDIAPIPE`.
        version: the implementation's version.
        complexity: the landmark model (0 lite, 1 full, 2 heavy).
        protocol: ``"crops"`` or ``"image"``.
        roi_from_box: whether the crops' ground-truth boxes replaced the person detector.
        min_presence: the landmark model's presence threshold used.
        items: the inputs, in order.
        keypoints: per item, ``(17, 3)`` ``[x, y, visibility]`` in image pixels, or ``None``
            when no pose was found.
        times_ms: per item, the wall time of ``process()`` in milliseconds.
        input_sha1: per item, the SHA-1 of the RGB input bytes (to check both implementations
            were fed the same pixels).
        versions: library versions of the environment that ran it (MediaPipe's worker gives
            mediapipe, python, numpy, opencv).
        num_poses: the most people looked for per input (1: one pose, MediaPipe's way).
        more_keypoints: per item, the keypoints of the people found after the first (empty
            lists, or no list at all, when ``num_poses`` is 1).
    """

    implementation: str
    version: str
    complexity: int
    protocol: str
    roi_from_box: bool
    min_presence: float
    items: list[EvalItem]
    keypoints: list[np.ndarray | None]
    times_ms: list[float]
    input_sha1: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    num_poses: int = 1
    more_keypoints: list[list[np.ndarray]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """A short name for tables and charts, e.g. ``"vitruvian"``, ``"mediapipe 0.10.14"``,
        ``"vitruvian, GT box ROI"``."""
        name = VITRUVIAN if self.implementation == VITRUVIAN else f"mediapipe {self.version}"
        if self.num_poses > 1:
            name = f"{name}, up to {self.num_poses} poses"
        return f"{name}, GT box ROI" if self.roi_from_box else name

    def poses(self) -> list[tuple[EvalItem, np.ndarray]]:
        """Every pose found, with its item: each item's first pose, then its other people."""
        out = []
        for i, (item, keypoints) in enumerate(zip(self.items, self.keypoints, strict=True)):
            if keypoints is not None:
                out.append((item, keypoints))
            if i < len(self.more_keypoints):
                out += [(item, more) for more in self.more_keypoints[i]]
        return out

    def predictions(self) -> list[dict[str, Any]]:
        """The predictions in COCO results format, in :meth:`poses` order (items without a
        pose give none)."""
        return [prediction_record(item.image_id, keypoints) for item, keypoints in self.poses()]


def _iter_sources(
    images_dir: str | os.PathLike[str], items: Iterable[EvalItem]
) -> Iterable[tuple[EvalItem, np.ndarray]]:
    """Yield each item with its decoded source image (decoded once per run of equal files)."""
    name: str | None = None
    rgb: np.ndarray | None = None
    for item in items:
        if item.file_name != name:
            rgb = read_rgb(images_dir, item.file_name)
            name = item.file_name
        assert rgb is not None
        yield item, rgb


def run_vitruvian(
    images_dir: str | os.PathLike[str],
    items: Sequence[EvalItem],
    complexities: Sequence[int],
    *,
    protocol: str,
    roi_from_box: bool = False,
    min_presence: float | None = None,
    margin: float = CROP_MARGIN,
    on_item: Callable[[EvalItem], None] | None = None,
    num_poses: int = 1,
) -> list[RunResult]:
    """Run our ``Pose(static_image_mode=True)`` on every item, at every complexity.

    Each input is built once and fed to one ``Pose`` per complexity in turn.

    Args:
        images_dir: folder of the image files.
        items: the protocol's inputs (:func:`eval_items`).
        complexities: landmark models to run.
        protocol: ``"crops"`` or ``"image"`` (recorded in the results).
        roi_from_box: crops only: pass the person's box as ``process(roi=...)`` instead of
            running the person detector.
        min_presence: pose-presence threshold (``min_tracking_confidence``); default
            :data:`DEFAULT_MIN_PRESENCE`, or 0 with ``roi_from_box``.
        margin: crop margin.
        on_item: called after each item (e.g. to advance a progress bar).
        num_poses: look for up to this many people per input (``Pose(num_poses=...)``).

    Returns:
        One :class:`RunResult` per complexity, in the order given.
    """
    from vitruvian import __version__
    from vitruvian.solutions.pose import Pose

    if roi_from_box and any(item.bbox is None for item in items):
        raise EvalError("roi_from_box needs person crops (protocol 'crops')")
    if min_presence is None:
        min_presence = 0.0 if roi_from_box else DEFAULT_MIN_PRESENCE
    runs = [
        RunResult(
            VITRUVIAN,
            __version__,
            c,
            protocol,
            roi_from_box,
            min_presence,
            list(items),
            [],
            [],
            num_poses=num_poses,
        )
        for c in complexities
    ]
    poses = [
        Pose(
            static_image_mode=True,
            model_complexity=c,
            min_tracking_confidence=min_presence,
            num_poses=num_poses,
        )
        for c in complexities
    ]
    try:
        for item, rgb in _iter_sources(images_dir, items):
            model_input = build_input(item, rgb, margin)
            height, width = model_input.image.shape[:2]
            roi = model_input.gt_box if roi_from_box else None
            sha1 = hashlib.sha1(model_input.image.tobytes()).hexdigest()
            for run, pose in zip(runs, poses, strict=True):
                start = time.perf_counter()
                result = pose.process(model_input.image, roi=roi)
                run.times_ms.append((time.perf_counter() - start) * 1e3)
                run.input_sha1.append(sha1)
                people = [
                    to_coco_keypoints(p.landmarks, (width, height), model_input.affine)
                    for p in (result.poses or [])
                ]
                run.keypoints.append(people[0] if people else None)
                run.more_keypoints.append(people[1:])
            if on_item is not None:
                on_item(item)
    finally:
        for pose in poses:
            pose.close()
    return runs


def resolve_reference_python(candidate: str | None) -> str:
    """The reference interpreter: ``candidate``, else ``$VITRUVIAN_REFERENCE_PYTHON``.

    Raises:
        EvalError: none given, or not found / not executable.
    """
    return reference.resolve_reference_python(
        candidate, error=EvalError, needed_by="--compare mediapipe"
    )


def run_mediapipe(
    reference_python: str | None,
    images_dir: str | os.PathLike[str],
    items: Sequence[EvalItem],
    complexities: Sequence[int],
    *,
    protocol: str,
    min_presence: float = DEFAULT_MIN_PRESENCE,
    margin: float = CROP_MARGIN,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[RunResult]:
    """Run MediaPipe's ``Pose(static_image_mode=True)`` on the items in a reference Python.

    The worker (:func:`vitruvian.reference.worker.eval_job`) builds the same inputs with
    ``crops.py`` loaded by file path; its landmarks are mapped to COCO keypoints here, by the
    same :func:`to_coco_keypoints` as ours. MediaPipe has no ROI input, so there is no
    ``roi_from_box`` run.

    Args:
        reference_python: the interpreter (``None``: ``$VITRUVIAN_REFERENCE_PYTHON``).
        images_dir, items, complexities, protocol, min_presence, margin: as for
            :func:`run_vitruvian`.
        on_progress: called with ``(done, total)`` ``process()`` calls as the worker reports.

    Returns:
        One :class:`RunResult` per complexity (``input_sha1`` from the worker's decoding).

    Raises:
        EvalError: no usable reference Python, or the worker failed (the message quotes the
            end of its error output).
    """
    python = resolve_reference_python(reference_python)
    spec = {
        "images_dir": str(Path(images_dir).resolve()),
        "margin": margin,
        "complexities": [int(c) for c in complexities],
        "min_presence": min_presence,
        "items": [
            {
                "id": item.id,
                "file_name": item.file_name,
                "bbox": None if item.bbox is None else list(item.bbox),
            }
            for item in items
        ],
    }
    worker = reference.run_job(python, "eval", spec, error=EvalError, on_progress=on_progress)

    version = str(worker["versions"]["mediapipe"])
    runs = []
    for c in complexities:
        per_item = worker["results"][str(c)]
        run = RunResult(
            MEDIAPIPE, version, int(c), protocol, False, min_presence, list(items), [], []
        )
        run.versions = {str(k): str(v) for k, v in worker["versions"].items()}
        for item in items:
            entry = per_item[item.id]
            described = worker["inputs"][item.id]
            height, width = described["size"]
            affine = (
                np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
                if item.bbox is None
                else crop_affine(item.bbox, margin)
            )
            run.keypoints.append(
                None
                if entry["landmarks"] is None
                else to_coco_keypoints(np.array(entry["landmarks"]), (width, height), affine)
            )
            run.times_ms.append(float(entry["ms"]))
            run.input_sha1.append(str(described["sha1"]))
        runs.append(run)
    return runs
