"""Validation and normalisation of the images handed to the pipeline.

Every public entry point (``Pose.process``, ``PosePipeline.process``) passes its image through
:func:`as_rgb_image` first, so that all later stages can rely on one layout: a C-contiguous
``(H, W, 3)`` ``uint8`` array in RGB channel order, pixel ``(row, col)`` = ``(y, x)`` with the
origin at the top-left corner.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_IMAGE_SIDE", "as_rgb_image"]

#: The longest image side the pipeline handles, in pixels: the crops are sampled with OpenCV's
#: fixed-point ``remap``, whose source images must be narrower and lower than ``SHRT_MAX``.
MAX_IMAGE_SIDE = 32766

_EXPECTED = (
    "an (H, W, 3) uint8 RGB numpy array, e.g. cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)"
)


def _read_only(array: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``array`` (the caller's own array keeps its flags)."""
    view = array.view()
    view.flags.writeable = False
    return view


def as_rgb_image(image: object) -> np.ndarray:
    """Check an input image and return it as a C-contiguous ``(H, W, 3)`` uint8 RGB array.

    The channel order is taken on trust: a 3-channel image is assumed to be RGB already (OpenCV
    reads BGR, so convert with ``cv2.cvtColor(img, cv2.COLOR_BGR2RGB)`` first, exactly as
    MediaPipe requires). Rules, in the order they are checked:

    * ``None`` or anything that is not a ``numpy.ndarray`` (a list, a PIL image, ...) raises
      :class:`TypeError`. Convert PIL images with ``np.asarray(pil_image.convert("RGB"))``.
    * A dtype other than ``uint8`` raises :class:`ValueError` (float in [0, 1] or [0, 255],
      ``uint16``, ``bool``, other integers alike; the values are never looked at, so NaN and
      inf cannot get further). Float images in [0, 1] convert with
      ``(img * 255).clip(0, 255).astype(np.uint8)``; 16-bit images with ``(img >> 8)``
      followed by ``.astype(np.uint8)``.
    * Shapes other than ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` and ``(H, W, 4)`` raise
      :class:`ValueError` naming the shape (``(H, W, 2)`` included).
    * An empty image (``H == 0`` or ``W == 0``) raises :class:`ValueError`, and so does one
      with a side longer than :data:`MAX_IMAGE_SIDE` (32766) pixels: downscale it first, e.g.
      with ``cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)``. Every size
      in between is accepted, from 1 x 1 and 1 x 4000 to 8000 x 8000 and 1 x 32766; an image
      too small or too stretched to show a person simply gives no pose.
    * Grayscale ``(H, W)`` and ``(H, W, 1)`` images are replicated into three equal channels
      (what ``cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)`` gives).
    * 4-channel images are treated as RGBA: the alpha channel is dropped, colours are kept as
      they are (no blending against a background, no un-premultiplying).
    * Non-contiguous views (``img[:, ::-1]``, ``img[..., ::-1]``, crops with a step) are copied
      into a contiguous array; the pixel values are unchanged.

    * Read-only arrays are accepted like writeable ones.

    The caller's array is never modified. When the input already has the required layout, no
    copy is made and a *read-only view* of it is returned (so a stage that tried to write into
    it would fail loudly instead of changing the caller's image, and a large image costs no
    extra memory); in every other case the result is a fresh, writeable array.

    Args:
        image: the image, normally an ``(H, W, 3)`` uint8 RGB ``numpy.ndarray``.

    Returns:
        A C-contiguous ``(H, W, 3)`` uint8 array in RGB order.

    Raises:
        TypeError: ``image`` is not a numpy array.
        ValueError: wrong dtype, unsupported shape or channel count, an empty image, or a side
            longer than :data:`MAX_IMAGE_SIDE`.
    """
    if image is None:
        raise TypeError(f"image is None; expected {_EXPECTED}")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image is a {type(image).__name__}; expected {_EXPECTED}")
    array = np.asarray(image)  # drops ndarray subclasses such as np.matrix / np.memmap
    if array.dtype != np.uint8:
        hint = ""
        if np.issubdtype(array.dtype, np.floating):
            hint = (
                "; for a float image with values in [0, 1] use "
                "(img * 255).clip(0, 255).astype(np.uint8)"
            )
        elif np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
            hint = "; rescale to 0..255 and convert with .astype(np.uint8)"
        raise ValueError(
            f"image dtype is {array.dtype}, expected uint8 (values 0..255){hint}; "
            f"expected {_EXPECTED}"
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(
            f"image has shape {array.shape}; expected (H, W, 3) RGB, or (H, W) / (H, W, 1) "
            f"grayscale, or (H, W, 4) RGBA; i.e. {_EXPECTED}"
        )
    height, width = array.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"image is empty (shape {array.shape}); expected {_EXPECTED}")
    if max(height, width) > MAX_IMAGE_SIDE:
        raise ValueError(
            f"image is {width} x {height} pixels; sides of at most {MAX_IMAGE_SIDE} pixels are "
            f"supported, downscale it first, e.g. cv2.resize(img, None, fx=0.5, fy=0.5, "
            f"interpolation=cv2.INTER_AREA)"
        )

    if array.ndim == 2 or array.shape[2] == 1:
        gray = array.reshape(height, width, 1)
        return np.ascontiguousarray(np.broadcast_to(gray, (height, width, 3)))
    if array.shape[2] == 4:
        return np.ascontiguousarray(array[:, :, :3])
    if array.flags.c_contiguous:
        return _read_only(array)
    return np.ascontiguousarray(array)
