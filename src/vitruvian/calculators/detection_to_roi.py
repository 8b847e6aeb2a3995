"""Region of interest from a pose detection (MediaPipe's ``PoseDetectionToRoi`` subgraph:
``AlignmentPointsRectsCalculator`` then ``RectTransformationCalculator``).

The detector's keypoint 0 is the hip midpoint and keypoint 1 a point on the circle enclosing the
body (the "Vitruvian man" circle). The ROI is centred on the hips, its side twice the radius,
rotated so the hips-to-circle-point vector points up, then enlarged 1.25x and made square.
"""

from __future__ import annotations

import math

import numpy as np

from vitruvian.calculators.rect_transformation import normalize_radians, transform_rect
from vitruvian.types import NormalizedRect

#: ``pose_detection_to_roi.pbtxt``: keypoint indices, target angle, scale.
ROTATION_START_KEYPOINT = 0
ROTATION_END_KEYPOINT = 1
TARGET_ANGLE = math.radians(90.0)
ROI_SCALE = 1.25


def compute_rotation(
    start: np.ndarray, end: np.ndarray, image_width: int, image_height: int, target_angle: float
) -> float:
    """Rotation (radians) that turns the vector ``start -> end`` (normalised points) to
    ``target_angle`` (counter-clockwise from the x axis, with y pointing up)."""
    x0, y0 = float(start[0]) * image_width, float(start[1]) * image_height
    x1, y1 = float(end[0]) * image_width, float(end[1]) * image_height
    return normalize_radians(target_angle - math.atan2(-(y1 - y0), x1 - x0))


def alignment_points_to_rect(
    center: np.ndarray, scale_point: np.ndarray, image_width: int, image_height: int
) -> NormalizedRect:
    """Square rect (in pixels) centred on ``center`` with side twice the distance to
    ``scale_point``; both points normalised. Rotation is computed by the caller."""
    xc, yc = float(center[0]) * image_width, float(center[1]) * image_height
    xs, ys = float(scale_point[0]) * image_width, float(scale_point[1]) * image_height
    size = math.hypot(xs - xc, ys - yc) * 2.0
    return NormalizedRect(
        xc / image_width, yc / image_height, size / image_width, size / image_height, 0.0
    )


def detection_to_roi(keypoints: np.ndarray, image_width: int, image_height: int) -> NormalizedRect:
    """The landmark model's ROI from a detection's ``(4, 2)`` normalised keypoints."""
    start = keypoints[ROTATION_START_KEYPOINT]
    end = keypoints[ROTATION_END_KEYPOINT]
    rect = alignment_points_to_rect(start, end, image_width, image_height)
    rotation = compute_rotation(start, end, image_width, image_height, TARGET_ANGLE)
    rect = NormalizedRect(rect.x_center, rect.y_center, rect.width, rect.height, rotation)
    return transform_rect(
        rect, image_width, image_height, scale_x=ROI_SCALE, scale_y=ROI_SCALE, square_long=True
    )


def landmarks_to_roi(
    auxiliary_landmarks: np.ndarray, image_width: int, image_height: int
) -> NormalizedRect:
    """The next frame's ROI from the 2 auxiliary alignment landmarks (``PoseLandmarksToRoi``).

    The auxiliary landmarks are the hip midpoint and a point on the body circle, like the
    detector's keypoints 0 and 1, so the ROI is built exactly as from a detection.
    """
    return detection_to_roi(np.asarray(auxiliary_landmarks)[:, :2], image_width, image_height)


def object_scale(auxiliary_landmarks: np.ndarray, image_width: int, image_height: int) -> float:
    """The person's size in pixels for landmark smoothing: the mean side of the (unscaled)
    alignment rect, i.e. twice the hips-to-circle distance."""
    rect = alignment_points_to_rect(
        auxiliary_landmarks[0, :2], auxiliary_landmarks[1, :2], image_width, image_height
    )
    return (rect.width * image_width + rect.height * image_height) / 2.0


#: A person box's ROI: a square of the box's longer side times this, centred on the box.
BOX_ROI_SCALE = 1.25


def box_to_roi(
    box: np.ndarray | tuple[float, float, float, float],
    image_width: int,
    image_height: int,
    scale: float = BOX_ROI_SCALE,
) -> NormalizedRect:
    """The landmark model's ROI for a person box from any detector (not part of MediaPipe).

    Args:
        box: ``[x_min, y_min, x_max, y_max]`` in pixels, enclosing the whole person.
        image_width, image_height: the image size in pixels.
        scale: enlargement of the square around the box (1.25, as for a detection's body
            circle, which a full-body box's longer side approximates).

    Returns:
        An unrotated square ROI (in pixels) centred on the box, normalised to the image.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (np.isfinite([x0, y0, x1, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(
            f"box must be [x_min, y_min, x_max, y_max] in pixels with x_max > x_min and "
            f"y_max > y_min, got {box!r}"
        )
    side = max(x1 - x0, y1 - y0)
    rect = NormalizedRect(
        (x0 + x1) / 2 / image_width,
        (y0 + y1) / 2 / image_height,
        side / image_width,
        side / image_height,
        0.0,
    )
    return transform_rect(rect, image_width, image_height, scale_x=scale, scale_y=scale)
