"""Video mode (detector-tracker loop and smoothing) on real models, real clips and the goldens.

Clips (rebuilt exactly as ``scripts/make_goldens.py`` fed them to MediaPipe; the first test checks
their SHA-1s): ``video/pose_squats.mp4`` (65 frames, 720 x 1280) decoded by
:func:`vitruvian.testing_clips.read_video_rgb`, and a 40-frame "still with jitter" clip of
``tfjs/pose.jpg`` moved by sub-pixel translations (:func:`vitruvian.testing_clips.
still_with_jitter`, parameters read from the goldens). Frames are fed in order, one ``process()``
per frame, without timestamps (each call advances 33.333 ms, as in MediaPipe's Python solution).

What is checked:

* tfjs reference: ``pose_squats`` at complexity 1 with default options against the BlazePose
  full-model output of tfjs-models (``pose_squats.full.json``, ``pose_squats_3d.full.json``),
  compared as tfjs's own ``blazepose_test.ts`` does: ``expectArraysClose``, i.e. every *single
  coordinate* (image x, y in pixels; world x, y, z in metres) within the tolerance; here 28 px
  (tfjs's ``EPSILON_VIDEO``) and 0.19 m (tfjs uses 0.17 m).
* detector-tracker: the detector runs on the first frame only while tracking holds, and tracked
  frames carry no detection; static mode runs the detector on every frame.
* parity with mediapipe 0.10.14 in video mode (``tests/goldens/mediapipe_0.10.14_video.json``),
  per run (clip x complexity, and ``smooth_landmarks=False``): the same frames with and without
  a pose, mean 2D landmark error <= 3 px, mean world error (Euclidean) <= 0.03 m, and mask IoU
  >= 0.95 on the stored frames. MediaPipe 0.10.14 does not apply segmentation smoothing (its
  graph drops the calculator's options), so masks are compared with ``smooth_segmentation=False``.
* jitter on the still-with-jitter clip, as :func:`vitruvian.testing_clips.landmark_jitter`
  defines it: the mean Euclidean norm, over the 33 landmarks and the inner frames, of the second
  difference over frames of the landmark positions in pixels (``p[t+1] - 2 p[t] + p[t-1]``).
  Smoothing must lower it, and ours must be at most 1.05 x MediaPipe's.
* timestamps, ``reset()``, MediaPipe's webcam sample loop run on the video file, and two
  interleaved instances.

Figures are printed (``pytest -s``), attached with ``record_property`` and gathered in
``out/video_report.json`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import pytest

from vitruvian.testing_clips import landmark_jitter, read_video_rgb, still_with_jitter

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".." / "shared" / "data"
SQUATS_PATH = DATA_DIR / "video" / "pose_squats.mp4"
TFJS_2D_PATH = DATA_DIR / "video" / "pose_squats.full.json"
TFJS_3D_PATH = DATA_DIR / "video" / "pose_squats_3d.full.json"
GOLDENS_DIR = Path(__file__).resolve().parent / "goldens"
GOLDEN_PATH = GOLDENS_DIR / "mediapipe_0.10.14_video.json"
REPORT_PATH = REPO_ROOT / "out" / "video_report.json"

COMPLEXITIES = (0, 1, 2)
#: The golden runs: ``<clip>/c<complexity>``, plus one without landmark smoothing.
RUN_IDS = (
    *(f"{clip}/c{c}" for clip in ("pose_squats", "pose_jitter") for c in COMPLEXITIES),
    "pose_squats/c1/unsmoothed",
)
#: The golden runs that store masks, and the frames whose masks are kept from every run of ours
#: with segmentation (the goldens store masks of these frames).
MASK_RUN_IDS = ("pose_squats/c1",)
MASK_FRAMES = (0, 20, 40, 64)

TFJS_MAX_PX = 28.0
TFJS_MAX_WORLD_M = 0.19
MAX_MEAN_PX = 3.0
MAX_MEAN_WORLD_M = 0.03
MIN_MASK_IOU = 0.95
JITTER_RATIO = 1.05
#: A frame whose mean 2D error exceeds this counts as diverging, in failure messages.
DIVERGENCE_PX = 1.0
#: How many of the worst frames a failure message lists.
N_WORST = 5

pytestmark = pytest.mark.skipif(
    not SQUATS_PATH.is_file(),
    reason=f"test data not found: {DATA_DIR.resolve()} (expected ../shared/data)",
)

_REPORT: dict[str, Any] = {}


class Config(NamedTuple):
    """One video-mode configuration of ``Pose`` run over one clip."""

    clip: str
    complexity: int
    smooth_landmarks: bool = True
    enable_segmentation: bool = False
    smooth_segmentation: bool = True


@dataclass(frozen=True)
class Track:
    """One clip's per-frame results (ours or MediaPipe's)."""

    landmarks: list[np.ndarray | None]  # per frame (33, 4): normalised x, y, z, visibility
    world: list[np.ndarray | None]  # per frame (33, 3), metres
    masks: dict[int, np.ndarray]  # frame index -> (H, W) bool
    size: tuple[int, int]  # frame (height, width)

    @property
    def found(self) -> list[bool]:
        """Per frame: whether a pose was found."""
        return [lm is not None for lm in self.landmarks]

    def pixels(self) -> np.ndarray:
        """``(T, 33, 2)`` image x, y in pixels; every frame must have a pose."""
        assert all(self.found), "a frame without a pose"
        height, width = self.size
        return np.stack([lm[:, :2] for lm in self.landmarks]) * (width, height)

    def jitter(self) -> float:
        """:func:`landmark_jitter` of the image landmarks, in pixels."""
        return landmark_jitter(self.pixels())


def _record(record_property: Any, section: str, name: str, value: Any) -> None:
    """Keep one measured figure: test report property, module report and stdout."""
    record_property(f"{section}:{name}", value)
    _REPORT.setdefault(section, {})[name] = value
    print(f"video {section}: {name} = {value}")


@pytest.fixture(scope="module", autouse=True)
def _write_report() -> Iterator[None]:
    """Write the gathered figures to ``out/video_report.json`` after the module's tests."""
    yield
    if _REPORT:
        REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
        REPORT_PATH.write_text(json.dumps(_REPORT, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    """The video golden JSON."""
    return json.loads(GOLDEN_PATH.read_text())


@pytest.fixture(scope="module")
def clips(golden: dict[str, Any]) -> dict[str, list[np.ndarray]]:
    """The clips' RGB frames, by clip id, built as the goldens' were."""
    built: dict[str, list[np.ndarray]] = {}
    for clip_id, clip in golden["clips"].items():
        if clip["kind"] == "video":
            built[clip_id] = read_video_rgb(DATA_DIR / clip["source"])
        elif clip["kind"] == "jitter":
            bgr = cv2.imread(str(DATA_DIR / clip["source"]), cv2.IMREAD_COLOR)
            assert bgr is not None, f"cannot read {DATA_DIR / clip['source']}"
            built[clip_id] = still_with_jitter(
                np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)),
                n_frames=clip["n_frames"],
                amplitude=clip["amplitude"],
                step=clip["step"],
                seed=clip["seed"],
            )
        else:
            raise AssertionError(f"unknown clip kind {clip['kind']!r}")
    return built


