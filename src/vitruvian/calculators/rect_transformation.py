"""Rect enlargement and squaring (MediaPipe's ``RectTransformationCalculator``)."""

from __future__ import annotations

import math

from vitruvian.types import NormalizedRect


def normalize_radians(angle: float) -> float:
    """Wrap an angle in radians to [-pi, pi] (pi itself only through rounding).

    Raises:
        ValueError: the angle is not finite.
    """
    if not math.isfinite(angle):
        raise ValueError(f"angle must be a finite number of radians, got {angle}")
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def transform_rect(
    rect: NormalizedRect,
    image_width: int,
    image_height: int,
    scale_x: float = 1.0,
    scale_y: float = 1.0,
    shift_x: float = 0.0,
    shift_y: float = 0.0,
    square_long: bool = False,
) -> NormalizedRect:
    """Shift (in units of the rect's size, along its rotated axes), square and scale a rect.

    ``square_long`` makes the rect square in *pixels* with the longer side; scaling comes last.
    """
    width, height, rotation = rect.width, rect.height, rect.rotation
    x_center, y_center = rect.x_center, rect.y_center
    if shift_x or shift_y:
        if rotation == 0.0:
            x_center += width * shift_x
            y_center += height * shift_y
        else:
            dx = image_width * width * shift_x
            dy = image_height * height * shift_y
            c, s = math.cos(rotation), math.sin(rotation)
            x_center += (dx * c - dy * s) / image_width
            y_center += (dx * s + dy * c) / image_height
    if square_long:
        long_side = max(width * image_width, height * image_height)
        width = long_side / image_width
        height = long_side / image_height
    return NormalizedRect(x_center, y_center, width * scale_x, height * scale_y, rotation)
