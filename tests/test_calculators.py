"""Unit tests of the pure numpy/OpenCV calculators against MediaPipe's semantics.

Expected numbers come from MediaPipe v0.10.14 (``google-ai-edge/mediapipe``, Apache-2.0): the
calculators' C++ sources and their ``*_test.cc`` files (``ssd_anchors_calculator_test.cc`` with
``testdata/anchor_golden_file_{0,1}.txt``, ``image_to_tensor_utils_test.cc``,
``detection_letterbox_removal_calculator_test.cc``,
``landmark_letterbox_removal_calculator_test.cc``, ``landmark_projection_calculator_test.cc``).
Where no published number exists, the expectation is either derived by hand from the C++ formula
or computed by a plain-Python loop written here directly from the C++ code.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from vitruvian.calculators.detection_to_roi import (
    ROI_SCALE,
    alignment_points_to_rect,
    compute_rotation,
    detection_to_roi,
)
from vitruvian.calculators.image_to_tensor import (
    Padding,
    PixelRect,
    image_to_tensor,
    pad_roi,
    rect_transform,
    roi_to_pixels,
)
from vitruvian.calculators.landmark_projection import (
    project_landmarks,
    project_world_landmarks,
    unproject_landmarks,
)
from vitruvian.calculators.letterbox_removal import (
    remove_detection_letterbox,
    remove_landmark_letterbox,
)
from vitruvian.calculators.non_max_suppression import iou, weighted_non_max_suppression
from vitruvian.calculators.rect_transformation import normalize_radians, transform_rect
from vitruvian.calculators.refine_from_heatmap import (
    KERNEL_SIZE,
    MIN_CONFIDENCE_TO_REFINE,
    refine_from_heatmap,
)
from vitruvian.calculators.segmentation import mask_to_image, tensor_to_mask
from vitruvian.calculators.ssd_anchors import (
    POSE_DETECTOR_ANCHORS,
    SsdAnchorOptions,
    generate_anchors,
)
from vitruvian.calculators.tensors_to_detections import (
    POSE_DETECTOR_DECODING,
    RawDetections,
    sigmoid,
    tensors_to_detections,
)
from vitruvian.calculators.tensors_to_landmarks import (
    NUM_MODEL_LANDMARKS,
    tensors_to_landmarks,
    tensors_to_world_landmarks,
)
from vitruvian.types import NormalizedRect


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ------------------------------------------------------------------------------------------------
# SsdAnchorsCalculator
# ------------------------------------------------------------------------------------------------


def _reference_anchors(o: SsdAnchorOptions) -> np.ndarray:
    """``SsdAnchorsCalculator::GenerateAnchors`` (non-multiscale branch), line by line."""

    def calculate_scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
        if count == 1:
            return (min_scale + max_scale) * 0.5
        return min_scale + (max_scale - min_scale) * 1.0 * index / (count - 1.0)

    anchors = []
    num_layers = len(o.strides)
    layer_id = 0
    while layer_id < num_layers:
        anchor_height, anchor_width, aspect_ratios, scales = [], [], [], []
        last = layer_id
        while last < num_layers and o.strides[last] == o.strides[layer_id]:
            scale = calculate_scale(o.min_scale, o.max_scale, last, num_layers)
            if last == 0 and o.reduce_boxes_in_lowest_layer:
                aspect_ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for ratio in o.aspect_ratios:
                    aspect_ratios.append(ratio)
                    scales.append(scale)
                if o.interpolated_scale_aspect_ratio > 0.0:
                    if last == num_layers - 1:
                        scale_next = 1.0
                    else:
                        scale_next = calculate_scale(o.min_scale, o.max_scale, last + 1, num_layers)
                    scales.append(math.sqrt(scale * scale_next))
                    aspect_ratios.append(o.interpolated_scale_aspect_ratio)
            last += 1
        for ratio, scale in zip(aspect_ratios, scales, strict=True):
            anchor_height.append(scale / math.sqrt(ratio))
            anchor_width.append(scale * math.sqrt(ratio))
        stride = o.strides[layer_id]
        fm_height = math.ceil(1.0 * o.input_size_height / stride)
        fm_width = math.ceil(1.0 * o.input_size_width / stride)
        for y in range(fm_height):
            for x in range(fm_width):
                for anchor_id in range(len(anchor_height)):
                    x_center = (x + o.anchor_offset_x) * 1.0 / fm_width
                    y_center = (y + o.anchor_offset_y) * 1.0 / fm_height
                    if o.fixed_anchor_size:
                        w, h = 1.0, 1.0
                    else:
                        w, h = anchor_width[anchor_id], anchor_height[anchor_id]
                    anchors.append((x_center, y_center, w, h))
        layer_id = last
    return np.asarray(anchors, dtype=np.float64)


def test_pose_anchors_count_and_layout():
    anchors = generate_anchors(POSE_DETECTOR_ANCHORS)
    assert anchors.shape == (2254, 4)
    assert anchors.dtype == np.float32
    # fixed_anchor_size: every anchor is 1 x 1.
    np.testing.assert_array_equal(anchors[:, 2:], 1.0)

    # Layer 0: stride 8 -> 28 x 28 cells, 2 anchors per cell (aspect 1 + interpolated).
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28, 1, 1], rtol=0, atol=1e-7)
    np.testing.assert_allclose(anchors[1], anchors[0], rtol=0, atol=0)
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 28, 0.5 / 28], rtol=0, atol=1e-7)
    np.testing.assert_allclose(anchors[2 * 28, :2], [0.5 / 28, 1.5 / 28], rtol=0, atol=1e-7)
    np.testing.assert_allclose(anchors[1567, :2], [27.5 / 28, 27.5 / 28], rtol=0, atol=1e-7)
    # Layer 1: stride 16 -> 14 x 14 x 2 = 392 anchors starting at 1568.
    np.testing.assert_allclose(anchors[1568, :2], [0.5 / 14, 0.5 / 14], rtol=0, atol=1e-7)
    np.testing.assert_allclose(anchors[1568 + 391, :2], [13.5 / 14, 13.5 / 14], atol=1e-7)
    # Layers 2-4 share stride 32 -> one 7 x 7 map with 3 x 2 = 6 anchors per cell.
    first_32 = 1568 + 392
    np.testing.assert_allclose(anchors[first_32, :2], [0.5 / 7, 0.5 / 7], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(
        anchors[first_32 : first_32 + 6], np.repeat(anchors[first_32 : first_32 + 1], 6, 0)
    )
    np.testing.assert_allclose(anchors[first_32 + 6, :2], [1.5 / 7, 0.5 / 7], rtol=0, atol=1e-7)
    assert len(anchors) - first_32 == 294
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7, 1, 1], rtol=0, atol=1e-7)


def test_pose_anchors_match_reference_loop():
    np.testing.assert_allclose(
        generate_anchors(POSE_DETECTOR_ANCHORS),
        _reference_anchors(POSE_DETECTOR_ANCHORS),
        rtol=0,
        atol=1e-6,
    )


# ``SsdAnchorCalculatorTest.FaceDetectionConfig``: rows of ``anchor_golden_file_0.txt``
# (``x_center y_center w h``; row index = line number - 1).
FACE_CONFIG = SsdAnchorOptions(
    input_size_width=256,
    input_size_height=256,
    min_scale=0.1171875,
    max_scale=0.75,
    strides=(8, 16, 32, 32, 32),
    aspect_ratios=(1.0,),
    fixed_anchor_size=True,
)
FACE_GOLDEN_ROWS = {
    0: (0.015625, 0.015625, 1, 1),
    1: (0.015625, 0.015625, 1, 1),
    2: (0.046875, 0.015625, 1, 1),
    2047: (0.984375, 0.984375, 1, 1),
    2048: (0.03125, 0.03125, 1, 1),
    2559: (0.96875, 0.96875, 1, 1),
    2560: (0.0625, 0.0625, 1, 1),
    2565: (0.0625, 0.0625, 1, 1),
    2566: (0.1875, 0.0625, 1, 1),
    2943: (0.9375, 0.9375, 1, 1),
}

# ``SsdAnchorCalculatorTest.MobileSSDConfig``: rows of ``anchor_golden_file_1.txt``.
MOBILE_SSD_CONFIG = SsdAnchorOptions(
    input_size_width=300,
    input_size_height=300,
    min_scale=0.2,
    max_scale=0.95,
    strides=(16, 32, 64, 128, 256, 512),
    aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
    reduce_boxes_in_lowest_layer=True,
)
MOBILE_SSD_GOLDEN_ROWS = {
    0: (0.0263158, 0.0263158, 0.1, 0.1),
    1: (0.0263158, 0.0263158, 0.282843, 0.141421),
    2: (0.0263158, 0.0263158, 0.141421, 0.282843),
    3: (0.0789474, 0.0263158, 0.1, 0.1),
    1082: (0.973684, 0.973684, 0.141421, 0.282843),
    1083: (0.05, 0.05, 0.35, 0.35),
    1084: (0.05, 0.05, 0.494975, 0.247487),
    1085: (0.05, 0.05, 0.247487, 0.494975),
    1086: (0.05, 0.05, 0.606218, 0.202073),
    1087: (0.05, 0.05, 0.202062, 0.606248),
    1088: (0.05, 0.05, 0.41833, 0.41833),
    1683: (0.1, 0.1, 0.5, 0.5),
    1689: (0.3, 0.1, 0.5, 0.5),
    1833: (0.166667, 0.166667, 0.65, 0.65),
    1887: (0.25, 0.25, 0.8, 0.8),
    1911: (0.5, 0.5, 0.95, 0.95),
    1912: (0.5, 0.5, 1.3435, 0.671751),
    1913: (0.5, 0.5, 0.671751, 1.3435),
    1914: (0.5, 0.5, 1.64545, 0.548483),
    1915: (0.5, 0.5, 0.548455, 1.64553),
    1916: (0.5, 0.5, 0.974679, 0.974679),
}


@pytest.mark.parametrize(
    ("options", "count", "rows"),
    [
        pytest.param(FACE_CONFIG, 2944, FACE_GOLDEN_ROWS, id="face_detection"),
        pytest.param(MOBILE_SSD_CONFIG, 1917, MOBILE_SSD_GOLDEN_ROWS, id="mobile_ssd"),
    ],
)
def test_anchors_match_mediapipe_golden_files(options, count, rows):
    anchors = generate_anchors(options)
    assert anchors.shape == (count, 4)
    for index, expected in rows.items():
        # The golden files are printed with 6 significant digits.
        np.testing.assert_allclose(anchors[index], expected, rtol=0, atol=5e-6, err_msg=index)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(
            SsdAnchorOptions(
                input_size_width=300,
                input_size_height=200,
                min_scale=0.15,
                max_scale=0.8,
                strides=(8, 16, 16, 32),
                aspect_ratios=(1.0, 2.0, 0.5),
                reduce_boxes_in_lowest_layer=True,
            ),
            id="non_square_reduce_lowest",
        ),
        pytest.param(
            SsdAnchorOptions(
                input_size_width=160,
                input_size_height=224,
                min_scale=0.2,
                max_scale=0.9,
                strides=(16, 32, 32),
                anchor_offset_x=0.0,
                anchor_offset_y=0.25,
                aspect_ratios=(1.0, 2.0, 0.5),
                interpolated_scale_aspect_ratio=0.0,
            ),
            id="no_interpolated_offsets",
        ),
        pytest.param(
            SsdAnchorOptions(
                input_size_width=128,
                input_size_height=96,
                min_scale=0.3,
                max_scale=0.6,
                strides=(32,),
                aspect_ratios=(1.0, 3.0),
                interpolated_scale_aspect_ratio=1.5,
            ),
            id="single_layer",
        ),
    ],
)
def test_anchors_match_reference_loop(options):
    expected = _reference_anchors(options)
    anchors = generate_anchors(options)
    assert anchors.shape == expected.shape
    np.testing.assert_allclose(anchors, expected, rtol=1e-6, atol=1e-7)


def test_anchor_sizes_for_reduced_lowest_layer():
    options = SsdAnchorOptions(
        input_size_width=64,
        input_size_height=64,
        min_scale=0.2,
        max_scale=0.8,
        strides=(32, 64),
        aspect_ratios=(1.0, 2.0, 0.5),
        reduce_boxes_in_lowest_layer=True,
    )
    anchors = generate_anchors(options)
    # layer 0: 2 x 2 cells x 3 anchors (scale 0.1 @ 1, scale 0.2 @ 2, scale 0.2 @ 0.5);
    # layer 1: 1 cell x (3 ratios + interpolated sqrt(0.8 * 1.0)).
    assert anchors.shape == (2 * 2 * 3 + 4, 4)
    r2 = math.sqrt(2.0)
    np.testing.assert_allclose(anchors[0], [0.25, 0.25, 0.1, 0.1], atol=1e-7)
    np.testing.assert_allclose(anchors[1], [0.25, 0.25, 0.2 * r2, 0.2 / r2], atol=1e-7)
    np.testing.assert_allclose(anchors[2], [0.25, 0.25, 0.2 / r2, 0.2 * r2], atol=1e-7)
    np.testing.assert_allclose(anchors[12], [0.5, 0.5, 0.8, 0.8], atol=1e-7)
    np.testing.assert_allclose(anchors[15, 2:], [math.sqrt(0.8)] * 2, atol=1e-7)


# ------------------------------------------------------------------------------------------------
# TensorsToDetectionsCalculator (XYWH because reverse_output_order: true)
# ------------------------------------------------------------------------------------------------

THREE_ANCHORS = np.array(
    [[0.25, 0.5, 1.0, 1.0], [0.75, 0.25, 1.0, 1.0], [0.5, 0.5, 0.5, 2.0]], np.float32
)


def _raw_three() -> np.ndarray:
    raw = np.zeros((3, 12), np.float32)
    # anchor 0: centre +(0.1, -0.05), size (0.2, 0.3); keypoints 0..3.
    raw[0, :4] = [22.4, -11.2, 44.8, 67.2]
    raw[0, 4:] = [0.0, 0.0, 112.0, -56.0, -22.4, 44.8, 224.0, 224.0]
    # anchor 1: anything, it is dropped by its score.
    raw[1, :4] = [1.0, 2.0, 3.0, 4.0]
    # anchor 2: non-unit anchor size scales the offsets (w by 0.5, h by 2).
    raw[2, :4] = [22.4, 22.4, 44.8, 44.8]
    raw[2, 4:6] = [22.4, -22.4]
    return raw


def test_tensors_to_detections_decodes_boxes_and_keypoints():
    logits = np.array([2.0, -1.0, 0.0], np.float32)
    det = tensors_to_detections(_raw_three(), logits, THREE_ANCHORS, min_score=0.5)
    # logit -1 -> 0.269 is dropped; logit 0 -> exactly 0.5 is kept (MediaPipe drops score < min).
    assert det.boxes.shape == (2, 4)
    assert det.keypoints.shape == (2, 4, 2)
    np.testing.assert_allclose(det.scores, [_sigmoid(2.0), 0.5], rtol=1e-6)
    np.testing.assert_allclose(det.boxes[0], [0.25, 0.3, 0.45, 0.6], atol=1e-6)
    np.testing.assert_allclose(
        det.keypoints[0], [[0.25, 0.5], [0.75, 0.25], [0.15, 0.7], [1.25, 1.5]], atol=1e-6
    )
    # x = 0.1 * 0.5 + 0.5, y = 0.1 * 2 + 0.5, w = 0.2 * 0.5, h = 0.2 * 2
    np.testing.assert_allclose(det.boxes[1], [0.5, 0.5, 0.6, 0.9], atol=1e-6)
    np.testing.assert_allclose(det.keypoints[1, 0], [0.55, 0.3], atol=1e-6)
    np.testing.assert_allclose(det.keypoints[1, 1:], [[0.5, 0.5]] * 3, atol=1e-6)


def test_tensors_to_detections_accepts_batched_shapes():
    raw = _raw_three()
    logits = np.array([2.0, -1.0, 0.0], np.float32)
    flat = tensors_to_detections(raw, logits, THREE_ANCHORS, 0.5)
    batched = tensors_to_detections(raw[None], logits[None, :, None], THREE_ANCHORS, 0.5)
    np.testing.assert_array_equal(flat.boxes, batched.boxes)
    np.testing.assert_array_equal(flat.keypoints, batched.keypoints)
    np.testing.assert_array_equal(flat.scores, batched.scores)


def test_tensors_to_detections_score_threshold_and_clipping():
    raw = np.zeros((3, 12), np.float32)
    logits = np.array([1000.0, -1000.0, 3.0], np.float32)
    with np.errstate(all="raise"):
        det = tensors_to_detections(raw, logits, THREE_ANCHORS, min_score=0.0)
    assert det.scores.shape == (3,)
    assert np.all(np.isfinite(det.scores))
    assert det.scores[0] == 1.0
    assert 0.0 <= det.scores[1] < 1e-30
    np.testing.assert_allclose(det.scores[2], _sigmoid(3.0), rtol=1e-6)

    high = tensors_to_detections(raw, logits, THREE_ANCHORS, min_score=0.96)
    assert high.scores.tolist() == [1.0]
    np.testing.assert_allclose(high.boxes, [[0.25, 0.5, 0.25, 0.5]], atol=1e-7)

    none = tensors_to_detections(raw, logits, THREE_ANCHORS, min_score=1.5)
    assert none.boxes.shape == (0, 4)
    assert none.keypoints.shape == (0, 4, 2)
    assert none.scores.shape == (0,)


def test_sigmoid_values():
    x = np.array([-3.0, 0.0, 0.5, 4.0], np.float32)
    np.testing.assert_allclose(sigmoid(x), [_sigmoid(v) for v in x.tolist()], rtol=1e-6)


def test_pose_decoding_options():
    o = POSE_DETECTOR_DECODING
    assert (o.num_keypoints, o.box_coord_offset, o.keypoint_coord_offset) == (4, 0, 4)
    assert (o.x_scale, o.y_scale, o.w_scale, o.h_scale) == (224.0, 224.0, 224.0, 224.0)
    assert o.score_clipping_thresh == 100.0


def test_tensors_to_detections_drops_negative_size_boxes():
    raw = np.zeros((3, 12), np.float32)
    raw[0, 2:4] = [-22.4, 22.4]  # negative width
    raw[1, 2:4] = [22.4, -22.4]  # negative height
    raw[2, 2:4] = [22.4, 22.4]
    det = tensors_to_detections(raw, np.full(3, 5.0, np.float32), THREE_ANCHORS, 0.5)
    assert det.scores.shape == (1,)
    # anchor 2 is (0.5, 0.5, w 0.5, h 2.0): a 22.4 px box is 0.05 wide and 0.2 high.
    np.testing.assert_allclose(det.boxes[0], [0.475, 0.4, 0.525, 0.6], atol=1e-6)


# ------------------------------------------------------------------------------------------------
# NonMaxSuppressionCalculator (WEIGHTED, INTERSECTION_OVER_UNION)
# ------------------------------------------------------------------------------------------------


def _dets(boxes, scores, keypoints=None) -> RawDetections:
    boxes = np.asarray(boxes, np.float32)
    if keypoints is None:
        keypoints = np.repeat(boxes[:, None, :2], 4, axis=1)
    return RawDetections(boxes, np.asarray(keypoints, np.float32), np.asarray(scores, np.float32))


def test_iou_known_values():
    box = np.array([0.0, 0.0, 2.0, 2.0])
    others = np.array(
        [
            [1.0, 1.0, 3.0, 3.0],  # 1 / 7
            [0.0, 0.0, 2.0, 2.0],  # identical
            [2.0, 0.0, 4.0, 2.0],  # touching edge
            [5.0, 5.0, 6.0, 6.0],  # disjoint
            [0.5, 0.5, 1.5, 1.5],  # contained: 1 / 4
            [1.0, -1.0, 3.0, 1.0],  # 1 / 7
        ]
    )
    np.testing.assert_allclose(iou(box, others), [1 / 7, 1, 0, 0, 0.25, 1 / 7], atol=1e-12)


def test_nms_merges_overlapping_into_score_weighted_average():
    a = [0.1, 0.1, 0.5, 0.5]
    b = [0.15, 0.12, 0.55, 0.52]
    assert iou(np.array(a), np.array([b]))[0] > 0.3
    kp_a = np.arange(8, dtype=np.float32).reshape(4, 2) / 10
    kp_b = kp_a + 0.05
    out = weighted_non_max_suppression(_dets([b, a], [0.6, 0.9], [kp_b, kp_a]))
    assert out.scores.tolist() == pytest.approx([0.9])  # the top score, not an average
    expected_box = (0.9 * np.array(a) + 0.6 * np.array(b)) / 1.5
    np.testing.assert_allclose(out.boxes[0], expected_box, atol=1e-6)
    np.testing.assert_allclose(out.keypoints[0], (0.9 * kp_a + 0.6 * kp_b) / 1.5, atol=1e-6)


def test_nms_keeps_separate_detections_sorted_by_score():
    boxes = [[0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.7, 0.7], [0.3, 0.0, 0.4, 0.1]]
    scores = [0.6, 0.95, 0.8]
    out = weighted_non_max_suppression(_dets(boxes, scores))
    np.testing.assert_allclose(out.scores, [0.95, 0.8, 0.6], atol=1e-7)
    np.testing.assert_allclose(out.boxes, [boxes[1], boxes[2], boxes[0]], atol=1e-7)
    np.testing.assert_allclose(out.keypoints[:, 0], [[0.5, 0.5], [0.3, 0.0], [0.0, 0.0]])


def test_nms_threshold_is_strict_and_clusters_around_the_top_box():
    # IoU exactly 0.5 (integers): not merged with threshold 0.5 (MediaPipe: similarity > thr).
    out = weighted_non_max_suppression(
        _dets([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8]), iou_threshold=0.5
    )
    assert len(out.scores) == 2
    out = weighted_non_max_suppression(
        _dets([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8]), iou_threshold=0.49
    )
    assert len(out.scores) == 1

    # Chain: B overlaps A (IoU 1/3), C overlaps B (1/3) but not A -> {A, B} and {C}.
    a, b, c = [0, 0, 2, 1], [1, 0, 3, 1], [2, 0, 4, 1]
    out = weighted_non_max_suppression(_dets([c, b, a], [0.5, 0.7, 0.9]))
    np.testing.assert_allclose(out.scores, [0.9, 0.5], atol=1e-7)
    np.testing.assert_allclose(out.boxes[0], (0.9 * np.array(a) + 0.7 * np.array(b)) / 1.6)
    np.testing.assert_allclose(out.boxes[1], c)


def test_nms_max_detections():
    boxes = [[0.0, 0.0, 0.1, 0.1], [0.5, 0.5, 0.6, 0.6], [0.8, 0.8, 0.9, 0.9]]
    out = weighted_non_max_suppression(_dets(boxes, [0.7, 0.9, 0.8]), max_detections=1)
    np.testing.assert_allclose(out.boxes, [boxes[1]])


def test_nms_empty_input():
    empty = RawDetections(
        np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
    )
    out = weighted_non_max_suppression(empty)
    assert out.boxes.shape == (0, 4)
    assert out.keypoints.shape == (0, 4, 2)
    assert out.scores.shape == (0,)


def test_nms_zero_area_top_box_ends_the_loop_like_mediapipe():
    boxes = [[0.2, 0.2, 0.2, 0.2], [0.5, 0.5, 0.6, 0.6], [0.1, 0.1, 0.3, 0.3]]
    out = weighted_non_max_suppression(_dets(boxes, [0.9, 0.8, 0.7]))
    np.testing.assert_allclose(out.boxes, [boxes[0]])


# ------------------------------------------------------------------------------------------------
# Detection/LandmarkLetterboxRemovalCalculator
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("padding", "expected_box"),
    [
        # detection_letterbox_removal_calculator_test.cc: xmin/ymin/width/height
        # (0.1, 0.25, 0.5, 0.25) and (0.25, 0.1, 0.25, 0.5).
        (Padding(0.2, 0.0, 0.3, 0.0), [0.1, 0.25, 0.6, 0.5]),
        (Padding(0.0, 0.2, 0.0, 0.3), [0.25, 0.1, 0.5, 0.6]),
    ],
)
def test_detection_letterbox_removal_mediapipe_cases(padding, expected_box):
    det = _dets([[0.25, 0.25, 0.5, 0.5]], [0.3], [[[0.25, 0.25], [0.5, 0.5], [0.7, 0.2], [0, 1]]])
    out = remove_detection_letterbox(det, padding)
    np.testing.assert_allclose(out.boxes[0], expected_box, atol=1e-6)
    sx = 1 - padding.left - padding.right
    sy = 1 - padding.top - padding.bottom
    expected_kp = (det.keypoints[0] - [padding.left, padding.top]) / [sx, sy]
    np.testing.assert_allclose(out.keypoints[0], expected_kp, atol=1e-6)
    np.testing.assert_array_equal(out.scores, det.scores)


@pytest.mark.parametrize(
    ("padding", "expected_xy"),
    [
        # landmark_letterbox_removal_calculator_test.cc
        (Padding(0.2, 0.0, 0.3, 0.0), [[0.6, 0.5], [0.0, 0.2], [1.0, 0.7]]),
        (Padding(0.0, 0.2, 0.0, 0.3), [[0.5, 0.6], [0.2, 0.0], [0.7, 1.0]]),
    ],
)
def test_landmark_letterbox_removal_mediapipe_cases(padding, expected_xy):
    lms = np.array(
        [[0.5, 0.5, 0.1, 0.9, 0.8], [0.2, 0.2, -0.2, 0.5, 0.4], [0.7, 0.7, 0.0, 0.1, 0.2]],
        np.float32,
    )
    original = lms.copy()
    out = remove_landmark_letterbox(lms, padding)
    np.testing.assert_allclose(out[:, :2], expected_xy, atol=1e-6)
    # z scales like x; other columns are copied; the input is not modified.
    np.testing.assert_allclose(out[:, 2], lms[:, 2] / (1 - padding.left - padding.right))
    np.testing.assert_array_equal(out[:, 3:], lms[:, 3:])
    np.testing.assert_array_equal(lms, original)


def test_letterbox_removal_round_trip():
    rng = np.random.default_rng(0)
    padding = Padding(0.125, 0.05, 0.125, 0.15)
    xyz = rng.uniform(0, 1, (20, 3)).astype(np.float32)
    sx = 1 - padding.left - padding.right
    sy = 1 - padding.top - padding.bottom
    boxed = np.column_stack(
        [padding.left + xyz[:, 0] * sx, padding.top + xyz[:, 1] * sy, xyz[:, 2] * sx]
    )
    np.testing.assert_allclose(remove_landmark_letterbox(boxed, padding), xyz, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# RectTransformationCalculator
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (0.0, 0.0),
        (3 * math.pi / 2, -math.pi / 2),
        (-3 * math.pi / 2, math.pi / 2),
        (math.pi, -math.pi),  # [-pi, pi): +pi wraps to -pi
        (-math.pi, -math.pi),
        (7.0, 7.0 - 2 * math.pi),
        (-7.0, -7.0 + 2 * math.pi),
        (1.0, 1.0),
        (4 * math.pi + 0.5, 0.5),
    ],
)
def test_normalize_radians(angle, expected):
    assert normalize_radians(angle) == pytest.approx(expected, abs=1e-12)


def test_transform_rect_square_long_on_non_square_image():
    # 640 x 480 image, rect 128 x 240 px -> square 240 x 240 px.
    rect = NormalizedRect(0.5, 0.4, 0.2, 0.5, 0.3)
    out = transform_rect(rect, 640, 480, square_long=True)
    assert (out.width, out.height) == pytest.approx((240 / 640, 0.5))
    assert (out.x_center, out.y_center, out.rotation) == (0.5, 0.4, 0.3)
    scaled = transform_rect(rect, 640, 480, scale_x=1.25, scale_y=1.25, square_long=True)
    assert (scaled.width, scaled.height) == pytest.approx((1.25 * 240 / 640, 1.25 * 0.5))
    # Wide rect: 512 x 96 px -> 512 x 512 px.
    wide = transform_rect(NormalizedRect(0.5, 0.5, 0.8, 0.2), 640, 480, square_long=True)
    assert (wide.width, wide.height) == pytest.approx((0.8, 512 / 480))


def test_transform_rect_scale_without_square():
    out = transform_rect(NormalizedRect(0.3, 0.6, 0.2, 0.1), 100, 100, scale_x=2.0, scale_y=3.0)
    assert (out.x_center, out.y_center) == (0.3, 0.6)
    assert (out.width, out.height) == pytest.approx((0.4, 0.3))


def test_transform_rect_shift():
    # Unrotated: shift in units of the rect size.
    out = transform_rect(NormalizedRect(0.5, 0.5, 0.2, 0.4), 100, 200, shift_x=0.5, shift_y=-0.25)
    assert (out.x_center, out.y_center) == pytest.approx((0.6, 0.4))
    # Rotated by +pi/2: a shift along the rect's x axis moves down the image, in pixels:
    # dx = 100 * 0.2 * 0.5 = 10 px -> (0, +10 px) -> y += 10 / 200.
    out = transform_rect(NormalizedRect(0.5, 0.5, 0.2, 0.4, math.pi / 2), 100, 200, shift_x=0.5)
    assert (out.x_center, out.y_center) == pytest.approx((0.5, 0.55), abs=1e-12)
    # Rotated by +pi/2: a shift along the rect's y axis moves left:
    # dy = 200 * 0.4 * 0.25 = 20 px -> (-20 px, 0) -> x -= 20 / 100.
    out = transform_rect(NormalizedRect(0.5, 0.5, 0.2, 0.4, math.pi / 2), 100, 200, shift_y=0.25)
    assert (out.x_center, out.y_center) == pytest.approx((0.3, 0.5), abs=1e-12)


# ------------------------------------------------------------------------------------------------
# PoseDetectionToRoi: AlignmentPointsRectsCalculator + RectTransformationCalculator
# ------------------------------------------------------------------------------------------------

W_IMG, H_IMG = 640, 480


@pytest.mark.parametrize(
    ("dx_px", "dy_px", "expected_rotation"),
    [
        (0.0, -100.0, 0.0),  # straight up: already upright
        (100.0, 0.0, math.pi / 2),  # to the right: 90 - atan2(0, 100) = +90 deg
        (-100.0, 0.0, -math.pi / 2),  # to the left: 90 - 180 = -90 deg
        (64.0, -48.0, math.pi / 2 - math.atan2(48.0, 64.0)),  # up-right
        (-64.0, 48.0, -math.pi / 2 - math.atan2(48.0, 64.0)),  # down-left
    ],
)
def test_detection_to_roi_rotation(dx_px, dy_px, expected_rotation):
    keypoints = np.array(
        [[0.5, 0.5], [0.5 + dx_px / W_IMG, 0.5 + dy_px / H_IMG], [0.5, 0.3], [0.5, 0.2]],
        np.float32,
    )
    roi = detection_to_roi(keypoints, W_IMG, H_IMG)
    assert roi.rotation == pytest.approx(expected_rotation, abs=1e-6)
    assert (roi.x_center, roi.y_center) == pytest.approx((0.5, 0.5))
    # Side 2 * radius * 1.25, square in pixels.
    side = 2 * math.hypot(dx_px, dy_px) * ROI_SCALE
    assert roi.width * W_IMG == pytest.approx(side, rel=1e-5)
    assert roi.height * H_IMG == pytest.approx(side, rel=1e-5)


def test_detection_to_roi_pointing_down_is_half_turn():
    keypoints = np.array([[0.4, 0.3], [0.4, 0.3 + 90 / H_IMG], [0, 0], [0, 0]], np.float32)
    roi = detection_to_roi(keypoints, W_IMG, H_IMG)
    assert abs(roi.rotation) == pytest.approx(math.pi, abs=1e-6)
    assert -math.pi <= roi.rotation < math.pi
    assert roi.width * W_IMG == pytest.approx(2 * 90 * 1.25, rel=1e-5)


def test_detection_to_roi_rotation_uses_pixels_not_normalised_units():
    # Normalised vector (0.1, -0.1) on a 640 x 480 image is (64, -48) px, not 45 degrees.
    start = np.array([0.5, 0.5])
    end = np.array([0.6, 0.4])
    rot = compute_rotation(start, end, W_IMG, H_IMG, math.pi / 2)
    assert rot == pytest.approx(math.pi / 2 - math.atan2(48, 64))
    rect = alignment_points_to_rect(start, end, W_IMG, H_IMG)
    assert (rect.width, rect.height) == pytest.approx((160 / 640, 160 / 480))
    assert rect.rotation == 0.0
    roi = detection_to_roi(np.array([start, end, start, start]), W_IMG, H_IMG)
    assert (roi.width, roi.height) == pytest.approx((200 / 640, 200 / 480))


# ------------------------------------------------------------------------------------------------
# ImageToTensorCalculator (utils + OpenCV converter)
# ------------------------------------------------------------------------------------------------


def test_roi_to_pixels_matches_get_roi():
    # image_to_tensor_utils_test.cc: GetRoi
    assert roi_to_pixels(None, 25, 15) == PixelRect(12.5, 7.5, 25, 15, 0.0)
    assert roi_to_pixels(NormalizedRect(0.5, 0.5, 1.0, 1.0), 25, 15) == PixelRect(
        12.5, 7.5, 25, 15, 0.0
    )
    got = roi_to_pixels(NormalizedRect(0.5, 1.0, 4.0, 2.0, 3.0), 25, 15)
    assert (got.center_x, got.center_y, got.width, got.height, got.rotation) == (
        12.5,
        15,
        100,
        30,
        3.0,
    )


def test_pad_roi_mediapipe_cases():
    # image_to_tensor_utils_test.cc: PadRoi.HorizontalPadding
    roi, pad = pad_roi(PixelRect(20, 10, 100, 200, 5), 10, 10)
    assert roi == PixelRect(20, 10, 200, 200, 5)
    assert (pad.left, pad.top, pad.right, pad.bottom) == pytest.approx((0.25, 0, 0.25, 0))
    # PadRoi.VerticalPadding: 21 x 19 -> 21 x 21, padding (21 - 19) / 2 / 21 top and bottom.
    roi, pad = pad_roi(PixelRect(1, 2, 21, 19, 3), 10, 10)
    assert (roi.center_x, roi.center_y, roi.rotation) == (1, 2, 3)
    assert (roi.width, roi.height) == pytest.approx((21, 21))
    assert (pad.left, pad.right) == (0.0, 0.0)
    assert (pad.top, pad.bottom) == pytest.approx((1 / 21, 1 / 21), abs=1e-6)


def test_pad_roi_wide_tall_and_non_square_tensor():
    # Wide roi into a square tensor: 200 x 100 -> 200 x 200, a quarter of padding top/bottom.
    roi, pad = pad_roi(PixelRect(0, 0, 200, 100), 256, 256)
    assert (roi.width, roi.height) == pytest.approx((200, 200))
    assert (pad.left, pad.top, pad.right, pad.bottom) == pytest.approx((0, 0.25, 0, 0.25))
    # Tall roi: 60 x 240 -> 240 x 240, (1 - 1/4) / 2 left/right.
    roi, pad = pad_roi(PixelRect(0, 0, 60, 240), 256, 256)
    assert (roi.width, roi.height) == pytest.approx((240, 240))
    assert (pad.left, pad.top, pad.right, pad.bottom) == pytest.approx((0.375, 0, 0.375, 0))
    # Square roi into a 200 x 100 tensor: 100 x 100 -> 200 x 100.
    roi, pad = pad_roi(PixelRect(0, 0, 100, 100), 200, 100)
    assert (roi.width, roi.height) == pytest.approx((200, 100))
    assert (pad.left, pad.top, pad.right, pad.bottom) == pytest.approx((0.25, 0, 0.25, 0))
    # Same aspect ratio: nothing to pad.
    roi, pad = pad_roi(PixelRect(0, 0, 50, 25), 64, 32)
    assert (roi.width, roi.height) == pytest.approx((50, 25))
    assert (pad.left, pad.top, pad.right, pad.bottom) == pytest.approx((0, 0, 0, 0))


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


@pytest.mark.parametrize(
    "roi",
    [
        PixelRect(100.0, 80.0, 120.0, 60.0, 0.0),
        PixelRect(100.0, 80.0, 120.0, 60.0, 0.6),
        PixelRect(37.5, 210.0, 50.0, 90.0, -2.3),
        PixelRect(0.0, 0.0, 300.0, 300.0, math.pi),
    ],
)
def test_rect_transform_maps_box_points_to_tensor_corners(roi):
    tw, th = 96, 64
    m = rect_transform(roi, tw, th)
    assert m.shape == (2, 3)
    # ImageToTensorOpenCvConverter: cv::boxPoints(rotated rect in degrees) -> dst corners
    # (0, H), (0, 0), (W, 0), (W, H).
    box = cv2.boxPoints(
        ((roi.center_x, roi.center_y), (roi.width, roi.height), math.degrees(roi.rotation))
    ).astype(np.float64)
    corners = np.array([[0, th], [0, 0], [tw, 0], [tw, th]], np.float64)
    np.testing.assert_allclose(_apply(m, box), corners, atol=2e-3)
    # The same transform as MediaPipe's cv::getPerspectiveTransform (an affine one here).
    p = cv2.getPerspectiveTransform(box.astype(np.float32), corners.astype(np.float32))
    np.testing.assert_allclose(p[2], [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(m, p[:2], rtol=1e-4, atol=2e-3)
    # Centre -> tensor centre.
    np.testing.assert_allclose(
        _apply(m, np.array([[roi.center_x, roi.center_y]])), [[tw / 2, th / 2]], atol=1e-9
    )


def _gradient_image(width: int, height: int) -> np.ndarray:
    """RGB uint8 image: R = x, G = 2 y, B = 200 - x // 2 (all linear within each pixel row)."""
    x = np.arange(width, dtype=np.float64)[None, :]
    y = np.arange(height, dtype=np.float64)[:, None]
    r = np.broadcast_to(x, (height, width))
    g = np.broadcast_to(2 * y, (height, width))
    b = np.broadcast_to(200 - 0.5 * x, (height, width))
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def test_image_to_tensor_identity_crop_is_exact():
    image = _gradient_image(40, 30)
    roi = roi_to_pixels(None, 40, 30)
    m = rect_transform(roi, 40, 30)
    out = np.empty((30, 40, 3), np.float32)
    image_to_tensor(image, m, out, (0.0, 1.0), border_zero=True)
    np.testing.assert_allclose(out, image / 255.0, atol=1e-6)
    image_to_tensor(image, m, out, (-1.0, 1.0), border_zero=False)
    np.testing.assert_allclose(out, image * (2 / 255.0) - 1.0, atol=1e-6)


