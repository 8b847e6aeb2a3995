"""MediaPipe's documented Pose example, run unchanged on ``import vitruvian as mp``, and the rest
of the Solution API surface (options, lifecycle, result containers). Real models, no mocks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import vitruvian as mp
from vitruvian.solutions.landmarks import (
    Landmark,
    LandmarkList,
    NormalizedLandmark,
    NormalizedLandmarkList,
)

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
POSE_JPG = DATA_DIR / "tfjs" / "pose.jpg"
POSE_SEGMENTATION_PNG = DATA_DIR / "tfjs" / "pose_segmentation.png"

# mediapipe/python/solutions/pose_test.py: EXPECTED_POSE_LANDMARKS (pixels) on pose.jpg.
EXPECTED_POSE_LANDMARKS = np.array(
    [[460, 283], [467, 273], [471, 273], [474, 273], [465, 273], [465, 273], [466, 273],
     [491, 277], [480, 277], [470, 294], [465, 294], [545, 319], [453, 329], [622, 323],
     [375, 316], [696, 316], [299, 307], [719, 316], [278, 306], [721, 311], [274, 304],
     [713, 313], [283, 306], [520, 476], [467, 471], [612, 550], [358, 490], [701, 613],
     [349, 611], [709, 624], [363, 630], [730, 633], [303, 628]]
)  # fmt: skip
DIFF_THRESHOLD = 15  # pixels, as in MediaPipe's test
EXPECTED_POSE_WORLD_LANDMARKS = np.array(
    [[-0.11, -0.59, -0.15], [-0.09, -0.64, -0.16], [-0.09, -0.64, -0.16], [-0.09, -0.64, -0.16],
     [-0.11, -0.64, -0.14], [-0.11, -0.64, -0.14], [-0.11, -0.64, -0.14], [0.01, -0.65, -0.15],
     [-0.06, -0.64, -0.05], [-0.07, -0.57, -0.15], [-0.09, -0.57, -0.12], [0.18, -0.49, -0.09],
     [-0.14, -0.5, -0.03], [0.41, -0.48, -0.11], [-0.42, -0.5, -0.02], [0.64, -0.49, -0.17],
     [-0.63, -0.51, -0.13], [0.7, -0.5, -0.19], [-0.71, -0.53, -0.15], [0.72, -0.51, -0.23],
     [-0.69, -0.54, -0.19], [0.66, -0.49, -0.19], [-0.64, -0.52, -0.15], [0.09, 0.0, -0.04],
     [-0.09, -0.0, 0.03], [0.41, 0.23, -0.09], [-0.43, 0.1, -0.11], [0.69, 0.49, -0.04],
     [-0.48, 0.47, -0.02], [0.72, 0.52, -0.04], [-0.48, 0.51, -0.02], [0.8, 0.5, -0.14],
     [-0.59, 0.52, -0.11]]
)  # fmt: skip
WORLD_DIFF_THRESHOLD = 0.2  # metres, as in MediaPipe's test

needs_data = pytest.mark.skipif(
    not POSE_JPG.is_file(),
    reason=f"test image missing: {POSE_JPG} (the shared test data directory is not checked out)",
)


def _pixels(landmark_list: NormalizedLandmarkList, width: int, height: int) -> np.ndarray:
    return np.array([(lm.x * width, lm.y * height) for lm in landmark_list.landmark])


@pytest.fixture(scope="module")
def bgr_image() -> np.ndarray:
    if not POSE_JPG.is_file():
        pytest.skip(f"test image missing: {POSE_JPG}")
    image = cv2.imread(str(POSE_JPG))
    assert image is not None
    return image


# -- the documented example, verbatim apart from the import and the output path ----------------


@needs_data
def test_mediapipe_static_image_example_runs_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMAGE_FILES = [str(POSE_JPG)]  # noqa: N806 (the example's spelling)
    annotated_paths = []
    masked_images = []

    # ---- begin: MediaPipe's example (https://solutions.mediapipe.dev/pose, "Python") ----
    mp_drawing = mp.solutions.drawing_utils
    mp_drawing_styles = mp.solutions.drawing_styles
    mp_pose = mp.solutions.pose

    BG_COLOR = (192, 192, 192)  # gray  # noqa: N806
    with mp_pose.Pose(
        static_image_mode=True,
        model_complexity=2,
        enable_segmentation=True,
        min_detection_confidence=0.5,
    ) as pose:
        for idx, file in enumerate(IMAGE_FILES):
            image = cv2.imread(file)
            image_height, image_width, _ = image.shape
            # Convert the BGR image to RGB before processing.
            results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

            if not results.pose_landmarks:
                continue
            print(
                f"Nose coordinates: ("
                f"{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].x * image_width}, "
                f"{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].y * image_height})"
            )

            annotated_image = image.copy()
            # Draw segmentation on the image.
            # To improve segmentation around boundaries, consider applying a joint
            # bilateral filter to "results.segmentation_mask" with "image".
            condition = np.stack((results.segmentation_mask,) * 3, axis=-1) > 0.1
            bg_image = np.zeros(image.shape, dtype=np.uint8)
            bg_image[:] = BG_COLOR
            annotated_image = np.where(condition, annotated_image, bg_image)
            masked_images.append(annotated_image.copy())  # (test) before drawing
            # Draw pose landmarks on the image.
            mp_drawing.draw_landmarks(
                annotated_image,
                results.pose_landmarks,
                mp_pose.POSE_CONNECTIONS,
                landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style(),
            )
            path = str(tmp_path / f"annotated_image{idx}.png")
            cv2.imwrite(path, annotated_image)
            annotated_paths.append(path)
            # Plot pose world landmarks.
            with warnings.catch_warnings():  # (test) Agg cannot show a window
                warnings.filterwarnings("ignore", message=".*non-interactive.*")
                mp_drawing.plot_landmarks(results.pose_world_landmarks, mp_pose.POSE_CONNECTIONS)
    # ---- end of the example ----

    # The nose, as printed, within 15 px of MediaPipe's expected position.
    printed = capsys.readouterr().out
    assert printed.startswith("Nose coordinates: (")
    nose_x, nose_y = (float(v) for v in printed.strip()[len("Nose coordinates: (") : -1].split(","))
    expected_x, expected_y = EXPECTED_POSE_LANDMARKS[0]
    assert math.hypot(nose_x - expected_x, nose_y - expected_y) < DIFF_THRESHOLD

    # All 33 landmarks and the world landmarks within MediaPipe's own test tolerances.
    pixels = _pixels(results.pose_landmarks, image_width, image_height)
    assert np.abs(pixels - EXPECTED_POSE_LANDMARKS).max() < DIFF_THRESHOLD
    world = results.pose_world_landmarks.to_numpy()[:, :3]
    assert np.abs(world - EXPECTED_POSE_WORLD_LANDMARKS).max() < WORLD_DIFF_THRESHOLD

    # The mask separates the person from the background (reference: pure blue = person).
    mask = results.segmentation_mask
    assert mask.shape == (image_height, image_width) and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    reference = cv2.imread(str(POSE_SEGMENTATION_PNG))  # BGR
    if reference is not None:
        person = (reference[..., 0] > 127) & (reference[..., 2] < 128)
        predicted = mask > 0.5
        iou = (person & predicted).sum() / (person | predicted).sum()
        assert iou > 0.85, f"mask IoU {iou:.3f}"
        # The example's output shows the grey BG_COLOR over (nearly all of) the background.
        grey = np.all(masked_images[0] == BG_COLOR, axis=-1)
        assert grey[~person].mean() > 0.9
        assert grey[person].mean() < 0.1

    # The annotated PNG exists and differs from the masked image exactly where the skeleton is.
    (path,) = annotated_paths
    written = cv2.imread(path)
    np.testing.assert_array_equal(written, annotated_image)
    changed = np.any(written != masked_images[0], axis=-1)
    assert changed.sum() > 500
    style = mp_drawing_styles.get_default_pose_landmarks_style()
    landmarks = results.pose_landmarks.to_numpy()
    for index, (x, y, visibility, presence) in enumerate(landmarks[:, [0, 1, 3, 4]]):
        if visibility < 0.5 or presence < 0.5 or not (0 <= x <= 1 and 0 <= y <= 1):
            continue
        col, row = int(x * image_width), int(y * image_height)
        patch = written[max(row - 4, 0) : row + 5, max(col - 4, 0) : col + 5]
        assert changed[max(row - 4, 0) : row + 5, max(col - 4, 0) : col + 5].any(), index
        colors = {tuple(int(c) for c in p) for p in patch.reshape(-1, 3)}
        # Each landmark shows its style colour or the white ring (neighbours may overlap).
        assert {style[index].color, (224, 224, 224)} & colors, index
    # The far-away corners are untouched.
    assert not changed[:50, :50].any() and not changed[-50:, -50:].any()

    # plot_landmarks drew one 3D figure with the world landmarks.
    figure = plt.gcf()
    try:
        ax = figure.axes[0]
        assert ax.name == "3d"
        assert len(ax.lines) > 0 and len(ax.collections) > 0
    finally:
        plt.close(figure)


# -- options ---------------------------------------------------------------------------------


def test_defaults_match_mediapipe() -> None:
    import inspect

    parameters = inspect.signature(mp.solutions.pose.Pose).parameters
    # MediaPipe's positional parameters, in order, with its defaults; then vitruvian's own
    # options, keyword-only, so positional MediaPipe calls mean the same thing.
    positional = {name: p.default for name, p in parameters.items() if p.kind is not p.KEYWORD_ONLY}
    extra = {name: p.default for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert extra == {"backend": None, "num_poses": 1}
    assert positional == {
        "static_image_mode": False,
        "model_complexity": 1,
        "smooth_landmarks": True,
        "enable_segmentation": False,
        "smooth_segmentation": True,
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.5,
    }


@pytest.mark.parametrize("complexity", [-1, 3, 1.5, "1", None, True])
def test_invalid_model_complexity_raises_value_error(complexity: object) -> None:
    with pytest.raises(ValueError, match="model_complexity"):
        mp.solutions.pose.Pose(model_complexity=complexity)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["min_detection_confidence", "min_tracking_confidence"])
@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan"), 5])
def test_confidence_out_of_range_raises_value_error(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        mp.solutions.pose.Pose(**{name: value})


def test_confidence_of_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="min_detection_confidence"):
        mp.solutions.pose.Pose(min_detection_confidence="0.5")  # type: ignore[arg-type]


def test_pose_landmark_names_and_connections_match_mediapipe() -> None:
    pose_module = mp.solutions.pose
    names = [landmark.name for landmark in pose_module.PoseLandmark]
    assert len(names) == 33
    assert names[:4] == ["NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER"]
    assert names[-2:] == ["LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
    assert pose_module.PoseLandmark.RIGHT_HIP == 24
    assert isinstance(pose_module.POSE_CONNECTIONS, frozenset)
    assert len(pose_module.POSE_CONNECTIONS) == 35
    assert (11, 12) in pose_module.POSE_CONNECTIONS
    assert (28, 32) in pose_module.POSE_CONNECTIONS
    assert all(0 <= a < 33 and 0 <= b < 33 for a, b in pose_module.POSE_CONNECTIONS)


def test_import_is_lazy_and_exports_numpy_api() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vitruvian as mp\n"
        "assert not any(m.startswith(('ai_edge_litert', 'tflite_runtime', 'vitruvian.pipeline'))"
        " for m in sys.modules), sorted(m for m in sys.modules if 'lite' in m)\n"
        "assert isinstance(mp.__version__, str) and mp.__version__\n"
        "assert mp.solutions.pose.Pose and mp.solutions.drawing_utils.draw_landmarks\n"
        "from vitruvian import PosePipeline, PoseResult\n"
        "assert mp.PosePipeline is PosePipeline and mp.PoseResult is PoseResult\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- running the model -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def static_pose() -> Iterator[mp.solutions.pose.Pose]:
    with mp.solutions.pose.Pose(static_image_mode=True, enable_segmentation=True) as pose:
        yield pose


@needs_data
def test_result_fields_agree_with_numpy_result(
    static_pose: mp.solutions.pose.Pose, bgr_image: np.ndarray
) -> None:
    rgb = cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB)
    results = static_pose.process(rgb)
    pose = results.pose
    assert isinstance(pose, mp.PoseResult)
    assert isinstance(results.pose_landmarks, NormalizedLandmarkList)
    assert isinstance(results.pose_world_landmarks, LandmarkList)
    np.testing.assert_array_equal(results.pose_landmarks.to_numpy(), pose.landmarks)
    np.testing.assert_array_equal(results.pose_world_landmarks.to_numpy(), pose.world_landmarks)
    assert results.segmentation_mask is pose.segmentation_mask
    assert results.segmentation_mask.shape == rgb.shape[:2]
    # Attribute access gives the same numbers (as Python floats of the float32 values).
    nose = results.pose_landmarks.landmark[mp.solutions.pose.PoseLandmark.NOSE]
    assert isinstance(nose, NormalizedLandmark)
    assert isinstance(nose.x, float)
    assert (nose.x, nose.y, nose.z, nose.visibility, nose.presence) == tuple(
        float(v) for v in pose.landmarks[0]
    )
    assert all(nose.HasField(f) for f in ("x", "y", "z", "visibility", "presence"))
    hip = results.pose_world_landmarks.landmark[23]
    assert isinstance(hip, Landmark)
    assert hip.x == float(pose.world_landmarks[23, 0])
    # The same frame processed again gives the same numbers (static mode is stateless).
    again = static_pose.process(rgb)
    np.testing.assert_array_equal(again.pose.landmarks, pose.landmarks)
    # The caller's array was not modified.
    np.testing.assert_array_equal(rgb, cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB))


@needs_data
def test_landmark_list_indexing_iteration_and_len(
    static_pose: mp.solutions.pose.Pose, bgr_image: np.ndarray
) -> None:
    results = static_pose.process(cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB))
    landmark = results.pose_landmarks.landmark
    array = results.pose_landmarks.to_numpy()
    assert array.shape == (33, 5) and array.dtype == np.float32
    assert len(landmark) == 33
    assert len(list(landmark)) == 33
    assert [lm.x for lm in landmark] == [float(v) for v in array[:, 0]]
    for member in mp.solutions.pose.PoseLandmark:
        assert landmark[member] is landmark[int(member)]
    assert landmark[-1] is landmark[32]
    assert [lm.y for lm in landmark[11:13]] == [float(array[11, 1]), float(array[12, 1])]
    with pytest.raises(IndexError):
        landmark[33]
    with pytest.raises(TypeError):
        landmark["NOSE"]  # type: ignore[call-overload]
    text = str(results.pose_landmarks)
    assert text.startswith("landmark {\n  x: ") and text.count("landmark {") == 33
    # to_numpy() returns a copy: changing it does not change the list.
    array[0, 0] = 123.0
    assert landmark[0].x != 123.0


@needs_data
@pytest.mark.parametrize("static_image_mode", [True, False], ids=["static", "video"])
def test_pixels_match_mediapipe_expected_over_frames(
    static_image_mode: bool, bgr_image: np.ndarray
) -> None:
    """MediaPipe's own test_on_image (complexity 1): three frames in both modes."""
    height, width = bgr_image.shape[:2]
    rgb = cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB)
    with mp.solutions.pose.Pose(static_image_mode=static_image_mode) as pose:
        for _ in range(3):
            results = pose.process(rgb)
            pixels = _pixels(results.pose_landmarks, width, height)
            assert np.abs(pixels - EXPECTED_POSE_LANDMARKS).max() < DIFF_THRESHOLD
            world = results.pose_world_landmarks.to_numpy()[:, :3]
            assert np.abs(world - EXPECTED_POSE_WORLD_LANDMARKS).max() < WORLD_DIFF_THRESHOLD
            assert results.segmentation_mask is None  # segmentation disabled
        pose.reset()