def _track(results: list[Any], size: tuple[int, int]) -> Track:
    """A :class:`Track` from ``Pose.process`` outputs (masks kept on :data:`MASK_FRAMES`)."""
    landmarks: list[np.ndarray | None] = []
    world: list[np.ndarray | None] = []
    masks: dict[int, np.ndarray] = {}
    for index, res in enumerate(results):
        if res.pose is None:
            landmarks.append(None)
            world.append(None)
            continue
        landmarks.append(np.asarray(res.pose.landmarks, dtype=np.float64)[:, :4])
        world.append(np.asarray(res.pose.world_landmarks, dtype=np.float64)[:, :3])
        if index in MASK_FRAMES and res.segmentation_mask is not None:
            masks[index] = np.asarray(res.segmentation_mask) > 0.5
    return Track(landmarks, world, masks, size)


def _run(frames: list[np.ndarray], config: Config) -> Track:
    """Feed ``frames`` in order to a fresh video-mode ``Pose`` built from ``config``."""
    from vitruvian.solutions.pose import Pose

    with Pose(
        static_image_mode=False,
        model_complexity=config.complexity,
        smooth_landmarks=config.smooth_landmarks,
        enable_segmentation=config.enable_segmentation,
        smooth_segmentation=config.smooth_segmentation,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    ) as pose:
        results = [pose.process(frame) for frame in frames]
    return _track(results, frames[0].shape[:2])


