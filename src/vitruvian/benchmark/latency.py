"""Per-call latency: static-image mode (with cold start) and video mode, ours against MediaPipe.

Both sections decode their inputs once, outside the timing, and time every ``process()`` call
with ``time.perf_counter``; the implementations' passes are interleaved (see
:func:`run_interleaved`). The protocol is described in :mod:`vitruvian.benchmark`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vitruvian.benchmark.common import (
    IMAGE_FOLDERS,
    MEDIAPIPE,
    OURS_PIPELINE,
    OURS_POSE,
    BenchError,
    MediaPipeWorker,
    PassResult,
    Runner,
    backend_key,
    backend_label,
    decode_images,
    decode_video,
    describe_path,
    list_images,
    log,
    max_or_none,
    pass_from_reply,
    peak_rss_mb,
    reset_peak_rss,
    summarize,
)

#: Images used by ``--quick`` in static mode.
QUICK_IMAGES = 5
#: Frames used by ``--quick`` in video mode.
QUICK_FRAMES = 10
#: ``--video-segmentation`` choices and the ``enable_segmentation`` values each one runs.
VIDEO_SEGMENTATION = {"off": (False,), "on": (True,), "both": (False, True)}
#: Printed by the cold-start child in front of its JSON line.
COLD_MARKER = "VITRUVIAN_BENCH_COLD "

_COLD_HEAD = """\
import json, sys, time
t0 = time.perf_counter()
"""
_COLD_TAIL = """\
t3 = time.perf_counter()
pose.process(rgb)
t4 = time.perf_counter()
print({marker!r} + json.dumps({{
    "import_s": t1 - t0, "load_s": t2 - t1, "decode_s": t3 - t2, "first_frame_s": t4 - t3,
    "total_s": (t1 - t0) + (t2 - t1) + (t4 - t3)}}), flush=True)
"""
#: ``python -c`` program measuring our cold start; argv: image path, complexity[, backend].
OURS_COLD_CODE = (
    _COLD_HEAD
    + """\
