"""Goldens for web/src/calculators/refine_from_heatmap.ts: landmarks refined from a heatmap.

A seeded random non-square heatmap (40 rows, 32 columns, 39 channels of logits, with peaks near
some landmarks) and landmarks inside, on the borders of and outside the tensor (one NaN), refined
with the default 9-cell window and threshold, a 7-cell window, an even (4 -> 3-cell) and a 1-cell
window, a high and a low threshold, and for landmarks all outside (unchanged). Also the window
sums of ``numpy`` in pairwise order for random float32 vectors of several lengths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.refine_from_heatmap import (
    KERNEL_SIZE,
    MIN_CONFIDENCE_TO_REFINE,
    refine_from_heatmap,
)

HM_H, HM_W, N = 40, 32, 39


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(4242)
    landmarks = np.empty((N, 5), np.float32)
    landmarks[:, 0] = rng.uniform(-0.15, 1.15, N)
    landmarks[:, 1] = rng.uniform(-0.15, 1.15, N)
    landmarks[:, 2:] = rng.normal(0.0, 1.0, (N, 3))
    # Borders: truncation toward zero keeps -0.01 in cell 0; 1.0 is outside; NaN is outside.
    landmarks[0, :2] = [0.0, 0.0]
    landmarks[1, :2] = [-0.01, -0.02]
    landmarks[2, :2] = [0.999, 0.999]
    landmarks[3, :2] = [1.0, 0.5]
    landmarks[4, :2] = [0.5, 1.0]
    landmarks[5, :2] = [np.nan, 0.5]
    landmarks[6, :2] = [0.02, 0.97]
    heatmap = rng.normal(-3.0, 2.5, (HM_H, HM_W, N)).astype(np.float32)
    # Confident blobs around most landmarks' cells, off-centre so refinement moves them.
    for n in range(N):
        if rng.random() < 0.25:
            continue
        cy = landmarks[n, 1] * HM_H + rng.normal(0.0, 2.0)
        cx = landmarks[n, 0] * HM_W + rng.normal(0.0, 2.0)
        yy, xx = np.mgrid[0:HM_H, 0:HM_W]
        blob = 6.0 * np.exp(-((yy + 0.5 - cy) ** 2 + (xx + 0.5 - cx) ** 2) / 8.0)
        heatmap[:, :, n] += np.nan_to_num(blob).astype(np.float32)
    heatmap[0, 0, 0] = 40.0
    outside = landmarks.copy()
    outside[:, 0] = 1.5
    cases = []
    for name, marks, kernel, threshold in (
        ("default", landmarks, KERNEL_SIZE, MIN_CONFIDENCE_TO_REFINE),
        ("kernel7", landmarks, 7, MIN_CONFIDENCE_TO_REFINE),
        ("kernel4", landmarks, 4, MIN_CONFIDENCE_TO_REFINE),
        ("kernel1", landmarks, 1, 0.1),
        ("high_threshold", landmarks, KERNEL_SIZE, 0.97),
        ("low_threshold", landmarks, KERNEL_SIZE, 0.05),
        ("all_outside", outside, KERNEL_SIZE, MIN_CONFIDENCE_TO_REFINE),
    ):
        with np.errstate(invalid="ignore"):  # the NaN landmark's int cast
            refined = refine_from_heatmap(marks, heatmap, kernel, threshold)
        cases.append(
            {
                "name": name,
                "landmarks": marks,
                "kernel_size": kernel,
                "min_confidence_to_refine": threshold,
                "refined": refined,
            }
        )
    sums = []
    for length in (1, 5, 8, 9, 49, 81, 128, 129, 300, 1000):
        values = (rng.random(length) * 10.0 ** rng.uniform(-3, 3, length)).astype(np.float32)
        sums.append({"values": values, "sum": values.sum()})
    return {
        "kernel_size": KERNEL_SIZE,
        "min_confidence_to_refine": MIN_CONFIDENCE_TO_REFINE,
        "heatmap_shape": [HM_H, HM_W, N],
        "heatmap": heatmap.ravel(),
        "cases": cases,
        "sums": sums,
    }
