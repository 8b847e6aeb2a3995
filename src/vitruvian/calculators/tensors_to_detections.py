"""Decoding of the pose detector's raw tensors (MediaPipe's ``TensorsToDetectionsCalculator``).

The detector predicts, for each of its 2254 anchors, 12 numbers: a face box ``(dx, dy, w, h)``
and 4 keypoints ``(dx, dy)``, all in detector-input pixels relative to the anchor, plus one score
logit. Decoded boxes and keypoints are normalised to [0, 1] over the letterboxed 224x224 input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DetectionDecoding:
    """The subset of ``TensorsToDetectionsCalculatorOptions`` BlazePose uses."""

    num_keypoints: int = 4
    box_coord_offset: int = 0
    keypoint_coord_offset: int = 4
    x_scale: float = 224.0
    y_scale: float = 224.0
    w_scale: float = 224.0
    h_scale: float = 224.0
    score_clipping_thresh: float = 100.0


#: Values from ``mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt``.
POSE_DETECTOR_DECODING = DetectionDecoding()


@dataclass(frozen=True)
class RawDetections:
    """Decoded detections: ``boxes`` (K, 4) ``[xmin, ymin, xmax, ymax]``, ``keypoints``
    (K, num_keypoints, 2) ``[x, y]``, ``scores`` (K,) in [0, 1]; normalised coordinates."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function; inputs are clipped to [-80, 80] so ``exp`` cannot overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def tensors_to_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    min_score: float,
    options: DetectionDecoding = POSE_DETECTOR_DECODING,
) -> RawDetections:
    """Decode the detections whose score is at least ``min_score``.

    Args:
        raw_boxes: ``(num_anchors, 4 + 2 * num_keypoints)`` regressor output (x before y).
        raw_scores: ``(num_anchors,)`` or ``(num_anchors, 1)`` score logits.
        anchors: ``(num_anchors, 4)`` from :func:`.ssd_anchors.generate_anchors`.
        min_score: minimum probability to keep (``min_detection_confidence``).
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(anchors.shape[0], -1)
    logits = np.asarray(raw_scores, dtype=np.float32).reshape(-1)
    clip = options.score_clipping_thresh
    scores = sigmoid(np.clip(logits, -clip, clip))
    keep = np.flatnonzero(scores >= min_score)
    raw = raw_boxes[keep]
    anc = anchors[keep]
    ax, ay, aw, ah = anc[:, 0:1], anc[:, 1:2], anc[:, 2:3], anc[:, 3:4]

    o = options.box_coord_offset
    xc = raw[:, o : o + 1] / options.x_scale * aw + ax
    yc = raw[:, o + 1 : o + 2] / options.y_scale * ah + ay
    w = raw[:, o + 2 : o + 3] / options.w_scale * aw
    h = raw[:, o + 3 : o + 4] / options.h_scale * ah
    boxes = np.hstack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2])

    k = options.keypoint_coord_offset
    kp = raw[:, k : k + 2 * options.num_keypoints].reshape(-1, options.num_keypoints, 2)
    keypoints = np.empty_like(kp)
    keypoints[..., 0] = kp[..., 0] / options.x_scale * aw + ax
    keypoints[..., 1] = kp[..., 1] / options.y_scale * ah + ay
    # As MediaPipe does, a box with a negative (or NaN) width or height is no detection.
    valid = ((w >= 0) & (h >= 0)).reshape(-1)
    return RawDetections(boxes[valid].astype(np.float32), keypoints[valid], scores[keep][valid])