def test_image_to_tensor_rotated_crop_samples_the_gradient():
    # On a linear gradient, bilinear sampling is exact: tensor pixel (u, v) must hold the
    # gradient at centre + R(rotation) @ ((u / W - 0.5) * w, (v / H - 0.5) * h).
    width, height = 120, 100
    x = np.arange(width, dtype=np.float64)[None, :]
    y = np.arange(height, dtype=np.float64)[:, None]
    plane = x + 1.5 * y  # max 119 + 148.5 < 255
    image = np.repeat(plane.round()[..., None], 3, axis=2).astype(np.uint8)
    roi = PixelRect(60.0, 50.0, 40.0, 30.0, 0.7)
    tw, th = 32, 24
    out = np.empty((th, tw, 3), np.float32)
    image_to_tensor(image, rect_transform(roi, tw, th), out, (0.0, 255.0), border_zero=True)
    u, v = np.meshgrid(np.arange(tw), np.arange(th))
    px = (u / tw - 0.5) * roi.width
    py = (v / th - 0.5) * roi.height
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    sx = roi.center_x + c * px - s * py
    sy = roi.center_y + s * px + c * py
    expected = sx + 1.5 * sy
    for ch in range(3):
        np.testing.assert_allclose(out[..., ch], expected, atol=1.0)


