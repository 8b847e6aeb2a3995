"""``vitruvian eval coco``: accuracy on COCO keypoints (:mod:`vitruvian.eval`), optionally beside
MediaPipe in a reference Python."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import click

from vitruvian._click import MultiValueCommand, spread_multi_values
from vitruvian.cli.app import _UsageLineError, cli, progress_option

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
_MULTI_VALUE_OPTIONS = ("--model-complexity", "--complexity")


#: Kept under its old name (tests and scripts import it from ``vitruvian.cli``).
_spread_multi_values = spread_multi_values


@cli.group("eval")
def eval_group() -> None:
    """Measure accuracy on annotated data sets (COCO keypoints), optionally against MediaPipe."""


@eval_group.command(
    "coco",
    cls=MultiValueCommand,
    multi_value_options=_MULTI_VALUE_OPTIONS,
    epilog=_EVAL_COCO_EPILOG,
)
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
    "--model-complexity",
    "--complexity",
    "complexities",
    multiple=True,
    type=click.IntRange(0, 2),
    help="Landmark model(s): 0 lite, 1 full, 2 heavy; several in a row (--model-complexity 0 "
    "1 2). Default: 1.",
)
@click.option(
    "--protocol",
    type=click.Choice(["crops", "image"]),
    default="crops",
    show_default=True,
    help="crops: one square crop per evaluated person; image: each whole image, one pose "
    "(or up to --num-poses).",
)
@click.option(
    "--num-poses",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="image: score every person found, up to this many per image (each a prediction).",
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
    num_poses: int,
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
    if num_poses > 1 and protocol != "image":
        raise _UsageLineError("--num-poses needs --protocol image (a crop shows one person)")
    if roi_from_box and protocol != "crops":
        raise _UsageLineError("--roi-from-box needs --protocol crops (one person box per input)")
    if roi_from_box and compare:
        raise _UsageLineError(
            "--roi-from-box cannot be compared with MediaPipe, whose Pose takes no ROI; "
            "run MediaPipe without --roi-from-box"
        )
    args = ctx.meta.get("vitruvian.args", [])
    command = shlex.join(["vitruvian", "eval", "coco", *args])
    try:
        _eval_coco_command(
            annotations,
            images_dir,
            sorted(set(complexities)) or [1],
            protocol=protocol,
            num_poses=num_poses,
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
    num_poses: int = 1,
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
            num_poses=num_poses,
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
        "num_poses": num_poses,
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
