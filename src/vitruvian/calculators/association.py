"""Matching people found in a frame to tracks by box overlap, with the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``; not part of MediaPipe's single-person graph)."""

from __future__ import annotations

import numpy as np

from vitruvian.calculators.person_boxes import box_iou

#: A found person and a track match only when their boxes overlap at least this much (IoU).
MIN_MATCH_IOU = 0.3


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scipy's Hungarian solver, or an ImportError that names the fix."""
    try:
        from scipy.optimize import linear_sum_assignment as solve
    except ImportError as exc:
        raise ImportError(
            "tracking several people (num_poses > 1) needs scipy: "
            "pip install 'vitruvian[multi]' (or pip install scipy)"
        ) from exc
    return solve(cost)


def match_boxes(
    found: np.ndarray, tracks: np.ndarray, min_iou: float = MIN_MATCH_IOU
) -> list[tuple[int, int]]:
    """The one-to-one matching of ``found`` boxes to ``tracks`` boxes with the largest total
    IoU, keeping pairs that overlap at least ``min_iou``.

    Args:
        found: ``(N, 4)`` pixel boxes of the people found in this frame.
        tracks: ``(M, 4)`` pixel boxes of the tracks (e.g. where each was last seen).
        min_iou: the smallest IoU of a kept pair.

    Returns:
        ``(found index, track index)`` pairs, sorted by found index.
    """
    found = np.asarray(found, np.float64).reshape(-1, 4)
    tracks = np.asarray(tracks, np.float64).reshape(-1, 4)
    if not len(found) or not len(tracks):
        return []
    iou = box_iou(found, tracks)
    rows, cols = linear_sum_assignment(1.0 - iou)
    return sorted((int(r), int(c)) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= min_iou)
