"""Segmentation mask decoding and warping back to the image (MediaPipe's
``TensorsToSegmentationCalculator`` with SIGMOID, then ``WarpAffineCalculator`` with the inverse
of the crop's transform and a zero border).

The warp is OpenCV's own bilinear kernel, which computes every output row from its row index
alone, so the result does not depend on how OpenCV splits the rows among its worker threads.
OpenCV builds that carry Intel IPP route ``warpAffine`` to IPP instead, whose float32 result
changes in the last bit with the split (and so with the number of threads, or with how busy
OpenCV's thread pool is when several threads warp at once); it is also slower here (about 7 ms
against 2 ms for a 720x1280 mask on two cores). :func:`mask_to_image` therefore turns IPP off
for its own call only: ``cv2.ipp.setUseIPP`` is per thread, and the previous setting is put back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        ``(image_height, image_width)`` float32 in [0, 1]; zero outside the crop. The same
        inputs give the same bits whatever the thread count (see the module docstring).
    """
    with _opencv_kernels_only():
        return cv2.warpAffine(
            mask,
            crop_matrix,
            (image_width, image_height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        )


@contextmanager
def _opencv_kernels_only() -> Iterator[None]:
    """Run the block with Intel IPP off in this thread (OpenCV's setting is thread-local)."""
    previous = cv2.ipp.useIPP()
    if previous:
        cv2.ipp.setUseIPP(False)
    try:
        yield
    finally:
        if previous:
            cv2.ipp.setUseIPP(True)
