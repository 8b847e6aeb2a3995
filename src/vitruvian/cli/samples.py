"""``vitruvian samples``: build a pose classifier's samples from your own photos, and check a
samples file (:mod:`vitruvian.classify`)."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from vitruvian.cli.app import _UsageLineError, backend_option, cli
from vitruvian.cli.options import model_complexity_option

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@cli.group("samples")
def samples_group() -> None:
    """Labelled poses for the k-NN counter of `vitruvian reps --samples`."""


@samples_group.command("build")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The samples CSV to write (ML Kit's format: name, class, 33 x x,y,z in pixels).",
)
@model_complexity_option
@backend_option
def samples_build(folder: Path, out: Path, model_complexity: int, backend: str | None) -> None:
    """Pose samples from FOLDER/<class>/<image>: one row per image with a pose (static mode)."""
    import cv2

    from vitruvian.classify import to_pixels
    from vitruvian.pipeline import PosePipeline

    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise _UsageLineError(f"{folder} has no class folders (FOLDER/<class>/<image>)")
    rows: list[list[str]] = []
    skipped: list[str] = []
    with PosePipeline(model_complexity=model_complexity, backend=backend) as graph:
        for class_dir in classes:
            for image in sorted(class_dir.iterdir()):
                if image.suffix.lower() not in _IMAGE_SUFFIXES:
                    continue
                bgr = cv2.imread(str(image), cv2.IMREAD_COLOR)
                result = (
                    None if bgr is None else graph.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                )
                if result is None:
                    skipped.append(str(image))
                    continue
                pixels = to_pixels(result.landmarks, bgr.shape[1], bgr.shape[0])
                rows.append([image.name, class_dir.name, *(repr(float(v)) for v in pixels.ravel())])
    if not rows:
        raise click.ClickException(f"no pose found in any image under {folder}")
    tmp = out.with_name(f".{out.name}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    tmp.replace(out)
    for path in skipped:
        click.echo(f"skipped (no pose, or not readable): {path}", err=True)
    click.echo(f"wrote {len(rows)} samples of {len(classes)} classes to {out}")


@samples_group.command("check")
@click.argument("samples", type=click.Path(dir_okay=False, path_type=Path))
def samples_check(samples: Path) -> None:
    """Leave-one-out accuracy per class, and the samples the others classify as another class
    (likely mislabelled, or ambiguous poses)."""
    from vitruvian.classify import SampleError, find_outliers, leave_one_out_accuracy, load_samples

    try:
        loaded = load_samples(samples)
    except SampleError as exc:
        raise click.ClickException(str(exc)) from exc
    accuracy = leave_one_out_accuracy(loaded)
    counts = {name: sum(s.class_name == name for s in loaded) for name in accuracy}
    for name, value in accuracy.items():
        click.echo(f"{name:<24} {counts[name]:>5} samples  leave-one-out accuracy {value:.3f}")
    outliers = find_outliers(loaded)
    for sample, votes in outliers:
        shown = ", ".join(f"{k} {v}" for k, v in votes.items() if v)
        click.echo(f"outlier: {sample.name} ({sample.class_name}): votes {shown}")
    click.echo(f"{len(outliers)} outliers among {len(loaded)} samples")
