"""MediaPipe's own published still-image test (``pose_test.py``), run on our pipeline.

The expected values, tolerances and comparison are copied from MediaPipe's
``mediapipe/python/solutions/pose_test.py`` (repository ``google-ai-edge/mediapipe``, Apache-2.0):
``EXPECTED_POSE_LANDMARKS`` (pixel x, y on ``pose.jpg``), ``EXPECTED_POSE_WORLD_LANDMARKS``
(metres), ``DIFF_THRESHOLD`` and ``WORLD_DIFF_THRESHOLD``. As there, every landmark's image x and
y (normalised coordinate times the image width/height) must differ from the expected value by
less than 15 px *per coordinate*, and every world x, y and z by less than 0.2 m; the image is
processed three times in a row (``num_frames = 3``) in static mode.

For reference, mediapipe 0.10.14 itself scores (max / mean absolute per-coordinate error):
8.5 / 2.3 px, 7.0 / 2.1 px and 8.7 / 1.8 px for complexity 0 / 1 / 2, and its mask > 0.5 has
IoU 0.952 / 0.955 / 0.946 with the person pixels of ``tfjs/pose_segmentation.png``.

Every complexity is checked on both backends: LiteRT, and ONNX Runtime on our own TFLite->ONNX
conversion (where the three frames go through ``process_batch`` as one batch).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
IMAGE_PATH = DATA_DIR / "tfjs" / "pose.jpg"
SEGMENTATION_PATH = DATA_DIR / "tfjs" / "pose_segmentation.png"

# --- Copied from google-ai-edge/mediapipe, mediapipe/python/solutions/pose_test.py ----------
DIFF_THRESHOLD = 15  # pixels
EXPECTED_POSE_LANDMARKS = np.array(
    [[460, 283], [467, 273], [471, 273], [474, 273], [465, 273], [465, 273],
     [466, 273], [491, 277], [480, 277], [470, 294], [465, 294], [545, 319],
     [453, 329], [622, 323], [375, 316], [696, 316], [299, 307], [719, 316],
     [278, 306], [721, 311], [274, 304], [713, 313], [283, 306], [520, 476],
     [467, 471], [612, 550], [358, 490], [701, 613], [349, 611], [709, 624],
     [363, 630], [730, 633], [303, 628]]
)  # fmt: skip
WORLD_DIFF_THRESHOLD = 0.2  # meters
EXPECTED_POSE_WORLD_LANDMARKS = np.array(
    [[-0.11, -0.59, -0.15], [-0.09, -0.64, -0.16], [-0.09, -0.64, -0.16],
     [-0.09, -0.64, -0.16], [-0.11, -0.64, -0.14], [-0.11, -0.64, -0.14],
     [-0.11, -0.64, -0.14], [0.01, -0.65, -0.15], [-0.06, -0.64, -0.05],
     [-0.07, -0.57, -0.15], [-0.09, -0.57, -0.12], [0.18, -0.49, -0.09],
     [-0.14, -0.5, -0.03], [0.41, -0.48, -0.11], [-0.42, -0.5, -0.02],
     [0.64, -0.49, -0.17], [-0.63, -0.51, -0.13], [0.7, -0.5, -0.19],
     [-0.71, -0.53, -0.15], [0.72, -0.51, -0.23], [-0.69, -0.54, -0.19],
     [0.66, -0.49, -0.19], [-0.64, -0.52, -0.15], [0.09, 0., -0.04],
     [-0.09, -0., 0.03], [0.41, 0.23, -0.09], [-0.43, 0.1, -0.11],
     [0.69, 0.49, -0.04], [-0.48, 0.47, -0.02], [0.72, 0.52, -0.04],
     [-0.48, 0.51, -0.02], [0.8, 0.5, -0.14], [-0.59, 0.52, -0.11]]
)  # fmt: skip
NUM_FRAMES = 3
# ----------------------------------------------------------------------------------------------

#: Minimum IoU of (mask > 0.5) with the reference person pixels. MediaPipe itself gets
#: 0.952 / 0.955 / 0.946, so complexity 2 gets a little more room.
MIN_SEGMENTATION_IOU = {0: 0.94, 1: 0.94, 2: 0.93}

COMPLEXITIES = (0, 1, 2)

pytestmark = pytest.mark.skipif(
    not IMAGE_PATH.is_file(), reason=f"test data not found: {IMAGE_PATH.resolve()}"
)


def _read_rgb(path: Path) -> np.ndarray:
    """Read an image file as RGB uint8."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    """``tfjs/pose.jpg`` as RGB."""
    return _read_rgb(IMAGE_PATH)


@pytest.fixture(scope="module")
def person_pixels() -> np.ndarray:
    """Boolean person mask of ``tfjs/pose_segmentation.png`` (pure blue pixels)."""
    rgb = _read_rgb(SEGMENTATION_PATH)
    return (rgb[..., 0] == 0) & (rgb[..., 1] == 0) & (rgb[..., 2] == 255)


BACKENDS = ("litert", "onnxruntime-cpu")


@pytest.fixture(
    scope="module",
    params=[(c, b) for b in BACKENDS for c in COMPLEXITIES],
    ids=lambda case: f"complexity{case[0]}-{case[1]}",
)
def results(request: pytest.FixtureRequest, image: np.ndarray) -> Iterator[tuple[int, list[Any]]]:
    """``(complexity, [PoseResult | None] * NUM_FRAMES)`` from a static-mode pipeline."""
    from vitruvian.pipeline import PosePipeline

    complexity, backend = request.param
    pipe = PosePipeline(
        model_complexity=complexity,
        enable_segmentation=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
        backend=backend,
    )
    try:
        if backend == "litert":
            yield complexity, [pipe.process(image) for _ in range(NUM_FRAMES)]
        else:
            yield complexity, pipe.process_batch([image] * NUM_FRAMES)
    finally:
        pipe.close()


def test_landmarks(results: tuple[int, list[Any]], image: np.ndarray) -> None:
    """Image landmarks within 15 px per coordinate, world landmarks within 0.2 m."""
    complexity, frames = results
    height, width = image.shape[:2]
    for idx, res in enumerate(frames):
        assert res is not None, f"complexity {complexity}, frame {idx}: no pose found"
        pixels = np.asarray(res.landmarks, dtype=np.float64)[:, :2] * (width, height)
        diff = np.abs(pixels - EXPECTED_POSE_LANDMARKS)
        world = np.asarray(res.world_landmarks, dtype=np.float64)[:, :3]
        world_diff = np.abs(world - EXPECTED_POSE_WORLD_LANDMARKS)
        print(
            f"pose.jpg complexity {complexity} frame {idx}: image max {diff.max():.2f} px "
            f"(landmark {diff.max(axis=1).argmax()}), mean {diff.mean():.2f} px; world max "
            f"{world_diff.max():.3f} m (landmark {world_diff.max(axis=1).argmax()}), "
            f"mean {world_diff.mean():.3f} m"
        )
        bad = np.flatnonzero(diff.max(axis=1) >= DIFF_THRESHOLD)
        assert bad.size == 0, (
            f"complexity {complexity}, frame {idx}: landmarks off by >= {DIFF_THRESHOLD} px: "
            + "; ".join(
                f"#{i} ours {pixels[i].round(1).tolist()} expected "
                f"{EXPECTED_POSE_LANDMARKS[i].tolist()}"
                for i in bad
            )
        )
        bad = np.flatnonzero(world_diff.max(axis=1) >= WORLD_DIFF_THRESHOLD)
        assert bad.size == 0, (
            f"complexity {complexity}, frame {idx}: world landmarks off by >= "
            f"{WORLD_DIFF_THRESHOLD} m: "
            + "; ".join(
                f"#{i} ours {world[i].round(3).tolist()} expected "
                f"{EXPECTED_POSE_WORLD_LANDMARKS[i].tolist()}"
                for i in bad
            )
        )


def test_segmentation(results: tuple[int, list[Any]], person_pixels: np.ndarray) -> None:
    """IoU of (mask > 0.5) with the reference person pixels."""
    complexity, frames = results
    res = frames[0]
    assert res is not None, f"complexity {complexity}: no pose found"
    assert res.segmentation_mask is not None, f"complexity {complexity}: no segmentation mask"
    mask = np.asarray(res.segmentation_mask) > 0.5
    assert mask.shape == person_pixels.shape
    iou = float((mask & person_pixels).sum() / (mask | person_pixels).sum())
    print(f"pose.jpg complexity {complexity}: segmentation IoU {iou:.4f}")
    assert iou >= MIN_SEGMENTATION_IOU[complexity], (
        f"complexity {complexity}: segmentation IoU {iou:.4f} < {MIN_SEGMENTATION_IOU[complexity]}"
    )