def test_image_to_tensor_matches_mediapipe_warp_perspective():
    rng = np.random.default_rng(3)
    noise = rng.uniform(0, 255, (90, 130, 3)).astype(np.float32)
    image = cv2.GaussianBlur(noise, (0, 0), 3).round().clip(0, 255).astype(np.uint8)
    roi, _ = pad_roi(PixelRect(70.0, 40.0, 90.0, 60.0, -0.4), 64, 64)
    m = rect_transform(roi, 64, 64)
    for border_zero, border in [(True, cv2.BORDER_CONSTANT), (False, cv2.BORDER_REPLICATE)]:
        out = np.empty((64, 64, 3), np.float32)
        image_to_tensor(image, m, out, (-1.0, 1.0), border_zero=border_zero)
        box = cv2.boxPoints(
            ((roi.center_x, roi.center_y), (roi.width, roi.height), math.degrees(roi.rotation))
        )
        dst = np.array([[0, 64], [0, 0], [64, 0], [64, 64]], np.float32)
        p = cv2.getPerspectiveTransform(box, dst)
        ref = cv2.warpPerspective(
            image, p, (64, 64), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=0
        )
        ref = ref.astype(np.float32) * (2 / 255.0) - 1.0
        diff = np.abs(out - ref)
        assert diff.max() <= 2 * 2 / 255.0 + 1e-6, border_zero
        assert np.mean(diff < 1e-6) > 0.95, border_zero


