"""Several people (``--mode people``): video-mode cost per frame against the number of people.

The clip is the benchmark video (``--video``) with ``P`` copies of it side by side (``P`` = 1,
2, 4), each copy ``len(frames) // P`` frames ahead of the one on its left so the people move
differently (:func:`vitruvian.testing_clips.people_clip`; frames built once, outside the
timing). Per model complexity (default 1 in this mode):

* 1 person: ``PoseTracker()`` (``num_poses=1``, MediaPipe's single-person path) on the
  one-copy clip, the baseline;
* P people: ``PoseTracker(num_poses=P)`` on the ``P``-copy clip;
* 1 person with ``num_poses=4``: what looking for people who are not there costs (the
  detector runs every ``detect_every`` = 0.5 s of stream time; frames are 1/30 s apart).

Protocol: one untimed warm-up pass per configuration, then ``--repeats`` rounds in which each
configuration makes one timed pass with a fresh tracker (order rotated every round). Reported:
median ms per frame and per person, frames/s, the people tracked per frame (mean), and the
detector and landmark-model runs per frame (from the tracker's counters).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vitruvian.benchmark.common import BenchError, decode_video, describe_path, log

#: The people counts timed.
PEOPLE_COUNTS = (1, 2, 4)
#: The configurations: (name, copies of the clip side by side, num_poses).
CONFIGS = (
    ("1 person", 1, 1),
    ("2 people", 2, 2),
    ("4 people", 4, 4),
    ("1 person, num_poses=4", 1, 4),
)
#: Complexities of ``--mode people`` when ``--complexity`` is not given.
PEOPLE_COMPLEXITIES = (1,)
#: Frames used by ``--quick``.
QUICK_FRAMES = 12


def people_frames(frames: Sequence[np.ndarray], people: int) -> list[np.ndarray]:
    """The clip with ``people`` copies of ``frames`` side by side, copy ``k`` shifted ahead by
    ``k * len(frames) // people`` frames (wrapping around)."""
    from vitruvian.testing_clips import Layer, people_clip

    count = len(frames)
    width = frames[0].shape[1]
    layers = [
        Layer(
            frames,
            [(t + k * count // people) % count for t in range(count)],
            [k * width] * count,
        )
        for k in range(people)
    ]
    return people_clip(width * people, layers)


def _timed_pass(
    clip: Sequence[np.ndarray], num_poses: int, complexity: int, threads: int | None
) -> dict[str, float]:
    """One pass with a fresh tracker: wall seconds per frame and the tracker's counters."""
    from vitruvian.tracking import PoseTracker

    with PoseTracker(model_complexity=complexity, num_threads=threads, num_poses=num_poses) as t:
        people = 0
        start = time.perf_counter()
        for i, frame in enumerate(clip):
            people += len(t.process_all(frame, i * 33_333))
        wall = time.perf_counter() - start
        stats = t.stats
    frames = len(clip)
    return {
        "wall_s": wall,
        "people_per_frame": people / frames,
        "detector_runs_per_frame": stats.detector_runs / frames,
        "landmark_runs_per_frame": stats.landmark_runs / frames,
    }


def run_people(args: argparse.Namespace) -> dict[str, Any]:
    """The people section of the report (the ``"people"`` key).

    Args:
        args: the options (``video``, ``complexity``, ``repeats``, ``quick``,
            ``pipeline_threads``, ``data_dir``).
    """
    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    max_frames = QUICK_FRAMES if args.quick else None
    log(f"decoding {args.video}" + (f" (first {max_frames} frames)" if max_frames else ""))
    frames = decode_video(args.video, max_frames)
    clips = {people: people_frames(frames, people) for people in PEOPLE_COUNTS}
    configs = list(CONFIGS)
    section: dict[str, Any] = {
        "video": describe_path(args.video, args.data_dir),
        "frames": len(frames),
        "frame_size": list(frames[0].shape[:2]),
        "settings": {
            "people_counts": list(PEOPLE_COUNTS),
            "complexities": args.complexity,
            "repeats": args.repeats,
            "warmup_passes": 1,
            "num_threads": args.pipeline_threads,
        },
        "results": {},
    }
    for complexity in args.complexity:
        passes: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in configs}
        for _, copies, num_poses in configs:  # warm-up
            _timed_pass(clips[copies], num_poses, complexity, args.pipeline_threads)
        for round_ in range(args.repeats):
            log(f"people, complexity {complexity}: round {round_ + 1}/{args.repeats}")
            shift = round_ % len(configs)
            for name, copies, num_poses in configs[shift:] + configs[:shift]:
                passes[name].append(
                    _timed_pass(clips[copies], num_poses, complexity, args.pipeline_threads)
                )
        results = {}
        for name, copies, num_poses in configs:
            runs = passes[name]
            ms = float(np.median([r["wall_s"] for r in runs])) * 1e3 / len(frames)
            people = float(np.mean([r["people_per_frame"] for r in runs]))
            results[name] = {
                "copies": copies,
                "num_poses": num_poses,
                "ms_per_frame": ms,
                "frames_per_s": 1e3 / ms,
                "ms_per_person": ms / people if people else None,
                "people_per_frame": people,
                "detector_runs_per_frame": runs[0]["detector_runs_per_frame"],
                "landmark_runs_per_frame": runs[0]["landmark_runs_per_frame"],
            }
        section["results"][f"c{complexity}"] = results
    return section


def render_people(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the people section."""
    settings = section["settings"]
    height, width = section["frame_size"]
    lines = [
        "### Several people (`PoseTracker(num_poses=N)`)",
        "",
        f"- {section['video']}, {section['frames']} frames of {width}x{height}, copied side by "
        f"side (P copies: {width}P x {height}); 1 warm-up + {settings['repeats']} timed passes "
        "per configuration, interleaved; ms/frame from the median pass",
        "",
        "| c | tracker | people tracked / frame | ms / frame | frames/s | ms / person "
        "| detector runs / frame | landmark runs / frame |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, results in section["results"].items():
        for r in results.values():
            tracker = f"num_poses={r['num_poses']}"
            per_person = "–" if r["ms_per_person"] is None else f"{r['ms_per_person']:.2f}"
            lines.append(
                f"| {key} | {tracker} ({r['copies']} cop{'y' if r['copies'] == 1 else 'ies'}) "
                f"| {r['people_per_frame']:.2f} | {r['ms_per_frame']:.2f} "
                f"| {r['frames_per_s']:.1f} | {per_person} "
                f"| {r['detector_runs_per_frame']:.3f} | {r['landmark_runs_per_frame']:.2f} |"
            )
    return lines
