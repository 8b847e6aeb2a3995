"""Input validation: the rules of vitruvian.image_input.as_rgb_image, then the whole input matrix
(types, dtypes, layouts, sizes, memory layouts, timestamps and ROIs) through ``Pose.process`` in
static and video mode and ``PosePipeline.process`` with the real models."""

from __future__ import annotations

import math
import re
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import vitruvian as mp
from vitruvian import PosePipeline
from vitruvian.calculators.detection_to_roi import MIN_ROI_SIDE_PX, detection_to_roi
from vitruvian.image_input import MAX_IMAGE_SIDE, as_rgb_image
from vitruvian.types import NormalizedRect, PoseResult


def _image(height: int = 6, width: int = 5, channels: int | None = 3) -> np.ndarray:
    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)


def _check_layout(result: np.ndarray, height: int, width: int) -> None:
    assert isinstance(result, np.ndarray)
    assert result.shape == (height, width, 3)
    assert result.dtype == np.uint8
    assert result.flags.c_contiguous


@pytest.mark.parametrize("bad", [None, [[[0, 0, 0]]], "image.jpg", 3.0])
def test_non_arrays_raise_type_error_naming_what_is_expected(bad: object) -> None:
    with pytest.raises(TypeError, match=r"uint8 RGB numpy array.*cv2\.cvtColor"):
        as_rgb_image(bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_raise_value_error_with_conversion_hint(dtype: type) -> None:
    image = np.random.default_rng(1).random((6, 5, 3)).astype(dtype)
    with pytest.raises(ValueError, match=r"uint8.*\(img \* 255\)\.clip\(0, 255\)\.astype"):
        as_rgb_image(image)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int64, np.bool_])
def test_other_dtypes_raise_value_error(dtype: type) -> None:
    with pytest.raises(ValueError, match=f"dtype is {np.dtype(dtype)}.*uint8"):
        as_rgb_image(np.zeros((6, 5, 3), dtype=dtype))


def test_rgb_passes_unchanged_without_copy_and_read_only() -> None:
    image = _image()
    before = image.copy()
    result = as_rgb_image(image)
    _check_layout(result, 6, 5)
    np.testing.assert_array_equal(result, before)
    assert np.shares_memory(result, image)
    assert not result.flags.writeable
    with pytest.raises(ValueError):
        result[0, 0, 0] = 1
    assert image.flags.writeable  # the caller's array keeps its flags
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("channels", [None, 1])
def test_grayscale_becomes_rgb(channels: int | None) -> None:
    gray = _image(channels=channels)
    before = gray.copy()
    result = as_rgb_image(gray)
    _check_layout(result, 6, 5)
    expected = cv2.cvtColor(gray.reshape(6, 5), cv2.COLOR_GRAY2RGB)
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(gray, before)
    assert result.flags.writeable


def test_grayscale_result_equals_result_of_rgb_converted_input() -> None:
    gray = _image(channels=None)
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    np.testing.assert_array_equal(as_rgb_image(gray), as_rgb_image(rgb))


def test_rgba_drops_alpha() -> None:
    rgba = _image(channels=4)
    before = rgba.copy()
    result = as_rgb_image(rgba)
    _check_layout(result, 6, 5)
    np.testing.assert_array_equal(result, rgba[:, :, :3])
    np.testing.assert_array_equal(rgba, before)


@pytest.mark.parametrize(
    "shape", [(6, 5, 2), (6, 5, 5), (6,), (6, 5, 3, 1), (2, 6, 5, 3), ()], ids=str
)
def test_unsupported_shapes_raise_value_error_naming_the_shape(shape: tuple[int, ...]) -> None:
    image = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(ValueError, match=f"shape {re.escape(str(shape))}"):
        as_rgb_image(image)


@pytest.mark.parametrize("shape", [(0, 5, 3), (6, 0, 3), (0, 0, 3), (0, 5), (6, 0, 1)], ids=str)
def test_empty_images_raise_value_error(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="empty"):
        as_rgb_image(np.zeros(shape, dtype=np.uint8))