import cv2
from vitruvian.solutions.pose import Pose
t1 = time.perf_counter()
backend = sys.argv[3] if len(sys.argv) > 3 else None
pose = Pose(static_image_mode=True, model_complexity=int(sys.argv[2]), backend=backend)
t2 = time.perf_counter()
rgb = cv2.cvtColor(cv2.imread(sys.argv[1], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
"""
    + _COLD_TAIL.format(marker=COLD_MARKER)
)
#: The same for MediaPipe, run by the reference Python.
MEDIAPIPE_COLD_CODE = (
    _COLD_HEAD
    + """\
import cv2
import mediapipe as mp
t1 = time.perf_counter()
pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=int(sys.argv[2]))
t2 = time.perf_counter()
rgb = cv2.cvtColor(cv2.imread(sys.argv[1], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
"""
    + _COLD_TAIL.format(marker=COLD_MARKER)
)


def segmentation_key(enabled: bool) -> str:
    """The JSON key of one segmentation setting."""
    return "segmentation_on" if enabled else "segmentation_off"


# -- implementations under test -----------------------------------------------------------------


def time_calls(
    process: Callable[[np.ndarray], Any],
    images: Sequence[np.ndarray],
    found: Callable[[Any], bool],
) -> PassResult:
    """Time ``process`` on each image with ``time.perf_counter``; also the pass's peak RSS."""
    times: list[float] = []
    poses: list[bool] = []
    reset_peak_rss()
    cpu_start = time.process_time()
    for rgb in images:
        start = time.perf_counter()
        result = process(rgb)
        times.append(time.perf_counter() - start)
        poses.append(found(result))
    return PassResult(times, poses, time.process_time() - cpu_start, peak_rss_mb=peak_rss_mb())


class OursPoseRunner:
    """``vitruvian.solutions.pose.Pose(static_image_mode=True, model_complexity=c)``.

    Args:
        images: the decoded images.
        backend: ``Pose(backend=...)`` (``None``: the default, and the plain name and label).
    """

    def __init__(self, images: Sequence[np.ndarray], backend: str | None = None) -> None:
        self.images = images
        self.backend = backend
        self.name = backend_key(OURS_POSE, backend)
        self.label = backend_label("vitruvian `Pose`", backend)
        self._pose: Any = None

    def open(self, complexity: int) -> None:
        from vitruvian.solutions.pose import Pose

        self.close()
        self._pose = Pose(static_image_mode=True, model_complexity=complexity, backend=self.backend)

    def run_pass(self) -> PassResult:
        return time_calls(self._pose.process, self.images, lambda r: r.pose_landmarks is not None)

    def close(self) -> None:
        pose, self._pose = self._pose, None
        if pose is not None:
            pose.close()


class OursPipelineRunner:
    """``vitruvian.pipeline.PosePipeline(c).process`` (numpy results, no landmark containers).

    Args:
        images: the decoded images.
        num_threads: inference threads (``None``: the pipeline's default, as ``Pose`` uses).
        backend: ``PosePipeline(backend=...)`` (``None``: the default, and the plain name and
            label).
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        num_threads: int | None = None,
        backend: str | None = None,
    ) -> None:
        self.images = images
        self.num_threads = num_threads
        self.backend = backend
        if num_threads is None:
            name = OURS_PIPELINE
            label = "vitruvian `PosePipeline`"
        else:
            name = f"{OURS_PIPELINE}_{num_threads}t"
            plural = "" if num_threads == 1 else "s"
            label = f"vitruvian `PosePipeline`, {num_threads} thread{plural}"
        self.name = backend_key(name, backend)
        self.label = backend_label(label, backend)
        self._pipeline: Any = None

    def open(self, complexity: int) -> None:
        from vitruvian.pipeline import PosePipeline

        self.close()
        self._pipeline = PosePipeline(
            complexity, num_threads=self.num_threads, backend=self.backend
        )

    def run_pass(self) -> PassResult:
        return time_calls(self._pipeline.process, self.images, lambda r: r is not None)

    def close(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.close()


class OursVideoRunner:
    """``vitruvian.solutions.pose.Pose(static_image_mode=False, ...)``, a fresh one per pass.

    Args:
        frames: the decoded video frames, in order.
        segmentation: ``enable_segmentation``.
        backend: ``Pose(backend=...)`` (``None``: the default, and the plain name and label).
    """

    def __init__(
        self, frames: Sequence[np.ndarray], segmentation: bool, backend: str | None = None
    ) -> None:
        self.frames = frames
        self.segmentation = segmentation
        self.backend = backend
        self.base_name = backend_key(OURS_POSE, backend)
        self.name = self.base_name + ("_seg" if segmentation else "")
        self.label = backend_label("vitruvian `Pose`", backend)
        self._complexity: int | None = None

    def open(self, complexity: int) -> None:
        self._complexity = complexity

    def run_pass(self) -> PassResult:
        from vitruvian.solutions.pose import Pose

        assert self._complexity is not None, "open() first"
        pose = Pose(
            static_image_mode=False,
            model_complexity=self._complexity,
            enable_segmentation=self.segmentation,
            backend=self.backend,
        )
        try:
            result = time_calls(pose.process, self.frames, lambda r: r.pose_landmarks is not None)
            stats = pose.stats
        finally:
            pose.close()
        return result._replace(
            detector_runs=int(stats.detector_runs),
            tracked_frames=int(getattr(stats, "tracked_frames", 0)),
        )

    def close(self) -> None:
        self._complexity = None


class MediaPipeRunner:
    """MediaPipe's static-mode ``Pose`` on the images the worker has loaded."""

    name = MEDIAPIPE
    label = "MediaPipe `Pose`"

    def __init__(self, worker: MediaPipeWorker) -> None:
        self.worker = worker

    def open(self, complexity: int) -> None:
        self.worker.request({"cmd": "open", "complexity": complexity})

    def run_pass(self) -> PassResult:
        return pass_from_reply(self.worker.request({"cmd": "pass"}))

    def close(self) -> None:
        self.worker.request({"cmd": "close"})


class MediaPipeVideoRunner:
    """MediaPipe's video-mode ``Pose`` (default options), a fresh one per pass, in the worker.

    Args:
        worker: the worker, with the video loaded.
        segmentation: ``enable_segmentation``.
    """

    label = "MediaPipe `Pose`"

    def __init__(self, worker: MediaPipeWorker, segmentation: bool) -> None:
        self.worker = worker
        self.segmentation = segmentation
        self.base_name = MEDIAPIPE
        self.name = MEDIAPIPE + ("_seg" if segmentation else "")
        self._complexity: int | None = None

    def open(self, complexity: int) -> None:
        self._complexity = complexity

    def run_pass(self) -> PassResult:
        assert self._complexity is not None, "open() first"
        request = {
            "cmd": "video_pass",
            "complexity": self._complexity,
            "segmentation": self.segmentation,
        }
        return pass_from_reply(self.worker.request(request))

    def close(self) -> None:
        self._complexity = None


# -- measurements -------------------------------------------------------------------------------


def run_interleaved(
    runners: Sequence[Runner], complexity: int, repeats: int, tag: str = ""
) -> dict[str, list[PassResult]]:
    """Warm up every runner, then ``repeats`` interleaved timed passes (rotating the order).

    Returns, per runner name, its timed passes in order (the warm-ups are dropped).
    """
    prefix = f"  {tag}c{complexity}"
    for runner in runners:
        runner.open(complexity)
    try:
        for runner in runners:
            log(f"{prefix} warm-up  {runner.name}")
            runner.run_pass()
        passes: dict[str, list[PassResult]] = {r.name: [] for r in runners}
        for rep in range(repeats):
            shift = rep % len(runners)
            for runner in [*runners[shift:], *runners[:shift]]:
                result = runner.run_pass()
                passes[runner.name].append(result)
                log(
                    f"{prefix} pass {rep + 1}/{repeats} {runner.name}: "
                    f"median {np.median(result.times_s) * 1e3:.1f} ms"
                )
    finally:
        for runner in runners:
            runner.close()
    return passes


def measure_latency(
    runners: Sequence[Runner], complexity: int, repeats: int
) -> dict[str, dict[str, Any]]:
    """Static-image latency: :func:`run_interleaved`, then per runner name the summary of all
    timed calls plus the raw per-pass times."""
    passes = run_interleaved(runners, complexity, repeats)
    out: dict[str, dict[str, Any]] = {}
    for name, results in passes.items():
        flat = [t for r in results for t in r.times_s]
        cpu_s = sum(r.cpu_s for r in results)
        pose = results[-1].pose
        out[name] = {
            **summarize(flat),
            "cpu_ms_per_image": cpu_s * 1e3 / len(flat),
            "cpu_per_wall": cpu_s / sum(flat),
            "pass_medians_ms": [float(np.median(r.times_s) * 1e3) for r in results],
            "images": len(pose),
            "images_with_pose": int(sum(pose)),
            "pose_stable_across_passes": all(r.pose == pose for r in results),
            "peak_rss_mb": max_or_none([r.peak_rss_mb for r in results]),
            "pose": pose,
            "times_ms": [[round(t * 1e3, 4) for t in r.times_s] for r in results],
        }
    return out


def summarize_video(results: Sequence[PassResult]) -> dict[str, Any]:
    """Summary of one implementation's timed video passes (per-frame times over all passes)."""
    flat = [t for r in results for t in r.times_s]
    cpu_s = sum(r.cpu_s for r in results)
    pose = results[-1].pose
    detector_runs = [r.detector_runs for r in results]
    tracked = [r.tracked_frames for r in results]
    return {
        **summarize(flat),
        "cpu_ms_per_frame": cpu_s * 1e3 / len(flat),
        "cpu_per_wall": cpu_s / sum(flat),
        "pass_medians_ms": [float(np.median(r.times_s) * 1e3) for r in results],
        "pass_means_ms": [float(np.mean(r.times_s) * 1e3) for r in results],
        "first_frame_ms": [r.times_s[0] * 1e3 for r in results],
        "frames": len(pose),
        "frames_with_pose": int(sum(pose)),
        "frames_with_pose_per_pass": [int(sum(r.pose)) for r in results],
        "pose_stable_across_passes": all(r.pose == pose for r in results),
        "detector_runs_per_pass": None if None in detector_runs else detector_runs,
        "tracked_frames_per_pass": None if None in tracked else tracked,
        "peak_rss_mb": max_or_none([r.peak_rss_mb for r in results]),
        "pose": pose,
        "times_ms": [[round(t * 1e3, 4) for t in r.times_s] for r in results],
    }


def measure_video(
    frames: Sequence[np.ndarray],
    mediapipe: MediaPipeWorker | None,
    complexity: int,
    segmentation: Sequence[bool],
    repeats: int,
    backends: Sequence[str | None] = (None,),
) -> dict[str, Any]:
    """Video-mode latency at one complexity, every segmentation setting and backend interleaved
    together.

    Returns ``{segmentation_key: {"latency": {name: summary}, "ratio": {name: {...}}}}``; the
    MediaPipe agreement is counted against ours on the first backend.
    """
    groups: list[tuple[bool, list[OursVideoRunner | MediaPipeVideoRunner]]] = []
    for seg in segmentation:
        group: list[OursVideoRunner | MediaPipeVideoRunner] = [
            OursVideoRunner(frames, seg, backend) for backend in backends
        ]
        if mediapipe is not None:
            group.append(MediaPipeVideoRunner(mediapipe, seg))
        groups.append((seg, group))
    runners = [runner for _, group in groups for runner in group]
    passes = run_interleaved(runners, complexity, repeats, tag="video ")
    out: dict[str, Any] = {}
    for seg, group in groups:
        latency = {r.base_name: summarize_video(passes[r.name]) for r in group}
        ratio: dict[str, dict[str, float]] = {}
        if MEDIAPIPE in latency:
            reference = latency[MEDIAPIPE]
            for name, stats in latency.items():
                if name != MEDIAPIPE:
                    ratio[name] = {
                        "median": stats["median_ms"] / reference["median_ms"],
                        "mean": stats["mean_ms"] / reference["mean_ms"],
                    }
            ours = latency[group[0].base_name]["pose"]
            reference["pose_agreement_with_ours"] = sum(
                a == b for a, b in zip(ours, reference["pose"], strict=True)
            )
        out[segmentation_key(seg)] = {"latency": latency, "ratio": ratio}
    return out


def cold_start_once(
    python: str, code: str, image: Path, complexity: int, extra: Sequence[str] = ()
) -> dict[str, float]:
    """One fresh-interpreter launch: import + model load + first frame (seconds).

    ``extra``: further arguments for the program (ours: the backend).
    """
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", code, str(image), str(complexity), *extra],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=False,
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(COLD_MARKER)]
    if proc.returncode != 0 or not lines:
        raise BenchError(
            f"cold-start run failed ({python}, status {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    result = json.loads(lines[-1][len(COLD_MARKER) :])
    result["wall_s"] = wall
    return result


def measure_cold_start(
    launchers: dict[str, tuple[str, str, tuple[str, ...]]],
    image: Path,
    complexity: int,
    runs: int,
) -> dict[str, dict[str, Any]]:
    """``runs`` launches per implementation, alternating; medians of each phase in ms.

    ``launchers``: per implementation name, the Python, the program and its extra arguments.
    """
    raw: dict[str, list[dict[str, float]]] = {name: [] for name in launchers}
    for run in range(runs):
        for name, (python, code, extra) in launchers.items():
            raw[name].append(cold_start_once(python, code, image, complexity, extra))
            log(
                f"  c{complexity} cold start {run + 1}/{runs} {name}: "
                f"{raw[name][-1]['total_s'] * 1e3:.0f} ms"
            )
    out: dict[str, dict[str, Any]] = {}
    for name, results in raw.items():
        phases = ("import", "load", "first_frame", "total", "wall")
        out[name] = {
            **{
                f"{phase}_ms": float(np.median([r[f"{phase}_s"] for r in results]) * 1e3)
                for phase in phases
            },
            "runs": len(results),
            "total_runs_ms": [r["total_s"] * 1e3 for r in results],
        }
    return out


# -- sections -----------------------------------------------------------------------------------


def run_static(
    args: argparse.Namespace, report: dict[str, Any], mediapipe: MediaPipeWorker | None
) -> None:
    """The static-image section: fills ``report``'s settings, images, labels and results."""
    paths = list_images(args.data_dir)
    if not paths:
        raise BenchError(
            f"no images under {args.data_dir} ({', '.join(IMAGE_FOLDERS)}); "
            "point --data-dir at the shared data set"
        )
    if args.quick:
        paths = paths[:QUICK_IMAGES]
    log(f"decoding {len(paths)} images")
    images = decode_images(paths)
    notes: list[str] = report["notes"]
    report["settings"].update(images=len(paths), cold_runs=args.cold_runs)
    report["images"] = [describe_path(p, args.data_dir) for p in paths]
    backends: list[str | None] = list(getattr(args, "backends", None) or [None])
    pose_runners = [OursPoseRunner(images, backend) for backend in backends]
    runners: list[Runner] = [*pose_runners]
    runners += [OursPipelineRunner(images, None, backend) for backend in backends]
    if args.pipeline_threads is not None:
        runners += [
            OursPipelineRunner(images, args.pipeline_threads, backend) for backend in backends
        ]
    launchers: dict[str, tuple[str, str, tuple[str, ...]]] = {
        runner.name: (
            sys.executable,
            OURS_COLD_CODE,
            () if runner.backend is None else (runner.backend,),
        )
        for runner in pose_runners
    }
    primary = pose_runners[0].name  # MediaPipe's agreement and cold-start ratio refer to it
    if mediapipe is not None:
        runners.append(MediaPipeRunner(mediapipe))
        launchers[MEDIAPIPE] = (mediapipe.python, MEDIAPIPE_COLD_CODE, ())
        ours_sha1 = [hashlib.sha1(img.tobytes()).hexdigest() for img in images]
        theirs_sha1 = mediapipe.load_images(paths)
        same = theirs_sha1 == ours_sha1
        report["inputs_identical"] = same
        if not same:
            differ = sum(a != b for a, b in zip(theirs_sha1, ours_sha1, strict=True))
            notes.append(
                f"{differ} of {len(paths)} images decode to different RGB bytes in the reference "
                "environment (another OpenCV/libjpeg build); each side times its own decoding."
            )
    report["labels"] = {r.name: r.label for r in runners}
    for complexity in args.complexity:
        log(f"complexity {complexity}: latency")
        latency = measure_latency(runners, complexity, args.repeats)
        ratio: dict[str, float | None] = {}
        if MEDIAPIPE in latency:
            reference = latency[MEDIAPIPE]["median_ms"]
            for name in latency:
                if name != MEDIAPIPE:
                    ratio[name] = latency[name]["median_ms"] / reference
            agree = sum(
                a == b
                for a, b in zip(latency[primary]["pose"], latency[MEDIAPIPE]["pose"], strict=True)
            )
            latency[MEDIAPIPE]["pose_agreement_with_ours"] = agree
        entry: dict[str, Any] = {"latency": latency, "ratio": ratio}
        if args.cold_runs:
            log(f"complexity {complexity}: cold start")
            entry["cold_start"] = measure_cold_start(
                launchers, paths[0], complexity, args.cold_runs
            )
            if MEDIAPIPE in entry["cold_start"]:
                ref_cold = entry["cold_start"][MEDIAPIPE]["total_ms"]
                entry["cold_start_ratio"] = entry["cold_start"][primary]["total_ms"] / ref_cold
        report["results"][str(complexity)] = entry
    if mediapipe is not None:
        mediapipe.unload()


def run_video(args: argparse.Namespace, mediapipe: MediaPipeWorker | None) -> dict[str, Any]:
    """The video-mode section of the report (the ``"video"`` key)."""
    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    max_frames = QUICK_FRAMES if args.quick else None
    log(f"decoding {args.video}" + (f" (first {max_frames} frames)" if max_frames else ""))
    frames = decode_video(args.video, max_frames)
    segmentation = VIDEO_SEGMENTATION[args.video_segmentation]
    backends: list[str | None] = list(getattr(args, "backends", None) or [None])
    notes: list[str] = []
    video: dict[str, Any] = {
        "video": describe_path(args.video, args.data_dir),
        "frames": len(frames),
        "frame_size": list(frames[0].shape[:2]),
        "settings": {
            "repeats": args.repeats,
            "warmup_passes": 1,
            "complexities": args.complexity,
            "segmentation": list(segmentation),
            "static_image_mode": False,
            "fresh_pose_per_pass": True,
            "timestamps": "default (each process() call advances 33333 us)",
        },
        "inputs_identical": None,
        "labels": {
            runner.base_name: runner.label
            for runner in (OursVideoRunner(frames, False, backend) for backend in backends)
        },
        "results": {},
        "notes": notes,
    }
    if mediapipe is not None:
        ours_sha1 = [hashlib.sha1(f.tobytes()).hexdigest() for f in frames]
        theirs_sha1 = mediapipe.load_video(args.video, max_frames)
        same = theirs_sha1 == ours_sha1
        video["inputs_identical"] = same
        video["labels"][MEDIAPIPE] = MediaPipeVideoRunner.label
        if not same:
            notes.append(
                f"the reference environment decodes the video to {len(theirs_sha1)} frames, "
                f"{sum(a != b for a, b in zip(theirs_sha1, ours_sha1, strict=False))} of which "
                f"differ from ours ({len(frames)} frames); each side times its own frames."
            )
        if True in segmentation:
            notes.append(
                "with segmentation on, ours also smooths the mask over time "
                "(`smooth_segmentation=True`, the default), which MediaPipe 0.10.14's Python "
                "solution accepts but does not do (see `vitruvian.tracking`)."
            )
    try:
        for complexity in args.complexity:
            log(f"complexity {complexity}: video mode")
            video["results"][str(complexity)] = measure_video(
                frames, mediapipe, complexity, segmentation, args.repeats, backends
            )
    finally:
        if mediapipe is not None:
            mediapipe.unload()
    return video
