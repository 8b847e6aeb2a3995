"""Batch extraction (:mod:`vitruvian.extract`): same results as the frame loop, in order, clean
stops.

What is checked:

* ``extract_video`` on ``video/pose_squats.mp4`` gives, frame by frame, the landmarks, world
  landmarks and presence of ``Pose()`` (video mode) run in a plain loop on the same frames
  with the container's timestamps, within 1e-4; frame indices run 0..64 and timestamps increase
  and equal ``CAP_PROP_POS_MSEC / 1000``;
* a video that stops decoding mid-way (the MP4 index moved to the front, then cut at 30 %):
  every decodable frame is yielded, with the same results as the whole video's first frames,
  then :class:`SourceReadError` names the frame where decoding stopped; the decoding thread is
  gone afterwards;
* a consumer that stops early (``close()``, ``break``) or raises: the decoding thread is joined
  (``threading.active_count()`` back to its value before);
* :func:`prefetch` on its own: order, an exception re-raised after the items before it, a
  producer blocked on a full queue released when the consumer stops, the source generator
  closed in every case;
* ``vitruvian run``'s loop (:func:`vitruvian.io.runner.run_pose`) leaves no decoding thread;
* the lean per-frame path: the reusable crop buffers give exactly the fixed-point maps of the
  plain formula, and a failure while a crop is written into a model's input buffer leaves the
  model usable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from _video_helpers import truncated_mid_way

from vitruvian.extract import FrameInfo, PoseExtractor, extract_video, prefetch
from vitruvian.io.runner import RunOptions, run_pose
from vitruvian.io.sources import SourceReadError, resolve_sources
from vitruvian.solutions.pose import Pose
from vitruvian.testing_clips import read_video_rgb
from vitruvian.types import PoseResult

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
SQUATS_FRAMES = 65
TOLERANCE = 1e-4
THREAD_NAME = "vitruvian-decode"

needs_video = pytest.mark.skipif(
    not SQUATS.is_file(), reason=f"test video not found: {SQUATS.resolve()}"
)


def decode_threads() -> list[threading.Thread]:
    """The live background decoding threads."""
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def capture_timestamps(path: Path) -> list[float]:
    """``CAP_PROP_POS_MSEC / 1000`` after each decoded frame, read with plain OpenCV."""
    capture = cv2.VideoCapture(str(path))
    stamps = []
    try:
        while capture.read()[0]:
            stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    finally:
        capture.release()
    return stamps


def assert_same_pose(got: PoseResult | None, want: PoseResult | None, frame: int) -> None:
    assert (got is None) == (want is None), f"frame {frame}: pose found in one run only"
    if got is None or want is None:
        return
    np.testing.assert_allclose(
        got.landmarks, want.landmarks, atol=TOLERANCE, rtol=0, err_msg=f"frame {frame}"
    )
    np.testing.assert_allclose(
        got.world_landmarks, want.world_landmarks, atol=TOLERANCE, rtol=0, err_msg=f"frame {frame}"
    )
    assert abs(got.presence_score - want.presence_score) <= TOLERANCE


@pytest.fixture(scope="module")
def frame_loop() -> list[PoseResult | None]:
    """``Pose()`` (video mode, defaults) in a plain loop over the clip, container timestamps."""
    frames = read_video_rgb(SQUATS)
    stamps = capture_timestamps(SQUATS)
    assert len(frames) == len(stamps) == SQUATS_FRAMES
    with Pose() as pose:
        return [pose.process(rgb, timestamp=t).pose for rgb, t in zip(frames, stamps, strict=True)]


@pytest.fixture(scope="module")
def batch() -> list[tuple[FrameInfo, PoseResult | None]]:
    """``extract_video`` over the clip, defaults."""
    return list(extract_video(SQUATS))


@needs_video
def test_batch_matches_frame_loop(
    batch: list[tuple[FrameInfo, PoseResult | None]], frame_loop: list[PoseResult | None]
) -> None:
    assert len(batch) == len(frame_loop) == SQUATS_FRAMES
    assert sum(pose is not None for _, pose in batch) == SQUATS_FRAMES
    for (info, got), want in zip(batch, frame_loop, strict=True):
        assert_same_pose(got, want, info.index)


@needs_video
def test_batch_keeps_order_and_container_timestamps(
    batch: list[tuple[FrameInfo, PoseResult | None]],
) -> None:
    infos = [info for info, _ in batch]
    assert [info.index for info in infos] == list(range(SQUATS_FRAMES))
    stamps = [info.timestamp_s for info in infos]
    assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False))
    assert stamps == pytest.approx(capture_timestamps(SQUATS), abs=1e-9)
    assert {(info.width, info.height) for info in infos} == {(720, 1280)}
    assert {info.source for info in infos} == {str(SQUATS)}
    assert decode_threads() == []


@needs_video
def test_video_that_fails_mid_way(
    tmp_path: Path, batch: list[tuple[FrameInfo, PoseResult | None]]
) -> None:
    """Every decodable frame comes out (same results as the whole file), then the error."""
    cut = tmp_path / "cut.mp4"
    decodable = truncated_mid_way(SQUATS, cut)
    assert 0 < decodable < SQUATS_FRAMES
    before = threading.active_count()
    got: list[tuple[FrameInfo, PoseResult | None]] = []
    with pytest.raises(SourceReadError) as failure:
        for item in extract_video(cut, model_complexity=1):
            got.append(item)
    assert failure.value.frame == decodable
    assert f"decoding stopped at frame {decodable} of {SQUATS_FRAMES}" in str(failure.value)
    assert [info.index for info, _ in got] == list(range(decodable))
    for (info, pose), (_, whole) in zip(got, batch[:decodable], strict=True):
        assert_same_pose(pose, whole, info.index)
    assert threading.active_count() == before
    assert decode_threads() == []


@needs_video
def test_early_stop_joins_the_decoding_thread() -> None:
    before = threading.active_count()
    results = extract_video(SQUATS, model_complexity=0)
    for _ in range(3):
        next(results)
    assert len(decode_threads()) == 1
    assert threading.active_count() == before + 1
    results.close()
    assert threading.active_count() == before
    assert decode_threads() == []

    with PoseExtractor(model_complexity=0, queue_size=1) as extractor:
        for info, _ in extractor.extract(SQUATS):
            if info.index == 5:
                break
        assert threading.active_count() == before
        # The extractor is reusable: a second video is a new stream.
        again = list(extractor.extract(SQUATS, max_frames=4))
    assert [info.index for info, _ in again] == [0, 1, 2, 3]
    assert threading.active_count() == before


@needs_video
def test_consumer_exception_joins_the_decoding_thread() -> None:
    before = threading.active_count()
    with pytest.raises(KeyError):
        for info, _ in extract_video(SQUATS, model_complexity=0):
            if info.index == 2:
                raise KeyError("consumer failed")
    assert threading.active_count() == before


def test_missing_file_and_image_are_reported(tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match="no such file"):
        next(extract_video(tmp_path / "missing.mp4"))
    image = tmp_path / "still.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(SourceReadError, match="image, not a video"):
        next(extract_video(image))
    with pytest.raises(ValueError, match="queue_size"):
        PoseExtractor(queue_size=0)


# ------------------------------------------------------------------------------ prefetch alone


class Numbers:
    """A generator of 0, 1, 2, ... (up to ``stop``, or forever) that records being closed."""

    def __init__(self, stop: int | None = None, fail_at: int | None = None) -> None:
        self.stop = stop
        self.fail_at = fail_at
        self.closed = False
        self.produced = 0

    def __iter__(self) -> Iterator[int]:
        try:
            value = 0
            while self.stop is None or value < self.stop:
                if value == self.fail_at:
                    raise RuntimeError(f"cannot make {value}")
                self.produced += 1
                yield value
                value += 1
        finally:
            self.closed = True


def test_prefetch_keeps_order_and_closes_the_source() -> None:
    source = Numbers(stop=100)
    assert list(prefetch(iter(source), maxsize=3)) == list(range(100))
    assert source.closed
    assert decode_threads() == []


def test_prefetch_reraises_after_the_items_before() -> None:
    source = Numbers(fail_at=7)
    got: list[int] = []
    with pytest.raises(RuntimeError, match="cannot make 7") as failure:
        for value in prefetch(iter(source), maxsize=2):
            got.append(value)
    assert got == list(range(7))
    assert failure.value.__traceback__ is not None
    assert source.closed
    assert decode_threads() == []


def test_prefetch_releases_a_producer_blocked_on_a_full_queue() -> None:
    source = Numbers()  # endless
    before = threading.active_count()
    items = prefetch(iter(source), maxsize=1)
    assert next(items) == 0
    deadline = time.monotonic() + 5
    while source.produced < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # the producer fills the queue, then blocks
    started = time.monotonic()
    items.close()
    assert time.monotonic() - started < 2
    assert threading.active_count() == before
    assert source.closed
    assert source.produced <= 4  # bounded: the queue holds one item


def test_prefetch_rejects_an_empty_queue() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        next(prefetch([1, 2], maxsize=0))


# --------------------------------------------------------------------------- vitruvian run's loop


@needs_video
def test_run_pose_on_a_video_leaves_no_thread() -> None:
    rows: list[dict[str, Any]] = []

    class Rows:
        def write(self, row: dict[str, Any]) -> None:
            rows.append(row)

    before = threading.active_count()
    summary = run_pose(
        resolve_sources([str(SQUATS)]),
        RunOptions(model_complexity=0, max_frames=5),
        rows=[Rows()],  # type: ignore[list-item]
    )
    assert summary.frames == 5 and summary.failed == []
    assert [row["frame"] for row in rows] == [0, 1, 2, 3, 4]
    assert threading.active_count() == before


# ------------------------------------------------- the per-frame path the extractor runs on


def _reference_warp_maps(matrix: np.ndarray, width: int, height: int) -> tuple[Any, Any]:
    """The fixed-point maps written out plainly (OpenCV 3.4's arithmetic, fresh arrays)."""
    inverse = np.linalg.inv(np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]]))
    xs = np.arange(width, dtype=np.float64)
    ys = np.arange(height, dtype=np.float64)[:, None]
    fx = ((inverse[0, 1] * ys + inverse[0, 2]) + inverse[0, 0] * xs) * 32
    fy = ((inverse[1, 1] * ys + inverse[1, 2]) + inverse[1, 0] * xs) * 32
    limit = 32767 * 32
    x = np.rint(np.clip(fx, -limit, limit)).astype(np.int32)
    y = np.rint(np.clip(fy, -limit, limit)).astype(np.int32)
    map1 = np.stack([x >> 5, y >> 5], axis=-1).astype(np.int16)
    return map1, (((y & 31) << 5) | (x & 31)).astype(np.uint16)