@pytest.mark.parametrize(
    "shape", [(1, MAX_IMAGE_SIDE + 1, 3), (MAX_IMAGE_SIDE + 1, 1), (MAX_IMAGE_SIDE + 1, 2, 4)]
)
def test_sides_beyond_the_limit_raise_value_error(shape: tuple[int, ...]) -> None:
    # OpenCV's fixed-point remap asserts on sources of 32767 pixels or more (cv2.error).
    with pytest.raises(ValueError, match=f"at most {MAX_IMAGE_SIDE} pixels.*cv2.resize"):
        as_rgb_image(np.zeros(shape, np.uint8))
    at_limit = tuple(min(side, MAX_IMAGE_SIDE) for side in shape[:2]) + shape[2:]
    assert as_rgb_image(np.zeros(at_limit, np.uint8)).shape[:2] == at_limit[:2]


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[:, ::-1],
        lambda a: a[..., ::-1],
        lambda a: a[::-1],
        lambda a: a[::2, 1::2],
        lambda a: a.transpose(1, 0, 2),
        lambda a: np.asfortranarray(a),
    ],
    ids=["flip_x", "bgr_view", "flip_y", "strided_crop", "transpose", "fortran"],
)
def test_non_contiguous_views_are_copied_to_contiguous(
    view: Callable[[np.ndarray], np.ndarray],
) -> None:
    image = _image(8, 7)
    before = image.copy()
    source = view(image)
    assert not source.flags.c_contiguous
    result = as_rgb_image(source)
    _check_layout(result, *source.shape[:2])
    np.testing.assert_array_equal(result, np.ascontiguousarray(source))
    np.testing.assert_array_equal(image, before)
    assert not np.shares_memory(result, image)


def test_non_contiguous_grayscale_and_rgba_views() -> None:
    gray = _image(8, 7, channels=None)
    np.testing.assert_array_equal(
        as_rgb_image(gray[:, ::-1]),
        cv2.cvtColor(np.ascontiguousarray(gray[:, ::-1]), cv2.COLOR_GRAY2RGB),
    )
    rgba = _image(8, 7, channels=4)
    np.testing.assert_array_equal(as_rgb_image(rgba[::-1]), rgba[::-1, :, :3])


def test_read_only_input_is_accepted() -> None:
    image = _image()
    image.flags.writeable = False
    result = as_rgb_image(image)
    np.testing.assert_array_equal(result, image)


def test_ndarray_subclass_is_accepted_as_plain_array() -> None:
    class Tagged(np.ndarray):
        pass

    image = _image().view(Tagged)
    result = as_rgb_image(image)
    assert type(result) is np.ndarray
    np.testing.assert_array_equal(result, np.asarray(image))


# ---------------------------------------------------------------------------------------------
# The input matrix through the public entry points: Pose.process (static and video mode) and
# PosePipeline.process, with the real models. Every case either converts (and then gives the
# same result as the equivalent RGB image, or no pose) or raises the documented TypeError /
# ValueError naming what was expected; none may crash.
# ---------------------------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
POSE_JPG = DATA_DIR / "tfjs" / "pose.jpg"
needs_data = pytest.mark.skipif(
    not POSE_JPG.is_file(), reason=f"shared test data not found: {POSE_JPG.resolve()}"
)

TARGETS = ("static", "video", "pipeline")


class Processor:
    """One entry point under test: ``Pose`` in static or video mode, or ``PosePipeline``.

    In video mode each call is the first frame of a new stream (``reset()`` first), so results
    are comparable between calls.
    """

    def __init__(self, target: str, **options: float) -> None:
        self.target = target
        self._pose: mp.solutions.pose.Pose | None = None
        self._pipeline: PosePipeline | None = None
        if target == "pipeline":
            self._pipeline = PosePipeline(model_complexity=0, enable_segmentation=True, **options)
        else:
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=target == "static",
                model_complexity=0,
                enable_segmentation=True,
                **options,
            )

    def __call__(self, image: object) -> PoseResult | None:
        if self._pipeline is not None:
            return self._pipeline.process(image)  # type: ignore[arg-type]
        assert self._pose is not None
        self._pose.reset()
        return self._pose.process(image).pose  # type: ignore[arg-type]

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()
        if self._pose is not None:
            self._pose.close()


@pytest.fixture(scope="module")
def processors() -> Iterator[dict[str, Processor]]:
    """The three entry points with MediaPipe's default confidences."""
    built = {target: Processor(target) for target in TARGETS}
    yield built
    for processor in built.values():
        processor.close()


