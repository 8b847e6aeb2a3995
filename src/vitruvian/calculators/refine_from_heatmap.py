"""Landmark refinement from the heatmap (MediaPipe's ``RefineLandmarksFromHeatmapCalculator``).

For each landmark, the heatmap window (``kernel_size`` square, clipped at the borders) around its
cell is passed through a sigmoid; if the window's maximum confidence reaches
``min_confidence_to_refine`` the landmark's x, y become the confidence-weighted mean cell
position divided by the heatmap size. Vectorised over landmarks and window cells.
"""

from __future__ import annotations

import numpy as np

from vitruvian.calculators.tensors_to_detections import sigmoid

#: ``tensors_to_pose_landmarks_and_segmentation.pbtxt`` asks for a 7x7 window, but MediaPipe
#: 0.10.14's Python solution runs the calculator with its default, 9: its results match a 9x9
#: window to float precision and differ by up to ~15 px from a 7x7 one (measured on
#: ``coco/000000551757.jpg``, see ``tests/test_parity.py``). Drop-in parity wins; tfjs uses 7.
KERNEL_SIZE = 9
MIN_CONFIDENCE_TO_REFINE = 0.5


def refine_from_heatmap(
    landmarks: np.ndarray,
    heatmap: np.ndarray,
    kernel_size: int = KERNEL_SIZE,
    min_confidence_to_refine: float = MIN_CONFIDENCE_TO_REFINE,
) -> np.ndarray:
    """Refined copy of ``landmarks`` (``(N, >=2)``, normalised over the tensor).

    Args:
        heatmap: ``(H, W, N)`` raw logits, one channel per landmark.
    """
    hm_h, hm_w, channels = heatmap.shape
    if channels != landmarks.shape[0]:
        raise ValueError(f"heatmap has {channels} channels for {landmarks.shape[0]} landmarks")
    out = np.array(landmarks, dtype=np.float32, copy=True)
    # C++ int conversion truncates toward zero.
    col = np.trunc(out[:, 0] * hm_w).astype(np.int64)
    row = np.trunc(out[:, 1] * hm_h).astype(np.int64)
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        return out
    offset = (kernel_size - 1) // 2
    steps = np.arange(-offset, offset + 1)
    rows = row[idx, None] + steps[None, :]  # (n, k)
    cols = col[idx, None] + steps[None, :]
    valid = ((rows >= 0) & (rows < hm_h))[:, :, None] & ((cols >= 0) & (cols < hm_w))[
        :, None, :
    ]  # (n, k, k)
    r = np.clip(rows, 0, hm_h - 1)[:, :, None]
    c = np.clip(cols, 0, hm_w - 1)[:, None, :]
    conf = sigmoid(heatmap[r, c, idx[:, None, None]].astype(np.float32)) * valid
    total = conf.sum(axis=(1, 2))
    peak = conf.max(axis=(1, 2))
    wcol = (conf * cols[:, None, :]).sum(axis=(1, 2))
    wrow = (conf * rows[:, :, None]).sum(axis=(1, 2))
    ok = (peak >= min_confidence_to_refine) & (total > 0)
    sel = idx[ok]
    out[sel, 0] = wcol[ok] / hm_w / total[ok]
    out[sel, 1] = wrow[ok] / hm_h / total[ok]
    return out
