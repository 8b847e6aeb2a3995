"""Goldens for web/src/calculators/image_to_tensor.ts: ROIs, matrices and crops into tensors.

* ``cases``: named ROIs (rotated, partly outside the image, letterboxed wide and tall, non-square
  tensors) with their pixel rect, padded rect, padding, image -> tensor matrix and the inverse
  ``CropWorkspace.maps`` computes.
* ``random_matrices``: seeded random pixel ROIs with their matrices and inverses, to compare the
  float64 arithmetic bit for bit.
* ``images``: RGB uint8 test images (``pose.jpg`` decoded by OpenCV and resized to 128 px wide,
  two seeded random images).
* ``crops``: crops of those images as ``image_to_tensor`` makes them: the uint8 crop, the float32
  tensor and the remap maps.

Large arrays are base64 of their little-endian bytes (keys ending in ``_b64``) to keep the JSON
small; ``dtype`` and ``shape`` say how to read them.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vitruvian.calculators.image_to_tensor import (
    CropWorkspace,
    PixelRect,
    image_to_tensor,
    pad_roi,
    rect_transform,
    roi_to_pixels,
)
from vitruvian.types import NormalizedRect

POSE_JPG = Path(__file__).resolve().parents[2] / "src" / "vitruvian" / "data" / "pose.jpg"


def b64(array: np.ndarray) -> str:
    """``array``'s bytes, little-endian, C order, as base64."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return base64.b64encode(little.tobytes()).decode("ascii")


def rect_dict(rect: NormalizedRect | None) -> dict[str, float] | None:
    if rect is None:
        return None
    return {
        "xCenter": rect.x_center,
        "yCenter": rect.y_center,
        "width": rect.width,
        "height": rect.height,
        "rotation": rect.rotation,
    }


def inverse_of(matrix: np.ndarray) -> np.ndarray:
    """The tensor px -> image px matrix exactly as ``CropWorkspace.maps`` computes it."""
    forward = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(forward)[:2]


def test_images() -> dict[str, np.ndarray]:
    bgr = cv2.imread(str(POSE_JPG), cv2.IMREAD_COLOR)
    assert bgr is not None, POSE_JPG
    height, width = bgr.shape[:2]
    small = cv2.resize(bgr, (128, round(height * 128 / width)), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(20240611)
    return {
        "pose": cv2.cvtColor(small, cv2.COLOR_BGR2RGB),
        "random": rng.integers(0, 256, (43, 61, 3), dtype=np.uint8),
        "random_large": rng.integers(0, 256, (150, 200, 3), dtype=np.uint8),
    }


#: name -> (image, ROI (None: whole image), tensor width, tensor height)
CASES: dict[str, tuple[str, NormalizedRect | None, int, int]] = {
    "detector_whole_image": ("pose", None, 224, 224),
    "landmark_rotated_partly_outside": (
        "pose",
        NormalizedRect(0.8, 0.25, 0.7, 0.45, 0.9),
        256,
        256,
    ),
    "landmark_upside_down": ("pose", NormalizedRect(0.45, 0.55, 0.6, 0.5, -2.6), 256, 256),
    "wide_roi_axis_aligned": ("pose", NormalizedRect(0.5, 0.5, 0.5, 0.25, 0.0), 64, 64),
    "tall_roi_wide_tensor": ("random", NormalizedRect(0.4, 0.6, 0.3, 0.9, 2.0), 64, 48),
    "wide_roi_tall_tensor": ("random", NormalizedRect(0.5, 0.45, 0.95, 0.4, -0.35), 40, 56),
    "downsampling": ("random_large", NormalizedRect(0.55, 0.5, 0.8, 0.7, -0.3), 40, 30),
    "outside_the_image": ("random", NormalizedRect(1.9, -0.8, 0.3, 0.3, 0.4), 16, 16),
    "whole_random_image": ("random", None, 32, 32),
}

#: crops: (case, value range, border zero)
CROPS: list[tuple[str, tuple[float, float], bool]] = [
    ("detector_whole_image", (-1.0, 1.0), True),
    ("landmark_rotated_partly_outside", (0.0, 1.0), False),
    ("landmark_rotated_partly_outside", (0.0, 1.0), True),
    ("landmark_upside_down", (0.0, 1.0), False),
    ("wide_roi_axis_aligned", (-1.0, 1.0), True),
    ("tall_roi_wide_tensor", (-1.0, 1.0), False),
    ("wide_roi_tall_tensor", (0.0, 1.0), True),
    ("downsampling", (0.0, 1.0), True),
    ("outside_the_image", (-1.0, 1.0), True),
    ("outside_the_image", (0.0, 1.0), False),
    ("whole_random_image", (0.0, 255.0), False),
]


def random_matrices(count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    sizes = [(256, 256), (224, 224), (64, 48), (40, 56)]
    out = []
    for i in range(count):
        roi = PixelRect(
            float(rng.uniform(-100.0, 1000.0)),
            float(rng.uniform(-100.0, 800.0)),
            float(rng.uniform(2.0, 1500.0)),
            float(rng.uniform(2.0, 1500.0)),
            0.0 if i % 4 == 0 else float(rng.uniform(-math.pi, math.pi)),
        )
        width, height = sizes[i % len(sizes)]
        matrix = rect_transform(roi, width, height)
        out.append(
            {
                "roi": roi,
                "tensor_width": width,
                "tensor_height": height,
                "matrix": matrix,
                "inverse": inverse_of(matrix),
            }
        )
    return out


def goldens() -> dict[str, Any]:
    images = test_images()
    cases: dict[str, Any] = {}
    for name, (image_name, rect, width, height) in CASES.items():
        image = images[image_name]
        pixels = roi_to_pixels(rect, image.shape[1], image.shape[0])
        padded, padding = pad_roi(pixels, width, height)
        matrix = rect_transform(padded, width, height)
        cases[name] = {
            "image": image_name,
            "rect": rect_dict(rect),
            "tensor_width": width,
            "tensor_height": height,
            "pixels": pixels,
            "padded": padded,
            "padding": padding,
            "matrix": matrix,
            "inverse": inverse_of(matrix),
        }
    crops = []
    for name, value_range, border_zero in CROPS:
        case = cases[name]
        width, height = case["tensor_width"], case["tensor_height"]
        workspace = CropWorkspace(width, height)
        out = np.empty((height, width, 3), np.float32)
        image_to_tensor(
            images[case["image"]], case["matrix"], out, value_range, border_zero, workspace
        )
        crops.append(
            {
                "case": name,
                "value_range": value_range,
                "border_zero": border_zero,
                "map1_b64": b64(workspace.map1),
                "map2_b64": b64(workspace.map2),
                "crop_b64": b64(workspace.crop),
                "tensor_b64": b64(out),
            }
        )
    return {
        "images": {
            name: {"width": image.shape[1], "height": image.shape[0], "rgb_b64": b64(image)}
            for name, image in images.items()
        },
        "cases": cases,
        "crops": crops,
        "random_matrices": random_matrices(400),
    }
