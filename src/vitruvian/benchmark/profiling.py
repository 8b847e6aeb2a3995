"""``--profile``: where our video-mode time goes, by cProfile.

``vitruvian.solutions.pose.Pose`` in video mode at model complexity 1 (the default model) on the
squats clip's frames (decoded once, outside the profile): one unprofiled warm-up pass, one
unprofiled timed pass (the wall time per frame without the profiler's overhead), then
``PROFILE_PASSES`` passes under ``cProfile`` (the tracker reset before each, so each starts
with a detection). Reported: the 20 functions with the most time spent in themselves
(``tottime``), as ``pstats`` prints them, plus the same as per-frame figures in the JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from vitruvian.benchmark.common import BenchError, decode_video, describe_path, log
from vitruvian.benchmark.latency import QUICK_FRAMES

PROFILE_COMPLEXITY = 1
PROFILE_PASSES = 3
TOP = 20


def _function_name(key: tuple[str, int, str]) -> str:
    """``file:line(function)`` as pstats prints it, the file shortened to its last parts."""
    filename, line, function = key
    if filename == "~":  # built-in
        return function
    parts = filename.replace("\\", "/").split("/")
    if "vitruvian" in parts:  # from the package's own folder: vitruvian/pipeline.py
        start = len(parts) - 1 - parts[::-1].index("vitruvian")
        short = "/".join(parts[start:])
    else:  # numpy and the standard library: the last two parts
        short = "/".join(parts[-2:])
    return f"{short}:{line}({function})"


def run_profile(args: argparse.Namespace) -> dict[str, Any]:
    """The profile section of the report (the ``"profile"`` key)."""
    from vitruvian.solutions.pose import Pose

    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    frames = decode_video(args.video, QUICK_FRAMES if args.quick else None)
    passes = 1 if args.quick else PROFILE_PASSES
    log(f"profiling: video mode, complexity {PROFILE_COMPLEXITY}, {passes} passes")
    profiler = cProfile.Profile()
    with Pose(model_complexity=PROFILE_COMPLEXITY) as pose:
        for frame in frames:  # warm-up
            pose.process(frame)
        pose.reset()
        start = time.perf_counter()
        for frame in frames:
            pose.process(frame)
        plain_ms = 1e3 * (time.perf_counter() - start) / len(frames)
        for _ in range(passes):
            pose.reset()
            profiler.enable()
            for frame in frames:
                pose.process(frame)
            profiler.disable()
    calls = passes * len(frames)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(TOP)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    top = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    return {
        "video": describe_path(args.video, args.data_dir),
        "complexity": PROFILE_COMPLEXITY,
        "frames": len(frames),
        "passes": passes,
        "ms_per_frame_unprofiled": plain_ms,
        "ms_per_frame_profiled": 1e3 * total / calls,
        "top": [
            {
                "function": _function_name(key),
                "calls_per_frame": entry[1] / calls,
                "tottime_ms_per_frame": 1e3 * entry[2] / calls,
                "cumtime_ms_per_frame": 1e3 * entry[3] / calls,
                "share_of_total": entry[2] / total if total else None,
            }
            for key, entry in top
        ],
        "pstats": text.getvalue().strip("\n"),
    }
