"""``vitruvian reps``: count an exercise's repetitions in a video or from a camera, with the angle
counter (no samples) or MediaPipe's k-NN counter on labelled samples (:mod:`vitruvian.classify`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from vitruvian.cli.app import _UsageLineError, backend_option, cli
from vitruvian.cli.options import pose_options
from vitruvian.options import PoseOptions

_REPS_EPILOG = """\b
Counters: without --samples, the knee angle (squats) or the elbow angle
(push-ups, body within 45 degrees of horizontal) of the world landmarks,
with hysteresis: a repetition starts when the angle leaves the up band
(squats 155, push-ups 150 degrees), must go below the down threshold
(110, 100) and is counted when back above the up threshold. With
--samples (ML Kit's CSV: name, class, 33 x x,y,z in pixels; e.g.
fitness_pose_samples.csv of ML Kit's sample app), MediaPipe's k-NN
classifier votes (top 10 samples) for each frame, the votes are smoothed
(EMA over 10 frames, alpha 0.2) and a repetition of --class is entered
above 6 votes and counted below 4.
\b
--out: one row per frame: source, frame, person_id, timestamp_s,
pose_present, angle_deg (degrees), count, entered, rep (the index of the
repetition counted on this frame); with --samples also votes_<class>
(raw, 0-10) and smoothed_<class>. With --num-poses N, one counter per
person: a row per person seen so far, per frame (person_id; pose_present
false while they are away). --events (default with --out: <out>.reps.<ext>):
one row per repetition: track_id, index, start/bottom/end frame and
seconds, duration_s, range_of_motion_deg. Tables are .csv, .jsonl or
.parquet (pyarrow), written when the run ends (also after Ctrl+C or q).
\b
Exit codes: 0 done; 1 the video could not be read to its end (what was
read is counted and written) or an output could not be written; 2
nothing was done (bad arguments, an output that exists without
--overwrite, a bad samples file); 130 Ctrl+C.
"""


def events_path(out: Path) -> Path:
    """Where the events go beside ``--out`` when ``--events`` is not given:
    ``frames.csv`` -> ``frames.reps.csv``."""
    return out.with_name(f"{out.stem}.reps{out.suffix}")


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_table(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """``rows`` as a table at ``path`` by its extension (.csv, .jsonl, .parquet), written
    beside it under a temporary name and renamed into place (``vitruvian.io.atomic``).

    Raises:
        OutputError: the file cannot be written (named, with the system's reason).
    """
    from vitruvian.io.atomic import (
        OutputError,
        commit_file,
        os_error_text,
        partial_path,
        remove_quietly,
    )

    suffix = path.suffix.lower()
    target = Path(path).resolve()
    temporary = partial_path(target, suffix)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({c: [_cell(row.get(c)) for row in rows] for c in columns})
            pq.write_table(table, temporary)
        else:
            buffer = io.StringIO()
            if suffix == ".csv":
                writer = csv.writer(buffer, lineterminator="\n")
                writer.writerow(columns)
                for row in rows:
                    writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
            else:
                for row in rows:
                    buffer.write(json.dumps({c: _cell(row.get(c)) for c in columns}) + "\n")
            temporary.write_text(buffer.getvalue(), encoding="utf-8")
        commit_file(temporary, target, shown=path)
    except OSError as exc:
        remove_quietly(temporary)
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write {path}: {os_error_text(exc)}") from exc


#: The ``--out`` columns before the per-class votes.
FRAME_COLUMNS = (
    "source",
    "frame",
    "person_id",
    "timestamp_s",
    "pose_present",
    "angle_deg",
    "count",
    "entered",
    "rep",
)


def frame_columns(classes: Sequence[str]) -> list[str]:
    """The ``--out`` columns: :data:`FRAME_COLUMNS`, then ``votes_<class>`` and
    ``smoothed_<class>`` for each class of the k-NN counter."""
    return [*FRAME_COLUMNS, *(f"votes_{c}" for c in classes), *(f"smoothed_{c}" for c in classes)]


def _frame_row(source: str, state: Any, classes: Sequence[str]) -> dict[str, Any]:
    """One ``--out`` row from a :class:`~vitruvian.classify.FrameState`."""
    row: dict[str, Any] = {
        "source": source,
        "frame": state.frame,
        "person_id": state.track_id,
        "timestamp_s": state.time_s,
        "pose_present": state.pose_present,
        "angle_deg": state.angle_deg,
        "count": state.count,
        "entered": state.entered,
        "rep": None if state.repetition is None else state.repetition.index,
    }
    for name in classes:
        row[f"votes_{name}"] = state.votes.get(name) if state.pose_present else None
    for name in classes:
        row[f"smoothed_{name}"] = state.smoothed.get(name)
    return row


def _describe(event: Any) -> str:
    motion = event.range_of_motion_deg
    who = "" if event.track_id is None else f"person {event.track_id}: "
    return (
        f"{who}repetition {event.index}: frames {event.start_frame}-{event.end_frame} "
        f"(bottom {event.bottom_frame}), {event.start_s:.2f}-{event.end_s:.2f} s, "
        f"{event.duration_s:.2f} s"
        + ("" if motion is None else f", range of motion {motion:.0f} deg")
    )


@cli.command("reps", epilog=_REPS_EPILOG)
@click.argument("source", metavar="VIDEO|CAMERA")
@click.option(
    "--exercise",
    type=click.Choice(["squats", "pushups"]),
    default="squats",
    show_default=True,
    help="The exercise: the joint angle watched (and counted without --samples); with "
    "--samples, --class defaults to <exercise>_down.",
)
@click.option(
    "--samples",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Count with MediaPipe's k-NN classifier on these labelled poses (ML Kit's CSV, "
    "e.g. from `vitruvian samples build`).",
)
@click.option(
    "--class",
    "class_name",
    help="With --samples: the class whose repetitions to count. [default: <exercise>_down]",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Per-frame table (.csv, .jsonl or .parquet): angle, votes, count; see below.",
)
@click.option(
    "--events",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Repetition table (.csv, .jsonl or .parquet). [default with --out: <out>.reps.<ext>]",
)
@click.option(
    "--annotated",
    type=click.Path(path_type=Path),
    help="Annotated output with the skeleton and a live counter: an .mp4 file or a folder "
    "(one PNG per frame).",
)
@click.option(
    "--show", is_flag=True, help="Show the annotated frames in a window (Esc or q stops)."
)
@click.option(
    "--overwrite", "-y", is_flag=True, help="Replace outputs that exist (else exit code 2)."
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after N frames.")
@pose_options
@backend_option
@click.pass_context
def reps(
    ctx: click.Context,
    source: str,
    exercise: str,
    samples: Path | None,
    class_name: str | None,
    out: Path | None,
    events: Path | None,
    annotated: Path | None,
    show: bool,
    overwrite: bool,
    max_frames: int | None,
    pose: PoseOptions,
    static_image_mode: bool | None,
    backend: str | None,
) -> None:
    """Count the repetitions of an exercise in VIDEO (a file) or from CAMERA (an index such as
    0): print each repetition as it is counted, then the count."""
    from vitruvian import classify
    from vitruvian.io import sources as io_sources
    from vitruvian.io import writers

    debug = bool(ctx.find_root().params.get("debug"))
    if class_name is not None and samples is None:
        raise _UsageLineError("--class needs --samples (the angle counter has no classes)")
    if events is None and out is not None:
        events = events_path(out)
    if out is not None and events is not None and out.resolve() == events.resolve():
        raise _UsageLineError(f"--out and --events are the same file: {out}")
    tables = [path for path in (out, events) if path is not None]
    try:
        for path in tables:
            writers.check_row_writer_available(path)
        annotated_kind = writers.check_annotated_path(annotated) if annotated else None
        [video] = _one_stream(source)
    except (writers.OutputError, io_sources.SourceSpecError) as exc:
        raise _UsageLineError(str(exc)) from exc
    for path in tables:
        if path.exists() and not overwrite:
            raise _UsageLineError(f"{path} already exists: pass --overwrite to replace it")
    if annotated_kind == "video" and annotated is not None and annotated.exists() and not overwrite:
        raise _UsageLineError(f"{annotated} already exists: pass --overwrite to replace it")

    classifier = None
    if samples is not None:
        try:
            classifier = classify.PoseClassifier(classify.load_samples(samples))
        except classify.SampleError as exc:
            raise _UsageLineError(str(exc)) from exc
    try:
        counter = classify.ExerciseCounter(exercise, classifier=classifier, class_name=class_name)
    except ValueError as exc:
        raise _UsageLineError(f"--class: {exc}") from exc
    counters = None
    if pose.num_poses > 1:  # one counter per person, made when the person is first seen
        counters = classify.PerPerson(
            lambda person_id: classify.ExerciseCounter(
                exercise, classifier=classifier, class_name=class_name, track_id=person_id
            )
        )

    warn = lambda message: click.echo(f"Warning: {message}", err=True)  # noqa: E731
    window = None
    if show:
        problem = writers.display_problem()
        if problem is None:
            window = writers.PreviewWindow("vitruvian reps", warn=warn)
        else:
            warn(f"--show: {problem}; continuing without a window")
    sink = None
    if annotated is not None:
        try:
            sink = writers.open_annotated_writer(annotated, video.fps, warn, overwrite=overwrite)
        except writers.OutputError as exc:
            raise _UsageLineError(str(exc)) from exc

    quiet_logs = contextlib.nullcontext() if debug else io_sources.quiet_opencv_logs()
    with quiet_logs:
        per_person = counter if counters is None else counters
        rows, pose_s, count_s, stopped, failure = _count(
            video, per_person, pose, max_frames, backend, sink, window
        )
    classes = [] if classifier is None else classifier.classes
    code = 0
    if failure is not None:
        click.echo(f"Error: {failure}", err=True)
        code = 1
    written = []
    if sink is not None:
        try:
            sink.close()
            if getattr(sink, "committed", False):
                written.append(str(annotated))
        except writers.OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = 1
    if window is not None:
        window.close()
    frame_rows = [_frame_row(video.name, state, classes) for state in rows]
    events_found = counter.events if counters is None else counters.events()
    event_rows = [event.as_row() for event in events_found]
    for path, table, columns in (
        (out, frame_rows, frame_columns(classes)),
        (events, event_rows, list(classify.EVENT_FIELDS)),
    ):
        if path is None:
            continue
        try:
            write_table(path, table, columns)
            written.append(str(path))
        except writers.OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = 1
    frames = len({state.frame for state in rows})  # several states a frame with --num-poses
    with_pose = len({state.frame for state in rows if state.pose_present})
    per_frame = f"{1e3 * count_s / frames:.2f}" if frames else "-"
    pose_ms = f"{1e3 * pose_s / frames:.1f}" if frames else "-"
    what = counter.class_name if classifier is not None else exercise
    if counters is None:
        counted = f"{counter.count} repetition{'' if counter.count == 1 else 's'}"
    else:
        counted = (
            ", ".join(
                f"person {person_id}: {n} repetition{'' if n == 1 else 's'}"
                for person_id, n in counters.counts().items()
            )
            or "nobody found"
        )
    click.echo(
        f"{what}: {counted} ({frames} frames, {with_pose} with a pose; counting {per_frame} "
        f"ms/frame, pose {pose_ms} ms/frame)"
    )
    if written:
        click.echo(f"wrote {', '.join(written)}", err=True)
    if stopped == "interrupt":
        code = 130
    ctx.exit(code)


def _one_stream(spec: str) -> list[Any]:
    """The one video file or camera of SOURCE (a list of one)."""
    from vitruvian.io.sources import SourceSpecError, resolve_sources

    found = resolve_sources([spec])
    if len(found) != 1:
        raise SourceSpecError(f"{spec}: give one video file or camera index, not a folder or glob")
    if not found[0].is_stream:
        raise SourceSpecError(f"{found[0].name} is an image: reps needs a video or a camera")
    return found


def _count(
    video: Any,
    counter: Any,
    options: PoseOptions,
    max_frames: int | None,
    backend: str | None,
    sink: Any,
    window: Any,
) -> tuple[list[Any], float, float, str | None, Exception | None]:
    """The frame loop: pose, counting, drawing. ``counter`` is one
    :class:`~vitruvian.classify.ExerciseCounter`, or a :class:`~vitruvian.classify.PerPerson`
    of them for several people (each person seen so far is updated on every frame, with
    ``None`` while absent). Returns the frame states (several per frame with several people),
    the seconds spent in the pose model and in counting, why it stopped early (``"window"``,
    ``"interrupt"`` or ``None``) and a read error, if any."""
    import cv2

    from vitruvian.classify import PerPerson
    from vitruvian.classify.drawing import draw_counter
    from vitruvian.io.runner import annotated_name
    from vitruvian.io.sources import SourceReadError
    from vitruvian.io.writers import OutputError, annotate, annotate_people
    from vitruvian.solutions.pose import Pose

    states: list[Any] = []
    pose_s = count_s = 0.0
    stopped: str | None = None
    failure: Exception | None = None
    static = options.static_image_mode
    try:
        with Pose(**options.as_kwargs(), backend=backend) as model:
            for frame in video.frames(max_frames, skip_undecodable=True):
                started = time.perf_counter()
                results = model.process(frame.rgb, None if static else frame.timestamp_s)
                pose_s += time.perf_counter() - started
                height, width = frame.rgb.shape[:2]
                time_s = float(frame.timestamp_s or 0.0)
                started = time.perf_counter()
                if isinstance(counter, PerPerson):
                    people = {p.person_id: p for p in results.poses or []}
                    for person_id in people:
                        counter[person_id]  # a new person's counter
                    frame_states = [
                        c.update(people.get(pid), frame.index, time_s, (width, height))
                        for pid, c in counter.items()
                    ]
                else:
                    frame_states = [
                        counter.update(results.pose, frame.index, time_s, (width, height))
                    ]
                count_s += time.perf_counter() - started
                states += frame_states
                for state in frame_states:
                    if state.repetition is not None:
                        click.echo(_describe(state.repetition))
                if sink is not None or window is not None:
                    rgb_bgr = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR)
                    if isinstance(counter, PerPerson):
                        counts = counter.counts()
                        bgr = annotate_people(
                            rgb_bgr,
                            results.poses or [],
                            results.multi_segmentation_masks,
                            labels={pid: f"#{pid}: {n}" for pid, n in counts.items()},
                        )
                    else:
                        bgr = annotate(rgb_bgr, results.pose, results.segmentation_mask)
                        draw_counter(bgr, frame_states[0], counter)
                    if sink is not None:
                        sink.write(bgr, annotated_name(video, frame), frame.index)
                    if window is not None and not window.show(bgr):
                        stopped = "window"
                        break
    except (SourceReadError, OutputError) as exc:
        failure = exc
    except KeyboardInterrupt:
        stopped = "interrupt"
        click.echo("Interrupted: writing what was counted.", err=True)
    sys.stdout.flush()
    return states, pose_s, count_s, stopped, failure