@pytest.fixture(scope="module")
def run(clips: dict[str, list[np.ndarray]]) -> Callable[[Config], Track]:
    """``run(config)``: our results for one configuration, computed once per module."""
    cache: dict[Config, Track] = {}

    def get(config: Config) -> Track:
        if config not in cache:
            cache[config] = _run(clips[config.clip], config)
        return cache[config]

    return get


def _golden_track(golden: dict[str, Any], run_id: str) -> Track:
    """MediaPipe's results of one golden run."""
    entry = golden["runs"][run_id]
    clip = golden["clips"][entry["clip"]]
    frames = entry["frames"]
    masks = {}
    for index, name in entry["masks"].items():
        image = cv2.imread(str(GOLDENS_DIR / name), cv2.IMREAD_GRAYSCALE)
        assert image is not None, f"cannot read golden mask {name}"
        masks[int(index)] = image > 127
    return Track(
        landmarks=[None if f is None else np.array(f["landmarks"], np.float64) for f in frames],
        world=[None if f is None else np.array(f["world"], np.float64) for f in frames],
        masks=masks,
        size=(clip["size"][0], clip["size"][1]),
    )


def _golden_config(golden: dict[str, Any], run_id: str) -> Config:
    """Our configuration matching a golden run's options."""
    entry = golden["runs"][run_id]
    options = entry["options"]
    assert options["static_image_mode"] is False
    return Config(
        clip=entry["clip"],
        complexity=options["model_complexity"],
        smooth_landmarks=options["smooth_landmarks"],
        enable_segmentation=options["enable_segmentation"],
        smooth_segmentation=options["smooth_segmentation"],
    )


# -- inputs ----------------------------------------------------------------------------------------


def test_clips_match_goldens(golden: dict[str, Any], clips: dict[str, list[np.ndarray]]) -> None:
    """The frames we build are byte-identical to those MediaPipe was fed, and every run exists."""
    assert set(RUN_IDS) <= set(golden["runs"]), f"golden runs: {sorted(golden['runs'])}"
    for clip_id, clip in golden["clips"].items():
        frames = clips[clip_id]
        assert len(frames) == clip["n_frames"], f"{clip_id}: {len(frames)} frames"
        assert list(frames[0].shape[:2]) == clip["size"], f"{clip_id}: size {frames[0].shape}"
        differ = [
            i
            for i, (frame, sha1) in enumerate(zip(frames, clip["sha1"], strict=True))
            if hashlib.sha1(frame.tobytes()).hexdigest() != sha1
        ]
        assert not differ, f"{clip_id}: frames {differ} differ from those MediaPipe was fed"


# -- tfjs reference --------------------------------------------------------------------------------


