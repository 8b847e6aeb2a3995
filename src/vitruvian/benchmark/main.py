"""Command-line options and the top-level run of ``vitruvian bench`` (see
:mod:`vitruvian.benchmark`)."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vitruvian.benchmark.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_VIDEO,
    MEDIAPIPE,
    REFERENCE_ENV_VAR,
    BenchError,
    MediaPipeWorker,
    load_average,
    log,
    machine_info,
)
from vitruvian.benchmark.latency import QUICK_FRAMES, QUICK_IMAGES, VIDEO_SEGMENTATION

PROG = "vitruvian bench"
COMPLEXITIES = (0, 1, 2)
#: Complexities of ``--mode soak`` when ``--complexity`` is not given.
SOAK_COMPLEXITIES = (1,)
DEFAULT_REPEATS = 3
DEFAULT_COLD_RUNS = 3
MODES = ("static", "video", "extract", "soak", "all")
#: What ``--mode all`` runs.
ALL_MODES = ("static", "video", "extract")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The argument parser of ``vitruvian bench``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Latency, extraction throughput and memory of vitruvian, side by side with "
        "MediaPipe Pose 0.10.14 when a reference Python is given.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--reference-python",
        default=os.environ.get(REFERENCE_ENV_VAR) or None,
        help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR}); "
        "without it the MediaPipe columns are skipped",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="all",
        help="static: static-image latency and cold start; video: video-mode latency; "
        "extract: offline extraction throughput from the video file; soak: memory over "
        "20,000+ frames (ours only); all: static, video and extract",
    )
    parser.add_argument(
        "--complexity",
        type=int,
        nargs="+",
        choices=COMPLEXITIES,
        default=None,
        help="model complexities to benchmark (default: 0 1 2; 1 in soak mode)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help="timed passes over the images (and over the video's frames)",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=None,
        help=f"cold-start launches per implementation (default {DEFAULT_COLD_RUNS}, "
        "1 with --quick; 0 skips)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_IMAGES} images, {QUICK_FRAMES} video frames, short extraction clips, "
        "a 300-frame soak, 1 timed pass, 1 cold start (smoke test)",
    )
    parser.add_argument(
        "--pipeline-threads",
        type=int,
        default=None,
        help="also time PosePipeline(c, num_threads=N) (e.g. 1, to match MediaPipe's "
        "single-threaded CPU inference)",
    )
    parser.add_argument(
        "--video",
        type=Path,
        default=None,
        help=f"video for the video, extract and soak modes "
        f"(default: DATA_DIR/{DEFAULT_VIDEO.as_posix()})",
    )
    parser.add_argument(
        "--video-segmentation",
        choices=tuple(VIDEO_SEGMENTATION),
        default="both",
        help="video mode: time Pose with enable_segmentation off, on, or both",
    )
    parser.add_argument(
        "--extract-frames",
        type=int,
        default=None,
        help="extract mode: length of the looped clip in frames (default 650, 24 with "
        "--quick; 0 skips it)",
    )
    parser.add_argument(
        "--soak-frames",
        type=int,
        default=None,
        help="soak mode: video-mode frames (default 20000, 300 with --quick)",
    )
    parser.add_argument(
        "--soak-images",
        type=int,
        default=None,
        help="soak mode: static-mode calls (default 3000, 60 with --quick; 0 skips)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print cProfile's top 20 functions (own time) of ours in video mode at "
        "complexity 1",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="shared data")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser


def parse_args(argv: Sequence[str] | None, prog: str = PROG) -> argparse.Namespace:
    """Command-line options, checked and completed with the mode-dependent defaults."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    if args.cold_runs is None:
        args.cold_runs = 1 if args.quick else DEFAULT_COLD_RUNS
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.pipeline_threads is not None and args.pipeline_threads < 1:
        parser.error("--pipeline-threads must be >= 1")
    if args.cold_runs < 0:
        parser.error("--cold-runs must be >= 0")
    for option in ("extract_frames", "soak_frames", "soak_images"):
        value = getattr(args, option)
        if value is not None and value < 0:
            parser.error(f"--{option.replace('_', '-')} must be >= 0")
    if args.video is None:
        args.video = args.data_dir / DEFAULT_VIDEO
    if args.complexity is None:
        args.complexity = list(SOAK_COMPLEXITIES if args.mode == "soak" else COMPLEXITIES)
    args.complexity = list(dict.fromkeys(args.complexity))
    return args


def run_benchmark(args: argparse.Namespace, command: str | None = None) -> dict[str, Any]:
    """Run every selected measurement and return the report (see
    :func:`vitruvian.benchmark.report.render_markdown`)."""
    from vitruvian.benchmark.extraction import run_extract
    from vitruvian.benchmark.latency import run_static, run_video
    from vitruvian.benchmark.profiling import run_profile
    from vitruvian.benchmark.soak import run_soak

    modes = ALL_MODES if args.mode == "all" else (args.mode,)
    notes: list[str] = []
    report: dict[str, Any] = {
        "command": command or shlex.join([sys.executable, *sys.argv]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "mode": args.mode,
            "modes": list(modes),
            "images": 0,
            "repeats": args.repeats,
            "warmup_passes": 1,
            "cold_runs": 0,
            "complexities": args.complexity,
            "quick": bool(args.quick),
            "static_image_mode": True,
            "pipeline_threads": args.pipeline_threads,
            "profile": bool(args.profile),
        },
        "images": [],
        "versions": {},
        "labels": {},
        "inputs_identical": None,
        "results": {},
        "video": None,
        "extract": None,
        "soak": None,
        "profile": None,
        "notes": notes,
    }
    mediapipe: MediaPipeWorker | None = None
    compared = [mode for mode in modes if mode != "soak"]
    if args.reference_python and compared:
        log(f"starting the MediaPipe worker with {args.reference_python}")
        mediapipe = MediaPipeWorker(args.reference_python)
        report["versions"][MEDIAPIPE] = mediapipe.versions
    elif compared:
        notes.append(
            "MediaPipe columns skipped: no reference Python given. Pass "
            f"`--reference-python PATH/TO/python` or set {REFERENCE_ENV_VAR} to a Python "
            "with mediapipe 0.10.14 installed (with make: "
            f"`{REFERENCE_ENV_VAR}=PATH/TO/python make bench`)."
        )
    if args.mode == "soak" and args.reference_python:
        notes.append("soak mode runs ours only; the reference Python is not used.")
    try:
        if "static" in modes:
            run_static(args, report, mediapipe)
        if "video" in modes:
            report["video"] = run_video(args, mediapipe)
        if "extract" in modes:
            report["extract"] = run_extract(args, mediapipe)
        if "soak" in modes:
            report["soak"] = run_soak(args)
        if args.profile:
            report["profile"] = run_profile(args)
    finally:
        if mediapipe is not None:
            mediapipe.shutdown()
    report["machine"]["load_average_after"] = load_average()
    return report


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run the benchmark; returns the process exit status (2 when it cannot run).

    Args:
        argv: the options (``None``: ``sys.argv[1:]``).
        prog: the program name shown in usage and error messages.
    """
    from vitruvian.benchmark.report import render_markdown

    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(arguments, prog)
    try:
        report = run_benchmark(args, shlex.join([*prog.split(), *arguments]))
    except BenchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    print(render_markdown(report), end="", flush=True)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
        log(f"wrote {args.json}")
    return 0
