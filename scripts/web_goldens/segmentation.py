"""Goldens for web/src/calculators/segmentation.ts: logits to a probability mask, and the mask
warped back over the image.

* ``cases``: seeded random logit tensors of shape ``(1, H, W, 1)`` (the model's, non-square),
  ``(H, W)`` and ``(2, H, W, 3)`` (the first batch item's first channel is used), with logits
  from about -30 to 30, exact 0, beyond the [-80, 80] clip and infinite, decoded by
  ``tensor_to_mask``.
* ``masks``: ``(h, w)`` float32 masks for ``mask_to_image``: a seeded uniform random 256x256
  mask (with exact zeros and ones), a smooth 256x256 one (``tensor_to_mask`` of a blob of
  logits) and a small non-square random one.
* ``warps``: ``mask_to_image`` of those masks with crop matrices made as the pipeline makes the
  landmark model's (``roi_to_pixels``, ``pad_roi``, ``rect_transform`` of a rotated ROI, as
  ``PosePipeline._landmark_transform``) on image sizes such as 640x480, 1280x720 and 333x517
  (width not a multiple of 16: OpenCV's scalar tail loop), ROIs partly or wholly outside the
  image, a magnifying crop, and a tiny image narrower than OpenCV's 16-column vector step.
* ``random_warps``: the small mask warped by seeded random affine matrices (rotations, shears,
  flips, axis-aligned ones with zero terms, scales from 0.05 to 20) onto small images of random
  size, for the edges of the crop and the columns OpenCV's vector and scalar loops share.

Large arrays are base64 of their little-endian bytes (keys ending in ``_b64``, float32).
"""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np

from vitruvian.calculators.image_to_tensor import pad_roi, rect_transform, roi_to_pixels
from vitruvian.calculators.segmentation import mask_to_image, tensor_to_mask
from vitruvian.types import NormalizedRect

#: The landmark model's input (and segmentation output) size.
LANDMARK_SIZE = 256

#: name -> (mask, image width, image height, ROI, tensor width, tensor height)
WARPS: dict[str, tuple[str, int, int, NormalizedRect, int, int]] = {
    "vga_rotated": ("random", 640, 480, NormalizedRect(0.5, 0.55, 0.6, 0.8, 0.3), 256, 256),
    "hd_partly_outside": ("random", 1280, 720, NormalizedRect(0.9, 0.2, 0.5, 0.9, -1.2), 256, 256),
    "odd_width_upside_down": (
        "random",
        333,
        517,
        NormalizedRect(0.4, 0.6, 0.7, 0.5, 2.5),
        256,
        256,
    ),
    "odd_width_larger_than_image": (
        "smooth",
        333,
        517,
        NormalizedRect(0.5, 0.5, 1.3, 1.1, 0.0),
        256,
        256,
    ),
    "vga_smooth_tilted": ("smooth", 640, 480, NormalizedRect(0.3, 0.6, 0.45, 0.7, -0.6), 256, 256),
    "magnified": ("random", 640, 480, NormalizedRect(0.62, 0.41, 0.08, 0.11, 0.9), 256, 256),
    "wholly_outside": ("random", 640, 480, NormalizedRect(1.8, -0.7, 0.3, 0.3, 0.4), 256, 256),
    "tiny_image": ("small", 13, 9, NormalizedRect(0.45, 0.5, 0.9, 0.8, 1.9), 40, 24),
    "odd_size_non_square_mask": (
        "small",
        101,
        77,
        NormalizedRect(0.5, 0.5, 0.7, 0.6, -2.2),
        40,
        24,
    ),
}


def b64(array: np.ndarray) -> str:
    """``array``'s bytes, little-endian, C order, as base64."""
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return base64.b64encode(little.tobytes()).decode("ascii")


def logit_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(1234)
    cases = []
    for shape in ((1, 24, 17, 1), (19, 23), (2, 11, 13, 3)):
        logits = rng.normal(0.0, 8.0, shape).astype(np.float32)
        flat = logits.reshape(-1)
        flat[:8] = [0.0, -0.0, 80.0, -80.0, 95.0, -300.0, np.inf, -np.inf]
        cases.append({"shape": list(shape), "raw": flat, "mask": tensor_to_mask(logits)})
    return cases


def warp_masks() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4321)
    random = rng.random((LANDMARK_SIZE, LANDMARK_SIZE), dtype=np.float32)
    random[0, :7] = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5]
    random[100:110, 50:60] = 1.0
    random[200:205, 10:40] = 0.0
    yy, xx = np.mgrid[0:LANDMARK_SIZE, 0:LANDMARK_SIZE].astype(np.float32)
    blob = 12.0 - ((xx - 120.0) / 40.0) ** 2 - ((yy - 140.0) / 70.0) ** 2 * 9.0
    smooth = tensor_to_mask(blob.astype(np.float32))
    small = rng.random((24, 40), dtype=np.float32)
    return {"random": random, "smooth": smooth, "small": small}


def random_warps(mask: np.ndarray, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(97)
    rows, cols = mask.shape
    out = []
    for i in range(count):
        width, height = int(rng.integers(1, 80)), int(rng.integers(1, 60))
        scale = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
        if i % 4 == 0:  # axis-aligned, possibly flipped: zero off-diagonal terms
            linear = np.diag([scale * rng.choice([-1.0, 1.0]), scale * rng.uniform(0.5, 2.0)])
        else:
            angle = rng.uniform(-np.pi, np.pi)
            linear = scale * np.array(
                [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
            )
            linear = linear @ np.array(
                [[1.0, rng.uniform(-0.5, 0.5)], [0.0, rng.uniform(0.5, 2.0)]]
            )
        # Put the image centre near a random point of (or around) the mask.
        target = rng.uniform([-0.3 * cols, -0.3 * rows], [1.3 * cols, 1.3 * rows])
        offset = target - linear @ np.array([width / 2.0, height / 2.0])
        matrix = np.hstack([linear, offset[:, None]])
        image = mask_to_image(mask, matrix, width, height)
        out.append({"matrix": matrix, "width": width, "height": height, "image_b64": b64(image)})
    return out


def goldens() -> dict[str, Any]:
    masks = warp_masks()
    warps = []
    for name, (mask_name, width, height, roi, tensor_width, tensor_height) in WARPS.items():
        mask = masks[mask_name]
        assert mask.shape == (tensor_height, tensor_width), name
        crop_roi, _ = pad_roi(roi_to_pixels(roi, width, height), tensor_width, tensor_height)
        matrix = rect_transform(crop_roi, tensor_width, tensor_height)
        image = mask_to_image(mask, matrix, width, height)
        assert image.shape == (height, width) and image.dtype == np.float32, name
        warps.append(
            {
                "name": name,
                "mask": mask_name,
                "roi": {
                    "xCenter": roi.x_center,
                    "yCenter": roi.y_center,
                    "width": roi.width,
                    "height": roi.height,
                    "rotation": roi.rotation,
                },
                "image_width": width,
                "image_height": height,
                "matrix": matrix,
                "image_b64": b64(image),
            }
        )
    return {
        "cases": logit_cases(),
        "opencv_version": cv2.__version__,
        "masks": {
            name: {"rows": mask.shape[0], "cols": mask.shape[1], "data_b64": b64(mask)}
            for name, mask in masks.items()
        },
        "warps": warps,
        "random_warps": random_warps(masks["small"], 60),
    }
