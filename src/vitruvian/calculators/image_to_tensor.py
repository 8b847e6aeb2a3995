"""Rotated crop of an image into a model's input tensor (MediaPipe's ``ImageToTensorCalculator``).

A region of interest is a rotated rectangle in *pixels* (:class:`PixelRect`). With
``keep_aspect_ratio`` the region is first enlarged to the tensor's aspect ratio
(:func:`pad_roi`), which letterboxes the content; the padding is returned so that results can be
mapped back (:mod:`vitruvian.calculators.letterbox_removal`).

The crop is one bilinear warp of the uint8 image straight to the tensor size, then a single
scale/offset to the model's float range, as MediaPipe's OpenCV converter does. The warp
reproduces MediaPipe's *sampling* exactly: MediaPipe 0.10.14 links OpenCV 3.4, whose
``warpPerspective`` rounds each source coordinate to 1/32 pixel and interpolates with fixed-point
weights. Recent OpenCV releases compute warps in floating point instead, which shifts the
detector's scores by up to a percent. So the source coordinates are computed here (in float64,
rounded to 1/32 pixel as OpenCV 3.4 does) and the sampling is left to ``cv2.remap`` with
fixed-point maps, whose arithmetic has not changed across OpenCV versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vitruvian.types import NormalizedRect


@dataclass(frozen=True)
class PixelRect:
    """A rotated rectangle in pixels: centre, size, rotation (radians, clockwise, y down)."""

    center_x: float
    center_y: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Padding:
    """Letterbox padding as fractions of the tensor: left, top, right, bottom."""

    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0


def roi_to_pixels(rect: NormalizedRect | None, image_width: int, image_height: int) -> PixelRect:
    """A normalised rect in pixels; ``None`` means the whole image, unrotated."""
    if rect is None:
        return PixelRect(image_width / 2.0, image_height / 2.0, image_width, image_height, 0.0)
    return PixelRect(
        rect.x_center * image_width,
        rect.y_center * image_height,
        rect.width * image_width,
        rect.height * image_height,
        rect.rotation,
    )


def pad_roi(roi: PixelRect, tensor_width: int, tensor_height: int) -> tuple[PixelRect, Padding]:
    """Enlarge ``roi`` to the tensor's aspect ratio, keeping its centre (letterboxing).

    Returns the enlarged rect and the padding it introduces, as fractions of the tensor.
    """
    target = tensor_height / tensor_width
    aspect = roi.height / roi.width
    if target > aspect:
        new_w, new_h = roi.width, roi.width * target
        vertical = (1.0 - aspect / target) / 2.0
        pad = Padding(0.0, vertical, 0.0, vertical)
    else:
        new_w, new_h = roi.height / target, roi.height
        horizontal = (1.0 - target / aspect) / 2.0
        pad = Padding(horizontal, 0.0, horizontal, 0.0)
    return PixelRect(roi.center_x, roi.center_y, new_w, new_h, roi.rotation), pad


def rect_transform(roi: PixelRect, tensor_width: int, tensor_height: int) -> np.ndarray:
    """The 2x3 affine matrix from image pixels to tensor pixels for a rotated crop.

    Tensor point ``(u * tensor_width, v * tensor_height)`` with ``u, v`` in [0, 1] comes from
    image point ``centre + R(rotation) @ ((u - 0.5) * width, (v - 0.5) * height)``; the rect's
    corners land on the tensor's corners, as with MediaPipe's ``cv::boxPoints`` mapping.
    """
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    sx = roi.width / tensor_width
    sy = roi.height / tensor_height
    # forward: tensor px -> image px
    a = np.array([[c * sx, -s * sy], [s * sx, c * sy]], dtype=np.float64)
    t = np.array([roi.center_x, roi.center_y]) - a @ np.array([tensor_width / 2, tensor_height / 2])
    inv = np.linalg.inv(a)
    return np.hstack([inv, (-inv @ t)[:, None]])


#: OpenCV's sub-pixel resolution for fixed-point warps (``INTER_TAB_SIZE``).
INTER_TAB_SIZE = 32
INTER_BITS = 5


def warp_maps(matrix: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-point ``cv2.remap`` maps for warping by ``matrix`` (image px -> tensor px, 2x3).

    Returns ``(map1, map2)``: ``(height, width, 2)`` int16 integer source coordinates and
    ``(height, width)`` uint16 indices of the 1/32-pixel fractions, as OpenCV 3.4's
    ``warpPerspective`` computes them for an affine matrix.
    """
    forward = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(forward)
    xs = np.arange(width, dtype=np.float64)
    ys = np.arange(height, dtype=np.float64)[:, None]
    # Source coordinates in 1/32 px, as OpenCV 3.4 computes them: (row term + column term) * 32.
    fx = (inverse[0, 1] * ys + inverse[0, 2]) + inverse[0, 0] * xs
    fx *= INTER_TAB_SIZE
    fy = (inverse[1, 1] * ys + inverse[1, 2]) + inverse[1, 0] * xs
    fy *= INTER_TAB_SIZE
    # Affine: the extremes are at the corners. Saturate like OpenCV only when they are needed.
    limit = np.iinfo(np.int16).max * INTER_TAB_SIZE
    if (
        max(abs(fx[0, 0]), abs(fx[0, -1]), abs(fx[-1, 0]), abs(fx[-1, -1])) > limit
        or max(abs(fy[0, 0]), abs(fy[0, -1]), abs(fy[-1, 0]), abs(fy[-1, -1])) > limit
    ):
        np.clip(fx, -limit, limit, out=fx)
        np.clip(fy, -limit, limit, out=fy)
    x = np.rint(fx, out=fx).astype(np.int32)
    y = np.rint(fy, out=fy).astype(np.int32)
    map1 = np.empty((height, width, 2), np.int16)
    np.right_shift(x, INTER_BITS, out=map1[..., 0], casting="unsafe")
    np.right_shift(y, INTER_BITS, out=map1[..., 1], casting="unsafe")
    x &= INTER_TAB_SIZE - 1
    y &= INTER_TAB_SIZE - 1
    y <<= INTER_BITS
    y |= x
    return map1, y.astype(np.uint16)


def image_to_tensor(
    image: np.ndarray,
    matrix: np.ndarray,
    out: np.ndarray,
    value_range: tuple[float, float],
    border_zero: bool,
) -> None:
    """Warp ``image`` (HxWx3 uint8) with ``matrix`` into ``out`` (HxWx3 float32), in place.

    Pixels are mapped from [0, 255] to ``value_range``. Outside the image, ``border_zero`` pads
    with black (before the range mapping, as MediaPipe does); otherwise edge pixels repeat.
    """
    height, width = out.shape[:2]
    map1, map2 = warp_maps(matrix, width, height)
    crop = cv2.remap(
        image,
        map1,
        map2,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE,
        borderValue=(0, 0, 0),
    )
    lo, hi = value_range
    scale = np.float32((hi - lo) / 255.0)
    np.multiply(crop, scale, out=out, casting="unsafe")
    if lo != 0.0:
        out += np.float32(lo)
