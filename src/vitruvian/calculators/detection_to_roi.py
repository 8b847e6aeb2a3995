"""Region of interest from a pose detection (MediaPipe's ``PoseDetectionToRoi`` subgraph:
``AlignmentPointsRectsCalculator`` then ``RectTransformationCalculator``).

The detector's keypoint 0 is the hip midpoint and keypoint 1 a point on the circle enclosing the
body (the "Vitruvian man" circle). The ROI is centred on the hips, its side twice the radius,
rotated so the hips-to-circle-point vector points up, then enlarged 1.25x and made square.

Degenerate geometry is handled here so that no later stage divides by zero: a ROI is never
smaller than :data:`MIN_ROI_SIDE_PX` (two alignment points that coincide give that tiny square,
on which the landmark model simply finds nothing), and non-finite keypoints raise
:class:`ValueError`. :func:`roi_problem` / :func:`check_roi` say whether a rect (e.g. one a
caller passes as ``roi=``) can be used at all.
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

#: The smallest ROI side (pixels) the pipeline works with. Real ROIs are tens to thousands of
#: pixels; this only keeps a collapsed one (coinciding alignment points) away from zero.
MIN_ROI_SIDE_PX = 1e-3
#: A usable ROI's size, and its centre's distance from the image, are at most this many times
#: the image's longer side. A tracked ROI beyond it is dropped (the detector runs instead).
MAX_ROI_EXTENT = 100.0


def roi_problem(rect: NormalizedRect, image_width: int, image_height: int) -> str | None:
    """Why ``rect`` cannot be used as a region of interest on an image, or ``None`` if it can.

    A usable rect has finite fields, a width and a height of at least :data:`MIN_ROI_SIDE_PX`
    pixels, and a size and centre within :data:`MAX_ROI_EXTENT` times the image's longer side of
    the image. (The landmark model finds nothing in a region a hundred times larger than the
    image, and the arithmetic of the crop stays far from overflow and division by zero.)

    Args:
        rect: the region, normalised to the image.
        image_width, image_height: the image size in pixels (at least 1).
    """
    values = (rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation)
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return f"has a field that is not a number ({rect!r})"
    if not all(math.isfinite(v) for v in numbers):
        return f"has a field that is not finite ({rect!r})"
    x_center, y_center, width, height, _ = numbers
    width_px, height_px = width * image_width, height * image_height
    if min(width_px, height_px) < MIN_ROI_SIDE_PX:
        return (
            f"is {width_px:g} x {height_px:g} px; width and height must be at least "
            f"{MIN_ROI_SIDE_PX:g} px"
        )
    limit = MAX_ROI_EXTENT * max(image_width, image_height)
    centre_offset = max(
        abs(x_center * image_width - image_width / 2),
        abs(y_center * image_height - image_height / 2),
    )
    if max(width_px, height_px) > limit or centre_offset > limit:
        return (
            f"is {width_px:g} x {height_px:g} px centred {centre_offset:g} px from the image "
            f"centre; a region more than {MAX_ROI_EXTENT:g} times the image's longer side "
            f"({limit:g} px) larger or farther away cannot hold the person"
        )
    return None


def check_roi(rect: NormalizedRect, image_width: int, image_height: int) -> NormalizedRect:
    """Return ``rect`` if it is usable on the image (see :func:`roi_problem`).

    Raises:
        ValueError: naming what is wrong with the rect.
    """
    problem = roi_problem(rect, image_width, image_height)
    if problem is not None:
        raise ValueError(
            f"roi {problem}; expected a NormalizedRect inside or around a "
            f"{image_width}x{image_height} image, or a box [x_min, y_min, x_max, y_max] in pixels"
        )
    return rect


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
    """The landmark model's ROI from a detection's ``(4, 2)`` normalised keypoints.

    The ROI's side is at least :data:`MIN_ROI_SIDE_PX` pixels (coinciding keypoints would give
    an empty square otherwise), so it is always square in pixels with a positive size.

    Raises:
        ValueError: the alignment keypoints (0 and 1) are not finite.
    """
    points = np.asarray(keypoints, dtype=np.float64)
    start = points[ROTATION_START_KEYPOINT, :2]
    end = points[ROTATION_END_KEYPOINT, :2]
    if not (np.isfinite(start).all() and np.isfinite(end).all()):
        raise ValueError(f"alignment keypoints must be finite, got {start} and {end}")
    rect = alignment_points_to_rect(start, end, image_width, image_height)
    rotation = compute_rotation(start, end, image_width, image_height, TARGET_ANGLE)
    rect = NormalizedRect(rect.x_center, rect.y_center, rect.width, rect.height, rotation)
    rect = transform_rect(
        rect, image_width, image_height, scale_x=ROI_SCALE, scale_y=ROI_SCALE, square_long=True
    )
    if rect.width * image_width < MIN_ROI_SIDE_PX:
        rect = NormalizedRect(
            rect.x_center,
            rect.y_center,
            MIN_ROI_SIDE_PX / image_width,
            MIN_ROI_SIDE_PX / image_height,
            rect.rotation,
        )
    return rect


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

    Raises:
        ValueError: the box is not finite, or ``x_max <= x_min`` or ``y_max <= y_min``, or its
            size or centre overflow floating point.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    message = (
        f"box must be [x_min, y_min, x_max, y_max] in pixels with x_max > x_min and "
        f"y_max > y_min, got {box!r}"
    )
    if not (np.isfinite([x0, y0, x1, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(message)
    side = max(x1 - x0, y1 - y0)
    rect = NormalizedRect(
        (x0 + x1) / 2 / image_width,
        (y0 + y1) / 2 / image_height,
        side / image_width,
        side / image_height,
        0.0,
    )
    rect = transform_rect(rect, image_width, image_height, scale_x=scale, scale_y=scale)
    if not np.isfinite([rect.x_center, rect.y_center, rect.width, rect.height]).all():
        raise ValueError(f"{message} (its size or centre overflows floating point)")
    return rect
