"""Input validation rules of vitruvian.image_input.as_rgb_image."""

from __future__ import annotations

import re
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from vitruvian.image_input import as_rgb_image


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
