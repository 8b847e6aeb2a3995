"""Background effects from the segmentation mask: replace or blur everything but the person.

The mask is what ``Pose(enable_segmentation=True).process(...)`` returns: ``(H, W)`` float32 in
[0, 1], 1 on the person, at the image's size. Images are ``(H, W, 3)`` uint8 in any channel
order (the background colour is taken in the same order as the image).
"""

from __future__ import annotations

import cv2
import numpy as np

#: MediaPipe's example background: light grey.
DEFAULT_BACKGROUND = (192, 192, 192)


def _check(image: np.ndarray, mask: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError("image must be an (H, W, 3) uint8 array")
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels, got shape {image.shape}")
    if not isinstance(mask, np.ndarray) or mask.shape != image.shape[:2]:
        got = getattr(mask, "shape", type(mask).__name__)
        raise ValueError(
            f"mask must be an (H, W) array matching the image {image.shape[:2]}, got {got}"
        )


def replace_background(
    image: np.ndarray,
    mask: np.ndarray,
    background: np.ndarray | tuple[int, int, int] = DEFAULT_BACKGROUND,
    threshold: float | None = None,
) -> np.ndarray:
    """The image with its background replaced (a new array).

    Args:
        image: ``(H, W, 3)`` uint8.
        mask: ``(H, W)`` person probability in [0, 1].
        background: a colour, or an ``(H, W, 3)`` uint8 image of the same size.
        threshold: ``None`` blends softly with the mask as alpha (smooth edges); a number keeps
            the person where ``mask > threshold`` and replaces the rest outright (MediaPipe's
            example uses 0.1).
    """
    _check(image, mask)
    if isinstance(background, np.ndarray):
        if background.shape != image.shape or background.dtype != np.uint8:
            raise ValueError("a background image must be uint8 with the image's shape")
        bg = background
    else:
        bg = np.empty_like(image)
        bg[:] = np.asarray(background, dtype=np.uint8)
    if threshold is not None:
        keep = (mask > threshold)[..., None]
        return np.where(keep, image, bg)
    alpha = np.clip(mask, 0.0, 1.0).astype(np.float32)[..., None]
    out = bg.astype(np.float32)
    out += alpha * (image.astype(np.float32) - out)
    return np.rint(out).astype(np.uint8)


def blur_background(
    image: np.ndarray, mask: np.ndarray, strength: int = 31, threshold: float | None = None
) -> np.ndarray:
    """The image with its background blurred (Gaussian, kernel ``strength`` px, made odd)."""
    _check(image, mask)
    k = max(3, int(strength) | 1)
    blurred = cv2.GaussianBlur(image, (k, k), 0)
    return replace_background(image, mask, blurred, threshold)