@pytest.fixture(scope="module")
def forced() -> Iterator[dict[str, Processor]]:
    """The entry points with both confidences at 0: every image goes through the detector *and*
    the landmark model and returns a pose, so the whole geometry runs on degenerate inputs."""
    built = {
        target: Processor(target, min_detection_confidence=0.0, min_tracking_confidence=0.0)
        for target in TARGETS
    }
    yield built
    for processor in built.values():
        processor.close()


@pytest.fixture(scope="module")
def person() -> np.ndarray:
    """``tfjs/pose.jpg`` (one person) as RGB."""
    if not POSE_JPG.is_file():
        pytest.skip(f"shared test data not found: {POSE_JPG.resolve()}")
    bgr = cv2.imread(str(POSE_JPG))
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _check_pose(result: PoseResult, height: int, width: int) -> None:
    """A returned pose is finite, with probabilities in [0, 1] and a mask of the image's size."""
    assert result.landmarks.shape == (33, 5) and result.world_landmarks.shape == (33, 5)
    assert np.isfinite(result.landmarks).all() and np.isfinite(result.world_landmarks).all()
    for table in (result.landmarks, result.world_landmarks):
        assert ((table[:, 3:] >= 0) & (table[:, 3:] <= 1)).all()
    assert 0.0 <= result.presence_score <= 1.0
    roi = result.roi
    assert np.isfinite([roi.x_center, roi.y_center, roi.width, roi.height, roi.rotation]).all()
    mask = result.segmentation_mask
    assert mask is not None and mask.shape == (height, width) and mask.dtype == np.float32
    assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0


def _assert_same(a: PoseResult | None, b: PoseResult | None) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.world_landmarks, b.world_landmarks)
        np.testing.assert_array_equal(a.segmentation_mask, b.segmentation_mask)


# --- rejected inputs: a TypeError or ValueError that says what is expected --------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "bad",
    [None, [[[0, 0, 0]]], [[0, 1], [2, 3]], (np.zeros((4, 4, 3), np.uint8),)],
    ids=["None", "nested_list", "list_2d", "tuple_of_array"],
)
def test_non_arrays_raise_type_error(
    processors: dict[str, Processor], target: str, bad: object
) -> None:
    with pytest.raises(TypeError, match=r"expected an \(H, W, 3\) uint8 RGB numpy array"):
        processors[target](bad)


def _float_unit(rng: np.random.Generator) -> np.ndarray:
    return rng.random((32, 24, 3))


def _float_255(rng: np.random.Generator) -> np.ndarray:
    return (rng.random((32, 24, 3)) * 255).astype(np.float32)


def _float_nan_inf(rng: np.random.Generator) -> np.ndarray:
    image = rng.random((32, 24, 3)).astype(np.float32)
    image[0, 0, 0], image[1, 1, 1], image[2, 2, 2] = np.nan, np.inf, -np.inf
    return image


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("make", "dtype_name", "hint"),
    [
        (_float_unit, "float64", r"\(img \* 255\)\.clip\(0, 255\)\.astype\(np\.uint8\)"),
        (_float_255, "float32", r"\(img \* 255\)\.clip\(0, 255\)\.astype\(np\.uint8\)"),
        (_float_nan_inf, "float32", r"\(img \* 255\)\.clip\(0, 255\)\.astype\(np\.uint8\)"),
        (lambda rng: rng.integers(0, 65536, (32, 24, 3)).astype(np.uint16), "uint16", "rescale"),
        (lambda rng: rng.random((32, 24, 3)) > 0.5, "bool", "rescale"),
        (lambda rng: rng.integers(0, 256, (32, 24, 3)).astype(np.int32), "int32", "rescale"),
    ],
    ids=["float_0_1", "float_0_255", "float_nan_inf", "uint16", "bool", "int32"],
)
def test_other_dtypes_raise_value_error_with_hint(
    processors: dict[str, Processor],
    target: str,
    make: Callable[[np.random.Generator], np.ndarray],
    dtype_name: str,
    hint: str,
) -> None:
    # Values are never inspected, so NaN and inf cannot reach the pipeline.
    with pytest.raises(ValueError, match=f"dtype is {dtype_name}, expected uint8.*{hint}"):
        processors[target](make(np.random.default_rng(3)))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "shape", [(32, 24, 2), (32, 24, 5), (32,), (1, 32, 24, 3), (32, 24, 3, 1)], ids=str
)
def test_unsupported_shapes_raise_value_error(
    processors: dict[str, Processor], target: str, shape: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match=f"shape {re.escape(str(shape))}.*expected"):
        processors[target](np.zeros(shape, np.uint8))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", [(0, 24, 3), (32, 0, 3), (0, 0), (0, 0, 4), (0, 1, 1)], ids=str)
