"""Temporal smoothing of the segmentation mask (MediaPipe's ``SegmentationSmoothingCalculator``).

Each pixel moves from the new mask value towards the previous (smoothed) one by
``ratio * uncertainty(new)``, where the uncertainty is 1 at p = 0.5 and falls to 0 for confident
pixels (a polynomial fit of a squared binary-entropy term). Confident pixels follow the new frame;
unsure ones, mostly at the person's outline, are held steadier.
"""

from __future__ import annotations

import numpy as np

#: ``pose_segmentation_filtering.pbtxt``.
COMBINE_WITH_PREVIOUS_RATIO = 0.7

_C1, _C2, _C3, _C4, _C5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717


def smooth_segmentation(
    current: np.ndarray, previous: np.ndarray, ratio: float = COMBINE_WITH_PREVIOUS_RATIO
) -> np.ndarray:
    """Blend ``current`` (float32 mask in [0, 1]) with ``previous`` (same shape); a new array."""
    if current.shape != previous.shape:
        raise ValueError(f"mask shapes differ: {current.shape} vs {previous.shape}")
    current = np.asarray(current, dtype=np.float32)
    # In place on two full-size buffers (the masks are full images): x = (p - 0.5)^2, then the
    # polynomial by Horner's rule, then out = p + (prev - p) * ratio * (1 - min(1, poly)).
    x = np.subtract(current, np.float32(0.5), dtype=np.float32)
    x *= x
    weight = x * np.float32(_C5)
    for c in (_C4, _C3, _C2, _C1):
        weight += np.float32(c)
        weight *= x
    np.minimum(weight, np.float32(1.0), out=weight)
    np.subtract(np.float32(1.0), weight, out=weight)
    weight *= np.float32(ratio)
    out = np.subtract(previous, current, out=x, dtype=np.float32)
    out *= weight
    out += current
    return out
