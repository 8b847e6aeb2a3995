"""Many videos at once (``--mode extract --workers N``): frames/s over a set of video files,
vitruvian's engines against MediaPipe in as many processes.

The set: ``--parallel-videos`` files (default 8) of ``--parallel-frames`` frames each (default
130), each a ping-pong loop of the benchmark video starting at a different frame, re-encoded
with ``mp4v`` into a temporary folder (:func:`write_video_set`). Per model complexity, each
configuration processes the whole set once per round (``--repeats`` rounds, order rotated) and
is timed end to end, from starting its processes (and loading the models) to the last video's
rows, which are kept in memory (``(33, 5)`` landmarks per frame) as in the single-video section:

* ``vitruvian, 1 process``: one :class:`~vitruvian.extract.PoseExtractor` in this process, the
  default inference threads (``vitruvian run`` with ``--workers 1``);
* ``vitruvian, N processes``: :class:`~vitruvian.parallel.local.ProcessEngine` with ``N``
  workers, ``cores / N`` inference threads each (``vitruvian run`` with ``--workers N``);
* ``vitruvian, Ray local, N workers``: :class:`~vitruvian.parallel.ray_engine.RayEngine` on a
  local Ray started once beforehand (its start, about 2 s, is not timed: a cluster is already
  up), when Ray is installed;
* ``MediaPipe, 1 process`` and ``MediaPipe, N processes``: MediaPipe's frame loop
  (:mod:`vitruvian.reference.worker`'s ``extract``) in 1 and ``N`` reference worker processes,
  each taking the next video as it is free: the fair peer, as many processes as ours. Their
  start (importing mediapipe) is timed like ours.

Reported: frames/s (median round, range), seconds, frames with a pose, and each configuration
against MediaPipe with the same number of processes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vitruvian.benchmark.common import BenchError, log

#: Defaults of the video set.
DEFAULT_VIDEOS = 8
DEFAULT_FRAMES = 130
QUICK_VIDEOS = 4
QUICK_FRAMES = 12


def write_video_set(source: Path, folder: Path, videos: int, frames: int) -> list[Path]:
    """``videos`` clips of ``frames`` frames: ping-pong loops of ``source`` from different
    starting frames, ``mp4v`` at the source's size and rate."""
    from vitruvian.benchmark.extraction import decode_with_fps, ping_pong_order

    decoded, fps = decode_with_fps(source)
    height, width = decoded[0].shape[:2]
    order = ping_pong_order(len(decoded), frames * videos + videos)
    paths = []
    for k in range(videos):
        path = folder / f"video{k:03d}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise BenchError(f"OpenCV cannot write an mp4v video to {path}")
        start = k * len(order) // videos
        for i in range(frames):
            writer.write(cv2.cvtColor(decoded[order[(start + i) % len(order)]], cv2.COLOR_RGB2BGR))
        writer.release()
        paths.append(path)
    return paths


def _ours(engine_factory: Callable[[], Any], paths: Sequence[Path]) -> tuple[float, int, int]:
    """One round of one of our engines: seconds, frames, frames with a pose."""
    from vitruvian.parallel import VideoJob

    jobs = [VideoJob(str(p), path=str(p)) for p in paths]
    start = time.perf_counter()
    engine = engine_factory()
    try:
        outcomes = list(engine.run(jobs))
    finally:
        engine.close()
    seconds = time.perf_counter() - start
    failed = [o.error for o in outcomes if o.error]
    if failed:
        raise BenchError(f"vitruvian failed on the video set: {failed[0]}")
    return seconds, sum(o.frames for o in outcomes), sum(o.frames_with_pose for o in outcomes)


