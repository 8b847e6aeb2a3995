"""``vitruvian reps``: count an exercise's repetitions in a video or from a camera
(:mod:`vitruvian.classify`), with a k-NN counter on labelled samples or a joint-angle counter."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from vitruvian.cli.app import _UsageLineError, backend_option, cli
from vitruvian.cli.options import model_complexity_option

_EVENT_FIELDS = (
    "index",
    "start_frame",
    "bottom_frame",
    "end_frame",
    "start_s",
    "bottom_s",
    "end_s",
    "duration_s",
    "range_of_motion_deg",
)


def _write_table(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    """``rows`` as CSV (``.csv``) or JSON Lines (``.jsonl``), written whole then renamed."""
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        if path.suffix == ".csv":
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    tmp.replace(path)


def _with_counter(bgr: np.ndarray, count: int, exercise: str) -> np.ndarray:
    """The repetition count in a box at the top-left corner of ``bgr`` (drawn in place)."""
    import cv2

    scale = max(bgr.shape[:2]) / 900
    text = f"{exercise}: {count}"
    (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    pad = int(12 * scale)
    cv2.rectangle(bgr, (0, 0), (width + 2 * pad, height + base + 2 * pad), (40, 40, 40), -1)
    cv2.putText(
        bgr,
        text,
        (pad, pad + height),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (80, 255, 160),
        max(1, round(2 * scale)),
        cv2.LINE_AA,
    )
    return bgr


@cli.command("reps")
@click.argument("source", metavar="VIDEO|CAMERA")
@click.option(
    "--exercise",
    type=click.Choice(["squats", "pushups"]),
    default="squats",
    show_default=True,
    help="What to count. Without --samples: from the knee (squats) or elbow (push-ups, body "
    "horizontal) angle; with --samples: the class <exercise>_down.",
)
@click.option(
    "--samples",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled poses (ML Kit's CSV: name, class, 33 x x,y,z in pixels) for the k-NN counter.",
)
@click.option("--class", "class_name", help="The samples' class to count [default: EXERCISE_down].")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Per-frame table (.csv or .jsonl): frame, time, pose found, angle or votes, count.",
)
@click.option(
    "--events",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One row per repetition (.csv or .jsonl): start, bottom and end frame and time, "
    "duration, range of motion.",
)
@click.option(
    "--annotated",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An annotated .mp4: the skeleton and a live counter.",
)
@click.option(
    "--show", is_flag=True, help="Show the annotated frames in a window (Esc or q stops)."
)
@click.option("-y", "--overwrite", is_flag=True, help="Replace --annotated if it exists.")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after N frames.")
@model_complexity_option
@backend_option
def reps(
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
    model_complexity: int,
    backend: str | None,
) -> None:
    """Count repetitions of an exercise in VIDEO (a file) or from CAMERA (an index), in video
    mode; print the count and each repetition."""
    from vitruvian import classify
    from vitruvian.io.sources import SourceError, resolve_sources
    from vitruvian.tracking import PoseTracker

    for path in (out, events):
        if path is not None and path.suffix not in (".csv", ".jsonl"):
            raise _UsageLineError(f"{path}: use a .csv or .jsonl file")
    try:
        [video] = resolve_sources([source])
    except ValueError:
        raise _UsageLineError(f"{source}: one video file or camera index") from None
    except SourceError as exc:
        raise _UsageLineError(str(exc)) from exc
    if not video.is_stream:
        raise _UsageLineError(f"{source} is an image: reps needs a video or a camera")
    classifier = None
    counter: Any
    if samples is not None:
        try:
            classifier = classify.PoseClassifier(classify.load_samples(samples))
        except classify.SampleError as exc:
            raise click.ClickException(str(exc)) from exc
        target = class_name or f"{exercise}_down"
        if target not in classifier.classes:
            known = ", ".join(classifier.classes)
            raise _UsageLineError(f"--class {target}: not among the samples' classes ({known})")
        smoothing = classify.EMASmoothing()
        counter = classify.RepetitionCounter(target)
    else:
        counter = classify.AngleCounter(exercise)

    from vitruvian.io import writers

    video_out = (
        None
        if annotated is None
        else writers.AnnotatedVideoWriter(
            annotated,
            video.fps,
            lambda m: click.echo(f"warning: {m}", err=True),
            overwrite=overwrite,
        )
    )
    window = writers.PreviewWindow("vitruvian reps") if show else None
    rows: list[dict[str, Any]] = []
    counting_s = 0.0  # time spent classifying and counting (beside the pose model)
    with PoseTracker(model_complexity=model_complexity, backend=backend) as tracker:
        try:
            for frame in video.frames(max_frames):
                time_s = float(frame.timestamp_s or 0.0)
                result = tracker.process(frame.rgb, round(time_s * 1e6))
                started = time.perf_counter()
                row: dict[str, Any] = {
                    "frame": frame.index,
                    "timestamp_s": time_s,
                    "pose_present": result is not None,
                }
                if classifier is not None:
                    votes = {name: 0.0 for name in classifier.classes}
                    if result is not None:
                        height, width = frame.rgb.shape[:2]
                        pixels = classify.to_pixels(result.landmarks, width, height)
                        votes = dict(classifier.classify(pixels))
                    smoothed = smoothing(votes)
                    event = counter.update(smoothed, frame.index, time_s)
                    row.update({f"votes_{k}": v for k, v in smoothed.items()})
                else:
                    angle = (
                        None
                        if result is None
                        else classify.exercise_angle(result.world_landmarks, exercise)
                    )
                    event = counter.update(angle, frame.index, time_s)
                    row["angle_deg"] = angle
                row["count"] = counter.count
                counting_s += time.perf_counter() - started
                rows.append(row)
                if video_out is not None or window is not None:
                    bgr = _with_counter(
                        writers.annotate(frame.rgb[..., ::-1], result), counter.count, exercise
                    )
                    if video_out is not None:
                        video_out.write(bgr)
                    if window is not None and not window.show(bgr):
                        break
                if event is not None:
                    click.echo(
                        f"repetition {event.index}: frames {event.start_frame}-{event.end_frame} "
                        f"(deepest {event.bottom_frame}), {event.duration_s:.2f} s"
                        + (
                            f", range {event.range_of_motion_deg:.0f} deg"
                            if event.range_of_motion_deg is not None
                            else ""
                        )
                    )
        except SourceError as exc:
            click.echo(f"warning: {exc}", err=True)
        finally:
            if window is not None:
                window.close()
    if video_out is not None:
        video_out.close()
        click.echo(f"annotated video: {annotated}")
    if out is not None and rows:
        _write_table(out, rows, list(rows[0]))
    if events is not None:
        table = [{k: getattr(e, k) for k in _EVENT_FIELDS} for e in counter.events]
        _write_table(events, table, list(_EVENT_FIELDS))
    per_frame = 1e3 * counting_s / max(len(rows), 1)
    click.echo(
        f"{counter.count} {exercise if classifier is None else counter.class_name} "
        f"repetitions in {len(rows)} frames ({per_frame:.2f} ms/frame counting)"
    )
