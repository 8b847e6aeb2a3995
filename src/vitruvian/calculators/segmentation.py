"""Segmentation mask decoding and warping back to the image (MediaPipe's
``TensorsToSegmentationCalculator`` with SIGMOID, then ``WarpAffineCalculator`` with the inverse
of the crop's transform and a zero border)."""

from __future__ import annotations

import cv2
import numpy as np

from vitruvian.calculators.tensors_to_detections import sigmoid


def tensor_to_mask(raw: np.ndarray) -> np.ndarray:
    """``(1, H, W, 1)`` or ``(H, W)`` logits -> ``(H, W)`` float32 probabilities in [0, 1]."""
    logits = np.asarray(raw, dtype=np.float32)
    if logits.ndim == 4:
        logits = logits[0, :, :, 0]
    if logits.ndim != 2:
        raise ValueError(f"expected a (1, H, W, 1) or (H, W) mask tensor, got {logits.shape}")
    return sigmoid(logits).astype(np.float32)


def mask_to_image(
    mask: np.ndarray, crop_matrix: np.ndarray, image_width: int, image_height: int
) -> np.ndarray:
    """Warp a crop-space mask back over the full image.

    Args:
        mask: ``(h, w)`` float32 mask in the crop's tensor pixels.
        crop_matrix: the 2x3 image-pixels -> tensor-pixels matrix used for the crop.

    Returns:
        ``(image_height, image_width)`` float32 in [0, 1]; zero outside the crop.
    """
    return cv2.warpAffine(
        mask,
        crop_matrix,
        (image_width, image_height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
