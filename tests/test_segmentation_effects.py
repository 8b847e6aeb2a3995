"""Background replacement and blur from a real segmentation mask, and draw_landmarks locality."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import vitruvian as mp
from vitruvian.segmentation_effects import blur_background, replace_background

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
POSE_JPG = DATA / "tfjs" / "pose.jpg"

pytestmark = pytest.mark.skipif(
    not POSE_JPG.is_file(), reason=f"shared test data not found at {DATA.resolve()}"
)


@pytest.fixture(scope="module")
def bgr_and_results() -> tuple[np.ndarray, object]:
    bgr = cv2.imread(str(POSE_JPG))
    with mp.solutions.pose.Pose(static_image_mode=True, enable_segmentation=True) as pose:
        results = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert results.segmentation_mask is not None
    return bgr, results


def test_hard_replacement_keeps_the_person_and_paints_the_rest(bgr_and_results) -> None:
    bgr, results = bgr_and_results
    mask = results.segmentation_mask
    out = replace_background(bgr, mask, (10, 20, 30), threshold=0.1)
    person = mask > 0.1
    assert 0.05 < person.mean() < 0.5  # a real person-sized mask
    np.testing.assert_array_equal(out[person], bgr[person])
    assert (out[~person] == np.array([10, 20, 30], np.uint8)).all()
    # MediaPipe's documented example computes the same thing with np.where.
    condition = np.stack((mask,) * 3, axis=-1) > 0.1
    bg = np.zeros_like(bgr)
    bg[:] = (10, 20, 30)
    np.testing.assert_array_equal(out, np.where(condition, bgr, bg))


def test_soft_replacement_blends_with_the_mask_as_alpha(bgr_and_results) -> None:
    bgr, results = bgr_and_results
    mask = results.segmentation_mask
    out = replace_background(bgr, mask, (0, 0, 0))
    expected = np.rint(bgr.astype(np.float32) * np.clip(mask, 0, 1)[..., None])
    assert np.abs(out.astype(np.float32) - expected).max() <= 1.0
    edge = (mask > 0.2) & (mask < 0.8)
    assert edge.any()
    assert (out[edge].astype(int) <= bgr[edge].astype(int)).all()


def test_blur_changes_only_the_background(bgr_and_results) -> None:
    bgr, results = bgr_and_results
    mask = results.segmentation_mask
    out = blur_background(bgr, mask, strength=41, threshold=0.5)
    person = mask > 0.5
    np.testing.assert_array_equal(out[person], bgr[person])
    background_change = np.abs(out[~person].astype(int) - bgr[~person]).mean()
    assert background_change > 1.0
    np.testing.assert_array_equal(out[~person], cv2.GaussianBlur(bgr, (41, 41), 0)[~person])


def test_bad_inputs_are_rejected(bgr_and_results) -> None:
    bgr, results = bgr_and_results
    with pytest.raises(ValueError, match="mask"):
        replace_background(bgr, results.segmentation_mask[:-1])
    with pytest.raises(ValueError, match="uint8"):
        replace_background(bgr.astype(np.float32), results.segmentation_mask)
    with pytest.raises(ValueError, match="background image"):
        replace_background(bgr, results.segmentation_mask, bgr[:-1])


def test_draw_landmarks_changes_pixels_only_near_landmarks_and_connections(
    bgr_and_results,
) -> None:
    bgr, results = bgr_and_results
    h, w = bgr.shape[:2]
    drawn = bgr.copy()
    spec = mp.solutions.drawing_utils.DrawingSpec(thickness=2, circle_radius=3)
    mp.solutions.drawing_utils.draw_landmarks(
        drawn, results.pose_landmarks, mp.solutions.pose.POSE_CONNECTIONS, spec, spec
    )
    changed = (drawn != bgr).any(axis=2)
    assert changed.sum() > 500
    # Rasterise the skeleton ourselves, thick enough to cover circles, borders and lines.
    allowed = np.zeros((h, w), np.uint8)
    pts = results.pose.landmarks[:, :2] * (w, h)
    for a, b in mp.solutions.pose.POSE_CONNECTIONS:
        p, q = pts[a].round().astype(int), pts[b].round().astype(int)
        cv2.line(allowed, tuple(p), tuple(q), 1, thickness=8)
    for p in pts.round().astype(int):
        cv2.circle(allowed, tuple(p), 8, 1, thickness=-1)
    assert not (changed & (allowed == 0)).any()
