"""Property-based tests (Hypothesis): random inputs into the public entry points with the real
models, into the pure geometry, and damaged files into the model importer and the image reader.

What must hold, whatever the input:

* ``Pose.process`` (static and video mode) and ``PosePipeline.process``: either the documented
  :class:`TypeError` / :class:`ValueError` of :func:`vitruvian.image_input.as_rgb_image` (and
  exactly when its rules say so), or a result; a returned pose is finite, its visibility and
  presence are in [0, 1], its mask is in [0, 1] with the image's shape; numpy raises no
  overflow or invalid-value warning on the way. The models run with both confidences at 0, so
  every valid image goes through the detector *and* the landmark model (a pose always comes
  back), which exercises the geometry on 1-pixel and 1 x 300 images.
* ``roi=``: a :class:`ValueError` exactly when the rect is unusable
  (:func:`~vitruvian.calculators.detection_to_roi.roi_problem`), else a finite pose.
* geometry: ROIs from detections, landmarks and boxes are finite and square in pixels with a
  positive side; projection and unprojection invert each other within 1e-4; weighted NMS gives
  at most as many detections as it got, sorted by score, with scores taken from the input and
  boxes and keypoints within the inputs' hull; letterbox removal inverts the letterbox; heatmap
  refinement only moves landmarks inside the heatmap, to cell positions within it; the One-Euro
  and low-pass filters stay within the range of the values seen so far.
* files: a truncated or damaged model archive gives :class:`~vitruvian.models.ModelError` (or
  installs what verifies) and the cache then holds verified models only; a damaged image file
  gives the reader's ``SourceReadError`` or an image that ``Pose.process`` handles.

The number of examples comes from the Hypothesis profile (``tests/conftest.py``: ``fast`` by
default, ``long`` with ``HYPOTHESIS_PROFILE=long``, as ``make fuzz`` does).
"""

from __future__ import annotations

import io
import math
import os
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import assume, event, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vitruvian as mp
from vitruvian import PosePipeline
from vitruvian.calculators.detection_to_roi import (
    MIN_ROI_SIDE_PX,
    box_to_roi,
    check_roi,
    detection_to_roi,
    landmarks_to_roi,
    object_scale,
    roi_problem,
)
from vitruvian.calculators.image_to_tensor import PixelRect, pad_roi
from vitruvian.calculators.landmark_projection import (
    project_landmarks,
    project_world_landmarks,
    unproject_landmarks,
)
from vitruvian.calculators.landmarks_smoothing import (
    LANDMARKS_FILTER,
    WORLD_LANDMARKS_FILTER,
    LandmarksSmoother,
    VisibilitySmoother,
)
from vitruvian.calculators.letterbox_removal import (
    remove_detection_letterbox,
    remove_landmark_letterbox,
)
from vitruvian.calculators.non_max_suppression import weighted_non_max_suppression
from vitruvian.calculators.one_euro_filter import OneEuroFilter
from vitruvian.calculators.rect_transformation import normalize_radians, transform_rect
from vitruvian.calculators.refine_from_heatmap import refine_from_heatmap
from vitruvian.calculators.tensors_to_detections import RawDetections
from vitruvian.image_input import MAX_IMAGE_SIDE
from vitruvian.io.sources import Source, SourceReadError
from vitruvian.models import CACHE_ENV, ModelError, import_model_file, model_path, verify
from vitruvian.models.assets import LOCK_NAME
from vitruvian.types import NormalizedRect, PoseResult

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
POSE_JPG = DATA_DIR / "tfjs" / "pose.jpg"


def _person_image() -> np.ndarray:
    """``tfjs/pose.jpg`` as RGB, or a drawn stick figure when the shared data is missing."""
    bgr = cv2.imread(str(POSE_JPG)) if POSE_JPG.is_file() else None
    if bgr is not None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    canvas = np.full((480, 360, 3), 200, np.uint8)
    cv2.circle(canvas, (180, 80), 30, (90, 60, 40), -1)
    for a, b in [((180, 110), (180, 280)), ((180, 150), (110, 230)), ((180, 150), (250, 230))]:
        cv2.line(canvas, a, b, (40, 40, 160), 18)
    for a, b in [((180, 280), (130, 440)), ((180, 280), (230, 440))]:
        cv2.line(canvas, a, b, (40, 120, 40), 20)
    return canvas


PERSON = _person_image()


