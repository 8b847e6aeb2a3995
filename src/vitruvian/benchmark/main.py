"""Command-line options and the top-level run of ``vitruvian bench`` (see
:mod:`vitruvian.benchmark`)."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from vitruvian._click import MultiValueCommand
from vitruvian.benchmark.common import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_VIDEO,
    MEDIAPIPE,
    BenchError,
    MediaPipeWorker,
    load_average,
    log,
    machine_info,
)
from vitruvian.benchmark.latency import QUICK_FRAMES, QUICK_IMAGES, VIDEO_SEGMENTATION
from vitruvian.benchmark.people import PEOPLE_COMPLEXITIES
from vitruvian.models.backends import BACKENDS
from vitruvian.reference import REFERENCE_ENV_VAR

PROG = "vitruvian bench"
COMPLEXITIES = (0, 1, 2)
#: Complexities of ``--mode soak`` (and ``--mode batch``) when ``--complexity`` is not given.
SOAK_COMPLEXITIES = (1,)
BATCH_COMPLEXITIES = (1,)
DEFAULT_REPEATS = 3
DEFAULT_COLD_RUNS = 3
MODES = ("static", "video", "extract", "soak", "models", "batch", "people", "all")
#: What ``--mode all`` runs.
ALL_MODES = ("static", "video", "extract")
#: Modes that run ours only (no MediaPipe worker).
OURS_ONLY_MODES = ("soak", "models", "batch", "people")
#: Modes that take ``--backend``.
BACKEND_MODES = ("static", "video", "models", "batch")
#: ``--batch-sizes`` default.
DEFAULT_BATCH_SIZES = "1,2,4,8,16"


def parse_backends(text: str) -> list[str]:
    """``--backend``'s comma-separated list, checked against the backend names (lower-cased,
    duplicates dropped).

    Raises:
        ValueError: an empty list or an unknown name.
    """
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise ValueError("--backend needs at least one backend")
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        raise ValueError(
            f"unknown backend {', '.join(map(repr, unknown))}; choose from {', '.join(BACKENDS)}"
        )
    return list(dict.fromkeys(names))


def parse_batch_sizes(text: str) -> list[int]:
    """``--batch-sizes``'s comma-separated list of positive integers (duplicates dropped).

    Raises:
        ValueError: an empty list, a non-integer or a size below 1.
    """
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"--batch-sizes must be integers separated by commas, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--batch-sizes must be integers >= 1, got {text!r}")
    return list(dict.fromkeys(sizes))


def resolve_backends(requested: Sequence[str] | None) -> tuple[list[str | None], list[str]]:
    """The backends to time: what the runners are given (``[None]``, the default backend, when
    ``--backend`` is not given) and the concrete backend of each one.

    Names that resolve to the same concrete backend (e.g. ``onnxruntime`` and
    ``onnxruntime-cpu`` without a GPU) are timed once.

    Raises:
        BenchError: a backend whose runtime is not installed or cannot start.
    """
    from vitruvian.models.assets import ModelError
    from vitruvian.models.backends import resolve_backend

    try:
        if requested is None:
            return [None], [resolve_backend(None)]
        resolved = list(dict.fromkeys(resolve_backend(name) for name in requested))
    except (ModelError, ValueError) as exc:
        raise BenchError(str(exc)) from exc
    for backend in resolved:
        check_gpu_backend(backend)
    return list(resolved), resolved


def check_gpu_backend(backend: str) -> None:
    """Fail early, with a clear message, when a GPU backend cannot run here.

    Raises:
        BenchError: ``onnxruntime-cuda`` without a working CUDA provider, or
            ``onnxruntime-tensorrt`` without the TensorRT provider.
    """
    if backend not in ("onnxruntime-cuda", "onnxruntime-tensorrt"):
        return
    import onnxruntime as ort

    from vitruvian.models.backends import onnxruntime_gpu_works
    from vitruvian.models.runtime import ONNX_PROVIDERS

    provider = ONNX_PROVIDERS[backend.removeprefix("onnxruntime-")][0]
    available = ort.get_available_providers()
    if provider not in available or not onnxruntime_gpu_works():
        raise BenchError(
            f"--backend {backend}: ONNX Runtime cannot run {provider} here (it has "
            f"{', '.join(available)}); install onnxruntime-gpu with a matching CUDA and a "
            "working GPU, or time onnxruntime-cpu"
        )


_HELP = (
    "Latency, extraction throughput and memory of vitruvian, side by side with MediaPipe Pose "
    "0.10.14 when a reference Python is given."
)


@click.command(
    "bench",
    cls=MultiValueCommand,
    multi_value_options=("--model-complexity", "--complexity"),
    help=_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--reference-python",
    envvar=REFERENCE_ENV_VAR,
    default=None,
    help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR}); without it the "
    "MediaPipe columns are skipped.",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="all",
    show_default=True,
    help="static: static-image latency and cold start; video: video-mode latency; extract: "
    "offline extraction throughput from the video file; soak: memory over 20,000+ frames (ours "
    "only); models: model-only latency per backend (ours only); batch: "
    "PosePipeline.process_batch throughput against batch size (ours only); people: video-mode "
    "ms per frame with 1, 2 and 4 people tracked (ours only); all: static, video and extract.",
)
@click.option(
    "--backend",
    default=None,
    metavar="NAME[,NAME...]",
    help="Inference backends to time side by side, comma-separated, from "
    f"{', '.join(BACKENDS)} (static, video, models and batch modes; e.g. "
    "litert,onnxruntime-cpu). [default: the default backend only, with the plain labels]",
)
@click.option(
    "--batch-sizes",
    default=DEFAULT_BATCH_SIZES,
    show_default=True,
    metavar="N[,N...]",
    help="Batch mode: the process_batch sizes to time, comma-separated.",
)
@click.option(
    "--model-complexity",
    "--complexity",
    "complexity",
    type=click.IntRange(0, 2),
    multiple=True,
    help="Model complexities to benchmark, several in a row (--model-complexity 0 1 2). "
    "[default: 0 1 2; 1 in soak and batch modes; in models mode, whose landmark models besides "
    "the detector]",
)
@click.option(
    "--repeats",
    type=int,
    default=DEFAULT_REPEATS,
    show_default=True,
    help="Timed passes over the images (and over the video's frames).",
)
@click.option(
    "--cold-runs",
    type=int,
    default=None,
    help=f"Cold-start launches per implementation (0 skips). [default: {DEFAULT_COLD_RUNS}, "
    "1 with --quick]",
)
@click.option(
    "--quick",
    is_flag=True,
    help=f"{QUICK_IMAGES} images, {QUICK_FRAMES} video frames, short extraction clips, a "
    "300-frame soak, 1 timed pass, 1 cold start (smoke test).",
)
@click.option(
    "--pipeline-threads",
    type=int,
    default=None,
    help="Also time PosePipeline(c, num_threads=N) (e.g. 1, to match MediaPipe's "
    "single-threaded CPU inference).",
)
@click.option(
    "--video",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Video for the video, extract and soak modes. [default: "
    f"DATA_DIR/{DEFAULT_VIDEO.as_posix()}]",
)
@click.option(
    "--video-segmentation",
    type=click.Choice(tuple(VIDEO_SEGMENTATION)),
    default="both",
    show_default=True,
    help="Video mode: time Pose with enable_segmentation off, on, or both.",
)
@click.option(
    "--extract-frames",
    type=int,
    default=None,
    help="Extract mode: length of the looped clip in frames (0 skips it). [default: 650, 24 "
    "with --quick]",
)
@click.option(
    "--workers",
    type=click.IntRange(min=2),
    default=None,
    help="Extract mode: also time a set of videos on 1 and N processes (ours, Ray local when "
    "installed, and MediaPipe in 1 and N processes with the reference Python).",
)
@click.option(
    "--soak-frames",
    type=int,
    default=None,
    help="Soak mode: video-mode frames. [default: 20000, 300 with --quick]",
)
@click.option(
    "--soak-images",
    type=int,
    default=None,
    help="Soak mode: static-mode calls (0 skips). [default: 3000, 60 with --quick]",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Also print cProfile's top 20 functions (own time) of ours in video mode at complexity 1.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The benchmark data: photos in mmpose/ and coco/images/, video/pose_squats.mp4. "
    f"[default: ${DATA_DIR_ENV}, else shared/data beside the checkout or in or above the "
    "working directory]",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the results here.",
)
@click.pass_context
def bench_command(ctx: click.Context, **params: Any) -> None:
    """``vitruvian bench``: exit status 0 on success, 2 on a usage error or when the benchmark
    cannot run (missing data, a reference Python without mediapipe)."""
    args = _checked(ctx, params)
    prog = ctx.command_path or PROG
    ctx.exit(_run(args, prog, list(ctx.meta.get("vitruvian.args", []))))


def _checked(ctx: click.Context, params: dict[str, Any]) -> argparse.Namespace:
    """The options as a namespace, checked and completed with the mode-dependent defaults
    (``ctx.fail``: a usage error, exit status 2)."""
    args = argparse.Namespace(**params)
    args.json = args.__dict__.pop("json_path")
    args.complexity = list(args.complexity) or None
    if args.quick:
        args.repeats = 1
    if args.cold_runs is None:
        args.cold_runs = 1 if args.quick else DEFAULT_COLD_RUNS
    if args.repeats < 1:
        ctx.fail("--repeats must be >= 1")
    if args.pipeline_threads is not None and args.pipeline_threads < 1:
        ctx.fail("--pipeline-threads must be >= 1")
    if args.cold_runs < 0:
        ctx.fail("--cold-runs must be >= 0")
    for option in ("extract_frames", "soak_frames", "soak_images"):
        value = getattr(args, option)
        if value is not None and value < 0:
            ctx.fail(f"--{option.replace('_', '-')} must be >= 0")
    try:
        args.backend = None if args.backend is None else parse_backends(args.backend)
        args.batch_sizes = parse_batch_sizes(args.batch_sizes)
    except ValueError as exc:
        ctx.fail(str(exc))
    if args.data_dir is None:
        args.data_dir = DEFAULT_DATA_DIR
    if args.data_dir is None:
        if args.mode != "models":  # the only mode that needs no photos and no clip
            ctx.fail(
                f"cannot find the benchmark data (photos in mmpose/ and coco/images/, "
                f"{DEFAULT_VIDEO}): pass --data-dir DIR or set {DATA_DIR_ENV}=DIR; in a source "
                f"checkout `make bench` finds ../shared/data"
            )
        args.data_dir = Path.cwd()
    elif not args.data_dir.is_dir():
        ctx.fail(f"--data-dir {args.data_dir}: no such folder")
    if args.video is None:
        args.video = args.data_dir / DEFAULT_VIDEO
    if args.complexity is None:
        defaults = {
            "soak": SOAK_COMPLEXITIES,
            "batch": BATCH_COMPLEXITIES,
            "people": PEOPLE_COMPLEXITIES,
        }
        args.complexity = list(defaults.get(args.mode, COMPLEXITIES))
    args.complexity = list(dict.fromkeys(args.complexity))
    return args


def parse_args(argv: Sequence[str] | None, prog: str = PROG) -> argparse.Namespace:
    """The options of ``argv``, checked and completed (as ``vitruvian bench`` parses them);
    a usage error is printed and exits with status 2."""
    try:
        with bench_command.make_context(prog, list(argv or [])) as ctx:
            return _checked(ctx, dict(ctx.params))
    except click.exceptions.Exit as done:  # --help
        raise SystemExit(done.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None


def run_benchmark(args: argparse.Namespace, command: str | None = None) -> dict[str, Any]:
    """Run every selected measurement and return the report (see
    :func:`vitruvian.benchmark.report.render_markdown`)."""
    from vitruvian.benchmark.batch import run_batch
    from vitruvian.benchmark.extraction import run_extract
    from vitruvian.benchmark.latency import run_static, run_video
    from vitruvian.benchmark.model_latency import run_models
    from vitruvian.benchmark.parallel import run_parallel
    from vitruvian.benchmark.people import run_people
    from vitruvian.benchmark.profiling import run_profile
    from vitruvian.benchmark.soak import run_soak

    modes = ALL_MODES if args.mode == "all" else (args.mode,)
    requested = getattr(args, "backend", None)
    args.backends, resolved = resolve_backends(requested)
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
            "backends_requested": requested,
            "backends": resolved,
        },
        "images": [],
        "versions": {},
        "labels": {},
        "inputs_identical": None,
        "results": {},
        "video": None,
        "extract": None,
        "soak": None,
        "models": None,
        "batch": None,
        "parallel": None,
        "people": None,
        "profile": None,
        "notes": notes,
    }
    if requested is not None and len(resolved) < len(requested):
        notes.append(
            f"--backend {','.join(requested)} resolves to {', '.join(resolved)} here; each "
            "concrete backend is timed once."
        )
    if requested is not None and any(mode not in BACKEND_MODES for mode in modes):
        notes.append(
            "--backend applies to the static, video, models and batch modes; the extract and "
            "soak modes and --profile use the default backend."
        )
    mediapipe: MediaPipeWorker | None = None
    compared = [mode for mode in modes if mode not in OURS_ONLY_MODES]
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
    if args.mode in OURS_ONLY_MODES and args.reference_python:
        notes.append(f"{args.mode} mode runs ours only; the reference Python is not used.")
    try:
        if "static" in modes:
            run_static(args, report, mediapipe)
        if "video" in modes:
            report["video"] = run_video(args, mediapipe)
        if "extract" in modes:
            report["extract"] = run_extract(args, mediapipe)
            if getattr(args, "workers", None):
                report["parallel"] = run_parallel(args)
        if "soak" in modes:
            report["soak"] = run_soak(args)
        if "models" in modes:
            report["models"] = run_models(args, resolved)
        if "batch" in modes:
            report["batch"] = run_batch(args, resolved)
        if "people" in modes:
            report["people"] = run_people(args)
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
    arguments = list(sys.argv[1:] if argv is None else argv)
    return _run(parse_args(arguments, prog), prog, arguments)


def _run(args: argparse.Namespace, prog: str, arguments: Sequence[str]) -> int:
    """Run the checked options ``args``; print the report (and write ``--json``)."""
    from vitruvian.benchmark.report import render_markdown

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
