"""Offline extraction throughput: video file in, landmark rows in memory out (``--mode extract``).

Per model complexity and per clip, three implementations, each timed end to end from the video
file (opening it, decoding, BGR to RGB, inference, one landmark row per frame kept in memory):

* ``ours_batch``: :class:`vitruvian.extract.PoseExtractor` (decoding in a background thread,
  inference in the caller's), one ``extract(path)`` per pass;
* ``ours_loop``: the plain frame loop that ``vitruvian run`` used before the batch reader:
  :class:`vitruvian.io.sources.Source` frames decoded one at a time in the caller's thread, each
  given to ``vitruvian.solutions.pose.Pose`` (video mode) with its container timestamp;
* ``mediapipe``: MediaPipe's frame loop in the reference Python (``cv2.VideoCapture.read`` +
  BGR to RGB + ``Pose.process`` per frame, rows built from its landmark protos).

Clips: the squats video as it is (65 frames, H.264) and, to reduce start-up effects, a longer
clip made from it (``--extract-frames``, default 650 frames): the frames played forwards then
backwards, again and again (so tracking sees no jump), re-encoded with OpenCV's MPEG-4 Part 2
encoder (``mp4v``, the one every OpenCV build can write) at the source's size and frame rate,
into a temporary folder that both sides read.

Protocol: per complexity, one untimed warm-up pass of every implementation on the short clip,
then ``--repeats`` timed passes of each implementation on each clip, interleaved and rotated.
Each pass builds its pose object first (timed separately as "load") and then processes the
whole file (the throughput clock). Reported per clip and implementation: median frames/s over
the passes with the range, ms/frame, CPU ms/frame, load ms, frames with a pose, the peak RSS
of the implementation's process during the pass, and ours / MediaPipe in frames/s (higher is
better).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from vitruvian.benchmark.common import (
    MEDIAPIPE,
    BenchError,
    MediaPipeWorker,
    decode_video,
    describe_path,
    log,
    peak_rss_mb,
    reset_peak_rss,
)

if TYPE_CHECKING:
    from vitruvian.types import PoseResult

OURS_BATCH = "ours_batch"
OURS_LOOP = "ours_loop"
LABELS = {
    OURS_BATCH: "vitruvian `extract_video` (threaded decode)",
    OURS_LOOP: "vitruvian frame loop (`Pose`)",
    MEDIAPIPE: "MediaPipe frame loop (`Pose`)",
}
#: Default length of the looped clip, frames.
DEFAULT_LOOP_FRAMES = 650
#: ``--quick``: frames of the short clip, and length of the looped clip.
QUICK_FRAMES = 10
QUICK_LOOP_FRAMES = 24
#: JSON keys of the two clips.
SHORT_CLIP = "short"
LOOP_CLIP = "loop"
#: FourCC of the looped clip (MPEG-4 Part 2: every OpenCV build with FFmpeg can write it).
LOOP_FOURCC = "mp4v"


@dataclass
class ExtractPass:
    """One timed extraction pass over a video file."""

    frames: int
    frames_with_pose: int
    #: Building the pose object (model loading), seconds.
    load_s: float
    #: From opening the file to the last row, seconds.
    run_s: float
    #: Process CPU time (all threads) over ``run_s``, seconds.
    cpu_s: float
    #: Peak resident memory of the process during the pass (load included), MiB.
    peak_rss_mb: float | None
    #: Ours only: the image landmarks of each frame (``None`` without a pose).
    rows: list[np.ndarray | None] = field(default_factory=list, repr=False)


def ping_pong_order(count: int, length: int) -> list[int]:
    """Frame indices ``0, 1, ..., count - 1, count - 2, ..., 1, 0, 1, ...``, ``length`` long."""
    if count < 1:
        raise ValueError("no frames to loop")
    period = list(range(count)) + list(range(count - 2, 0, -1)) if count > 1 else [0]
    return [period[i % len(period)] for i in range(length)]


def decode_with_fps(source: Path) -> tuple[list[np.ndarray], float]:
    """A video's RGB frames and its frame rate (30 when the container gives none)."""
    frames = decode_video(source)
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    capture.release()
    return frames, fps if np.isfinite(fps) and fps > 0 else 30.0