def test_tfjs_reference(
    run: Callable[[Config], Track], golden: dict[str, Any], record_property: Any
) -> None:
    """``pose_squats``, complexity 1, defaults: every coordinate within 28 px / 0.19 m of tfjs."""
    ours = run(Config("pose_squats", 1))
    assert all(ours.found), f"no pose on frames {[i for i, f in enumerate(ours.found) if not f]}"
    expected_px = np.array(json.loads(TFJS_2D_PATH.read_text()), np.float64)[:, :, :2]
    expected_world = np.array(json.loads(TFJS_3D_PATH.read_text()), np.float64)
    assert expected_px.shape == (len(ours.landmarks), 33, 2)

    mediapipe = _golden_track(golden, "pose_squats/c1")
    for who, track in (("ours", ours), ("mediapipe", mediapipe)):
        diff_px = np.abs(track.pixels() - expected_px)
        diff_world = np.abs(np.stack(track.world) - expected_world)
        section = f"tfjs_reference/{who}"
        _record(record_property, section, "px_coord_mean", round(float(diff_px.mean()), 3))
        _record(record_property, section, "px_coord_max", round(float(diff_px.max()), 3))
        _record(
            record_property,
            section,
            "px_euclid_mean",
            round(float(np.linalg.norm(track.pixels() - expected_px, axis=-1).mean()), 3),
        )
        _record(record_property, section, "world_coord_mean", round(float(diff_world.mean()), 4))
        _record(record_property, section, "world_coord_max", round(float(diff_world.max()), 4))
        _record(
            record_property,
            section,
            "world_euclid_mean",
            round(float(np.linalg.norm(np.stack(track.world) - expected_world, axis=-1).mean()), 4),
        )

    diff_px = np.abs(ours.pixels() - expected_px)
    diff_world = np.abs(np.stack(ours.world) - expected_world)
    t, k, axis = np.unravel_index(int(diff_px.argmax()), diff_px.shape)
    assert diff_px.max() <= TFJS_MAX_PX, (
        f"frame {t}, landmark {k}: {'xy'[axis]} differs by {diff_px.max():.1f} px from tfjs "
        f"(ours {ours.pixels()[t, k].round(1).tolist()}, tfjs {expected_px[t, k].round(1)})"
    )
    t, k, axis = np.unravel_index(int(diff_world.argmax()), diff_world.shape)
    assert diff_world.max() <= TFJS_MAX_WORLD_M, (
        f"frame {t}, landmark {k}: world {'xyz'[axis]} differs by {diff_world.max():.3f} m "
        f"from tfjs (ours {ours.world[t][k].round(3).tolist()}, tfjs "
        f"{expected_world[t, k].round(3).tolist()})"
    )


# -- detector-tracker ------------------------------------------------------------------------------


def test_tracker_runs_detector_once(
    clips: dict[str, list[np.ndarray]], record_property: Any
) -> None:
    """While tracking holds, only the first frame runs the detector; tracked frames carry no
    detection."""
    from vitruvian.tracking import PoseTracker

    frames = clips["pose_squats"]
    tracker = PoseTracker(model_complexity=1)
    try:
        results = [tracker.process(frame) for frame in frames]
        stats = tracker.stats
    finally:
        tracker.close()
    _record(record_property, "tracker", "frames", stats.frames)
    _record(record_property, "tracker", "detector_runs", stats.detector_runs)
    _record(record_property, "tracker", "tracked_frames", stats.tracked_frames)
    assert all(r is not None for r in results), "a frame without a pose"
    assert stats.frames == len(frames)
    assert stats.tracked_frames == len(frames) - 1, "tracking was lost on some frame"
    assert stats.detector_runs == 1, "the detector ran on tracked frames"
    assert results[0] is not None and results[0].detection is not None
    with_detection = [i for i, r in enumerate(results[1:], 1) if r and r.detection is not None]
    assert not with_detection, f"tracked frames {with_detection} carry a detection"


def test_static_mode_detects_every_frame(clips: dict[str, list[np.ndarray]]) -> None:
    """``static_image_mode=True`` runs the detector on every frame."""
    from vitruvian.solutions.pose import Pose

    frames = clips["pose_squats"]
    with Pose(static_image_mode=True, model_complexity=1) as pose:
        results = [pose.process(frame) for frame in frames]
        detector_runs = pose.stats.detector_runs
    assert detector_runs == len(frames)
    assert all(r.pose is not None and r.pose.detection is not None for r in results)


# -- parity with MediaPipe's video mode ------------------------------------------------------------


@pytest.fixture(scope="module", params=RUN_IDS)
def parity(
    request: pytest.FixtureRequest, golden: dict[str, Any], run: Callable[[Config], Track]
) -> tuple[str, Track, Track]:
    """``(run id, ours, mediapipe)`` for one golden run."""
    run_id: str = request.param
    return run_id, run(_golden_config(golden, run_id)), _golden_track(golden, run_id)


