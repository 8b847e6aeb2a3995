"""Goldens for web/src/calculators/segmentation.ts: segmentation logits to a probability mask.

Seeded random logit tensors of shape ``(1, H, W, 1)`` (the model's, non-square), ``(H, W)`` and
``(2, H, W, 3)`` (the first batch item's first channel is used), with logits from about -30 to
30, exact 0, beyond the [-80, 80] clip and infinite, decoded by ``tensor_to_mask``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.segmentation import tensor_to_mask


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(1234)
    cases = []
    for shape in ((1, 24, 17, 1), (19, 23), (2, 11, 13, 3)):
        logits = rng.normal(0.0, 8.0, shape).astype(np.float32)
        flat = logits.reshape(-1)
        flat[:8] = [0.0, -0.0, 80.0, -80.0, 95.0, -300.0, np.inf, -np.inf]
        cases.append({"shape": list(shape), "raw": flat, "mask": tensor_to_mask(logits)})
    return {"cases": cases}