def test_zero_size_images_raise_value_error(
    processors: dict[str, Processor], target: str, shape: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match=r"image is empty.*expected"):
        processors[target](np.zeros(shape, np.uint8))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", [(2, MAX_IMAGE_SIDE + 1, 3), (MAX_IMAGE_SIDE + 1, 1)], ids=str)
def test_too_long_sides_raise_value_error(
    processors: dict[str, Processor], target: str, shape: tuple[int, ...]
) -> None:
    # Before the rule: "cv2.error: (-215:Assertion failed) ... src.cols < SHRT_MAX" in remap.
    with pytest.raises(ValueError, match=f"at most {MAX_IMAGE_SIDE} pixels"):
        processors[target](np.zeros(shape, np.uint8))


# --- converted layouts: the same result as the equivalent RGB image ---------------------------


@needs_data
@pytest.mark.parametrize("target", TARGETS)
def test_grayscale_2d_and_one_channel_equal_their_rgb_version(
    processors: dict[str, Processor], person: np.ndarray, target: str
) -> None:
    gray = cv2.cvtColor(person, cv2.COLOR_RGB2GRAY)
    expected = processors[target](cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB))
    assert expected is not None  # the person is found in grey too
    _assert_same(processors[target](gray), expected)
    _assert_same(processors[target](gray[:, :, None]), expected)


@needs_data
@pytest.mark.parametrize("target", TARGETS)
def test_rgba_equals_rgb(processors: dict[str, Processor], person: np.ndarray, target: str) -> None:
    alpha = np.random.default_rng(5).integers(0, 256, person.shape[:2], dtype=np.uint8)
    rgba = np.dstack([person, alpha])
    expected = processors[target](person)
    assert expected is not None
    _assert_same(processors[target](rgba), expected)


@needs_data
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "view",
    [lambda a: a[:, ::-1], lambda a: a[::2, ::2], lambda a: np.asfortranarray(a)],
    ids=["mirrored", "strided", "fortran"],
)
def test_non_contiguous_arrays_equal_their_contiguous_copy(
    processors: dict[str, Processor],
    person: np.ndarray,
    target: str,
    view: Callable[[np.ndarray], np.ndarray],
) -> None:
    source = view(person)
    assert not source.flags.c_contiguous
    before = person.copy()
    expected = processors[target](np.ascontiguousarray(source))
    assert expected is not None
    _assert_same(processors[target](source), expected)
    np.testing.assert_array_equal(person, before)


@needs_data
@pytest.mark.parametrize("target", TARGETS)
def test_read_only_arrays_are_processed_and_left_alone(
    processors: dict[str, Processor], person: np.ndarray, target: str
) -> None:
    frozen = person.copy()
    frozen.flags.writeable = False
    result = processors[target](frozen)
    _assert_same(result, processors[target](person.copy()))
    assert result is not None and not frozen.flags.writeable
    np.testing.assert_array_equal(frozen, person)
    # A read-only, non-contiguous view (e.g. of a decoded video frame) works as well.
    _assert_same(processors[target](frozen[:, ::-1]), processors[target](person[:, ::-1].copy()))


# --- tiny, stretched and huge images ----------------------------------------------------------

DEGENERATE_SHAPES = [
    (1, 1),
    (1, 1, 1),
    (1, 1, 3),
    (1, 1, 4),
    (1, 2, 3),
    (2, 1, 3),
    (2, 2, 3),
    (1, 4000, 3),
    (4000, 1, 3),
    (3, 4000, 3),
    (4000, 3, 3),
    (4000, 3),
    (1, MAX_IMAGE_SIDE, 3),
    (MAX_IMAGE_SIDE, 2),
]