def _frames_report(errors: dict[int, np.ndarray], ours: Track, gold: Track) -> str:
    """Where 2D errors start and peak, with the worst landmarks' values (for failure messages)."""
    height, width = ours.size
    means = {t: float(e.mean()) for t, e in errors.items()}
    onset = next((t for t in sorted(means) if means[t] > DIVERGENCE_PX), None)
    lines = [
        "per-frame mean px: " + " ".join(f"{t}:{means[t]:.1f}" for t in sorted(means)),
        f"first frame above {DIVERGENCE_PX} px: {onset}",
    ]
    for t in sorted(means, key=lambda t: -means[t])[:N_WORST]:
        k = int(errors[t].argmax())
        lines.append(
            f"frame {t}: mean {means[t]:.2f} px, max {errors[t][k]:.2f} px at landmark {k} "
            f"(ours {(ours.landmarks[t][k, :2] * (width, height)).round(1).tolist()}, "
            f"mediapipe {(gold.landmarks[t][k, :2] * (width, height)).round(1).tolist()})"
        )
    return "\n  ".join(lines)


def test_parity_presence(parity: tuple[str, Track, Track], record_property: Any) -> None:
    """A pose on the same frames as MediaPipe."""
    run_id, ours, gold = parity
    _record(record_property, f"parity/{run_id}", "frames_with_pose_ours", sum(ours.found))
    _record(record_property, f"parity/{run_id}", "frames_with_pose_mediapipe", sum(gold.found))
    differ = [i for i, (a, b) in enumerate(zip(ours.found, gold.found, strict=True)) if a != b]
    assert not differ, (
        f"{run_id}: presence differs on frames {differ} (ours "
        f"{[ours.found[i] for i in differ]}, mediapipe {[gold.found[i] for i in differ]})"
    )


def test_parity_landmarks(parity: tuple[str, Track, Track], record_property: Any) -> None:
    """Mean 2D landmark error <= 3 px over the frames where both found a pose."""
    run_id, ours, gold = parity
    height, width = ours.size
    both = [t for t, (a, b) in enumerate(zip(ours.found, gold.found, strict=True)) if a and b]
    assert both, f"{run_id}: no frame where both found a pose"
    errors = {
        t: np.linalg.norm(
            (ours.landmarks[t][:, :2] - gold.landmarks[t][:, :2]) * (width, height), axis=1
        )
        for t in both
    }
    flat = np.concatenate(list(errors.values()))
    mean = float(flat.mean())
    section = f"parity/{run_id}"
    _record(record_property, section, "landmark_px_mean", round(mean, 3))
    _record(record_property, section, "landmark_px_p95", round(float(np.percentile(flat, 95)), 3))
    _record(record_property, section, "landmark_px_max", round(float(flat.max()), 3))
    worst = max(errors, key=lambda t: float(errors[t].mean()))
    _record(record_property, section, "worst_frame", worst)
    _record(record_property, section, "worst_frame_px_mean", round(float(errors[worst].mean()), 3))
    if all(ours.found) and all(gold.found):
        _record(record_property, section, "jitter_px_ours", round(ours.jitter(), 4))
        _record(record_property, section, "jitter_px_mediapipe", round(gold.jitter(), 4))
    assert mean <= MAX_MEAN_PX, (
        f"{run_id}: 2D landmark error mean {mean:.3f} px (limit {MAX_MEAN_PX}) over "
        f"{len(both)} frames\n  " + _frames_report(errors, ours, gold)
    )


def test_parity_world(parity: tuple[str, Track, Track], record_property: Any) -> None:
    """Mean world landmark error (Euclidean) <= 0.03 m over the frames where both found a pose."""
    run_id, ours, gold = parity
    both = [t for t, (a, b) in enumerate(zip(ours.found, gold.found, strict=True)) if a and b]
    assert both, f"{run_id}: no frame where both found a pose"
    errors = {t: np.linalg.norm(ours.world[t] - gold.world[t], axis=1) for t in both}
    flat = np.concatenate(list(errors.values()))
    mean = float(flat.mean())
    section = f"parity/{run_id}"
    _record(record_property, section, "world_m_mean", round(mean, 4))
    _record(record_property, section, "world_m_max", round(float(flat.max()), 4))
    if mean > MAX_MEAN_WORLD_M:
        means = {t: float(e.mean()) for t, e in errors.items()}
        lines = [
            f"frame {t}: mean {means[t]:.4f} m, max {errors[t].max():.4f} m at landmark "
            f"{int(errors[t].argmax())} (ours {ours.world[t][errors[t].argmax()].round(3)}, "
            f"mediapipe {gold.world[t][errors[t].argmax()].round(3)})"
            for t in sorted(means, key=lambda t: -means[t])[:N_WORST]
        ]
        pytest.fail(
            f"{run_id}: world landmark error mean {mean:.4f} m (limit {MAX_MEAN_WORLD_M}) over "
            f"{len(both)} frames; worst frames:\n  " + "\n  ".join(lines)
        )


