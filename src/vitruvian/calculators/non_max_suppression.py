"""Weighted non-maximum suppression (MediaPipe's ``NonMaxSuppressionCalculator``, WEIGHTED).

Detections are visited by decreasing score. Each one gathers every remaining detection whose IoU
with it exceeds the threshold (itself included) and is replaced by their score-weighted average
box and keypoints; it keeps its own score. A group whose scores are all 0 has no weights, so it
keeps the top detection's box and keypoints as they are (MediaPipe would divide by zero there;
the detector's sigmoid never gives an exact 0, so this only matters for direct callers). Groups
whose scores add up to less than 1e-30 are averaged in float64, where float32 would lose the
weights to underflow; every other group is averaged in float32, as MediaPipe does.
"""

from __future__ import annotations

import numpy as np

from vitruvian.calculators.tensors_to_detections import RawDetections

#: Below this total score, float32 products of coordinates and scores underflow; average in
#: float64 instead (far below any score the detector gives).
_FLOAT32_SAFE_TOTAL = 1e-30


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``[xmin, ymin, xmax, ymax]`` box with ``(K, 4)`` boxes."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_non_max_suppression(
    detections: RawDetections, iou_threshold: float = 0.3, max_detections: int | None = None
) -> RawDetections:
    """Merge overlapping detections; the result is sorted by decreasing score.

    Args:
        detections: decoded detections (any order), scores in [0, 1].
        iou_threshold: detections overlapping more than this are merged (0.3 for BlazePose).
        max_detections: stop after this many outputs (``None``: no limit).
    """
    order = np.argsort(-detections.scores, kind="stable")
    boxes, kps, scores = (
        detections.boxes[order],
        detections.keypoints[order],
        detections.scores[order],
    )
    out_boxes, out_kps, out_scores = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        top = remaining[0]
        overlap = iou(boxes[top], boxes[remaining]) > iou_threshold
        if not overlap[0]:
            # A zero-area box does not overlap itself: MediaPipe outputs it as it is and stops.
            out_boxes.append(boxes[top])
            out_kps.append(kps[top])
            out_scores.append(scores[top])
            break
        members = remaining[overlap]
        w = scores[members]
        total = w.sum()
        if total >= _FLOAT32_SAFE_TOTAL:
            out_boxes.append((boxes[members] * w[:, None]).sum(0) / total)
            out_kps.append((kps[members] * w[:, None, None]).sum(0) / total)
        elif total > 0:
            w64 = w.astype(np.float64)
            total64 = w64.sum()
            out_boxes.append((boxes[members] * w64[:, None]).sum(0) / total64)
            out_kps.append((kps[members] * w64[:, None, None]).sum(0) / total64)
        else:
            out_boxes.append(boxes[top])
            out_kps.append(kps[top])
        out_scores.append(scores[top])
        remaining = remaining[~overlap]
        if max_detections is not None and len(out_scores) >= max_detections:
            break
    if not out_scores:
        return RawDetections(
            np.zeros((0, 4), np.float32),
            np.zeros((0,) + kps.shape[1:], np.float32),
            np.zeros((0,), np.float32),
        )
    return RawDetections(
        np.asarray(out_boxes, np.float32),
        np.asarray(out_kps, np.float32),
        np.asarray(out_scores, np.float32),
    )