def test_image_to_tensor_border_modes():
    image = _gradient_image(40, 40)
    # 80 x 40 px roi centred on the 40 x 40 image: the outer quarters lie outside it.
    roi = PixelRect(20.0, 20.0, 80.0, 40.0, 0.0)
    m = rect_transform(roi, 64, 32)
    zero = np.empty((32, 64, 3), np.float32)
    image_to_tensor(image, m, zero, (-1.0, 1.0), border_zero=True)
    # Tensor column u samples image x = u * 80 / 64 - 20.
    np.testing.assert_array_equal(zero[:, :15], -1.0)  # x <= -1.25
    np.testing.assert_array_equal(zero[:, 49:], -1.0)  # x >= 41.25
    assert np.all(zero[1:, 17:47, 1] > -1.0)  # G = 2 y > 0 inside (row v samples y = 1.25 v)

    rep = np.empty((32, 64, 3), np.float32)
    image_to_tensor(image, m, rep, (0.0, 255.0), border_zero=False)
    # Where the samples are fully inside the image, the border mode makes no difference.
    np.testing.assert_allclose(zero[:, 17:47], rep[:, 17:47] * (2 / 255.0) - 1.0, atol=1e-5)
    # Replicate: left of the image is column 0, right of it column 39.
    np.testing.assert_allclose(rep[:, :15, 0], 0.0, atol=1e-4)
    np.testing.assert_allclose(rep[:, :15, 2], 200.0, atol=1e-4)
    np.testing.assert_allclose(rep[:, 49:, 0], 39.0, atol=1e-4)
    np.testing.assert_allclose(rep[:, 49:, 2], float(image[0, 39, 2]), atol=1e-4)
    # Inside both agree: u = 32 -> x = 20, v = 16 -> y = 20.
    np.testing.assert_allclose(rep[16, 32], image[20, 20], atol=1e-4)
    np.testing.assert_allclose(zero[16, 32], image[20, 20] * (2 / 255.0) - 1.0, atol=1e-6)