def write_loop_clip(source: Path, destination: Path, length: int) -> dict[str, Any]:
    """Write the looped clip (see the module docstring); returns its description.

    Raises:
        BenchError: the source cannot be decoded, or OpenCV cannot write or read back the clip.
    """
    frames, fps = decode_with_fps(source)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(
        str(destination), cv2.VideoWriter_fourcc(*LOOP_FOURCC), fps, (width, height)
    )
    if not writer.isOpened():
        raise BenchError(f"OpenCV cannot write a {LOOP_FOURCC} video to {destination}")
    try:
        for index in ping_pong_order(len(frames), length):
            writer.write(cv2.cvtColor(frames[index], cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    check = cv2.VideoCapture(str(destination))
    count = int(check.get(cv2.CAP_PROP_FRAME_COUNT)) if check.isOpened() else 0
    check.release()
    if count != length:
        raise BenchError(f"the looped clip {destination} has {count} frames, not {length}")
    return {"frames": length, "codec": LOOP_FOURCC, "fps": fps, "frame_size": [height, width]}


def _probe(path: Path) -> dict[str, Any]:
    """Frame count, rate, size and codec of a video file, as OpenCV reports them."""
    capture = cv2.VideoCapture(str(path))
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        return {
            "frames": int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            "codec": fourcc.to_bytes(4, "little").decode("ascii", "replace").strip("\x00"),
            "fps": float(capture.get(cv2.CAP_PROP_FPS)),
            "frame_size": [
                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            ],
        }
    finally:
        capture.release()


# -- implementations ----------------------------------------------------------------------------


def _timed_pass(
    load: Callable[[], Any],
    poses: Callable[[Any], Iterator[PoseResult | None]],
    close: Callable[[Any], None],
) -> ExtractPass:
    """Time one extraction pass: ``load()`` the implementation (load time), then iterate
    ``poses(impl)`` to the end keeping each frame's landmarks (run and CPU time)."""
    reset_peak_rss()
    start = time.perf_counter()
    impl = load()
    loaded = time.perf_counter()
    cpu_start = time.process_time()
    rows: list[np.ndarray | None] = []
    try:
        for pose in poses(impl):
            rows.append(None if pose is None else pose.landmarks)
        done = time.perf_counter()
        cpu_s = time.process_time() - cpu_start
    finally:
        close(impl)
    return ExtractPass(
        frames=len(rows),
        frames_with_pose=sum(row is not None for row in rows),
        load_s=loaded - start,
        run_s=done - loaded,
        cpu_s=cpu_s,
        peak_rss_mb=peak_rss_mb(),
        rows=rows,
    )


def ours_batch_pass(path: Path, complexity: int, max_frames: int | None) -> ExtractPass:
    """One pass of :class:`vitruvian.extract.PoseExtractor` over ``path``."""
    from vitruvian.extract import PoseExtractor

    def poses(extractor: PoseExtractor) -> Iterator[PoseResult | None]:
        for _info, pose in extractor.extract(path, max_frames=max_frames):
            yield pose

    return _timed_pass(
        lambda: PoseExtractor(model_complexity=complexity), poses, PoseExtractor.close
    )


def ours_loop_pass(path: Path, complexity: int, max_frames: int | None) -> ExtractPass:
    """One pass of the plain frame loop: ``Source.frames()`` + ``Pose.process`` per frame."""
    from vitruvian.extract import video_source
    from vitruvian.solutions.pose import Pose

    def poses(pose: Pose) -> Iterator[PoseResult | None]:
        with closing(video_source(path).frames(max_frames)) as frames:
            for frame in frames:
                yield pose.process(frame.rgb, frame.timestamp_s).pose

    return _timed_pass(lambda: Pose(model_complexity=complexity), poses, Pose.close)


def mediapipe_pass(
    worker: MediaPipeWorker, path: Path, complexity: int, max_frames: int | None
) -> ExtractPass:
    """One pass of MediaPipe's frame loop, in the worker."""
    reply = worker.request(
        {"cmd": "extract", "path": str(path), "complexity": complexity, "max_frames": max_frames}
    )
    peak = reply.get("peak_rss_mb")
    return ExtractPass(
        frames=int(reply["frames"]),
        frames_with_pose=int(reply["frames_with_pose"]),
        load_s=float(reply["load_s"]),
        run_s=float(reply["run_s"]),
        cpu_s=float(reply["cpu_s"]),
        peak_rss_mb=None if peak is None else float(peak),
    )


# -- measurement --------------------------------------------------------------------------------


def summarize_passes(passes: Sequence[ExtractPass]) -> dict[str, Any]:
    """Throughput summary of one implementation's timed passes on one clip."""
    fps = [p.frames / p.run_s for p in passes]
    with_load = [p.frames / (p.load_s + p.run_s) for p in passes]
    frames = sum(p.frames for p in passes)
    peaks = [p.peak_rss_mb for p in passes if p.peak_rss_mb is not None]
    median_fps = float(np.median(fps))
    return {
        "fps": median_fps,
        "fps_min": float(min(fps)),
        "fps_max": float(max(fps)),
        "fps_per_pass": fps,
        "fps_with_load": float(np.median(with_load)),
        "ms_per_frame": 1e3 / median_fps,
        "cpu_ms_per_frame": 1e3 * sum(p.cpu_s for p in passes) / frames,
        "cpu_per_wall": sum(p.cpu_s for p in passes) / sum(p.run_s for p in passes),
        "load_ms": float(np.median([p.load_s for p in passes]) * 1e3),
        "frames": passes[-1].frames,
        "frames_with_pose": passes[-1].frames_with_pose,
        "peak_rss_mb": max(peaks) if peaks else None,
    }


def _max_row_difference(
    a: Sequence[np.ndarray | None], b: Sequence[np.ndarray | None]
) -> float | None:
    """Largest absolute difference between two runs' landmark rows (``None`` when they disagree
    on the frame count or on which frames have a pose)."""
    if len(a) != len(b):
        return None
    worst = 0.0
    for row_a, row_b in zip(a, b, strict=True):
        if (row_a is None) != (row_b is None):
            return None
        if row_a is not None and row_b is not None:
            worst = max(worst, float(np.max(np.abs(row_a - row_b))))
    return worst


def measure_extract(
    clips: dict[str, tuple[Path, int | None]],
    mediapipe: MediaPipeWorker | None,
    complexity: int,
    repeats: int,
) -> dict[str, Any]:
    """Warm-up on the first clip, then ``repeats`` interleaved, rotated passes per clip and
    implementation. Returns ``{clip: {"throughput": {name: summary}, "ratio": {...}, ...}}``."""
    runs: dict[str, Callable[[Path, int | None], ExtractPass]] = {
        OURS_BATCH: lambda path, limit: ours_batch_pass(path, complexity, limit),
        OURS_LOOP: lambda path, limit: ours_loop_pass(path, complexity, limit),
    }
    if mediapipe is not None:
        runs[MEDIAPIPE] = lambda path, limit: mediapipe_pass(mediapipe, path, complexity, limit)
    names = list(runs)
    warm_path, warm_limit = next(iter(clips.values()))
    for name in names:
        log(f"  extract c{complexity} warm-up  {name}")
        runs[name](warm_path, warm_limit)
    passes: dict[tuple[str, str], list[ExtractPass]] = {
        (clip, name): [] for clip in clips for name in names
    }
    for rep in range(repeats):
        for clip, (path, limit) in clips.items():
            shift = rep % len(names)
            for name in [*names[shift:], *names[:shift]]:
                result = runs[name](path, limit)
                passes[clip, name].append(result)
                log(
                    f"  extract c{complexity} {clip} pass {rep + 1}/{repeats} {name}: "
                    f"{result.frames / result.run_s:.1f} frames/s"
                )
    out: dict[str, Any] = {}
    for clip in clips:
        throughput = {name: summarize_passes(passes[clip, name]) for name in names}
        ratio: dict[str, float] = {}
        if MEDIAPIPE in throughput:
            reference = throughput[MEDIAPIPE]["fps"]
            ratio = {
                name: stats["fps"] / reference
                for name, stats in throughput.items()
                if name != MEDIAPIPE
            }
        out[clip] = {
            "throughput": throughput,
            "ratio": ratio,
            "batch_vs_loop_max_abs_diff": _max_row_difference(
                passes[clip, OURS_BATCH][-1].rows, passes[clip, OURS_LOOP][-1].rows
            ),
        }
    return out


def run_extract(args: argparse.Namespace, mediapipe: MediaPipeWorker | None) -> dict[str, Any]:
    """The extraction section of the report (the ``"extract"`` key)."""
    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    short_limit = QUICK_FRAMES if args.quick else None
    loop_frames = args.extract_frames
    if loop_frames is None:
        loop_frames = QUICK_LOOP_FRAMES if args.quick else DEFAULT_LOOP_FRAMES
    short = _probe(args.video)
    if short_limit is not None:
        short["frames"] = min(short["frames"], short_limit)
    section: dict[str, Any] = {
        "clips": {SHORT_CLIP: {"video": describe_path(args.video, args.data_dir), **short}},
        "settings": {
            "repeats": args.repeats,
            "warmup_passes": 1,
            "complexities": args.complexity,
            "loop_frames": loop_frames,
            "rows": "image landmarks (33 x 5) of every frame, kept in a list",
        },
        "labels": {name: label for name, label in LABELS.items() if name != MEDIAPIPE},
        "results": {},
        "notes": [],
    }
    if mediapipe is not None:
        section["labels"][MEDIAPIPE] = LABELS[MEDIAPIPE]
    with tempfile.TemporaryDirectory(prefix="vitruvian-bench-") as tmp:
        clips: dict[str, tuple[Path, int | None]] = {SHORT_CLIP: (args.video, short_limit)}
        if loop_frames > 0:
            loop_path = Path(tmp) / "squats_loop.mp4"
            log(f"writing the {loop_frames}-frame looped clip")
            info = write_loop_clip(args.video, loop_path, loop_frames)
            section["clips"][LOOP_CLIP] = {
                "video": f"{section['clips'][SHORT_CLIP]['video']} played forwards and backwards",
                **info,
            }
            clips[LOOP_CLIP] = (loop_path, None)
        for complexity in args.complexity:
            log(f"complexity {complexity}: extraction")
            section["results"][str(complexity)] = measure_extract(
                clips, mediapipe, complexity, args.repeats
            )
    return section