@needs_data
def test_non_contiguous_input_gives_identical_results(
    static_pose: mp.solutions.pose.Pose, bgr_image: np.ndarray
) -> None:
    rgb_view = bgr_image[..., ::-1]  # BGR -> RGB as a strided view
    before = bgr_image.copy()
    from_view = static_pose.process(rgb_view)
    from_copy = static_pose.process(np.ascontiguousarray(rgb_view))
    np.testing.assert_array_equal(from_view.pose.landmarks, from_copy.pose.landmarks)
    np.testing.assert_array_equal(from_view.segmentation_mask, from_copy.segmentation_mask)
    np.testing.assert_array_equal(bgr_image, before)


@pytest.mark.parametrize("fill", [0, 255], ids=["black", "white"])
def test_blank_image_has_no_pose(static_pose: mp.solutions.pose.Pose, fill: int) -> None:
    results = static_pose.process(np.full((480, 640, 3), fill, dtype=np.uint8))
    assert results.pose_landmarks is None
    assert results.pose_world_landmarks is None
    assert results.segmentation_mask is None
    assert results.pose is None


def test_invalid_image_raises(static_pose: mp.solutions.pose.Pose) -> None:
    with pytest.raises(TypeError, match="uint8 RGB"):
        static_pose.process(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        static_pose.process(np.zeros((4, 4, 2), dtype=np.uint8))


def test_process_after_close_raises_runtime_error() -> None:
    pose = mp.solutions.pose.Pose(static_image_mode=True)
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    assert pose.process(image).pose_landmarks is None
    pose.close()
    pose.close()  # idempotent
    with pytest.raises(RuntimeError, match="close"):
        pose.process(image)
    with mp.solutions.pose.Pose() as scoped:
        pass
    with pytest.raises(RuntimeError, match="close"):
        scoped.process(image)


def test_missing_system_opengl_names_the_fix(tmp_path: Path) -> None:
    # What a server without libGL shows on `import cv2` of the GUI build, in a child process
    # whose cv2 fails that way: the package re-raises it with the two ways out.
    fake = tmp_path / "fake-cv2"
    fake.mkdir()
    (fake / "cv2.py").write_text(
        "raise ImportError('libGL.so.1: cannot open shared object file: No such file or "
        "directory')\n",
        encoding="utf-8",
    )
    code = "import vitruvian as mp\nmp.solutions.pose.Pose\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "libGL.so.1" in proc.stderr
    assert "apt-get install libgl1" in proc.stderr
    assert "pip uninstall -y opencv-python && pip install opencv-python-headless" in proc.stderr
