"""Threads and long runs, with the real models.

Threads (N = 4):

* each thread with its own ``Pose`` (static mode on the shared photos, video mode on the shared
  clip) gets exactly, bit for bit, the results of a serial run. That is a promise the code keeps
  by construction, not luck: every step computes each output element from the inputs alone,
  whichever thread runs it (XNNPACK splits work into fixed tiles, ``cv2.remap`` reads per-pixel
  fixed-point maps, and the mask warp avoids IPP, whose result depends on OpenCV's row split:
  see :mod:`vitruvian.calculators.segmentation` and
  ``test_mask_to_image_is_the_same_for_any_opencv_thread_count``);
* one static-mode ``Pose`` shared by all threads (its lock serialises the calls) gives every
  image the same result as a serial run; a shared video-mode instance stays consistent (its
  frame counter counts every call) and ``close()`` from another thread waits for the call in
  progress, after which every call raises the documented ``RuntimeError``.

Lifetime: ``close()``, leaving a ``with`` block (also through an exception) and dropping an
unclosed object free the LiteRT interpreters, checked with weak references to the interpreter
objects themselves; sixty create/process/close cycles leave no interpreter alive and do not
grow the process's memory.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import vitruvian as mp
from vitruvian import PosePipeline
from vitruvian.testing_clips import read_video_rgb
from vitruvian.tracking import PoseTracker
from vitruvian.types import PoseResult

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PHOTOS = sorted((DATA_DIR / "mmpose").glob("*.jpg")) + [DATA_DIR / "tfjs" / "pose.jpg"]
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
THREADS = 4
VIDEO_FRAMES = 30

needs_photos = pytest.mark.skipif(
    not all(p.is_file() for p in PHOTOS) or len(PHOTOS) < 2,
    reason=f"shared test photos not found under {DATA_DIR.resolve()}",
)
needs_video = pytest.mark.skipif(
    not SQUATS.is_file(), reason=f"shared test clip not found: {SQUATS.resolve()}"
)

#: What is compared: landmarks, world landmarks, mask (``None`` when no pose).
Outcome = tuple[np.ndarray, np.ndarray, np.ndarray | None] | None


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """The shared photos as RGB (read once, shared read-only by every thread)."""
    images = []
    for path in PHOTOS:
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        image.flags.writeable = False
        images.append(image)
    return images


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    """The first frames of ``pose_squats.mp4`` as RGB."""
    frames = read_video_rgb(SQUATS, max_frames=VIDEO_FRAMES)
    for frame in frames:
        frame.flags.writeable = False
    return frames


def _outcome(result: PoseResult | None) -> Outcome:
    if result is None:
        return None
    mask = None if result.segmentation_mask is None else result.segmentation_mask.copy()
    return result.landmarks.copy(), result.world_landmarks.copy(), mask


def _assert_identical(got: Sequence[Outcome], expected: Sequence[Outcome]) -> None:
    assert len(got) == len(expected)
    for index, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert (a is None) == (b is None), f"image {index}: pose found in one run only"
        if a is not None and b is not None:
            for name, x, y in zip(("landmarks", "world", "mask"), a, b, strict=True):
                assert (x is None) == (y is None)
                if x is not None:
                    np.testing.assert_array_equal(x, y, err_msg=f"image {index}: {name}")


def _run_pose(pose: mp.solutions.pose.Pose, images: Sequence[np.ndarray]) -> list[Outcome]:
    return [_outcome(pose.process(image).pose) for image in images]


def _in_threads(work: Callable[[int], Any], count: int = THREADS) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads started together; return results or re-raise."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


# --- one instance per thread ------------------------------------------------------------------


@needs_photos
def test_threads_with_own_static_pose_match_serial(photos: list[np.ndarray]) -> None:
    options = {"static_image_mode": True, "enable_segmentation": True}
    with mp.solutions.pose.Pose(**options) as pose:
        serial = _run_pose(pose, photos)
    assert sum(outcome is not None for outcome in serial) >= len(photos) - 2

    def work(_: int) -> list[Outcome]:
        with mp.solutions.pose.Pose(**options) as own:
            return _run_pose(own, photos)

    for outcomes in _in_threads(work):
        _assert_identical(outcomes, serial)


@needs_video
def test_threads_with_own_video_pose_match_serial(clip: list[np.ndarray]) -> None:
    options = {"enable_segmentation": True}
    with mp.solutions.pose.Pose(**options) as pose:
        serial = _run_pose(pose, clip)
    assert all(outcome is not None for outcome in serial)

    def work(_: int) -> list[Outcome]:
        with mp.solutions.pose.Pose(**options) as own:
            return _run_pose(own, clip)

    for outcomes in _in_threads(work):
        _assert_identical(outcomes, serial)


@needs_photos
@needs_video
def test_threads_with_own_pipeline_and_tracker_match_serial(
    photos: list[np.ndarray], clip: list[np.ndarray]
) -> None:
    # The numpy-first classes are not locked; one per thread is the documented way.
    with PosePipeline(model_complexity=0) as pipeline:
        serial_photos = [_outcome(pipeline.process(image)) for image in photos]
    tracker = PoseTracker(model_complexity=0)
    serial_clip = [_outcome(tracker.process(frame)) for frame in clip]
    tracker.close()

    def work(index: int) -> list[Outcome]:
        if index % 2:
            with PosePipeline(model_complexity=0) as own:
                return [_outcome(own.process(image)) for image in photos]
        own_tracker = PoseTracker(model_complexity=0)
        try:
            return [_outcome(own_tracker.process(frame)) for frame in clip]
        finally:
            own_tracker.close()

    for index, outcomes in enumerate(_in_threads(work)):
        _assert_identical(outcomes, serial_photos if index % 2 else serial_clip)


# --- one shared instance ----------------------------------------------------------------------


@needs_photos
def test_shared_static_pose_serialises_calls_and_matches_serial(
    photos: list[np.ndarray],
) -> None:
    with mp.solutions.pose.Pose(static_image_mode=True, enable_segmentation=True) as shared:
        serial = _run_pose(shared, photos)

        def work(index: int) -> list[tuple[int, Outcome]]:
            # Each thread walks the photos in its own order, twice, on the same instance.
            order = np.random.default_rng(index).permutation(len(photos)).tolist() * 2
            return [(i, _outcome(shared.process(photos[i]).pose)) for i in order]

        runs = _in_threads(work)
    for run in runs:
        for index, outcome in run:
            _assert_identical([outcome], [serial[index]])
    assert shared.stats.landmark_runs == len(photos) * (1 + 2 * THREADS)


@needs_video
def test_shared_video_pose_stays_consistent(clip: list[np.ndarray]) -> None:
    # Interleaving frames of several streams in one video-mode instance is the caller's error
    # (as in MediaPipe): results then mix the streams. It must still not crash, and every call
    # must be counted once.
    calls = 10
    with mp.solutions.pose.Pose() as shared:

        def work(index: int) -> int:
            for frame in clip[index : index + calls]:
                results = shared.process(frame)
                if results.pose is not None:
                    assert np.isfinite(results.pose.landmarks).all()
            return calls

        _in_threads(work)
        assert shared.stats.frames == THREADS * calls


@needs_photos
def test_close_from_another_thread_waits_for_the_running_call(
    photos: list[np.ndarray],
) -> None:
    shared = mp.solutions.pose.Pose(static_image_mode=True)
    started = threading.Event()

    def work(index: int) -> tuple[int, str]:
        done = 0
        while True:
            try:
                shared.process(photos[(index + done) % len(photos)])
            except RuntimeError as exc:
                return done, str(exc)
            done += 1
            started.set()

    def closer() -> None:
        started.wait(timeout=60)
        time.sleep(0.2)
        shared.close()

    closing = threading.Thread(target=closer)
    closing.start()
    results = _in_threads(work)
    closing.join(timeout=60)
    assert shared.closed
    for _, message in results:
        assert "called after close()" in message
    assert sum(done for done, _ in results) >= 1


# --- lifetime: the interpreters are really freed ----------------------------------------------


def _interpreters(obj: mp.solutions.pose.Pose | PosePipeline | PoseTracker) -> list[Any]:
    """The LiteRT ``Interpreter`` objects behind a Pose, PosePipeline or PoseTracker."""
    if isinstance(obj, mp.solutions.pose.Pose):
        inner = obj._pipeline if obj._pipeline is not None else obj._tracker
        assert inner is not None
        return _interpreters(inner)
    pipeline = obj.pipeline if isinstance(obj, PoseTracker) else obj
    return [pipeline._detector._interpreter, pipeline._landmarker._interpreter]


def _weak(objects: Sequence[Any]) -> list[weakref.ref[Any]]:
    refs = [weakref.ref(o) for o in objects]
    assert all(ref() is not None for ref in refs)
    return refs


def _live_interpreters() -> int:
    from ai_edge_litert.interpreter import Interpreter

    gc.collect()
    return sum(isinstance(o, Interpreter) for o in gc.get_objects())


FACTORIES: dict[str, Callable[[], Any]] = {
    "pose_static": lambda: mp.solutions.pose.Pose(static_image_mode=True, model_complexity=0),
    "pose_video": lambda: mp.solutions.pose.Pose(model_complexity=0, enable_segmentation=True),
    "pipeline": lambda: PosePipeline(model_complexity=0),
    "tracker": lambda: PoseTracker(model_complexity=0),
}
IMAGE = np.random.default_rng(0).integers(0, 256, (96, 64, 3), dtype=np.uint8)


def _use(obj: Any) -> None:
    obj.process(IMAGE)


@pytest.mark.parametrize("kind", FACTORIES)
def test_close_frees_the_interpreters(kind: str) -> None:
    obj = FACTORIES[kind]()
    _use(obj)
    refs = _weak(_interpreters(obj))
    obj.close()
    gc.collect()
    assert all(ref() is None for ref in refs), "an interpreter outlived close()"
    if isinstance(obj, mp.solutions.pose.Pose):
        assert obj.closed
        obj.close()  # harmless
        with pytest.raises(RuntimeError, match="after close"):
            obj.process(IMAGE)


@pytest.mark.parametrize("kind", FACTORIES)
def test_with_block_frees_the_interpreters_also_on_error(kind: str) -> None:
    with FACTORIES[kind]() as obj:
        _use(obj)
        refs = _weak(_interpreters(obj))
    gc.collect()
    assert all(ref() is None for ref in refs)

    with pytest.raises(ZeroDivisionError):
        with FACTORIES[kind]() as obj:
            refs = _weak(_interpreters(obj))
            _ = 1 / 0
    gc.collect()
    assert all(ref() is None for ref in refs)


@pytest.mark.parametrize("kind", FACTORIES)
def test_dropping_an_unclosed_object_frees_the_interpreters(kind: str) -> None:
    obj = FACTORIES[kind]()
    _use(obj)
    refs = _weak(_interpreters(obj))
    del obj
    # No reference cycle keeps them: reference counting alone frees them, without gc.collect().
    assert all(ref() is None for ref in refs)


def _rss_bytes() -> int | None:
    """The process's resident memory (Linux), else ``None``."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import resource

    return pages * resource.getpagesize()


def test_many_create_process_close_cycles_leave_nothing_behind() -> None:
    baseline = _live_interpreters()
    for kind in FACTORIES:  # warm-up: imports, allocator pools, first model loads
        with FACTORIES[kind]() as obj:
            _use(obj)
    assert _live_interpreters() == baseline
    before = _rss_bytes()
    cycles = 0
    for _ in range(15):
        for kind in FACTORIES:
            with FACTORIES[kind]() as obj:
                _use(obj)
            cycles += 1
    assert _live_interpreters() == baseline
    after = _rss_bytes()
    if before is not None and after is not None and sys.platform.startswith("linux"):
        # 60 pairs of interpreters (about 6 MB each) would add ~360 MB if they leaked.
        assert after - before < 64 * 2**20, f"RSS grew {(after - before) / 2**20:.0f} MiB"
    assert cycles == 60
