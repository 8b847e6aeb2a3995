"""Goldens for web/src/calculators/detection_to_roi.ts: ROIs from detections, landmarks and boxes.

Seeded random detection keypoints on landscape, portrait, square and 1 x 1 images; the body
circle straight above the hips (rotation 0), straight below (rotation +-pi, the wrap-around) and
just either side of it, left and right; coinciding points (the minimum ROI); points far outside
the image. Auxiliary landmarks to ROI and object scale. Person boxes to ROI, valid and invalid.
Rects checked by ``roi_problem``/``check_roi``, with the messages (``:g`` formatting, rounding
ties to even included). Non-finite keypoints raise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vitruvian.calculators.detection_to_roi import (
    BOX_ROI_SCALE,
    MAX_ROI_EXTENT,
    MIN_ROI_SIDE_PX,
    ROI_SCALE,
    ROTATION_END_KEYPOINT,
    ROTATION_START_KEYPOINT,
    TARGET_ANGLE,
    box_to_roi,
    check_roi,
    detection_to_roi,
    landmarks_to_roi,
    object_scale,
    roi_problem,
)
from vitruvian.types import NormalizedRect


def rect_dict(rect: NormalizedRect) -> dict[str, float]:
    return {
        "xCenter": rect.x_center,
        "yCenter": rect.y_center,
        "width": rect.width,
        "height": rect.height,
        "rotation": rect.rotation,
    }


def _error(call) -> str | None:
    try:
        call()
    except ValueError as error:
        return str(error)
    return None


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(97531)
    sizes = [(640, 480), (480, 640), (256, 256), (1, 1), (1920, 1080)]
    tiny = 1e-9
    fixed = [
        [[0.5, 0.6], [0.5, 0.3]],  # circle point straight up: rotation 0
        [[0.5, 0.4], [0.5, 0.7]],  # straight down: pi wraps to -pi
        [[0.5, 0.4], [0.5 + tiny, 0.7]],  # just right of down: just below +pi
        [[0.5, 0.4], [0.5 - tiny, 0.7]],  # just left of down: above pi, wraps to just above -pi
        [[0.5, 0.5], [0.8, 0.5]],  # right
        [[0.5, 0.5], [0.2, 0.5]],  # left
        [[0.3, 0.3], [0.3, 0.3]],  # coinciding: the minimum ROI
        [[0.3, 0.3], [0.3 + 1e-12, 0.3]],  # nearly coinciding
        [[-3.0, 4.5], [7.0, -2.0]],  # far outside
    ]
    detections = []
    for i in range(40):
        width, height = sizes[i % len(sizes)]
        if i < len(fixed):
            points = np.zeros((4, 2))
            points[:2] = fixed[i]
            points[2:] = rng.uniform(0, 1, (2, 2))
        else:
            points = rng.uniform(-0.2, 1.2, (4, 2))
        if i >= len(fixed) and i % 3 == 0:
            points = points.astype(np.float32)  # float32 keypoints, as the detector gives
        detections.append(
            {
                "keypoints": points.reshape(-1),
                "image_width": width,
                "image_height": height,
                "roi": rect_dict(detection_to_roi(points, width, height)),
            }
        )
    bad_points = []
    for value in (math.nan, math.inf):
        points = np.full((4, 2), 0.5)
        points[1, 0] = value
        message = _error(lambda p=points: detection_to_roi(p, 64, 48))
        bad_points.append({"keypoints": points.reshape(-1), "message": message})
    points = np.full((4, 2), 0.5)
    points[3] = math.nan  # keypoints 2 and 3 are not used
    ignored = {"keypoints": points.reshape(-1), "roi": rect_dict(detection_to_roi(points, 64, 48))}
    landmarks = []
    for i in range(6):
        width, height = sizes[i % len(sizes)]
        aux = rng.uniform(-0.1, 1.1, (2, 5)).astype(np.float32)
        landmarks.append(
            {
                "aux": aux,
                "image_width": width,
                "image_height": height,
                "roi": rect_dict(landmarks_to_roi(aux, width, height)),
                "object_scale": object_scale(aux, width, height),
            }
        )
    boxes = []
    box_inputs = [
        ([10.0, 20.0, 110.0, 320.0], BOX_ROI_SCALE),
        ([-50.5, 3.25, 700.0, 90.0], 1.5),
        ([0.0, 0.0, 1.0, 1.0], 1.0),
        ([5.0, 5.0, 5.0, 9.0], BOX_ROI_SCALE),
        ([5.0, 9.0, 7.0, 2.0], BOX_ROI_SCALE),
        ([math.nan, 0.0, 10.0, 10.0], BOX_ROI_SCALE),
        ([0.0, -math.inf, 10.0, 10.0], BOX_ROI_SCALE),
        ([-1e308, 0.0, 1e308, 10.0], BOX_ROI_SCALE),
        ([1e-05, 2e16, 0.125, 3e16], BOX_ROI_SCALE),
        ([0.0001, 1e16, 1e-05, 123456789.5], BOX_ROI_SCALE),
        ([-0.0, 1234567890123456.8, 0.30000000000000004, 1e-300], BOX_ROI_SCALE),
    ]
    for box, scale in box_inputs:
        try:
            roi = rect_dict(box_to_roi(box, 640, 480, scale))
            message = None
        except ValueError as error:
            roi = None
            message = str(error)
        boxes.append({"box": box, "scale": scale, "roi": roi, "message": message})
    rects = [
        NormalizedRect(0.5, 0.5, 0.4, 0.6, 0.2),
        NormalizedRect(math.nan, 0.5, 0.4, 0.6, 0.0),
        NormalizedRect(0.5, 0.5, 0.4, 0.6, math.inf),
        NormalizedRect(0.5, 0.5, 1e-7, 0.6, 0.0),
        NormalizedRect(0.5, 0.5, -3.5, 0.6, 0.0),
        NormalizedRect(0.5, 0.5, 0.4, 9.999995e-7, 0.0),
        NormalizedRect(0.5, 0.5, 12345.25, 0.25, 0.0),
        NormalizedRect(0.5, 0.5, 999999.5, 1234565.0, 0.0),
        NormalizedRect(0.5, 0.5, 123.456789e-10, 1.0, 0.0),
        NormalizedRect(300.0, 0.5, 0.4, 0.6, 0.0),
        NormalizedRect(0.5, -250.0, 0.4, 0.6, 0.0),
        NormalizedRect(0.5, 0.5, 100.0, 100.0, 0.0),
        NormalizedRect(0.5, 0.5, 100.00001, 100.0, 0.0),
        NormalizedRect(1e-05, 1e16, 0.5, 0.5, -0.0),
        NormalizedRect(0.5, 0.5, 1e200, 1e200, 0.0),
        NormalizedRect(1e-05, 1e16, math.nan, 0.5, -0.0),
        NormalizedRect(0.0001, 123456789.5, 1e300, -math.inf, 5e-324),
    ]
    problems = []
    for rect in rects:
        for width, height in ((1, 1), (640, 480)):
            problems.append(
                {
                    "rect": rect_dict(rect),
                    "image_width": width,
                    "image_height": height,
                    "problem": roi_problem(rect, width, height),
                    "check": _error(lambda r=rect, w=width, h=height: check_roi(r, w, h)),
                }
            )
    return {
        "constants": {
            "ROTATION_START_KEYPOINT": ROTATION_START_KEYPOINT,
            "ROTATION_END_KEYPOINT": ROTATION_END_KEYPOINT,
            "TARGET_ANGLE": TARGET_ANGLE,
            "ROI_SCALE": ROI_SCALE,
            "MIN_ROI_SIDE_PX": MIN_ROI_SIDE_PX,
            "MAX_ROI_EXTENT": MAX_ROI_EXTENT,
            "BOX_ROI_SCALE": BOX_ROI_SCALE,
        },
        "detections": detections,
        "bad_points": bad_points,
        "ignored": ignored,
        "landmarks": landmarks,
        "boxes": boxes,
        "problems": problems,
    }
