"""Goldens for web/src/calculators/rect_transformation.ts: angle wrapping and rect transforms.

Angles: seeded random ones in [-20, 20], multiples of pi and the values either side of +-pi
(the wrap-around), zeros, huge ones, and non-finite ones (which raise). Rects: seeded random
ones (rotated and not, -0 rotation), shifted (also by NaN, which Python treats as true), squared
with the longer side in pixels and scaled, on landscape, portrait and 1 x 1 images.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vitruvian.calculators.rect_transformation import normalize_radians, transform_rect
from vitruvian.types import NormalizedRect


def rect_dict(rect: NormalizedRect) -> dict[str, float]:
    return {
        "xCenter": rect.x_center,
        "yCenter": rect.y_center,
        "width": rect.width,
        "height": rect.height,
        "rotation": rect.rotation,
    }


def goldens() -> dict[str, Any]:
    rng = np.random.default_rng(2468)
    pi = math.pi
    angles = [0.0, -0.0, pi, -pi, 2 * pi, -2 * pi, 3 * pi, -3 * pi, pi / 2, -pi / 2]
    angles += [math.nextafter(pi, 4.0), math.nextafter(pi, 0.0), math.nextafter(-pi, -4.0)]
    angles += [math.nextafter(-pi, 0.0), 1e10, -1e10, 1e300, 5e-324, 7.0, -7.0]
    angles += [float(a) for a in rng.uniform(-20.0, 20.0, 60)]
    wrapped = [normalize_radians(a) for a in angles]
    errors = []
    for bad in (math.nan, math.inf, -math.inf):
        try:
            normalize_radians(bad)
        except ValueError as error:
            errors.append({"angle": str(bad), "message": str(error)})
    cases = []
    sizes = [(640, 480), (480, 640), (1, 1), (1920, 1080)]
    rotations = [0.0, -0.0, pi, -pi / 2, 0.3]
    shifts = [(0.0, 0.0), (0.1, -0.25), (0.0, 0.5), (-0.3, 0.0)]
    for i in range(48):
        width, height = sizes[i % len(sizes)]
        rotation = rotations[i] if i < len(rotations) else float(rng.uniform(-pi, pi))
        rect = NormalizedRect(
            float(rng.uniform(-0.2, 1.2)),
            float(rng.uniform(-0.2, 1.2)),
            float(rng.uniform(0.01, 1.5)),
            float(rng.uniform(0.01, 1.5)),
            rotation,
        )
        shift_x, shift_y = shifts[i % len(shifts)]
        kwargs = {
            "scale_x": [1.0, 1.25, 1.5, 0.8][i % 4],
            "scale_y": [1.0, 1.25, 2.0][i % 3],
            "shift_x": shift_x,
            "shift_y": shift_y,
            "square_long": bool(i % 2),
        }
        if i == 47:
            kwargs["shift_x"] = math.nan
        out = transform_rect(rect, width, height, **kwargs)
        cases.append(
            {
                "rect": rect_dict(rect),
                "image_width": width,
                "image_height": height,
                "options": {
                    "scaleX": kwargs["scale_x"],
                    "scaleY": kwargs["scale_y"],
                    "shiftX": kwargs["shift_x"],
                    "shiftY": kwargs["shift_y"],
                    "squareLong": kwargs["square_long"],
                },
                "out": rect_dict(out),
            }
        )
    default = NormalizedRect(0.4, 0.6, 0.3, 0.5, 0.7)
    return {
        "angles": angles,
        "wrapped": wrapped,
        "errors": errors,
        "cases": cases,
        "default": {"rect": rect_dict(default), "out": rect_dict(transform_rect(default, 64, 32))},
    }
