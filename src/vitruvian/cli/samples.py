"""``vitruvian samples``: build the labelled poses of a k-NN classifier from your own photos and
videos, and check a samples file (:mod:`vitruvian.classify`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from vitruvian.cli.app import _UsageLineError, backend_option, cli
from vitruvian.cli.options import model_complexity_option

_BUILD_EPILOG = """\b
FOLDER holds one folder per class, named after it, with its photos
(and/or videos) inside: FOLDER/squats_down/001.jpg, FOLDER/squats_up/...
Photos run in static mode; videos in video mode, one sample every
--every frames. Each pose found is one line of the CSV, in ML Kit's
format (no header): name, class, then x, y, z of the 33 landmarks in
pixels of the image (z on the scale of x), so that the file works with
`vitruvian reps --samples` and ML Kit's Android sample alike. Files in
which no pose is found are listed on stderr and left out.
"""

_CHECK_EPILOG = """\b
Leave-one-out accuracy: each sample classified by all the others (k-NN,
top 10 of the 30 nearest); its class must be the single top class.
Outliers, as MediaPipe's Colab finds them: each sample classified against
the whole set (itself included, or not with --leave-one-out) whose own
class is not the single top class: mislabelled photos, poses the model
got wrong, or classes that overlap. --without-outliers writes the set
without them.
"""


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise _UsageLineError(f"{path} already exists: pass --overwrite to replace it")


def _write_samples(path: Path, samples: list[Any]) -> None:
    """The samples in ML Kit's CSV at ``path``, via a temporary file renamed into place."""
    from vitruvian.classify.knn import samples_csv
    from vitruvian.io.atomic import (
        OutputError,
        commit_file,
        os_error_text,
        partial_path,
        remove_quietly,
    )

    target = path.resolve()
    temporary = partial_path(target, ".csv")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(samples_csv(samples), encoding="utf-8")
        commit_file(temporary, target, shown=path)
    except OSError as exc:
        remove_quietly(temporary)
        if isinstance(exc, OutputError):
            raise click.ClickException(str(exc)) from exc
        raise click.ClickException(f"cannot write {path}: {os_error_text(exc)}") from exc


@cli.group("samples")
def samples_group() -> None:
    """Labelled poses for the k-NN counter (`vitruvian reps --samples`): build, check."""


@samples_group.command("build", epilog=_BUILD_EPILOG)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The samples CSV to write.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Videos: one sample every N frames.",
)
@click.option("--overwrite", "-y", is_flag=True, help="Replace --out if it exists.")
@model_complexity_option
@backend_option
def samples_build(
    folder: Path,
    out: Path,
    every: int,
    overwrite: bool,
    model_complexity: int,
    backend: str | None,
) -> None:
    """Pose samples from FOLDER/<class>/<photo or video>, one CSV line per pose found."""
    from vitruvian.classify import PoseSample, to_pixels
    from vitruvian.io import sources as io_sources
    from vitruvian.solutions.pose import Pose

    _refuse_existing(out, overwrite)
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise _UsageLineError(f"{folder} has no class folders (FOLDER/<class>/<photo>)")
    inputs: list[tuple[str, Any]] = []
    for class_dir in classes:
        try:
            found = io_sources.resolve_sources([str(class_dir)])
        except io_sources.SourceSpecError as exc:
            click.echo(f"Warning: class {class_dir.name}: {exc}", err=True)
            continue
        inputs += [(class_dir.name, source) for source in found]
    if not inputs:
        raise _UsageLineError(f"no photos or videos in the class folders of {folder}")

    samples: list[PoseSample] = []
    skipped: list[str] = []
    per_class = dict.fromkeys((p.name for p in classes), 0)
    models: dict[bool, Pose] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(io_sources.quiet_opencv_logs())
        for class_name, source in inputs:
            static = not source.is_stream
            if static not in models:
                models[static] = stack.enter_context(
                    Pose(static, model_complexity=model_complexity, backend=backend)
                )
            model = models[static]
            if not static:
                model.reset()  # each video is a stream of its own
            name = Path(source.name).name
            before = len(samples)
            try:
                for frame in source.frames(skip_undecodable=True):
                    if static:
                        result = model.process(frame.rgb).pose
                    else:  # every frame goes through the tracker; every Nth is kept
                        result = model.process(frame.rgb, frame.timestamp_s).pose
                        if frame.index % every:
                            continue
                    if result is None:
                        continue
                    height, width = frame.rgb.shape[:2]
                    label = name if static else f"{name}#{frame.index}"
                    pixels = to_pixels(result.landmarks, width, height)
                    samples.append(PoseSample(label, class_name, pixels))
            except io_sources.SourceReadError as exc:
                click.echo(f"Warning: {exc}", err=True)
            if len(samples) == before:
                skipped.append(source.name)
            per_class[class_name] += len(samples) - before
    if not samples:
        raise click.ClickException(f"no pose found in any photo or video under {folder}")
    _write_samples(out, samples)
    for path in skipped:
        click.echo(f"no pose (left out): {path}", err=True)
    for class_name, count in per_class.items():
        click.echo(f"{class_name:<24} {count:>5} samples")
    click.echo(f"wrote {len(samples)} samples of {len(classes)} classes to {out}")


@samples_group.command("check", epilog=_CHECK_EPILOG)
@click.argument("samples", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--leave-one-out",
    is_flag=True,
    help="Find outliers with each sample left out of its own vote (stricter).",
)
@click.option(
    "--without-outliers",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the samples without the outliers to this CSV.",
)
@click.option("--overwrite", "-y", is_flag=True, help="Replace --without-outliers if it exists.")
def samples_check(
    samples: Path, leave_one_out: bool, without_outliers: Path | None, overwrite: bool
) -> None:
    """Leave-one-out accuracy per class, and the outliers of SAMPLES (a CSV)."""
    from vitruvian.classify import (
        PoseClassifier,
        SampleError,
        find_outliers,
        leave_one_out_accuracy,
        load_samples,
    )

    if without_outliers is not None:
        _refuse_existing(without_outliers, overwrite)
    try:
        loaded = load_samples(samples)
    except SampleError as exc:
        raise _UsageLineError(str(exc)) from exc
    classifier = PoseClassifier(loaded)
    accuracy = leave_one_out_accuracy(loaded, classifier)
    sizes = {name: sum(s.class_name == name for s in loaded) for name in accuracy}
    for name, value in accuracy.items():
        click.echo(f"{name:<24} {sizes[name]:>5} samples  leave-one-out accuracy {value:.3f}")
    outliers = find_outliers(loaded, classifier, leave_one_out=leave_one_out)
    for outlier in outliers:
        votes = ", ".join(f"{k} {v}" for k, v in outlier.votes.items() if v)
        top = " / ".join(outlier.top_classes) or "none"
        click.echo(
            f"outlier: {outlier.sample.name} ({outlier.sample.class_name}): "
            f"top {top}; votes {votes}"
        )
    method = "leave-one-out" if leave_one_out else "whole set"
    click.echo(f"{len(outliers)} outliers among {len(loaded)} samples ({method})")
    if without_outliers is not None:
        dropped = {outlier.index for outlier in outliers}
        kept = [s for i, s in enumerate(loaded) if i not in dropped]
        _write_samples(without_outliers, kept)
        click.echo(f"wrote {len(kept)} samples to {without_outliers}")