@pytest.mark.parametrize("run_id", MASK_RUN_IDS)
def test_parity_masks(
    run_id: str,
    golden: dict[str, Any],
    run: Callable[[Config], Track],
    record_property: Any,
) -> None:
    """IoU(ours > 0.5, MediaPipe's mask) >= 0.95 on every frame the goldens store a mask for."""
    ours, gold = run(_golden_config(golden, run_id)), _golden_track(golden, run_id)
    assert gold.masks, f"{run_id}: the goldens store no mask"
    ious: dict[int, float] = {}
    for t, expected in sorted(gold.masks.items()):
        assert t in ours.masks, f"{run_id}: no mask from us on frame {t}"
        got = ours.masks[t]
        assert got.shape == expected.shape, f"frame {t}: mask {got.shape} != {expected.shape}"
        union = int((got | expected).sum())
        ious[t] = 1.0 if union == 0 else float((got & expected).sum()) / union
    _record(
        record_property, f"parity/{run_id}", "mask_iou", {t: round(v, 4) for t, v in ious.items()}
    )
    bad = {t: round(v, 4) for t, v in ious.items() if v < MIN_MASK_IOU}
    assert not bad, f"{run_id}: mask IoU below {MIN_MASK_IOU} on frames {bad}"


# -- jitter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("complexity", COMPLEXITIES, ids=lambda c: f"complexity{c}")
def test_jitter(
    complexity: int,
    run: Callable[[Config], Track],
    golden: dict[str, Any],
    record_property: Any,
) -> None:
    """On the still-with-jitter clip, smoothing lowers the jitter, to at most 1.05 x MediaPipe's."""
    run_id = f"pose_jitter/c{complexity}"
    smoothed_config = _golden_config(golden, run_id)
    smoothed = run(smoothed_config)
    unsmoothed = run(smoothed_config._replace(smooth_landmarks=False))
    mediapipe = golden["runs"][run_id]["jitter_px"]
    assert mediapipe is not None, f"{run_id}: MediaPipe lost the pose on some frame"
    ours_smoothed, ours_unsmoothed = smoothed.jitter(), unsmoothed.jitter()
    section = f"jitter/c{complexity}"
    _record(record_property, section, "ours_smoothed_px", round(ours_smoothed, 4))
    _record(record_property, section, "ours_unsmoothed_px", round(ours_unsmoothed, 4))
    _record(record_property, section, "mediapipe_px", mediapipe)
    assert ours_smoothed < ours_unsmoothed, (
        f"smoothing does not lower the jitter: {ours_smoothed:.4f} px smoothed, "
        f"{ours_unsmoothed:.4f} px unsmoothed"
    )
    assert ours_smoothed <= mediapipe * JITTER_RATIO, (
        f"jitter {ours_smoothed:.4f} px above {JITTER_RATIO} x MediaPipe's {mediapipe:.4f} px"
    )


# -- timestamps and reset --------------------------------------------------------------------------


