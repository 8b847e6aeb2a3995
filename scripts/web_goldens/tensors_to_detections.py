"""Goldens for web/src/calculators/tensors_to_detections.ts: decoded detector tensors.

Seeded random regressor outputs and score logits for the pose detector's 2254 anchors (some boxes
with negative or NaN sizes; logits 0, beyond the clip at +-100 and at it, +-inf, NaN), decoded at
several ``min_score`` values (0.5 as the pipeline, one that float32 rounds to 0.5, 0, 1 and one
no score reaches); float64 anchors; custom options (keypoints first, 2 keypoints, scales that are
no float32, a clip of 3.7). The sigmoid on float32 and float64 arrays.

numpy's vectorised float32 ``exp`` is within 2 ulps, not correctly rounded, so a score within a
few float32 ulps of ``min_score`` could be kept in Python and dropped in TypeScript; the cases
are checked here to have no score within 8 ulps of it (apart from exact ones: logit 0 gives 0.5,
a logit of at least 20 gives 1).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from vitruvian.calculators.ssd_anchors import POSE_DETECTOR_ANCHORS, generate_anchors
from vitruvian.calculators.tensors_to_detections import (
    POSE_DETECTOR_DECODING,
    DetectionDecoding,
    sigmoid,
    tensors_to_detections,
)


def _camel(options: DetectionDecoding) -> dict[str, Any]:
    parts = {k: v for k, v in asdict(options).items()}
    return {
        "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v
        for k, v in parts.items()
    }


def _check_margin(logits: np.ndarray, min_score: float, clip: float) -> None:
    logits = np.asarray(logits, np.float32).reshape(-1)
    clipped = np.clip(logits, -clip, clip)
    scores = sigmoid(clipped)
    exact = (clipped == 0) | (np.abs(clipped) >= 20) | np.isnan(clipped)
    threshold = np.float32(min_score)
    margin = 8 * np.spacing(threshold)  # numpy's exp and Math.exp differ by at most ~2 ulps
    fragile = (np.abs(scores - threshold) < margin) & ~exact
    assert not fragile.any(), f"scores within {margin} of min_score {min_score}: {scores[fragile]}"


def _case(name, raw_boxes, raw_scores, anchors, min_score, options=POSE_DETECTOR_DECODING):
    _check_margin(raw_scores, min_score, options.score_clipping_thresh)
    out = tensors_to_detections(raw_boxes, raw_scores, anchors, min_score, options)
    return {
        "name": name,
        "raw_boxes": np.asarray(raw_boxes, np.float32).ravel(),
        "raw_scores": np.asarray(raw_scores, np.float32).ravel(),
        "anchors": anchors,
        "anchors_dtype": str(anchors.dtype),
        "min_score": min_score,
        "options": _camel(options),
        "boxes": out.boxes,
        "keypoints": out.keypoints.reshape(len(out.scores), 2 * options.num_keypoints),
        "scores": out.scores,
        "count": len(out.scores),
    }


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(4217)
    anchors = generate_anchors(POSE_DETECTOR_ANCHORS)
    n = anchors.shape[0]
    raw = np.empty((n, 12), np.float64)
    raw[:, 0:2] = rng.normal(0.0, 12.0, (n, 2))
    raw[:, 2:4] = rng.uniform(-30.0, 160.0, (n, 2))
    raw[:, 4:] = rng.normal(0.0, 70.0, (n, 8))
    raw = raw.astype(np.float32)
    raw[5, 2] = np.nan
    raw[6, 3] = -0.0
    raw[7, 2:4] = 0.0
    logits = rng.normal(-3.0, 7.0, n).astype(np.float32)
    edge = [0.0, -0.0, 0.0, 100.0, -100.0, 150.0, -150.0, 80.0, -80.0, 99.99, 100.0001]
    edge += [np.inf, -np.inf, np.nan, 25.0, 40.0, 1e-3, -1e-3]
    logits[: len(edge)] = edge
    logits[3:8] = [0.0, 30.0, 25.0, 0.0, 50.0]  # boxes with NaN, -0 and 0 sizes, scored high
    logits[100:120] = 60.0  # a group of sure detections
    cases = [
        _case("pipeline", raw, logits, anchors, 0.5),
        _case("rounds to 0.5", raw, logits.reshape(-1, 1), anchors, 0.5 + 1e-9),
        _case("all", raw, logits, anchors, 0.0),
        # Scores of exactly 1 only: logits between 12 and 20 (scores a few ulps below 1) moved.
        _case("sure", raw, np.where((logits > 12) & (logits < 20), 10.0, logits), anchors, 1.0),
        _case("none", raw, np.minimum(logits, 5.0), anchors, 0.9999),
        _case("float64 anchors", raw, logits, anchors.astype(np.float64), 0.4),
    ]
    custom = DetectionDecoding(
        num_keypoints=2,
        box_coord_offset=4,
        keypoint_coord_offset=0,
        x_scale=192.3,
        y_scale=160.7,
        w_scale=190.1,
        h_scale=150.9,
        score_clipping_thresh=3.7,
    )
    m = 50
    small_anchors = np.column_stack(
        [rng.uniform(0, 1, (m, 2)), rng.uniform(0.05, 1.5, (m, 2))]
    ).astype(np.float32)
    small_raw = rng.normal(0.0, 40.0, (m, 8)).astype(np.float32)
    small_logits = rng.normal(0.0, 6.0, m).astype(np.float32)
    small_logits[:4] = [3.7, -3.7, 3.70001, 1e6]
    cases.append(_case("custom options", small_raw, small_logits, small_anchors, 0.3, custom))
    cases.append(_case("clipped to 3.7", small_raw, small_logits, small_anchors, 0.97, custom))
    sig32 = np.array([0, -0.0, 1, -1, 5.5, -17, 80, -80, 81, -81, 1e4, -1e4, np.inf, -np.inf])
    sig32 = np.concatenate([sig32, rng.normal(0, 10, 200)]).astype(np.float32)
    sig32[-1] = np.nan
    sig64 = np.concatenate([sig32.astype(np.float64), rng.normal(0, 10, 50)])
    return {
        "options": _camel(POSE_DETECTOR_DECODING),
        "cases": cases,
        "sigmoid": {
            "float32": {"x": sig32, "y": sigmoid(sig32)},
            "float64": {"x": sig64, "y": sigmoid(sig64)},
        },
    }
