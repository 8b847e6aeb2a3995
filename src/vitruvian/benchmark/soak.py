"""Memory over a long run (``--mode soak``): does resident memory keep growing?

Two phases per model complexity (default 1 in this mode), ours only:

* **video**: one ``vitruvian.solutions.pose.Pose`` in video mode (defaults; each call advances
  33 ms) fed ``--soak-frames`` frames (default 20,000): the squats clip's frames (decoded once)
  played forwards then backwards, again and again, so that tracking stays realistic.
* **static**: one ``Pose(static_image_mode=True)`` fed the shared images in turn,
  ``--soak-images`` calls (default 3,000).

The process's resident memory (``VmRSS``) is sampled every 1,000 frames and every 250 images,
or more often when a phase is shorter, so that each phase has at least 20 samples (every 150
images at the default 3,000). Reported: the RSS after the first sample, at the baseline (frame 2,000
in video, a tenth of the run in general, once caches, allocator pools and the tracker's state
have settled) and at the end; the growth from the baseline to the end (target: under 20 MB for
the video phase); the peak RSS of the phase; ms per call; frames with a pose.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vitruvian.benchmark.common import (
    BenchError,
    current_rss_mb,
    decode_images,
    decode_video,
    describe_path,
    list_images,
    log,
    peak_rss_mb,
    reset_peak_rss,
)
from vitruvian.benchmark.extraction import ping_pong_order

DEFAULT_SOAK_FRAMES = 20_000
DEFAULT_SOAK_IMAGES = 3_000
QUICK_SOAK_FRAMES = 300
QUICK_SOAK_IMAGES = 60
#: The video phase's growth target, MB (from the baseline sample to the end).
GROWTH_TARGET_MB = 20.0


def sample_interval(calls: int, preferred: int) -> int:
    """Sample every ``preferred`` calls, or more often so that a run has at least 20 samples."""
    return max(1, min(preferred, calls // 20))


def baseline_index(samples: Sequence[dict[str, Any]], calls: int) -> int:
    """Index of the baseline sample: the first one at or after a tenth of the run."""
    for index, sample in enumerate(samples):
        if sample["calls"] >= calls // 10:
            return index
    return len(samples) - 1


def soak_phase(
    process: Any,
    inputs: Sequence[np.ndarray],
    order: Sequence[int],
    interval: int,
    label: str,
) -> dict[str, Any]:
    """Call ``process`` on ``inputs[i]`` for each ``i`` in ``order``, sampling RSS."""
    samples: list[dict[str, Any]] = []
    with_pose = 0
    reset_peak_rss()
    rss_start = current_rss_mb()
    start = time.perf_counter()
    cpu_start = time.process_time()
    for calls, index in enumerate(order, start=1):
        with_pose += process(inputs[index]).pose_landmarks is not None
        if calls % interval == 0 or calls == len(order):
            elapsed = time.perf_counter() - start
            samples.append({"calls": calls, "rss_mb": current_rss_mb(), "elapsed_s": elapsed})
            if calls % (interval * 5) == 0:
                log(f"  soak {label}: {calls}/{len(order)}, RSS {samples[-1]['rss_mb']:.1f} MB")
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    base = baseline_index(samples, len(order))
    rss = [s["rss_mb"] for s in samples]
    known = None not in rss
    return {
        "calls": len(order),
        "interval": interval,
        "ms_per_call": 1e3 * wall / len(order),
        "cpu_ms_per_call": 1e3 * cpu / len(order),
        "with_pose": with_pose,
        "rss_start_mb": rss_start,
        "rss_first_sample_mb": rss[0],
        "baseline_calls": samples[base]["calls"],
        "rss_baseline_mb": rss[base],
        "rss_end_mb": rss[-1],
        "growth_mb": rss[-1] - rss[base] if known else None,
        "growth_max_mb": max(rss[base:]) - rss[base] if known else None,
        "peak_rss_mb": peak_rss_mb(),
        "samples": samples,
    }


def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    """The soak section of the report (the ``"soak"`` key)."""
    from vitruvian.solutions.pose import Pose

    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    frames_total = args.soak_frames
    if frames_total is None:
        frames_total = QUICK_SOAK_FRAMES if args.quick else DEFAULT_SOAK_FRAMES
    images_total = args.soak_images
    if images_total is None:
        images_total = QUICK_SOAK_IMAGES if args.quick else DEFAULT_SOAK_IMAGES
    log(f"decoding {args.video}")
    frames = decode_video(args.video)
    paths = list_images(args.data_dir) if images_total > 0 else []
    if images_total > 0 and not paths:
        raise BenchError(f"no images under {args.data_dir}; point --data-dir at the shared data")
    images = decode_images(paths)
    section: dict[str, Any] = {
        "video": describe_path(args.video, args.data_dir),
        "video_frames": len(frames),
        "images": len(paths),
        "settings": {
            "complexities": args.complexity,
            "video_frames": frames_total,
            "static_images": images_total,
            "order": "video frames forwards then backwards, repeated; images in turn",
            "timestamps": "default (each process() call advances 33333 us)",
            "growth_target_mb": GROWTH_TARGET_MB,
        },
        "results": {},
    }
    for complexity in args.complexity:
        entry: dict[str, Any] = {}
        if frames_total > 0:
            log(f"complexity {complexity}: soak, {frames_total} video frames")
            with Pose(model_complexity=complexity) as pose:
                entry["video"] = soak_phase(
                    pose.process,
                    frames,
                    ping_pong_order(len(frames), frames_total),
                    sample_interval(frames_total, 1000),
                    f"c{complexity} video",
                )
                entry["video"]["detector_runs"] = int(pose.stats.detector_runs)
            growth = entry["video"]["growth_mb"]
            entry["video"]["target_met"] = None if growth is None else growth < GROWTH_TARGET_MB
        if images_total > 0:
            log(f"complexity {complexity}: soak, {images_total} static images")
            with Pose(static_image_mode=True, model_complexity=complexity) as pose:
                entry["static"] = soak_phase(
                    pose.process,
                    images,
                    [i % len(images) for i in range(images_total)],
                    sample_interval(images_total, 250),
                    f"c{complexity} static",
                )
        section["results"][str(complexity)] = entry
    return section