@contextmanager
def _numpy_warnings_as_errors() -> Iterator[None]:
    """Turn numpy's overflow / invalid-value / divide warnings into test failures."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(all="raise", under="ignore"):
            yield


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

#: uint8 (the one accepted dtype) is drawn most often.
DTYPES = [np.uint8] * 18 + [np.float32, np.float64, np.uint16, np.bool_, np.int8, np.int64]
LAYOUTS = ["plain", "plain", "mirrored", "flipped", "strided", "fortran", "read_only"]


@st.composite
def image_shapes(draw: st.DrawFn, allow_empty: bool = True) -> tuple[int, ...]:
    """Mostly ``(H, W, 3)``, also grey, 1/2/4/5 channels, other ranks, zero and long sides."""
    low = 0 if allow_empty else 1
    side = st.one_of(st.integers(1, 12), st.integers(1, 48), st.integers(49, 300))
    if low == 0:
        side = st.one_of(side, st.just(0))
    ndim = draw(st.sampled_from([3] * 12 + [2] * 3 + ([1, 4, 0] if allow_empty else [])))
    if ndim == 0:
        return ()
    if ndim == 1:
        return (draw(side),)
    height, width = draw(side), draw(side)
    if ndim == 2:
        return (height, width)
    channels = draw(st.sampled_from([3] * 8 + [1, 4] + ([2, 5] if allow_empty else [])))
    if ndim == 3:
        return (height, width, channels)
    return (height, width, channels, draw(st.integers(1, 3)))


def _content(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 pixels: noise, a constant, a smooth gradient or a crop of the person image."""
    kind = draw(st.sampled_from(["noise", "constant", "gradient", "person"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if kind == "constant":
        return np.full(shape, draw(st.integers(0, 255)), np.uint8)
    size = int(np.prod(shape))
    if kind == "gradient":
        return (np.arange(size) % 256).astype(np.uint8).reshape(shape)
    # A crop of the person at a random place and scale, resized to the shape's height/width.
    if len(shape) not in (2, 3) or 0 in shape[:2]:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    h, w = PERSON.shape[:2]
    top, left = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
    crop = PERSON[top : top + int(rng.integers(h // 3, h)), left : left + int(rng.integers(1, w))]
    resized = cv2.resize(crop, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    if len(shape) == 2:
        return cv2.cvtColor(resized, cv2.COLOR_RGB2GRAY)
    channels = shape[2]
    stacked = np.concatenate([resized] * (channels // 3 + 1), axis=2)[:, :, :channels]
    return np.ascontiguousarray(stacked)


@st.composite
def images(draw: st.DrawFn, valid_only: bool = False) -> np.ndarray:
    """Random arrays for ``process()``: any dtype, shape and memory layout."""
    shape = draw(image_shapes(allow_empty=not valid_only))
    dtype = np.uint8 if valid_only else draw(st.sampled_from(DTYPES))
    if dtype == np.uint8:
        array = _content(draw, shape)
    else:
        elements = None
        if np.issubdtype(dtype, np.floating):
            elements = st.floats(allow_nan=True, allow_infinity=True, width=32)
        array = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(LAYOUTS))
    if array.ndim >= 2 and layout == "mirrored":
        array = array[:, ::-1]
    elif array.ndim >= 1 and layout == "flipped":
        array = array[::-1]
    elif array.ndim >= 2 and layout == "strided":
        array = np.repeat(np.repeat(array, 2, axis=0), 2, axis=1)[::2, ::2]
    elif layout == "fortran":
        array = np.asfortranarray(array)
    elif layout == "read_only":
        array = array.copy()
        array.flags.writeable = False
    return array


def _expected_error(image: object) -> type[Exception] | None:
    """The exception :func:`vitruvian.image_input.as_rgb_image`'s documented rules call for."""
    if not isinstance(image, np.ndarray):
        return TypeError
    if image.dtype != np.uint8:
        return ValueError
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        return ValueError
    if image.shape[0] == 0 or image.shape[1] == 0:
        return ValueError
    if max(image.shape[:2]) > MAX_IMAGE_SIDE:
        return ValueError
    return None


NOT_ARRAYS = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.lists(st.integers(0, 255), max_size=3), max_size=3),
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
)


# ---------------------------------------------------------------------------------------------
# The models: Pose.process and PosePipeline.process
# ---------------------------------------------------------------------------------------------


def _check_pose(result: PoseResult, height: int, width: int) -> None:
    for table in (result.landmarks, result.world_landmarks):
        assert table.shape == (33, 5) and table.dtype == np.float32
        assert np.isfinite(table).all()
        assert ((table[:, 3:] >= 0.0) & (table[:, 3:] <= 1.0)).all()
    assert 0.0 <= result.presence_score <= 1.0
    roi = result.roi
    assert roi_problem(roi, width, height) is None, roi
    mask = result.segmentation_mask
    assert mask is not None and mask.shape == (height, width) and mask.dtype == np.float32
    assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0


def _forced_options() -> dict[str, object]:
    return {
        "model_complexity": 0,
        "enable_segmentation": True,
        "min_detection_confidence": 0.0,
        "min_tracking_confidence": 0.0,
    }


@pytest.fixture(scope="module")
def static_pose() -> Iterator[mp.solutions.pose.Pose]:
    with mp.solutions.pose.Pose(static_image_mode=True, **_forced_options()) as pose:
        yield pose


@pytest.fixture(scope="module")
def video_pose() -> Iterator[mp.solutions.pose.Pose]:
    with mp.solutions.pose.Pose(static_image_mode=False, **_forced_options()) as pose:
        yield pose


@pytest.fixture(scope="module")
def pipeline() -> Iterator[PosePipeline]:
    with PosePipeline(**_forced_options()) as pipe:  # type: ignore[arg-type]
        yield pipe


@given(image=images())
def test_pose_static_accepts_or_rejects_as_documented(
    static_pose: mp.solutions.pose.Pose, image: object
) -> None:
    expected = _expected_error(image)
    event(f"rejected with {expected.__name__}" if expected else "processed")
    if expected is not None:
        with pytest.raises(expected, match="expected"):
            static_pose.process(image)  # type: ignore[arg-type]
        return
    assert isinstance(image, np.ndarray)
    before = image.copy()
    with _numpy_warnings_as_errors():
        results = static_pose.process(image)
    assert results.pose is not None  # confidence 0: the landmark model always answers
    _check_pose(results.pose, image.shape[0], image.shape[1])
    assert results.segmentation_mask is results.pose.segmentation_mask
    np.testing.assert_array_equal(image, before)


@given(image=images())
def test_pipeline_accepts_or_rejects_as_documented(pipeline: PosePipeline, image: object) -> None:
    expected = _expected_error(image)
    event(f"rejected with {expected.__name__}" if expected else "processed")
    if expected is not None:
        with pytest.raises(expected, match="expected"):
            pipeline.process(image)  # type: ignore[arg-type]
        return
    assert isinstance(image, np.ndarray)
    with _numpy_warnings_as_errors():
        result = pipeline.process(image)
    assert result is not None
    _check_pose(result, image.shape[0], image.shape[1])


@given(
    frames=st.lists(images(valid_only=True), min_size=1, max_size=5),
    timestamps=st.one_of(st.none(), st.lists(st.integers(1, 500_000), min_size=5, max_size=5)),
)
def test_pose_video_sequences_stay_finite(
    video_pose: mp.solutions.pose.Pose, frames: list[np.ndarray], timestamps: list[int] | None
) -> None:
    # Frames of one stream may change size, collapse to one pixel or stretch to 1 x 300.
    video_pose.reset()
    now = 0
    for index, frame in enumerate(frames):
        step = None
        if timestamps is not None:
            now += timestamps[index]
            step = now
        with _numpy_warnings_as_errors():
            results = video_pose.process(frame, timestamp_us=step)
        assert results.pose is not None
        _check_pose(results.pose, frame.shape[0], frame.shape[1])


ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
SANE_FLOAT = st.floats(-3.0, 3.0)


@st.composite
def rois(draw: st.DrawFn) -> NormalizedRect | list[float]:
    """A ``roi=`` argument: a rect or a box, mostly sensible, one in four absurd."""
    absurd = draw(st.sampled_from([False, False, False, True]))
    field = st.one_of(SANE_FLOAT, ANY_FLOAT) if absurd else SANE_FLOAT
    if draw(st.booleans()):
        size = st.one_of(st.floats(0.05, 3.0), ANY_FLOAT) if absurd else st.floats(0.05, 3.0)
        return NormalizedRect(draw(field), draw(field), draw(size), draw(size), draw(field))
    if absurd:
        return [draw(st.one_of(st.floats(-50, 150), ANY_FLOAT)) for _ in range(4)]
    x0, y0 = draw(st.floats(-20, 100)), draw(st.floats(-20, 100))
    return [x0, y0, x0 + draw(st.floats(0.5, 120)), y0 + draw(st.floats(0.5, 120))]


@pytest.mark.parametrize("static", [True, False], ids=["static", "video"])
@given(image=images(valid_only=True), roi=rois())
def test_pose_roi_argument_is_used_or_rejected(
    static_pose: mp.solutions.pose.Pose,
    video_pose: mp.solutions.pose.Pose,
    static: bool,
    image: np.ndarray,
    roi: NormalizedRect | list[float],
) -> None:
    pose = static_pose if static else video_pose
    pose.reset()
    height, width = image.shape[:2]
    try:
        rect = roi if isinstance(roi, NormalizedRect) else box_to_roi(roi, width, height)
        problem = roi_problem(rect, width, height)
    except ValueError as exc:
        problem = str(exc)
    note(f"problem: {problem}")
    event("rejected" if problem else "used")
    if problem is not None:
        with pytest.raises(ValueError):
            pose.process(image, roi=roi)
        return
    with _numpy_warnings_as_errors():
        results = pose.process(image, roi=roi)
        assert results.pose is not None
        _check_pose(results.pose, height, width)
        if not static:  # tracking goes on from the ROI's result
            follow = pose.process(image).pose
            assert follow is not None
            _check_pose(follow, height, width)


@given(not_an_array=NOT_ARRAYS)
def test_non_arrays_raise_type_error(
    static_pose: mp.solutions.pose.Pose,
    video_pose: mp.solutions.pose.Pose,
    pipeline: PosePipeline,
    not_an_array: object,
) -> None:
    for process in (static_pose.process, video_pose.process, pipeline.process):
        with pytest.raises(TypeError, match=r"expected an \(H, W, 3\) uint8 RGB numpy array"):
            process(not_an_array)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------

IMAGE_SIDE = st.integers(1, 8000)
COORD = st.floats(-5.0, 5.0, width=32)


def _rect_values(rect: NormalizedRect) -> list[float]:
    return [rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation]


def _assert_square_roi(rect: NormalizedRect, width: int, height: int) -> None:
    assert np.isfinite(_rect_values(rect)).all()
    side_x, side_y = rect.width * width, rect.height * height
    assert side_x == pytest.approx(side_y, rel=1e-9)
    assert side_x >= MIN_ROI_SIDE_PX * (1 - 1e-9)
    assert -math.pi <= rect.rotation <= math.pi


@given(
    keypoints=hnp.arrays(np.float32, (4, 2), elements=COORD), width=IMAGE_SIDE, height=IMAGE_SIDE
)
def test_detection_to_roi_is_a_finite_square_around_the_hips(
    keypoints: np.ndarray, width: int, height: int
) -> None:
    with _numpy_warnings_as_errors():
        rect = detection_to_roi(keypoints, width, height)
    _assert_square_roi(rect, width, height)
    assert rect.x_center == pytest.approx(float(keypoints[0, 0]), abs=1e-6)
    assert rect.y_center == pytest.approx(float(keypoints[0, 1]), abs=1e-6)
    dx = (float(keypoints[1, 0]) - float(keypoints[0, 0])) * width
    dy = (float(keypoints[1, 1]) - float(keypoints[0, 1])) * height
    expected = max(math.hypot(dx, dy) * 2 * 1.25, MIN_ROI_SIDE_PX)
    assert rect.width * width == pytest.approx(expected, rel=1e-6)


@given(
    keypoints=hnp.arrays(
        np.float32, (4, 2), elements=st.floats(allow_nan=True, allow_infinity=True, width=32)
    ),
    width=IMAGE_SIDE,
    height=IMAGE_SIDE,
)
def test_detection_to_roi_rejects_non_finite_keypoints(
    keypoints: np.ndarray, width: int, height: int
) -> None:
    if np.isfinite(keypoints[:2]).all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow of huge inputs
            rect = detection_to_roi(keypoints, width, height)
        assert np.isfinite(_rect_values(rect)[:2]).all()
    else:
        with pytest.raises(ValueError, match="finite"):
            detection_to_roi(keypoints, width, height)


@given(
    landmarks=hnp.arrays(np.float32, (2, 5), elements=COORD),
    width=IMAGE_SIDE,
    height=IMAGE_SIDE,
)
def test_landmarks_to_roi_and_object_scale(landmarks: np.ndarray, width: int, height: int) -> None:
    with _numpy_warnings_as_errors():
        rect = landmarks_to_roi(landmarks, width, height)
        scale = object_scale(landmarks, width, height)
    _assert_square_roi(rect, width, height)
    assert math.isfinite(scale) and scale >= 0.0


@given(
    box=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4),
    width=IMAGE_SIDE,
    height=IMAGE_SIDE,
)
def test_box_to_roi_is_a_square_around_the_box_or_a_value_error(
    box: list[float], width: int, height: int
) -> None:
    try:
        rect = box_to_roi(box, width, height)
    except ValueError as exc:
        assert "x_max > x_min" in str(exc)
        return
    x0, y0, x1, y1 = box
    assert np.isfinite(_rect_values(rect)).all()
    assert rect.rotation == 0.0
    side = max(x1 - x0, y1 - y0) * 1.25
    assert rect.width * width == pytest.approx(side, rel=1e-9)
    assert rect.height * height == pytest.approx(side, rel=1e-9)
    assert rect.x_center * width == pytest.approx((x0 + x1) / 2, rel=1e-9, abs=1e-9)


@given(
    rect=st.builds(NormalizedRect, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT, ANY_FLOAT),
    width=IMAGE_SIDE,
    height=IMAGE_SIDE,
)
def test_check_roi_raises_exactly_when_roi_problem_says_so(
    rect: NormalizedRect, width: int, height: int
) -> None:
    problem = roi_problem(rect, width, height)
    if problem is None:
        assert check_roi(rect, width, height) is rect
        assert np.isfinite(_rect_values(rect)).all()
    else:
        with pytest.raises(ValueError, match=r"^roi "):
            check_roi(rect, width, height)


USABLE_RECTS = st.builds(
    NormalizedRect,
    st.floats(-2.0, 3.0),
    st.floats(-2.0, 3.0),
    st.floats(0.01, 10.0),
    st.floats(0.01, 10.0),
    st.floats(-math.pi, math.pi),
)


@given(
    rect=USABLE_RECTS,
    landmarks=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40).map(lambda s: (s[0], 5)),
        elements=st.floats(-2.0, 3.0, width=32),
    ),
)
def test_projection_and_unprojection_invert_each_other(
    rect: NormalizedRect, landmarks: np.ndarray
) -> None:
    # ROI-relative landmarks (the model's, around [0, 1]) to the image and back. (The other way
    # round, image points hundreds of ROI sizes away from a thin ROI lose float32 precision.)
    with _numpy_warnings_as_errors():
        there = project_landmarks(landmarks, rect)
        back = unproject_landmarks(there, rect)
    for result in (there, back):
        assert result.shape == landmarks.shape and np.isfinite(result).all()
    np.testing.assert_allclose(back[:, :3], landmarks[:, :3], atol=1e-4)
    np.testing.assert_array_equal(there[:, 3:], landmarks[:, 3:])
    np.testing.assert_array_equal(back[:, 3:], landmarks[:, 3:])


@given(rect=USABLE_RECTS, world=hnp.arrays(np.float32, (33, 5), elements=COORD))
def test_world_projection_is_a_rotation_about_z(rect: NormalizedRect, world: np.ndarray) -> None:
    out = project_world_landmarks(world, rect)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(
        np.hypot(out[:, 0], out[:, 1]), np.hypot(world[:, 0], world[:, 1]), atol=1e-5
    )
    np.testing.assert_array_equal(out[:, 2:], world[:, 2:])


@st.composite
def raw_detections(draw: st.DrawFn) -> RawDetections:
    count = draw(st.integers(0, 30))
    unit = st.floats(-1.0, 2.0, width=32)
    corners = draw(hnp.arrays(np.float32, (count, 2), elements=unit))
    sizes = draw(hnp.arrays(np.float32, (count, 2), elements=st.floats(0.0, 1.0, width=32)))
    boxes = np.hstack([corners, corners + sizes]).astype(np.float32)
    keypoints = draw(hnp.arrays(np.float32, (count, 4, 2), elements=unit))
    scores = draw(hnp.arrays(np.float32, (count,), elements=st.floats(0.0, 1.0, width=32)))
    return RawDetections(boxes, keypoints, scores)


@given(
    detections=raw_detections(),
    threshold=st.floats(0.0, 1.0),
    max_detections=st.one_of(st.none(), st.integers(1, 5)),
)
def test_weighted_nms_invariants(
    detections: RawDetections, threshold: float, max_detections: int | None
) -> None:
    with _numpy_warnings_as_errors():
        out = weighted_non_max_suppression(detections, threshold, max_detections)
    count = len(detections.scores)
    assert len(out.scores) == len(out.boxes) == len(out.keypoints) <= count
    if max_detections is not None:
        assert len(out.scores) <= max_detections
    if count:
        assert len(out.scores) >= 1
    assert np.all(np.diff(out.scores) <= 0)  # sorted by decreasing score
    assert set(out.scores.tolist()) <= set(detections.scores.tolist())
    for merged, source in ((out.boxes, detections.boxes), (out.keypoints, detections.keypoints)):
        assert np.isfinite(merged).all()
        if count:
            tolerance = 1e-5
            assert (merged >= source.min(axis=0) - tolerance).all()
            assert (merged <= source.max(axis=0) + tolerance).all()


@given(
    roi=st.builds(
        PixelRect,
        st.floats(-1e4, 1e4),
        st.floats(-1e4, 1e4),
        st.floats(1e-3, 1e4),
        st.floats(1e-3, 1e4),
        st.floats(-math.pi, math.pi),
    ),
    tensor=st.sampled_from([(224, 224), (256, 256), (256, 128)]),
    points=hnp.arrays(np.float32, (7, 3), elements=st.floats(-0.5, 1.5, width=32)),
)
def test_letterbox_removal_inverts_the_letterbox(
    roi: PixelRect, tensor: tuple[int, int], points: np.ndarray
) -> None:
    _, padding = pad_roi(roi, *tensor)
    for value in (padding.left, padding.top, padding.right, padding.bottom):
        assert 0.0 <= value < 0.5
    sx = 1.0 - padding.left - padding.right
    sy = 1.0 - padding.top - padding.bottom
    boxed = np.empty_like(points)
    boxed[:, 0] = padding.left + points[:, 0] * sx
    boxed[:, 1] = padding.top + points[:, 1] * sy
    boxed[:, 2] = points[:, 2] * sx
    with _numpy_warnings_as_errors():
        removed = remove_landmark_letterbox(boxed, padding)
        detections = remove_detection_letterbox(
            RawDetections(boxed[:2, :2].reshape(1, 4), boxed[None, :4, :2], np.ones(1, np.float32)),
            padding,
        )
    # A letterbox of almost all padding (a 1e4:1e-3 rect) magnifies float32 rounding.
    tolerance = 2e-6 / min(sx, sy)
    np.testing.assert_allclose(removed, points, atol=tolerance)
    np.testing.assert_allclose(detections.keypoints[0], points[:4, :2], atol=tolerance)
    np.testing.assert_allclose(detections.boxes[0], points[:2, :2].reshape(4), atol=tolerance)


@given(
    count=st.integers(1, 6),
    heatmap_size=st.tuples(st.integers(1, 16), st.integers(1, 16)),
    kernel=st.sampled_from([1, 3, 5, 7, 9]),
    min_confidence=st.floats(0.0, 1.0),
    data=st.data(),
)
def test_refine_from_heatmap_moves_only_landmarks_inside_it(
    count: int,
    heatmap_size: tuple[int, int],
    kernel: int,
    min_confidence: float,
    data: st.DataObject,
) -> None:
    hm_h, hm_w = heatmap_size
    landmarks = data.draw(
        hnp.arrays(np.float32, (count, 5), elements=st.floats(-1e6, 1e6, width=32))
        | hnp.arrays(np.float32, (count, 5), elements=st.floats(-0.5, 1.5, width=32))
    )
    heatmap = data.draw(
        hnp.arrays(np.float32, (hm_h, hm_w, count), elements=st.floats(-1e4, 1e4, width=32))
    )
    with _numpy_warnings_as_errors():
        out = refine_from_heatmap(landmarks, heatmap, kernel, min_confidence)
    assert out.shape == landmarks.shape and np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 2:], landmarks[:, 2:])
    moved = np.any(out[:, :2] != landmarks[:, :2], axis=1)
    col = np.trunc(landmarks[:, 0] * hm_w)
    row = np.trunc(landmarks[:, 1] * hm_h)
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    assert not (moved & ~inside).any()
    tolerance = 1e-6
    assert (out[moved, 0] >= -tolerance).all()
    assert (out[moved, 0] <= (hm_w - 1) / hm_w + tolerance).all()
    assert (out[moved, 1] >= -tolerance).all()
    assert (out[moved, 1] <= (hm_h - 1) / hm_h + tolerance).all()


@given(angle=st.floats(-1e6, 1e6))
def test_normalize_radians_wraps_into_minus_pi_pi(angle: float) -> None:
    wrapped = normalize_radians(angle)
    assert -math.pi <= wrapped <= math.pi
    turns = (angle - wrapped) / (2 * math.pi)
    assert turns == pytest.approx(round(turns), abs=1e-6)


@given(angle=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_normalize_radians_rejects_non_finite(angle: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        normalize_radians(angle)


@given(
    rect=USABLE_RECTS,
    width=IMAGE_SIDE,
    height=IMAGE_SIDE,
    scale=st.floats(0.1, 10.0),
    shift=st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)),
    square_long=st.booleans(),
)
def test_transform_rect_stays_finite_and_square(
    rect: NormalizedRect,
    width: int,
    height: int,
    scale: float,
    shift: tuple[float, float],
    square_long: bool,
) -> None:
    out = transform_rect(
        rect, width, height, scale, scale, shift[0], shift[1], square_long=square_long
    )
    assert np.isfinite(_rect_values(out)).all()
    assert out.width > 0 and out.height > 0 and out.rotation == rect.rotation
    if square_long:
        assert out.width * width == pytest.approx(out.height * height, rel=1e-9)


@st.composite
def signals(draw: st.DrawFn) -> tuple[list[int], list[np.ndarray]]:
    """Increasing timestamps (µs) and values of one shape."""
    length = draw(st.integers(1, 12))
    size = draw(st.integers(1, 6))
    steps = draw(st.lists(st.integers(1, 2_000_000), min_size=length, max_size=length))
    times = np.cumsum(steps).tolist()
    element = st.floats(-1e6, 1e6, width=32)
    values = [draw(hnp.arrays(np.float32, (size,), elements=element)) for _ in range(length)]
    return times, values


@given(
    signal=signals(),
    min_cutoff=st.floats(1e-3, 100.0),
    beta=st.floats(0.0, 100.0),
    derivate_cutoff=st.floats(1e-3, 100.0),
    value_scale=st.floats(1e-6, 1e3),
)
def test_one_euro_filter_stays_within_the_values_seen(
    signal: tuple[list[int], list[np.ndarray]],
    min_cutoff: float,
    beta: float,
    derivate_cutoff: float,
    value_scale: float,
) -> None:
    times, values = signal
    smoother = OneEuroFilter(min_cutoff, beta, derivate_cutoff)
    low = np.full(values[0].shape, np.inf)
    high = np.full(values[0].shape, -np.inf)
    for time_us, value in zip(times, values, strict=True):
        low, high = np.minimum(low, value), np.maximum(high, value)
        with _numpy_warnings_as_errors():
            out = smoother.apply(value, time_us, value_scale)
        assert out.shape == value.shape and np.isfinite(out).all()
        slack = 1e-6 * np.maximum(1.0, np.abs(value))
        assert (out >= low - slack).all() and (out <= high + slack).all()
    # A timestamp that does not increase passes the value through unchanged.
    repeat = smoother.apply(values[-1] + 1.0, times[-1])
    np.testing.assert_array_equal(repeat, values[-1] + 1.0)


@given(
    signal=signals(),
    object_size=st.one_of(st.just(0.0), st.floats(1e-9, 1e4)),
    size=st.tuples(IMAGE_SIDE, IMAGE_SIDE),
    visibility=st.lists(
        hnp.arrays(np.float32, (33,), elements=st.floats(0.0, 1.0, width=32)), min_size=1
    ),
)
def test_landmark_and_visibility_smoothers_stay_finite_and_in_range(
    signal: tuple[list[int], list[np.ndarray]],
    object_size: float,
    size: tuple[int, int],
    visibility: list[np.ndarray],
) -> None:
    times, values = signal
    image = LandmarksSmoother(LANDMARKS_FILTER)
    world = LandmarksSmoother(WORLD_LANDMARKS_FILTER)
    for time_us, value in zip(times, values, strict=True):
        xyz = np.resize(value / 1e6, (4, 3)).astype(np.float32)  # normalised-ish coordinates
        with _numpy_warnings_as_errors():
            smoothed = image.apply(xyz, time_us, object_size, size)
            metres = world.apply(xyz, time_us)
        assert np.isfinite(smoothed).all() and np.isfinite(metres).all()
    smoother = VisibilitySmoother()
    for frame in visibility:
        out = smoother.apply(frame)
        assert ((out >= 0.0) & (out <= 1.0)).all()


# ---------------------------------------------------------------------------------------------
# Files: damaged model archives and damaged image files
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lite_archives() -> dict[str, bytes]:
    """A small npm-style ``.tgz`` and a ``.whl``-style zip holding the real lite model."""
    try:
        lite = model_path("pose_landmark_lite", download=False)
    except ModelError as exc:
        pytest.skip(f"real models unavailable (run `make models`): {exc}")
    data = lite.read_bytes()
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz", compresslevel=1) as tf:
        info = tarfile.TarInfo("package/pose_landmark_lite.tflite")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    whl = io.BytesIO()
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("mediapipe/__init__.py", "")
        zf.writestr("pose_landmark_lite.tflite", data)
    return {".tgz": tgz.getvalue(), ".whl": whl.getvalue()}


@st.composite
def damage(draw: st.DrawFn, length: int) -> list[tuple[str, int, bytes]]:
    """One to three edits of a file of ``length`` bytes: truncations and overwritten runs."""
    edits = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        position = draw(st.integers(0, max(0, length - 1)))
        if draw(st.sampled_from([False, False, True])):
            edits.append(("truncate", position, b""))
        else:
            edits.append(("overwrite", position, draw(st.binary(min_size=1, max_size=16))))
    return edits


def _apply(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    damaged = bytearray(data)
    for kind, position, payload in edits:
        if kind == "truncate":
            del damaged[position:]
        else:
            damaged[position : position + len(payload)] = payload
    return bytes(damaged)


@contextmanager
def _fresh_cache() -> Iterator[Path]:
    """A temporary model cache set through the environment (restored afterwards)."""
    old = os.environ.get(CACHE_ENV)
    with tempfile.TemporaryDirectory(prefix="vitruvian-fuzz-") as tmp:
        cache = Path(tmp) / "cache"
        os.environ[CACHE_ENV] = str(cache)
        try:
            yield cache
        finally:
            if old is None:
                del os.environ[CACHE_ENV]
            else:
                os.environ[CACHE_ENV] = old


@given(suffix=st.sampled_from([".tgz", ".whl"]), data=st.data())
def test_damaged_model_archives_never_leave_an_unverified_file(
    lite_archives: dict[str, bytes], suffix: str, data: st.DataObject
) -> None:
    original = lite_archives[suffix]
    damaged = _apply(original, data.draw(damage(len(original))))
    assume(damaged != original)
    with _fresh_cache() as cache:
        archive = cache.parent / f"download{suffix}"
        archive.write_bytes(damaged)
        try:
            installed = import_model_file(archive)
        except ModelError:
            installed = []
        event(f"installed {installed}")
        files = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
        models = [name for name in files if name != LOCK_NAME]
        assert models == [f"{name}.tflite" for name in installed]
        for name in installed:
            verify(cache / f"{name}.tflite", name)


@pytest.fixture(scope="module")
def encoded_images() -> dict[str, bytes]:
    """Small PNG and JPEG files of the person image."""
    small = cv2.resize(PERSON, (48, 64), interpolation=cv2.INTER_AREA)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    files = {}
    for suffix in (".png", ".jpg"):
        ok, encoded = cv2.imencode(suffix, bgr)
        assert ok
        files[suffix] = encoded.tobytes()
    return files


@given(suffix=st.sampled_from([".png", ".jpg"]), data=st.data())
def test_damaged_image_files_are_read_or_rejected(
    encoded_images: dict[str, bytes],
    static_pose: mp.solutions.pose.Pose,
    suffix: str,
    data: st.DataObject,
) -> None:
    original = encoded_images[suffix]
    if data.draw(st.sampled_from([True, True, True, False])):
        content = _apply(original, data.draw(damage(len(original))))
    else:
        content = data.draw(st.binary(max_size=2048))
    with tempfile.TemporaryDirectory(prefix="vitruvian-fuzz-") as tmp:
        path = Path(tmp) / f"image{suffix}"
        path.write_bytes(content)
        source = Source(kind="image", name=str(path), group=0, path=path, frame_count=1)
        try:
            frames = list(source.frames())
        except SourceReadError as exc:
            assert exc.frame == 0
            event("rejected")
            return
    event("decoded")
    assert len(frames) == 1
    rgb = frames[0].rgb
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    if max(rgb.shape[:2]) > MAX_IMAGE_SIDE:
        # A damaged size field can decode to a huge image: the documented, named rejection.
        with pytest.raises(ValueError, match=f"sides of at most {MAX_IMAGE_SIDE} pixels"):
            static_pose.process(rgb)
        event("decoded, too large")
        return
    with _numpy_warnings_as_errors():
        results = static_pose.process(rgb)
    assert results.pose is not None
    _check_pose(results.pose, rgb.shape[0], rgb.shape[1])