def _noise(shape: tuple[int, ...], seed: int = 11) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", DEGENERATE_SHAPES, ids=str)
def test_tiny_and_stretched_images_give_no_pose(
    processors: dict[str, Processor], target: str, shape: tuple[int, ...]
) -> None:
    # With MediaPipe's default confidences nothing in them passes for a person.
    for fill in (_noise(shape), np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8)):
        assert processors[target](fill) is None


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", DEGENERATE_SHAPES, ids=str)
def test_tiny_and_stretched_images_at_zero_confidence_give_finite_poses(
    forced: dict[str, Processor], target: str, shape: tuple[int, ...]
) -> None:
    # At confidence 0 a "pose" always comes back: the full geometry (ROI from the detection,
    # crop, projection, mask warp) runs on a 1-pixel or 1 x 4000 image and must stay finite.
    result = forced[target](_noise(shape))
    assert result is not None
    _check_pose(result, shape[0], shape[1])


@needs_data
@pytest.mark.parametrize("target", TARGETS)
def test_very_large_image_finds_the_pose_without_copying_it(
    processors: dict[str, Processor], person: np.ndarray, target: str
) -> None:
    # pose.jpg padded to a square, then scaled 8x to 8000 x 8000 x 3 (192 MB).
    side = max(person.shape[:2])
    square = cv2.copyMakeBorder(
        person, 0, side - person.shape[0], 0, side - person.shape[1], cv2.BORDER_CONSTANT
    )
    small = cv2.resize(square, (1000, 1000), interpolation=cv2.INTER_AREA)
    large = cv2.resize(small, (8000, 8000), interpolation=cv2.INTER_LINEAR)
    expected = processors[target](small)
    assert expected is not None
    tracemalloc.start()
    try:
        result = processors[target](large)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result is not None
    _check_pose(result, 8000, 8000)
    # Same person, same place (normalised coordinates; 0.006 is 6 px of the 1000 px image).
    error = np.abs(result.landmarks[:, :2] - expected.landmarks[:, :2])
    assert np.median(error) < 0.006, error
    # Memory: the 8000 x 8000 float32 mask (256 MB) is the output; nothing else image-sized
    # (no copy of the 192 MB input, no float copy) is allocated along the way.
    mask_bytes = 8000 * 8000 * 4
    assert peak < mask_bytes + 32 * 2**20, f"peak {peak / 2**20:.0f} MiB"


# --- other arguments: timestamps and roi= -----------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_timestamps_raise_value_error(bad: float) -> None:
    image = _noise((32, 24, 3))
    with mp.solutions.pose.Pose(model_complexity=0) as pose:
        with pytest.raises(ValueError, match="finite"):
            pose.process(image, timestamp=bad)
        with pytest.raises(ValueError, match="finite"):
            pose.process(image, timestamp_us=bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="number of seconds"):
            pose.process(image, timestamp="1.0")  # type: ignore[arg-type]
        # The stream is untouched by the rejected calls.
        pose.process(image, timestamp=0.5)
        assert pose.stats.frames == 1


@pytest.mark.parametrize("static", [True, False], ids=["static", "video"])
@pytest.mark.parametrize(
    ("roi", "problem"),
    [
        (NormalizedRect(0.5, 0.5, 0.0, 0.0), "at least"),
        (NormalizedRect(0.5, 0.5, 0.5, 0.0), "at least"),
        (NormalizedRect(0.5, 0.5, -0.5, -0.5), "at least"),
        (NormalizedRect(0.5, 0.5, 1e-9, 1e-9), "at least"),
        (NormalizedRect(math.nan, 0.5, 0.5, 0.5), "not finite"),
        (NormalizedRect(0.5, 0.5, math.inf, 0.5), "not finite"),
        (NormalizedRect(0.5, 0.5, 0.5, 0.5, math.nan), "not finite"),
        (NormalizedRect(0.5, 0.5, 1e30, 1e30), "times the image's longer side"),
        (NormalizedRect(1e9, 0.5, 0.5, 0.5), "times the image's longer side"),
        ([-1e308, 0, 1e308, 1], "overflows"),
        ([0, 0, 1e308, 1.7e308], "longer side"),
        ([10, 10, 10, 20], "x_max > x_min"),
    ],
    ids=[
        "zero",
        "zero_height",
        "negative",
        "nano_px",
        "nan_centre",
        "inf_width",
        "nan_rotation",
        "huge",
        "far_away",
        "overflowing_box",
        "box_beyond_the_limit",
        "empty_box",
    ],
)
def test_unusable_rois_raise_value_error(static: bool, roi: object, problem: str) -> None:
    # Before the check, these divided by zero (ZeroDivisionError), returned NaN landmarks, or
    # failed in video mode with "cannot convert float NaN to integer".
    image = _noise((64, 48, 3))
    with mp.solutions.pose.Pose(static_image_mode=static, model_complexity=0) as pose:
        with pytest.raises(ValueError, match=re.escape(problem)):
            pose.process(image, roi=roi)  # type: ignore[arg-type]
        assert pose.stats.landmark_runs == 0


