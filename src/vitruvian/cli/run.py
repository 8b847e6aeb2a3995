"""``vitruvian run`` and ``vitruvian recover``: landmark tables, annotated outputs and windows
from :mod:`vitruvian.io` (exit codes in :mod:`vitruvian.cli`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from vitruvian.cli.app import _UsageLineError, backend_option, cli, progress_option
from vitruvian.cli.options import pose_options
from vitruvian.options import BACKENDS, PoseOptions
from vitruvian.parallel import ENGINES

if TYPE_CHECKING:
    from vitruvian.io.interrupts import StopSignals
    from vitruvian.io.runner import RunOptions, RunSummary

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
vitruvian.io.records), or per person with --num-poses: source, frame,
person_id, timestamp_s, image_width, image_height, pose_present,
presence_score; then for each of the 33
landmarks (nose, left_eye_inner, ... right_foot_index) <name>_x, _y, _z,
_visibility, _presence (x, y normalised to the image width and height,
origin top-left); then <name>_world_x, _world_y, _world_z (metres, origin
between the hips).
\b
Many videos: several video files run on one worker process per core
(--workers N to choose, 1 for one process); their rows are written in
the order of the SOURCEs, each video once it is done. --out-dir DIR
(video files only) writes a resumable Parquet dataset instead: one file
per video, DIR/<name>-<hash>.parquet, renamed into place when complete;
a rerun skips the videos done with the same options and does the rest;
failures are listed in DIR/_failed/. --engine ray runs the videos on Ray
actors (--address, $RAY_ADDRESS, else a local Ray). See docs/cluster.md.
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
@pose_options
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
    "--annotated or --show. With --out-dir: N videos per worker at a time.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A resumable Parquet dataset of the video SOURCEs: one file per video, written when "
    "complete; videos already there with the same options are skipped (see below).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes (or Ray actors) for video files, one video each at a time. "
    "[default: one per core when there are several videos]",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="local",
    show_default=True,
    help="local: processes of this machine; ray: Ray actors (needs --out-dir and "
    "pip install 'vitruvian[ray]') on --address, $RAY_ADDRESS, or a new local Ray.",
)
@click.option(
    "--address",
    metavar="ADDR",
    help="--engine ray: the cluster (e.g. auto, ray://head:10001). [default: $RAY_ADDRESS, "
    "else a local Ray]",
)
@click.option(
    "--gpus-per-worker",
    type=click.FloatRange(min=0.0),
    default=0.0,
    help="--engine ray: GPUs each worker reserves (with --backend onnxruntime-cuda).",
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
    pose: PoseOptions,
    static_image_mode: bool | None,
    max_frames: int | None,
    fail_fast: bool,
    backend: str | None,
    batch_size: int,
    out_dir: Path | None,
    workers: int | None,
    engine: str,
    address: str | None,
    gpus_per_worker: float,
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
    if out_dir is not None or engine == "ray":
        if out_dir is None:
            raise _UsageLineError("--engine ray needs --out-dir (each worker writes its videos)")
        for given, name in ((outs, "--out"), (annotated, "--annotated"), (show, "--show")):
            if given:
                raise _UsageLineError(f"--out-dir cannot be combined with {name}")
        if static_image_mode:
            raise _UsageLineError("--out-dir runs videos in video mode (not with --static)")
        if batch_size > 1 and pose.num_poses > 1:
            raise _UsageLineError("--batch-size > 1 follows one person per video: --num-poses 1")
        quiet_logs = contextlib.nullcontext() if debug else io_sources.quiet_opencv_logs()
        with quiet_logs:
            code = _run_dataset_command(
                sources,
                out_dir,
                pose,
                max_frames=max_frames,
                backend=backend,
                batch_size=batch_size,
                workers=workers,
                engine=engine,
                address=address,
                gpus_per_worker=gpus_per_worker,
                quiet=quiet,
                progress=progress,
                debug=debug,
            )
        ctx.exit(code)
    if workers is not None and workers > 1 and (annotated is not None or show):
        raise _UsageLineError("--workers > 1 cannot be combined with --annotated or --show")
    options = runner.RunOptions.from_pose_options(
        pose,
        static_image_mode,
        max_frames=max_frames,
        fail_fast=fail_fast,
        backend=backend,
        batch_size=batch_size,
        workers=workers or 1,
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
            auto_workers=workers is None,
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
    auto_workers: bool = False,
) -> int:
    """The body of ``vitruvian run``; returns the exit code (see the module docstring).
    ``auto_workers``: ``--workers`` was not given: several video files in video mode then run
    on one worker process per core (:func:`vitruvian.parallel.default_workers`)."""
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
    _check_backend_env(options.backend)
    try:
        for out in outs:
            writers.check_row_writer_available(out)
    except writers.OutputError as exc:
        fail(exc, usage=False)
    if auto_workers and annotated is None and not show and options.batch_size == 1:
        from dataclasses import replace

        from vitruvian.parallel import default_workers

        videos = [s for s in inputs if s.kind == "video" and options.static_image_mode is not True]
        if not options.fail_fast and len({s.name for s in videos}) == len(videos):
            options = replace(options, workers=default_workers(len(videos)))
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
                    on_wait=stop.check,
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


def _run_dataset_command(
    specs: Sequence[str],
    out_dir: Path,
    pose: PoseOptions,
    *,
    max_frames: int | None,
    backend: str | None,
    batch_size: int,
    workers: int | None,
    engine: str,
    address: str | None,
    gpus_per_worker: float,
    quiet: bool,
    progress: bool | None,
    debug: bool,
) -> int:
    """``vitruvian run VIDEOS --out-dir DIR``: the resumable dataset
    (:mod:`vitruvian.io.dataset`, :mod:`vitruvian.parallel`); returns the exit code."""
    from tqdm import tqdm

    from vitruvian.io import sources as io_sources
    from vitruvian.io import writers
    from vitruvian.io.interrupts import StopSignals
    from vitruvian.parallel import extract_to_dataset
    from vitruvian.progress import SafeStream, progress_enabled

    err = SafeStream(sys.stderr)
    try:
        inputs = io_sources.resolve_sources(specs)
    except io_sources.SourceSpecError as exc:
        raise _UsageLineError(str(exc)) from exc
    others = [s.name for s in inputs if s.kind != "video"]
    if others:
        listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise _UsageLineError(f"--out-dir takes video files only; not videos: {listed}")
    try:
        writers.check_row_writer_available(Path("dataset.parquet"))
    except writers.OutputError as exc:
        raise _UsageLineError(f"--out-dir writes Parquet: {exc}") from exc
    _check_backend_env(backend)
    if engine == "ray":
        from vitruvian.parallel.ray_engine import import_ray

        try:
            import_ray()
        except ImportError as exc:
            raise _UsageLineError(str(exc)) from exc
    if workers is None and engine == "ray":
        workers = os.cpu_count() or 1

    def report(outcome: Any) -> None:
        if outcome.error is not None:  # above the progress bar, which stays whole
            tqdm.write(f"Error: {outcome.error}", file=err)

    stop = StopSignals()
    try:
        with stop:
            result = extract_to_dataset(
                [(s.name, str(s.path)) for s in inputs],
                out_dir,
                options=pose,
                workers=workers,
                engine=engine,
                address=address,
                num_gpus=gpus_per_worker,
                backend=backend,
                max_frames=max_frames,
                batch_size=batch_size,
                progress=not quiet and progress_enabled(progress, err),
                on_outcome=report,
                on_wait=stop.check,
            )
    except writers.OutputError as exc:
        if debug:
            raise
        code = 2 if isinstance(exc, writers.OutputConflictError) else 1
        click.echo(f"Error: {exc}", file=err)
        return code
    if not quiet:
        click.echo(f"Done: {result.summary()}; dataset {out_dir}", file=err)
    code = stop.exit_code()
    if code is not None:
        return code
    if result.stopped:
        return 130
    return 1 if result.failed else 0


def _check_backend_env(backend: str | None) -> None:
    """Without ``--backend``, an unknown ``$VITRUVIAN_BACKEND`` is a usage error before any
    work (every model load would fail on it)."""
    if backend is not None:
        return
    from vitruvian.models.backends import BACKEND_ENV

    named = os.environ.get(BACKEND_ENV, "").strip()
    if named and named.lower() not in BACKENDS:
        raise _UsageLineError(
            f"{BACKEND_ENV}={named!r} is not a backend: set it to one of "
            f"{', '.join(BACKENDS)}, or unset it"
        )


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