def _mediapipe(python: str, processes: int, complexity: int, paths: Sequence[Path]) -> tuple:
    """One round of MediaPipe in ``processes`` reference workers: seconds, frames, with pose."""
    from vitruvian.benchmark.common import MediaPipeWorker

    pending = list(paths)
    lock = threading.Lock()
    totals = [0, 0]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            worker = MediaPipeWorker(python)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
            return
        try:
            while True:
                with lock:
                    if not pending or errors:
                        return
                    path = pending.pop(0)
                reply = worker.request(
                    {"cmd": "extract", "path": str(path), "complexity": complexity}
                )
                with lock:
                    totals[0] += int(reply["frames"])
                    totals[1] += int(reply["frames_with_pose"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            worker.shutdown()

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start, totals[0], totals[1]


def run_parallel(args: argparse.Namespace) -> dict[str, Any]:
    """The many-videos section (the ``"parallel"`` key of the report)."""
    from vitruvian.options import PoseOptions
    from vitruvian.parallel import InlineEngine
    from vitruvian.parallel.local import ProcessEngine, threads_per_worker

    workers = int(args.workers)
    videos = QUICK_VIDEOS if args.quick else DEFAULT_VIDEOS
    frames = QUICK_FRAMES if args.quick else DEFAULT_FRAMES
    cores = os.cpu_count() or 1
    ray = None
    try:
        import ray as _ray

        ray = _ray
    except ImportError:
        pass
    notes = []
    if ray is None:
        notes.append("Ray is not installed (pip install 'vitruvian[ray]'): its row is skipped.")
    if not args.reference_python:
        notes.append("MediaPipe rows skipped: no reference Python (--reference-python).")
    section: dict[str, Any] = {
        "videos": videos,
        "frames_per_video": frames,
        "workers": workers,
        "cores": cores,
        "threads_per_worker": threads_per_worker(workers, cores),
        "repeats": args.repeats,
        "results": {},
        "notes": notes,
    }
    with tempfile.TemporaryDirectory(prefix="vitruvian-parallel-") as tmp:
        log(f"writing {videos} videos of {frames} frames")
        paths = write_video_set(args.video, Path(tmp), videos, frames)
        if ray is not None:
            ray.init(
                num_cpus=cores, include_dashboard=False, logging_level="ERROR", log_to_driver=False
            )
        try:
            for complexity in args.complexity:
                options = PoseOptions(model_complexity=complexity).as_kwargs()
                configs: dict[str, Callable[[], tuple]] = {
                    "vitruvian, 1 process": lambda o=options: _ours(lambda: InlineEngine(o), paths),
                    f"vitruvian, {workers} processes": lambda o=options: _ours(
                        lambda: ProcessEngine(workers, o), paths
                    ),
                }
                if ray is not None:
                    from vitruvian.parallel.ray_engine import RayEngine

                    configs[f"vitruvian, Ray local, {workers} workers"] = lambda o=options: _ours(
                        lambda: RayEngine(workers, o), paths
                    )
                if args.reference_python:
                    for n in (1, workers):
                        name = f"MediaPipe, {n} process{'' if n == 1 else 'es'}"
                        configs[name] = lambda n=n, c=complexity: _mediapipe(
                            args.reference_python, n, c, paths
                        )
                rounds: dict[str, list[tuple]] = {name: [] for name in configs}
                names = list(configs)
                for round_ in range(args.repeats):
                    for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                        log(f"many videos, complexity {complexity}: {name}, round {round_ + 1}")
                        rounds[name].append(configs[name]())
                section["results"][str(complexity)] = _summarize(rounds, workers)
        finally:
            if ray is not None:
                ray.shutdown()
    return section


def _summarize(rounds: dict[str, list[tuple]], workers: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, runs in rounds.items():
        seconds = [r[0] for r in runs]
        frames = runs[0][1]
        out[name] = {
            "fps": frames / float(np.median(seconds)),
            "fps_min": frames / max(seconds),
            "fps_max": frames / min(seconds),
            "seconds": float(np.median(seconds)),
            "frames": frames,
            "frames_with_pose": runs[0][2],
        }
    for name, entry in out.items():
        processes = 1 if "1 process" in name else workers
        peer = out.get(f"MediaPipe, {processes} process{'' if processes == 1 else 'es'}")
        entry["vs_mediapipe_same_processes"] = (
            entry["fps"] / peer["fps"] if peer and not name.startswith("MediaPipe") else None
        )
    return out


def render_parallel(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the many-videos section."""
    lines = [
        "### Many videos at once",
        "",
        f"- {section['videos']} videos x {section['frames_per_video']} frames (mp4v), "
        f"{section['cores']} cores; N = {section['workers']} processes with "
        f"{section['threads_per_worker']} inference thread(s) each; timed end to end (process "
        f"start and model loading included; Ray's own start excluded); median of "
        f"{section['repeats']} rounds",
        "",
        "| c | configuration | frames/s | seconds | frames with pose | vs MediaPipe, same "
        "processes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for complexity, results in section["results"].items():
        for name, r in results.items():
            ratio = r["vs_mediapipe_same_processes"]
            lines.append(
                f"| {complexity} | {name} | {r['fps']:.1f} ({r['fps_min']:.1f}–{r['fps_max']:.1f}) "
                f"| {r['seconds']:.2f} | {r['frames_with_pose']}/{r['frames']} "
                f"| {'–' if ratio is None else f'{ratio:.2f}x'} |"
            )
    return [*lines, "", *[f"Note: {note}" for note in section["notes"]]]