def test_crop_workspace_maps_are_bit_identical() -> None:
    """The reusable buffers give exactly the maps of the plain formula, call after call."""
    from vitruvian.calculators.image_to_tensor import (
        CropWorkspace,
        PixelRect,
        rect_transform,
        warp_maps,
    )

    rng = np.random.default_rng(7)
    workspace = CropWorkspace(256, 256)
    for _ in range(200):
        size = 10 ** rng.uniform(0, 6)  # from sub-pixel crops to far-outside, saturating ones
        roi = PixelRect(
            rng.uniform(-2000, 3000),
            rng.uniform(-2000, 3000),
            size * rng.uniform(0.3, 3),
            size * rng.uniform(0.3, 3),
            rng.uniform(-np.pi, np.pi),
        )
        matrix = rect_transform(roi, 256, 256)
        want1, want2 = _reference_warp_maps(matrix, 256, 256)
        got1, got2 = workspace.maps(matrix)
        fresh1, fresh2 = warp_maps(matrix, 256, 256)
        for got, want in ((got1, want1), (got2, want2), (fresh1, want1), (fresh2, want2)):
            assert got.dtype == want.dtype and np.array_equal(got, want)


def test_model_usable_after_a_failure_while_filling_its_input() -> None:
    """A failure inside the crop (kept around, e.g. by a debugger) does not leave a view of the
    model's input buffer alive, which would stop LiteRT from running again."""
    from vitruvian.pipeline import PosePipeline

    image = np.zeros((96, 128, 3), np.uint8)
    with PosePipeline(0) as pipeline:

        def failing(tensor: np.ndarray) -> None:
            tensor[...] = 0.0
            raise KeyboardInterrupt("stopped while filling")

        with pytest.raises(KeyboardInterrupt) as kept:
            pipeline._detector.run_filled(failing, pipeline._detector_outputs)
        assert kept.value.__traceback__ is not None  # still referenced here
        assert pipeline.detect(image) == []