def test_detector_path_letterbox_round_trip():
    # A bright blob in a wide image, letterboxed into a square tensor (pose detector setup),
    # found in the tensor and mapped back with the letterbox padding.
    width, height = 200, 100
    image = np.zeros((height, width, 3), np.uint8)
    image[28:33, 148:153] = 255  # centred on pixel (150, 30)
    roi, padding = pad_roi(roi_to_pixels(None, width, height), 64, 64)
    assert (padding.top, padding.bottom, padding.left, padding.right) == pytest.approx(
        (0.25, 0.25, 0, 0)
    )
    out = np.empty((64, 64, 3), np.float32)
    image_to_tensor(image, rect_transform(roi, 64, 64), out, (-1.0, 1.0), border_zero=True)
    # Letterbox bands are black (-1).
    np.testing.assert_array_equal(out[:15], -1.0)
    np.testing.assert_array_equal(out[49:], -1.0)
    weight = out[..., 0] + 1.0
    v, u = np.mgrid[0:64, 0:64]
    cu = (weight * u).sum() / weight.sum()
    cv_ = (weight * v).sum() / weight.sum()
    lm = np.array([[cu / 64, cv_ / 64, 0.0]], np.float32)
    back = remove_landmark_letterbox(lm, padding)
    np.testing.assert_allclose(back[0, :2], [150 / width, 30 / height], atol=0.5 / 64)


