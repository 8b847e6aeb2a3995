"""Person boxes for several people: boxes from landmarks, their overlaps, and blanking people
out of an image so that the detector finds the others (not part of MediaPipe's single-person
graph).

Boxes are ``[x_min, y_min, x_max, y_max]`` in **pixels** of the image, as float64.
"""

from __future__ import annotations

import numpy as np

#: How much a found person's landmark box is enlarged (each side, as a fraction of the box's
#: longer side) before it is blanked out for the next detector round: BlazePose's landmarks
#: stop at the joints, the person's outline (hair, hands, clothes) reaches a little further.
BLANK_MARGIN = 0.1


def landmark_box(landmarks: np.ndarray, image_width: int, image_height: int) -> np.ndarray:
    """The pixel box around a pose's 33 image landmarks.

    Args:
        landmarks: ``(33, >=2)`` normalised image landmarks (x / width, y / height).
        image_width, image_height: the image size in pixels.

    Returns:
        ``(4,)`` float64 ``[x_min, y_min, x_max, y_max]`` in pixels (it may reach outside the
        image, where the model places joints it does not see).
    """
    xy = np.asarray(landmarks, np.float64)[:, :2] * (image_width, image_height)
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def _overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise intersection areas ``(N, M)`` of two box sets, and their areas ``(N, 1)`` and
    ``(1, M)`` (empty boxes have area 0)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(b, np.float64).reshape(-1, 4)[None, :, :]
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    area_a = (a[..., 2] - a[..., 0]).clip(0) * (a[..., 3] - a[..., 1]).clip(0)
    area_b = (b[..., 2] - b[..., 0]).clip(0) * (b[..., 3] - b[..., 1]).clip(0)
    return inter_w * inter_h, area_a, area_b


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b``.

    Args:
        a: ``(N, 4)`` boxes; b: ``(M, 4)`` boxes (pixels, any common unit).

    Returns:
        ``(N, M)`` IoU in [0, 1] (0 where a box is empty).
    """
    inter, area_a, area_b = _overlaps(a, b)
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_overlap_of_smaller(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The share of the smaller box that the two boxes have in common, for every pair.

    1 when one box lies inside the other: a second pose found inside a person already found
    (the same person, or a limb of it) scores high here even where its IoU is small.

    Returns:
        ``(N, M)`` in [0, 1].
    """
    inter, area_a, area_b = _overlaps(a, b)
    smaller = np.minimum(area_a, area_b)
    return np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)


def blank_boxes(image: np.ndarray, boxes: np.ndarray, margin: float = BLANK_MARGIN) -> np.ndarray:
    """A copy of ``image`` with each box (enlarged by ``margin``) filled with black, so that the
    person detector no longer sees the people inside them (on the 14 ``mmpose`` photos black
    lets the next rounds find 26 people where the image's mean colour finds 23).

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        boxes: ``(K, 4)`` pixel boxes.
        margin: enlargement of each side, as a fraction of the box's longer side.

    Returns:
        A new ``(H, W, 3)`` uint8 image (the input is not modified).
    """
    out = image.copy()
    height, width = image.shape[:2]
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        if not np.isfinite([x0, y0, x1, y1]).all():
            continue
        pad = margin * max(x1 - x0, y1 - y0)
        c0 = int(np.clip(np.floor(x0 - pad), 0, width))
        c1 = int(np.clip(np.ceil(x1 + pad), 0, width))
        r0 = int(np.clip(np.floor(y0 - pad), 0, height))
        r1 = int(np.clip(np.ceil(y1 + pad), 0, height))
        out[r0:r1, c0:c1] = 0
    return out
