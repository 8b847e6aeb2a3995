"""Goldens for web/src/calculators/non_max_suppression.ts: weighted non-maximum suppression.

Seeded random clusters of overlapping detections (groups of 1 to 200, so numpy's pairwise sum of
the scores takes each of its paths), tied scores, a pair whose float32 IoU is exactly the
threshold (not merged), a zero-area box on top, a group whose scores are all 0, groups whose
scores add up to less than 1e-30 (averaged in float64), NaN scores, no detections, thresholds 0.3,
0 and 0.7, ``max_detections`` 1 and 2, and float64 detections. Also IoUs of one box with others.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.calculators.non_max_suppression import iou, weighted_non_max_suppression
from vitruvian.calculators.tensors_to_detections import RawDetections


def _clusters(rng: np.random.Generator, sizes: list[int], nk: int = 4) -> RawDetections:
    boxes, kps, scores = [], [], []
    for size in sizes:
        centre = rng.uniform(0.2, 0.8, 2)
        half = rng.uniform(0.05, 0.2, 2)
        jitter = rng.normal(0.0, 0.01, (size, 4))
        box = np.concatenate([centre - half, centre + half]) + jitter
        boxes.append(box)
        kps.append(centre + rng.normal(0.0, 0.05, (size, nk, 2)))
        scores.append(rng.uniform(0.5, 1.0, size))
    return RawDetections(
        np.concatenate(boxes).astype(np.float32),
        np.concatenate(kps).astype(np.float32),
        np.concatenate(scores).astype(np.float32),
    )


def _shuffled(rng: np.random.Generator, d: RawDetections) -> RawDetections:
    order = rng.permutation(len(d.scores))
    return RawDetections(d.boxes[order], d.keypoints[order], d.scores[order])


def _case(name: str, d: RawDetections, iou_threshold: float = 0.3, max_detections=None):
    out = weighted_non_max_suppression(d, iou_threshold, max_detections)
    nk2 = 2 * d.keypoints.shape[1]
    return {
        "name": name,
        "dtype": str(d.boxes.dtype),
        "scores_dtype": str(d.scores.dtype),
        "boxes": d.boxes,
        "keypoints": d.keypoints.reshape(len(d.scores), nk2),
        "scores": d.scores,
        "iou_threshold": iou_threshold,
        "max_detections": max_detections,
        "out_boxes": out.boxes,
        "out_keypoints": out.keypoints.reshape(len(out.scores), nk2),
        "out_scores": out.scores,
    }


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(9031)
    clusters = _shuffled(rng, _clusters(rng, [1, 3, 7, 8, 9, 16, 17, 40, 129, 200]))
    cases = [
        _case("clusters", clusters),
        _case("clusters, threshold 0", clusters, 0.0),
        _case("clusters, threshold 0.7", clusters, 0.7),
        _case("clusters, at most 1", clusters, 0.3, 1),
        _case("clusters, at most 2", clusters, 0.3, 2),
    ]
    # Tied scores: the first in input order leads.
    tied = _clusters(rng, [5, 5, 12])
    tied.scores[:] = np.float32(0.75)
    tied.scores[5:10] = np.float32(0.5)
    cases.append(_case("tied scores", _shuffled(rng, tied)))
    # IoU exactly float32(0.3): equal to the threshold in float32, so not merged (in float64 it
    # would be above 0.3). Then a zero-area box on top: output alone, and the rest dropped.
    # (Intersection 0.375 and union 1.25 are exact in float32.)
    edge_boxes = np.array(
        [[0, 0, 0.5, 1], [0.125, 0, 1.25, 1], [2, 2, 2, 3], [2, 2, 2.5, 3]], np.float32
    )
    edge_kps = rng.uniform(0, 1, (4, 4, 2)).astype(np.float32)
    at = RawDetections(edge_boxes[:2], edge_kps[:2], np.array([0.9, 0.8], np.float32))
    assert iou(at.boxes[0], at.boxes[1:])[0] == np.float32(0.3)
    cases.append(_case("IoU at the threshold", at))
    zero = RawDetections(edge_boxes[1:], edge_kps[1:], np.array([0.7, 0.95, 0.6], np.float32))
    cases.append(_case("zero-area box on top", zero))
    # Scores all 0; scores adding up to less than 1e-30 (float32 subnormal products); NaN.
    small = _clusters(rng, [6, 4, 10, 3])
    small.scores[:6] = 0.0
    small.scores[6:10] = np.float32(3e-31)
    small.scores[10:20] = rng.uniform(1e-40, 1e-39, 10).astype(np.float32)
    small.scores[20:23] = [np.nan, 0.6, np.nan]
    cases.append(_case("zero, tiny and NaN scores", _shuffled(rng, small)))
    empty = RawDetections(
        np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
    )
    cases.append(_case("no detections", empty))
    one = _clusters(rng, [1], nk=2)
    cases.append(_case("one detection, 2 keypoints", one))
    c64 = _clusters(rng, [4, 11, 30])
    d64 = RawDetections(
        c64.boxes.astype(np.float64) + rng.normal(0, 1e-9, c64.boxes.shape),
        c64.keypoints.astype(np.float64),
        c64.scores.astype(np.float64),
    )
    cases.append(_case("float64", _shuffled(rng, d64)))
    box = np.array([0.2, 0.3, 0.6, 0.9], np.float32)
    others = rng.uniform(0.0, 1.0, (40, 4)).astype(np.float32)
    others[:6] = [
        [0.2, 0.3, 0.6, 0.9],
        [0.7, 0.0, 0.9, 0.2],
        [0.3, 0.4, 0.5, 0.5],
        [0.4, 0.4, 0.4, 0.8],
        [0.6, 0.9, 0.2, 0.3],
        [0.0, 0.0, 1.0, 1.0],
    ]
    return {"cases": cases, "iou": {"box": box, "boxes": others, "iou": iou(box, others)}}