# ------------------------------------------------------------------------------------------------
# TensorsToLandmarksCalculator
# ------------------------------------------------------------------------------------------------


def test_tensors_to_landmarks_scaling_and_activations():
    raw = np.zeros((NUM_MODEL_LANDMARKS, 5), np.float32)
    raw[0] = [128.0, 32.0, 64.0, 0.0, 2.0]
    raw[1] = [256.0, 128.0, -25.6, -3.0, 100.0]
    raw[38] = [-12.8, 140.8, 0.0, 1000.0, -1000.0]
    out = tensors_to_landmarks(raw.reshape(1, -1), NUM_MODEL_LANDMARKS, 256, 128)
    assert out.shape == (NUM_MODEL_LANDMARKS, 5)
    assert out.dtype == np.float32
    # x / width, y / height, z / width (z is on the scale of x).
    np.testing.assert_allclose(out[0, :3], [0.5, 0.25, 0.25], atol=1e-7)
    np.testing.assert_allclose(out[1, :3], [1.0, 1.0, -0.1], atol=1e-7)
    np.testing.assert_allclose(out[38, :3], [-0.05, 1.1, 0.0], atol=1e-7)
    np.testing.assert_allclose(out[0, 3:], [0.5, _sigmoid(2.0)], rtol=1e-6)
    np.testing.assert_allclose(out[1, 3:], [_sigmoid(-3.0), 1.0], rtol=1e-6)
    assert out[38, 3] == 1.0
    assert 0.0 <= out[38, 4] < 1e-30
    np.testing.assert_allclose(out[5], [0, 0, 0, 0.5, 0.5])


def test_tensors_to_world_landmarks_is_a_copy():
    raw = np.arange(NUM_MODEL_LANDMARKS * 3, dtype=np.float32).reshape(1, -1)
    out = tensors_to_world_landmarks(raw, NUM_MODEL_LANDMARKS)
    assert out.shape == (NUM_MODEL_LANDMARKS, 3)
    np.testing.assert_array_equal(out[1], [3, 4, 5])
    out[0, 0] = 99.0
    assert raw[0, 0] == 0.0


# ------------------------------------------------------------------------------------------------
# RefineLandmarksFromHeatmapCalculator
# ------------------------------------------------------------------------------------------------


def _reference_refine(lms, heatmap, kernel_size, min_conf):
    """``RefineLandmarksFromHeatMap`` (no presence/visibility refinement), line by line."""
    out = np.array(lms, np.float32, copy=True)
    hm_height, hm_width, channels = heatmap.shape
    for i in range(channels):
        center_col = int(np.float32(out[i, 0]) * np.float32(hm_width))  # truncates like C++
        center_row = int(np.float32(out[i, 1]) * np.float32(hm_height))
        if center_col < 0 or center_col >= hm_width or center_row < 0 or center_row >= hm_height:
            continue
        offset = (kernel_size - 1) // 2
        begin_col = max(0, center_col - offset)
        end_col = min(hm_width, center_col + offset + 1)
        begin_row = max(0, center_row - offset)
        end_row = min(hm_height, center_row + offset + 1)
        total = weighted_col = weighted_row = max_conf = 0.0
        for row in range(begin_row, end_row):
            for col in range(begin_col, end_col):
                conf = 1.0 / (1.0 + math.exp(-float(heatmap[row, col, i])))
                total += conf
                max_conf = max(max_conf, conf)
                weighted_col += col * conf
                weighted_row += row * conf
        if max_conf >= min_conf and total > 0:
            out[i, 0] = weighted_col / hm_width / total
            out[i, 1] = weighted_row / hm_height / total
    return out


