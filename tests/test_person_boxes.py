"""The several-people calculators by hand: box overlaps, blanking, and the Hungarian matching."""

from __future__ import annotations

import numpy as np
import pytest

from vitruvian.calculators.association import match_boxes
from vitruvian.calculators.person_boxes import (
    blank_boxes,
    box_iou,
    box_overlap_of_smaller,
    landmark_box,
)


def test_box_overlaps_by_hand() -> None:
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 5, 15, 15], [0, 0, 10, 10], [2, 2, 4, 4], [20, 20, 30, 30], [3, 3, 3, 9]])
    np.testing.assert_allclose(box_iou(a, b), [[25 / 175, 1, 4 / 100, 0, 0]])
    np.testing.assert_allclose(box_overlap_of_smaller(a, b), [[0.25, 1, 1, 0, 0]])
    assert box_iou(b, b).shape == (5, 5)


def test_landmark_box_in_pixels() -> None:
    landmarks = np.zeros((33, 5), np.float32)
    landmarks[:, 0] = np.linspace(0.1, 0.5, 33)
    landmarks[:, 1] = np.linspace(0.2, 0.9, 33)
    np.testing.assert_allclose(landmark_box(landmarks, 200, 100), [20, 20, 100, 90], rtol=1e-6)


def test_blank_boxes_fills_the_enlarged_boxes_only() -> None:
    image = np.full((100, 200, 3), 200, np.uint8)
    out = blank_boxes(image, np.array([[50, 20, 70, 60], [np.nan, 0, 1, 1]]), margin=0.1)
    assert (image == 200).all()  # the input is not modified
    assert (out[16:64, 46:74] == 0).all()  # 10 % of the longer side (40 px) on each side
    assert (out[:15] == 200).all() and (out[:, :45] == 200).all() and (out[:, 75:] == 200).all()


def test_match_boxes_is_the_best_one_to_one_matching() -> None:
    tracks = np.array([[0, 0, 10, 10], [5, 0, 15, 10]])
    # Found 0 overlaps track 0 most (IoU 0.67 vs 0.54); giving it track 0 (greedy) would leave
    # found 1 only track 1 (IoU 0.11, below the threshold). The best total pairs 0-1 and 1-0.
    found = np.array([[2, 0, 12, 10], [-3, 0, 7, 10]])
    iou = box_iou(found, tracks)
    assert iou[0, 0] > iou[0, 1] and iou[1, 0] > 0.3 > iou[1, 1]
    assert match_boxes(found, tracks) == [(0, 1), (1, 0)]
    assert match_boxes(np.array([[50, 50, 60, 60]]), tracks) == []  # below MIN_MATCH_IOU
    assert match_boxes(np.empty((0, 4)), tracks) == []


@pytest.mark.parametrize("shape", [(0, 4), (3, 4)])
def test_box_iou_shapes(shape: tuple[int, int]) -> None:
    boxes = np.tile([0.0, 0.0, 1.0, 1.0], (shape[0], 1)).reshape(shape)
    assert box_iou(boxes, np.array([[0, 0, 1, 1]])).shape == (shape[0], 1)
