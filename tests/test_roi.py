"""ROI from a caller-given person box: box_to_roi and process(roi=...)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import vitruvian as mp
from vitruvian.calculators.detection_to_roi import box_to_roi
from vitruvian.types import NormalizedRect

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
POSE_JPG = DATA / "tfjs" / "pose.jpg"
needs_data = pytest.mark.skipif(
    not POSE_JPG.is_file(), reason=f"shared test data not found at {DATA.resolve()}"
)


def test_box_to_roi_is_a_square_around_the_box_centre() -> None:
    roi = box_to_roi([100, 50, 300, 450], 640, 480)
    assert roi.rotation == 0.0
    assert roi.x_center == pytest.approx(200 / 640)
    assert roi.y_center == pytest.approx(250 / 480)
    # longer side 400 px, x1.25, square in pixels
    assert roi.width * 640 == pytest.approx(500)
    assert roi.height * 480 == pytest.approx(500)
    wide = box_to_roi(np.array([0.0, 0.0, 320.0, 80.0]), 640, 480, scale=1.0)
    assert wide.width * 640 == pytest.approx(320) and wide.height * 480 == pytest.approx(320)


@pytest.mark.parametrize("box", [[10, 10, 10, 20], [30, 10, 20, 40], [0, 0, np.nan, 5]])
def test_degenerate_boxes_are_rejected(box: list[float]) -> None:
    with pytest.raises(ValueError, match="x_min"):
        box_to_roi(box, 100, 100)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(POSE_JPG)), cv2.COLOR_BGR2RGB)


@needs_data
def test_roi_from_a_person_box_skips_the_detector_and_finds_the_pose(rgb: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True) as pose:
        detected = pose.process(rgb).pose
        runs = pose.stats.detector_runs
        # The person's box from the detected landmarks (any person detector would do).
        xy = detected.landmarks[:, :2] * (w, h)
        box = [*xy.min(axis=0), *xy.max(axis=0)]
        boxed = pose.process(rgb, roi=box)
        assert pose.stats.detector_runs == runs  # the detector did not run
    assert boxed.pose_landmarks is not None and boxed.pose.detection is None
    assert boxed.pose.roi.rotation == 0.0
    err = np.hypot(*((boxed.pose.landmarks[:, :2] - detected.landmarks[:, :2]) * (w, h)).T)
    assert np.median(err) < 6.0, err
    assert err.max() < 30.0, err


@needs_data
def test_roi_accepts_a_normalized_rect_and_rejects_bad_values(rgb: np.ndarray) -> None:
    with mp.solutions.pose.Pose(static_image_mode=True) as pose:
        first = pose.process(rgb).pose
        again = pose.process(rgb, roi=first.roi).pose
        np.testing.assert_allclose(again.landmarks, first.landmarks, atol=1e-6)
        with pytest.raises(ValueError, match="roi must be"):
            pose.process(rgb, roi=[1, 2, 3])


@needs_data
def test_roi_in_video_mode_seeds_tracking(rgb: np.ndarray) -> None:
    with mp.solutions.pose.Pose() as pose:
        seeded = pose.process(rgb, roi=[330, 150, 770, 640])
        assert seeded.pose_landmarks is not None
        assert pose.stats.detector_runs == 0
        tracked = pose.process(rgb)
        assert tracked.pose_landmarks is not None
        stats = pose.stats
        assert stats.detector_runs == 0 and stats.tracked_frames == 1
    assert isinstance(tracked.pose.roi, NormalizedRect)
    assert tracked.pose.roi != seeded.pose.roi  # the next ROI comes from the landmarks