def test_refine_defaults():
    # The pose graph asks for kernel_size 7; the module documents why it uses 9 (parity with
    # MediaPipe's Python solution). Either way the default must be what refine_from_heatmap uses.
    assert KERNEL_SIZE in (7, 9)
    assert MIN_CONFIDENCE_TO_REFINE == 0.5
    rng = np.random.default_rng(1)
    hm = rng.normal(-1.0, 3.0, (24, 24, 6)).astype(np.float32)
    lms = rng.uniform(0, 1, (6, 5)).astype(np.float32)
    np.testing.assert_array_equal(
        refine_from_heatmap(lms, hm), refine_from_heatmap(lms, hm, kernel_size=KERNEL_SIZE)
    )
    np.testing.assert_allclose(
        refine_from_heatmap(lms, hm), _reference_refine(lms, hm, KERNEL_SIZE, 0.5), atol=1e-6
    )


def test_refine_moves_landmark_to_single_peak():
    hm = np.full((64, 64, 1), -30.0, np.float32)
    hm[20, 30, 0] = 10.0  # row 20, col 30
    lms = np.array([[31.2 / 64, 21.7 / 64, 0.3, 0.9, 0.8]], np.float32)
    out = refine_from_heatmap(lms, hm, kernel_size=7)
    np.testing.assert_allclose(out[0, :2], [30 / 64, 20 / 64], atol=1e-6)
    np.testing.assert_array_equal(out[0, 2:], lms[0, 2:])
    # The peak outside the 7 x 7 window (4 cells away) is not seen: below threshold, unchanged.
    far = np.array([[34.5 / 64, 20.5 / 64, 0, 0, 0]], np.float32)
    np.testing.assert_array_equal(refine_from_heatmap(far, hm, kernel_size=7), far)
    # ... but a 9 x 9 window sees it.
    np.testing.assert_allclose(
        refine_from_heatmap(far, hm, kernel_size=9)[0, :2], [30 / 64, 20 / 64], atol=1e-6
    )


def test_refine_confidence_threshold():
    lms = np.array([[10.5 / 32, 10.5 / 32]], np.float32)
    low = np.full((32, 32, 1), -1.0, np.float32)  # sigmoid(-1) = 0.27 < 0.5
    low[12, 12, 0] = -0.01
    np.testing.assert_array_equal(refine_from_heatmap(lms, low, kernel_size=7), lms)
    at = low.copy()
    at[12, 12, 0] = 0.0  # exactly 0.5 -> refined (>=)
    refined = refine_from_heatmap(lms, at, kernel_size=7)
    assert not np.array_equal(refined, lms)
    # Weighted mean of a 7 x 7 window centred on (10, 10): 48 cells at s(-1), one at 0.5.
    s = _sigmoid(-1.0)
    total = 48 * s + 0.5
    expected = ((49 * 10 * s - 12 * s) + 12 * 0.5) / total / 32
    np.testing.assert_allclose(refined[0], [expected, expected], atol=1e-6)
    # A stricter threshold leaves it alone.
    np.testing.assert_array_equal(
        refine_from_heatmap(lms, at, kernel_size=7, min_confidence_to_refine=0.6), lms
    )


def test_refine_outside_heatmap_and_truncation():
    hm = np.full((16, 16, 5), -30.0, np.float32)
    hm[0, 1, :] = 8.0
    lms = np.array(
        [
            [1.0, 0.05],  # col 16: outside
            [-0.5, 0.05],  # outside
            [0.05, 1.2],  # outside
            [-0.03, 0.05],  # -0.48 truncates to col 0 in C++: inside, refined
            [0.05, 0.05],  # col 0, row 0: window clipped at the border
        ],
        np.float32,
    )
    out = refine_from_heatmap(lms, hm, kernel_size=7)
    np.testing.assert_array_equal(out[:3], lms[:3])
    np.testing.assert_allclose(out[3], [1 / 16, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[4], [1 / 16, 0.0], atol=1e-6)


def test_refine_border_clipped_window():
    hm = np.full((10, 12, 1), -30.0, np.float32)
    hm[9, 11, 0] = 5.0  # bottom-right cell
    hm[8, 9, 0] = 5.0
    lms = np.array([[11.9 / 12, 9.9 / 10]], np.float32)
    out = refine_from_heatmap(lms, hm, kernel_size=7)
    np.testing.assert_allclose(out[0], [(11 + 9) / 2 / 12, (9 + 8) / 2 / 10], atol=1e-6)


def test_refine_channel_mismatch_raises():
    with pytest.raises(ValueError):
        refine_from_heatmap(np.zeros((3, 5), np.float32), np.zeros((8, 8, 4), np.float32))


@pytest.mark.parametrize("kernel_size", [7, 3, 4, 9, 1])
def test_refine_matches_reference_loop_on_random_data(kernel_size):
    rng = np.random.default_rng(kernel_size)
    for trial in range(10):
        h, w, n = rng.integers(5, 40), rng.integers(5, 40), 39
        hm = (rng.normal(-2.0, 3.0, (h, w, n))).astype(np.float32)
        lms = rng.uniform(-0.15, 1.15, (n, 5)).astype(np.float32)
        expected = _reference_refine(lms, hm, kernel_size, 0.5)
        got = refine_from_heatmap(lms, hm, kernel_size=kernel_size)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=str(trial))
        # Some landmarks were refined and some were not, so both branches are covered.
        moved = np.any(got != lms, axis=1)
        assert 0 < moved.sum() < n or trial > 0


# ------------------------------------------------------------------------------------------------
# LandmarkProjectionCalculator / WorldLandmarkProjectionCalculator
# ------------------------------------------------------------------------------------------------


def test_projection_mediapipe_cases():
    # landmark_projection_calculator_test.cc
    lm = np.array([[10.0, 20.0, -0.5]], np.float32)
    np.testing.assert_allclose(project_landmarks(lm, NormalizedRect(0.5, 0.5, 1.0, 1.0)), lm)
    lm = np.array([[1.0, 1.0, -0.5]], np.float32)
    out = project_landmarks(lm, NormalizedRect(0.5, 0.5, 0.5, 2.0, 0.0))
    np.testing.assert_allclose(out, [[0.75, 1.5, -0.25]], atol=1e-7)


def test_projection_known_points_with_rotation():
    rect = NormalizedRect(0.4, 0.6, 0.2, 0.2, math.pi / 2)
    lms = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]], np.float32)
    out = project_landmarks(lms, rect)
    # Crop centre -> rect centre; rotated a quarter turn clockwise (y down), the crop's
    # top-left corner lands on the rect's top-right, its top-right on the bottom-right.
    np.testing.assert_allclose(out[0, :2], [0.4, 0.6], atol=1e-7)
    np.testing.assert_allclose(out[1, :2], [0.5, 0.5], atol=1e-7)
    np.testing.assert_allclose(out[2, :2], [0.5, 0.7], atol=1e-7)
    np.testing.assert_allclose(out[3, :2], [0.5, 0.6], atol=1e-7)


def test_projection_z_scales_with_rect_width_and_copies_other_columns():
    lms = np.array([[0.3, 0.7, 0.25, 0.9, 0.1]], np.float32)
    out = project_landmarks(lms, NormalizedRect(0.5, 0.5, 0.4, 0.3, 1.0))
    assert out[0, 2] == pytest.approx(0.1)
    np.testing.assert_array_equal(out[0, 3:], lms[0, 3:])


