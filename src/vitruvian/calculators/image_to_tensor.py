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
#: Largest source coordinate (in 1/32 px) a fixed-point map can hold: OpenCV saturates to it.
_MAP_LIMIT = float(np.iinfo(np.int16).max * INTER_TAB_SIZE)


class CropWorkspace:
    """Reusable buffers for the crops of one tensor size: the remap maps and the uint8 crop.

    Building a crop allocates nothing once the workspace exists, which matters at video rate.
    The maps are computed exactly as :func:`warp_maps` documents (same float64 operations,
    bit-identical results); the buffers are overwritten by the next call, so a workspace belongs
    to one caller (one per model in :class:`~vitruvian.pipeline.PosePipeline`).

    Args:
        width: the tensor's width in pixels.
        height: the tensor's height in pixels.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = int(width)
        self.height = int(height)
        self._columns = np.arange(self.width, dtype=np.float64)
        self._rows = np.arange(self.height, dtype=np.float64)[:, None]
        self._column_term = np.empty((1, self.width), np.float64)
        self._row_term = np.empty((self.height, 1), np.float64)
        self._fx = np.empty((self.height, self.width), np.float64)
        self._fy = np.empty((self.height, self.width), np.float64)
        self._ix = np.empty((self.height, self.width), np.int32)
        self._iy = np.empty((self.height, self.width), np.int32)
        #: ``cv2.remap``'s fixed-point maps, see :func:`warp_maps`.
        self.map1 = np.empty((self.height, self.width, 2), np.int16)
        self.map2 = np.empty((self.height, self.width), np.uint16)
        self._crop: np.ndarray | None = None

    @property
    def crop(self) -> np.ndarray:
        """The ``(height, width, 3)`` uint8 crop buffer (allocated on first use)."""
        if self._crop is None:
            self._crop = np.empty((self.height, self.width, 3), np.uint8)
        return self._crop

    def _coordinates(self, row: np.ndarray, out: np.ndarray) -> None:
        """One source coordinate in 1/32 px for every tensor pixel, into ``out`` (float64).

        ``row`` is a row of the inverse matrix ``(a, b, c)``: the coordinate is
        ``((b * y + c) + a * x) * 32``, OpenCV 3.4's order of operations. Scaling the two terms
        by 32 before adding them gives the same doubles as scaling the sum (a power of two
        commutes with rounding), with one pass fewer over the full-size array.
        """
        np.multiply(self._rows, row[1], out=self._row_term)
        self._row_term += row[2]
        self._row_term *= INTER_TAB_SIZE
        np.multiply(self._columns, row[0], out=self._column_term[0])
        self._column_term *= INTER_TAB_SIZE
        np.add(self._row_term, self._column_term, out=out)

    def maps(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(map1, map2)`` for warping by ``matrix`` (image px -> tensor px, 2x3), in this
        workspace's buffers (valid until the next call)."""
        forward = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
        inverse = np.linalg.inv(forward)
        fx, fy = self._fx, self._fy
        self._coordinates(inverse[0], fx)
        self._coordinates(inverse[1], fy)
        # Affine: the extremes are at the corners. Saturate like OpenCV only when they are needed.
        limit = _MAP_LIMIT
        if (
            max(abs(fx[0, 0]), abs(fx[0, -1]), abs(fx[-1, 0]), abs(fx[-1, -1])) > limit
            or max(abs(fy[0, 0]), abs(fy[0, -1]), abs(fy[-1, 0]), abs(fy[-1, -1])) > limit
        ):
            np.clip(fx, -limit, limit, out=fx)
            np.clip(fy, -limit, limit, out=fy)
        x, y = self._ix, self._iy
        np.copyto(x, np.rint(fx, out=fx), casting="unsafe")  # integral values: exact
        np.copyto(y, np.rint(fy, out=fy), casting="unsafe")
        np.right_shift(x, INTER_BITS, out=self.map1[..., 0], casting="unsafe")
        np.right_shift(y, INTER_BITS, out=self.map1[..., 1], casting="unsafe")
        x &= INTER_TAB_SIZE - 1
        y &= INTER_TAB_SIZE - 1
        y <<= INTER_BITS
        y |= x
        np.copyto(self.map2, y, casting="unsafe")
        return self.map1, self.map2


def warp_maps(matrix: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-point ``cv2.remap`` maps for warping by ``matrix`` (image px -> tensor px, 2x3).

    Returns ``(map1, map2)``: ``(height, width, 2)`` int16 integer source coordinates and
    ``(height, width)`` uint16 indices of the 1/32-pixel fractions, as OpenCV 3.4's
    ``warpPerspective`` computes them for an affine matrix: the source coordinates of each
    tensor pixel in float64, times 32, rounded half to even, then split into the integer part
    and the fraction. Fresh arrays; :class:`CropWorkspace` reuses its own.
    """
    return CropWorkspace(width, height).maps(matrix)


def image_to_tensor(
    image: np.ndarray,
    matrix: np.ndarray,
    out: np.ndarray,
    value_range: tuple[float, float],
    border_zero: bool,
    workspace: CropWorkspace | None = None,
) -> None:
    """Warp ``image`` (HxWx3 uint8) with ``matrix`` into ``out`` (HxWx3 float32), in place.

    Pixels are mapped from [0, 255] to ``value_range``. Outside the image, ``border_zero`` pads
    with black (before the range mapping, as MediaPipe does); otherwise edge pixels repeat.
    ``out`` may be a view of a model's input buffer: the float conversion is written straight
    into it. ``workspace`` (for ``out``'s size) avoids allocating the maps and the crop.
    """
    height, width = out.shape[:2]
    if workspace is None:
        workspace = CropWorkspace(width, height)
    elif (workspace.height, workspace.width) != (height, width):
        raise ValueError(
            f"workspace is for {workspace.width}x{workspace.height}, out is {width}x{height}"
        )
    map1, map2 = workspace.maps(matrix)
    crop = cv2.remap(
        image,
        map1,
        map2,
        cv2.INTER_LINEAR,
        dst=workspace.crop,
        borderMode=cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE,
        borderValue=(0, 0, 0),
    )
    lo, hi = value_range
    scale = np.float32((hi - lo) / 255.0)
    np.multiply(crop, scale, out=out, casting="unsafe")
    if lo != 0.0:
        out += np.float32(lo)
