"""Goldens for web/src/calculators/ssd_anchors.ts: the pose detector's anchors."""

from __future__ import annotations

from typing import Any

from vitruvian.calculators.ssd_anchors import POSE_DETECTOR_ANCHORS, generate_anchors


def goldens() -> dict[str, Any]:
    return {"options": POSE_DETECTOR_ANCHORS, "anchors": generate_anchors(POSE_DETECTOR_ANCHORS)}