@pytest.mark.parametrize("static", [True, False], ids=["static", "video"])
def test_smallest_usable_roi_runs_for_several_frames(static: bool) -> None:
    # The smallest ROI allowed (MIN_ROI_SIDE_PX square) at confidence 0: the landmarks collapse
    # to a point, the next tracked ROI would have zero size, and used to divide by zero.
    image = _noise((64, 48, 3))
    roi = NormalizedRect(0.5, 0.5, MIN_ROI_SIDE_PX / 48, MIN_ROI_SIDE_PX / 64, 0.3)
    with mp.solutions.pose.Pose(
        static_image_mode=static,
        model_complexity=0,
        enable_segmentation=True,
        min_detection_confidence=0.0,
        min_tracking_confidence=0.0,
    ) as pose:
        for frame in range(5):
            result = pose.process(image, roi=roi if frame == 0 else None).pose
            assert result is not None
            _check_pose(result, 64, 48)


def test_coinciding_alignment_points_give_a_usable_roi() -> None:
    keypoints = np.full((4, 2), 0.5, np.float32)
    roi = detection_to_roi(keypoints, 640, 480)
    assert roi.width * 640 == pytest.approx(MIN_ROI_SIDE_PX)
    assert roi.height * 480 == pytest.approx(MIN_ROI_SIDE_PX)
    with PosePipeline(model_complexity=0, min_tracking_confidence=0.0) as pipeline:
        result = pipeline.landmarks_from_roi(_noise((480, 640, 3)), roi)
    assert result is not None and np.isfinite(result.landmarks).all()
    with pytest.raises(ValueError, match="finite"):
        detection_to_roi(np.full((4, 2), np.nan, np.float32), 640, 480)


def test_frame_size_change_in_video_mode_starts_a_new_track(person: np.ndarray) -> None:
    half = cv2.resize(person, (person.shape[1] // 2, person.shape[0] // 2))
    with mp.solutions.pose.Pose(model_complexity=0, enable_segmentation=True) as pose:
        for image, detector_runs in [(person, 1), (person, 1), (half, 2), (half, 2)]:
            result = pose.process(image).pose
            assert result is not None
            _check_pose(result, *image.shape[:2])
            assert pose.stats.detector_runs == detector_runs


def test_video_stream_of_mixed_sizes_stays_finite(forced: dict[str, Processor]) -> None:
    # Frames of changing sizes (1 x 1 up to 1 x 4000) in one stream at confidence 0. Before the
    # fix, a ROI tracked across sizes grew to 1e18 and the filters overflowed into NaN, which
    # ended in "ValueError: cannot convert float NaN to integer" after ~20 frames.
    rng = np.random.default_rng(1)
    shapes = [(1, 1, 3), (1, 4000, 3), (4000, 1, 3), (3, 4000, 3), (2, 2, 3), (5, 7, 3), (64, 64)]
    with mp.solutions.pose.Pose(
        model_complexity=0,
        enable_segmentation=True,
        min_detection_confidence=0.0,
        min_tracking_confidence=0.0,
    ) as pose:
        for _ in range(60):
            shape = shapes[rng.integers(len(shapes))]
            result = pose.process(rng.integers(0, 256, shape, dtype=np.uint8)).pose
            assert result is not None
            _check_pose(result, shape[0], shape[1])