def test_projection_round_trip():
    rng = np.random.default_rng(5)
    lms = rng.uniform(-0.2, 1.2, (33, 5)).astype(np.float32)
    for rect in [
        NormalizedRect(0.3, 0.6, 0.5, 0.7, 0.9),
        NormalizedRect(0.55, 0.45, 1.3, 0.8, -2.5),
        NormalizedRect(0.5, 0.5, 0.2, 0.2, 0.0),
    ]:
        projected = project_landmarks(lms, rect)
        assert not np.allclose(projected[:, :2], lms[:, :2])
        np.testing.assert_allclose(unproject_landmarks(projected, rect), lms, atol=1e-5)


def test_projection_inverts_the_crop_for_pixel_square_rects():
    # The ROI is square in pixels (square_long), so MediaPipe's normalised-space rotation
    # agrees with the crop's pixel-space rotation even on a non-square image: a point of the
    # image, taken into the tensor by rect_transform and projected back, lands where it was.
    width, height = 640, 480
    rect = NormalizedRect(0.45, 0.55, 300 / width, 300 / height, 0.8)
    roi, padding = pad_roi(roi_to_pixels(rect, width, height), 256, 256)
    assert padding == Padding(0.0, 0.0, 0.0, 0.0)
    m = rect_transform(roi, 256, 256)
    points_px = np.array([[300.0, 260.0], [250.0, 300.0], [350.0, 200.0], [288.0, 264.0]])
    tensor = _apply(m, points_px) / 256.0
    lms = np.column_stack([tensor, np.zeros(len(tensor))]).astype(np.float32)
    back = project_landmarks(lms, rect)
    np.testing.assert_allclose(back[:, 0] * width, points_px[:, 0], atol=1e-3)
    np.testing.assert_allclose(back[:, 1] * height, points_px[:, 1], atol=1e-3)


def test_world_projection_rotates_about_z():
    world = np.array([[1.0, 0.0, 0.3, 0.9, 0.8], [0.0, 2.0, -0.1, 0.5, 0.4]], np.float32)
    out = project_world_landmarks(world, NormalizedRect(0.1, 0.9, 0.3, 0.2, math.pi / 2))
    np.testing.assert_allclose(out[:, :2], [[0.0, 1.0], [-2.0, 0.0]], atol=1e-6)
    np.testing.assert_array_equal(out[:, 2:], world[:, 2:])  # z, visibility, presence
    rng = np.random.default_rng(9)
    pts = rng.normal(size=(33, 3)).astype(np.float32)
    rotated = project_world_landmarks(pts, NormalizedRect(0.5, 0.5, 1, 1, -1.3))
    np.testing.assert_allclose(
        np.linalg.norm(rotated, axis=1), np.linalg.norm(pts, axis=1), rtol=1e-5
    )
    np.testing.assert_allclose(
        rotated[:, 0],
        math.cos(-1.3) * pts[:, 0] - math.sin(-1.3) * pts[:, 1],
        atol=1e-5,
    )
    # Translation and scale of the rect do not matter for world landmarks.
    np.testing.assert_allclose(
        project_world_landmarks(pts, NormalizedRect(0.1, 0.2, 5, 7, -1.3)), rotated, atol=0
    )


# ------------------------------------------------------------------------------------------------
# TensorsToSegmentationCalculator + WarpAffineCalculator
# ------------------------------------------------------------------------------------------------


def test_tensor_to_mask_sigmoid():
    logits = np.zeros((1, 4, 5, 1), np.float32)
    logits[0, 1, 2, 0] = 200.0
    logits[0, 3, 4, 0] = -200.0
    logits[0, 0, 1, 0] = 1.5
    mask = tensor_to_mask(logits)
    assert mask.shape == (4, 5)
    assert mask.dtype == np.float32
    assert mask[0, 0] == 0.5
    assert mask[1, 2] == 1.0
    assert 0.0 <= mask[3, 4] < 1e-30
    assert mask[0, 1] == pytest.approx(_sigmoid(1.5), rel=1e-6)


def test_tensor_to_mask_accepts_2d_logits():
    logits = np.zeros((4, 5), np.float32)
    logits[1, 2] = 200.0
    mask = tensor_to_mask(logits)
    assert mask.shape == (4, 5)
    assert mask[1, 2] == 1.0
    assert mask[0, 0] == 0.5


def _crop_matrix(rect: NormalizedRect, width: int, height: int, size: int) -> np.ndarray:
    roi, _ = pad_roi(roi_to_pixels(rect, width, height), size, size)
    return rect_transform(roi, size, size), roi


def test_mask_to_image_puts_the_mask_on_the_rect():
    width, height = 320, 240
    rect = NormalizedRect(0.5, 0.45, 150 / width, 150 / height, 0.5)
    m, roi = _crop_matrix(rect, width, height, 256)
    out = mask_to_image(np.ones((256, 256), np.float32), m, width, height)
    assert out.shape == (height, width)
    assert out.dtype == np.float32
    box = cv2.boxPoints(
        ((roi.center_x, roi.center_y), (roi.width, roi.height), math.degrees(roi.rotation))
    )
    poly = np.zeros((height, width), np.uint8)
    cv2.fillPoly(poly, [np.round(box).astype(np.int32)], 1)
    inside = out > 0.5
    iou_value = (inside & (poly > 0)).sum() / (inside | (poly > 0)).sum()
    assert iou_value > 0.97
    assert out[int(roi.center_y), int(roi.center_x)] == pytest.approx(1.0)
    assert out[5, 5] == 0.0
    assert out[height - 5, width - 5] == 0.0
    assert out.min() >= 0.0
    assert out.max() <= 1.0 + 1e-6


def test_mask_to_image_orientation():
    width, height = 200, 100
    rect = NormalizedRect(0.5, 0.5, 80 / width, 80 / height, 0.0)
    m, _ = _crop_matrix(rect, width, height, 64)
    mask = np.zeros((64, 64), np.float32)
    mask[:, :32] = 1.0  # left half of the crop
    mask[:16, :] = 0.25  # top quarter of the crop
    out = mask_to_image(mask, m, width, height)
    # Crop spans x 60..140, y 10..90.
    assert out[60, 80] == pytest.approx(1.0)  # left half
    assert out[60, 120] == pytest.approx(0.0)  # right half
    assert out[15, 100] == pytest.approx(0.25)  # top quarter
    assert out[50, 30] == 0.0  # outside the crop
    # Rotated by a quarter turn clockwise: the crop's left half becomes the rect's top half.
    rot = NormalizedRect(0.5, 0.5, 80 / width, 80 / height, math.pi / 2)
    m_rot, _ = _crop_matrix(rot, width, height, 64)
    mask_left = np.zeros((64, 64), np.float32)
    mask_left[:, :32] = 1.0
    out = mask_to_image(mask_left, m_rot, width, height)
    assert out[30, 100] == pytest.approx(1.0)
    assert out[70, 100] == pytest.approx(0.0)


@pytest.mark.parametrize("rotation", [0.0, 0.3, -1.1])
def test_mask_to_image_is_the_same_for_any_opencv_thread_count(rotation: float) -> None:
    # OpenCV's IPP warpAffine changes float32 results in the last bit with the number of row
    # stripes (so with cv2.setNumThreads, or with a busy thread pool when several threads warp
    # at once); mask_to_image runs OpenCV's own row-by-row kernel, whose result cannot depend
    # on the split. Different thread counts stand in for the different splits.
    width, height = 665, 1000
    rect = NormalizedRect(0.47, 0.55, 0.9, 0.6, rotation)
    m, _ = _crop_matrix(rect, width, height, 256)
    mask = tensor_to_mask(np.random.default_rng(7).normal(0.0, 6.0, (256, 256)))
    previous_threads = cv2.getNumThreads()
    ipp_before = cv2.ipp.useIPP()
    try:
        results = []
        for threads in (1, 2, 3, 4, 8, 16):
            cv2.setNumThreads(threads)
            results.append(mask_to_image(mask, m, width, height))
    finally:
        cv2.setNumThreads(previous_threads)
    assert cv2.ipp.useIPP() == ipp_before  # the caller's thread setting is put back
    for threads, out in zip((2, 3, 4, 8, 16), results[1:], strict=True):
        np.testing.assert_array_equal(out, results[0], err_msg=f"{threads} OpenCV threads")
