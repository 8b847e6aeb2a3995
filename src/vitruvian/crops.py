"""Square person crops around COCO boxes, as used by the parity goldens and tests.

This module depends only on numpy and OpenCV (no other ``vitruvian`` import), so that
``scripts/make_goldens.py`` can load it by file path inside a foreign Python environment (the
reference MediaPipe one) and build exactly the same crops as the tests do.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["MIN_CROP_SIDE", "crop_geometry", "parity_input", "person_crop"]

#: Crops smaller than this (in pixels) are upscaled to ``MIN_CROP_SIDE`` squared for parity tests.
MIN_CROP_SIDE = 256


def crop_geometry(bbox_xywh: Sequence[float], margin: float = 0.25) -> tuple[int, int, int]:
    """Integer placement of the square crop around a COCO box.

    Args:
        bbox_xywh: COCO box ``[x, y, width, height]`` in image pixels.
        margin: extra space on each side, as a fraction of the box's longer side.

    Returns:
        ``(left, top, side)``: the crop's top-left corner in image pixels (may be negative or
        beyond the image) and its side, all rounded to integers (side at least 1).
    """
    x, y, w, h = (float(v) for v in bbox_xywh)
    if w < 0 or h < 0:
        raise ValueError(f"bbox width and height must be >= 0, got {w} x {h}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    side_f = max(w, h) * (1.0 + 2.0 * margin)
    side = max(1, int(round(side_f)))
    cx = x + w / 2.0
    cy = y + h / 2.0
    left = int(round(cx - side / 2.0))
    top = int(round(cy - side / 2.0))
    return left, top, side


def person_crop(
    image: np.ndarray, bbox_xywh: Sequence[float], margin: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a square, zero-padded crop centred on a COCO person box.

    The crop's side is ``max(w, h) * (1 + 2 * margin)``; its top-left corner and side are rounded
    to whole pixels so that no resampling happens. Crop pixels that fall outside the image are 0.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` image array (any dtype).
        bbox_xywh: COCO box ``[x, y, width, height]`` in image pixels.
        margin: extra space on each side, as a fraction of the box's longer side.

    Returns:
        ``(crop, affine)``: the ``(side, side[, C])`` crop, same dtype as ``image``, and the
        ``(2, 3)`` float64 affine matrix mapping crop pixel coordinates to image pixel
        coordinates (``[x_img, y_img] = affine @ [x_crop, y_crop, 1]``; a pure translation).
    """
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    left, top, side = crop_geometry(bbox_xywh, margin)
    height, width = image.shape[:2]
    crop = np.zeros((side, side, *image.shape[2:]), dtype=image.dtype)

    src_x0, src_y0 = max(left, 0), max(top, 0)
    src_x1, src_y1 = min(left + side, width), min(top + side, height)
    if src_x1 > src_x0 and src_y1 > src_y0:
        crop[src_y0 - top : src_y1 - top, src_x0 - left : src_x1 - left] = image[
            src_y0:src_y1, src_x0:src_x1
        ]

    affine = np.array([[1.0, 0.0, float(left)], [0.0, 1.0, float(top)]], dtype=np.float64)
    return crop, affine


def parity_input(
    image: np.ndarray,
    bbox_xywh: Sequence[float],
    margin: float = 0.25,
    min_side: int = MIN_CROP_SIDE,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Build a parity-test input: :func:`person_crop`, upscaled when smaller than ``min_side``.

    A crop whose side is below ``min_side`` is resized to ``min_side x min_side`` with
    ``cv2.INTER_LINEAR``; the golden script and the parity test both go through this function.

    Args:
        image: ``(H, W, C)`` image array.
        bbox_xywh: COCO box ``[x, y, width, height]`` in image pixels.
        margin: see :func:`person_crop`.
        min_side: the smallest crop side kept as is.

    Returns:
        ``(input_image, affine, resized)``: the (possibly resized) crop, the ``(2, 3)`` affine
        mapping its pixel coordinates to the source image's, and whether it was resized.
        Coordinates are continuous with the origin at the top-left *corner* of the top-left
        pixel (normalised landmark times image size), so a resize is a pure scale.
    """
    crop, affine = person_crop(image, bbox_xywh, margin)
    side = crop.shape[0]
    if side >= min_side:
        return crop, affine, False
    resized = cv2.resize(crop, (min_side, min_side), interpolation=cv2.INTER_LINEAR)
    scale = side / float(min_side)
    affine = affine.copy()
    affine[:, :2] *= scale
    return resized, affine, True