def _arrays(outputs: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(landmarks, world landmarks)`` of each output; every one must have a pose."""
    assert all(o.pose is not None for o in outputs), "a frame without a pose"
    return [(o.pose.landmarks, o.pose.world_landmarks) for o in outputs]


def _assert_same(a: list[Any], b: list[Any], atol: float = 1e-5) -> None:
    """Two output sequences hold the same landmarks and world landmarks within ``atol``."""
    assert len(a) == len(b)
    for t, ((lm_a, w_a), (lm_b, w_b)) in enumerate(zip(_arrays(a), _arrays(b), strict=True)):
        np.testing.assert_allclose(lm_a, lm_b, rtol=0, atol=atol, err_msg=f"frame {t}")
        np.testing.assert_allclose(w_a, w_b, rtol=0, atol=atol, err_msg=f"frame {t} (world)")


def test_timestamps_and_reset(clips: dict[str, list[np.ndarray]]) -> None:
    """Increasing timestamps work (seconds or microseconds) and are honoured; equal or earlier
    ones raise; after ``reset()`` a stream may start over and matches a fresh instance."""
    from vitruvian.solutions.pose import Pose

    frames = clips["pose_squats"][:6]
    seconds = [0.0, 0.2, 0.4, 0.6]  # the clip's real 5 fps
    with Pose(model_complexity=0) as pose:
        first = [pose.process(f, s) for f, s in zip(frames[:4], seconds, strict=True)]
        assert pose.process(frames[4], timestamp=0.8).pose is not None
        with pytest.raises(ValueError):
            pose.process(frames[5], timestamp=0.8)  # equal
        with pytest.raises(ValueError):
            pose.process(frames[5], timestamp=0.5)  # earlier
        with pytest.raises(ValueError):
            pose.process(frames[5], timestamp_us=800_000)  # equal, in microseconds
        assert pose.process(frames[5]).pose is not None  # one default step after 0.8 s...
        with pytest.raises(ValueError):
            pose.process(frames[5], timestamp_us=0)  # ...but then going back is not allowed
        pose.reset()
        after_reset = [pose.process(f, s) for f, s in zip(frames[:4], seconds, strict=True)]
    with Pose(model_complexity=0) as fresh:
        expected = [fresh.process(f, s) for f, s in zip(frames[:4], seconds, strict=True)]
    with Pose(model_complexity=0) as micro:
        in_us = [
            micro.process(f, timestamp_us=round(s * 1e6))
            for f, s in zip(frames[:4], seconds, strict=True)
        ]
    _assert_same(first, expected)
    _assert_same(after_reset, expected)
    _assert_same(in_us, expected)

    # Without timestamps each call advances 33333 us (from 0, so the first frame is at 33333 us;
    # the start matters: like MediaPipe's filters, ours do not take a rate from time 0).
    # Real 5 fps timestamps smooth differently.
    with Pose(model_complexity=0) as default_step:
        implicit = [default_step.process(f) for f in frames[:4]]
    with Pose(model_complexity=0) as explicit_step:
        explicit = [
            explicit_step.process(f, timestamp_us=33_333 * (i + 1))
            for i, f in enumerate(frames[:4])
        ]
    _assert_same(implicit, explicit)
    gap = max(
        float(np.abs(a[0][:, :2] - b[0][:, :2]).max())
        for a, b in zip(_arrays(implicit), _arrays(expected), strict=True)
    )
    assert gap > 1e-4, "results do not depend on the timestamps"


def test_tracker_timestamps(clips: dict[str, list[np.ndarray]]) -> None:
    """``PoseTracker.process(timestamp_us=...)`` rejects non-increasing times; ``reset()`` allows
    starting over and matches a fresh tracker."""
    from vitruvian.tracking import PoseTracker

    frames = clips["pose_squats"][:3]
    times = [1_000_000, 1_200_000, 1_400_000]
    tracker, fresh = PoseTracker(model_complexity=0), PoseTracker(model_complexity=0)
    try:
        for f, t in zip(frames, times, strict=True):
            assert tracker.process(f, timestamp_us=t) is not None
        for bad in (times[-1], times[0]):
            with pytest.raises(ValueError):
                tracker.process(frames[0], timestamp_us=bad)
        tracker.reset()
        restart = [t - 1_000_000 for t in times]  # earlier than before the reset
        again = [tracker.process(f, timestamp_us=t) for f, t in zip(frames, restart, strict=True)]
        expected = [fresh.process(f, timestamp_us=t) for f, t in zip(frames, restart, strict=True)]
    finally:
        tracker.close()
        fresh.close()
    for t, (a, b) in enumerate(zip(again, expected, strict=True)):
        assert a is not None and b is not None, f"frame {t}: no pose"
        np.testing.assert_allclose(a.landmarks, b.landmarks, rtol=0, atol=1e-5)
        np.testing.assert_allclose(a.world_landmarks, b.world_landmarks, rtol=0, atol=1e-5)


# -- MediaPipe's webcam sample, on the video file --------------------------------------------------


def _mediapipe_webcam_sample(path: str) -> tuple[list[Any], list[np.ndarray]]:
    """MediaPipe's published webcam loop for Pose, verbatim but for ``import vitruvian as mp``,
    a video path in place of the camera index (so ``break`` at the end, as its comment says) and
    the window replaced by collecting the shown frames (and the landmarks)."""
    import vitruvian as mp

    mp_drawing = mp.solutions.drawing_utils
    mp_drawing_styles = mp.solutions.drawing_styles
    mp_pose = mp.solutions.pose

    shown: list[np.ndarray] = []
    landmarks: list[Any] = []

    # For webcam input:
    cap = cv2.VideoCapture(path)
    with mp_pose.Pose(min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
        while cap.isOpened():
            success, image = cap.read()
            if not success:
                print("Ignoring empty camera frame.")
                # If loading a video, use 'break' instead of 'continue'.
                break

            # To improve performance, optionally mark the image as not writeable to
            # pass by reference.
            image.flags.writeable = False
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            results = pose.process(image)
            landmarks.append(results.pose_landmarks)

            # Draw the pose annotation on the image.
            image.flags.writeable = True
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
            mp_drawing.draw_landmarks(
                image,
                results.pose_landmarks,
                mp_pose.POSE_CONNECTIONS,
                landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style(),
            )
            # Flip the image horizontally for a selfie-view display.
            shown.append(cv2.flip(image, 1))
    cap.release()
    return landmarks, shown


def test_mediapipe_webcam_sample(
    clips: dict[str, list[np.ndarray]], run: Callable[[Config], Track]
) -> None:
    """MediaPipe's webcam sample runs on the video: a pose on all 65 frames, drawn on each."""
    landmarks, shown = _mediapipe_webcam_sample(str(SQUATS_PATH))
    frames = clips["pose_squats"]
    assert len(landmarks) == len(frames) == 65
    missing = [i for i, lm in enumerate(landmarks) if lm is None]
    assert not missing, f"no landmarks on frames {missing}"
    undrawn = [
        i
        for i, (drawn, rgb) in enumerate(zip(shown, frames, strict=True))
        if np.array_equal(cv2.flip(drawn, 1), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    ]
    assert not undrawn, f"nothing drawn on frames {undrawn}"
    # Same as the default-options run through the test helper.
    reference = run(Config("pose_squats", 1))
    height, width = reference.size
    for t, lm in enumerate(landmarks):
        xy = np.array([[p.x, p.y] for p in lm.landmark])
        np.testing.assert_allclose(
            xy * (width, height), reference.pixels()[t], rtol=0, atol=1e-3, err_msg=f"frame {t}"
        )


# -- independent instances -------------------------------------------------------------------------


def test_interleaved_instances(
    clips: dict[str, list[np.ndarray]], run: Callable[[Config], Track]
) -> None:
    """Two ``Pose`` objects fed the same frames alternately each match a run alone."""
    from vitruvian.solutions.pose import Pose

    frames = clips["pose_squats"]
    with Pose(model_complexity=1) as a, Pose(model_complexity=1) as b:
        pairs = [(a.process(frame), b.process(frame)) for frame in frames]
    alone = run(Config("pose_squats", 1))
    for name, index in (("first", 0), ("second", 1)):
        track = _track([pair[index] for pair in pairs], alone.size)
        assert track.found == alone.found, f"{name} instance: presence differs"
        for t in range(len(frames)):
            np.testing.assert_allclose(
                track.landmarks[t], alone.landmarks[t], rtol=0, atol=1e-5, err_msg=f"frame {t}"
            )
            np.testing.assert_allclose(
                track.world[t], alone.world[t], rtol=0, atol=1e-5, err_msg=f"frame {t}"
            )
