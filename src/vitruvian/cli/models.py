"""``vitruvian models``: list, locate, fetch, import and convert the pinned model files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from vitruvian.cli.app import cli
from vitruvian.models.assets import (
    MODEL_NAMES,
    SOURCES,
    checked_cache_dir,
    fetch_models,
    import_model_file,
    model_status,
)


@cli.group()
def models() -> None:
    """Manage the pinned pose model files (cache: $VITRUVIAN_CACHE_DIR or the user cache)."""


@models.command("list")
def models_list() -> None:
    """Show each model's status (present, missing, corrupt), sha256 and path."""
    from vitruvian.models.conversion.cache import onnx_state

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
    from vitruvian.models.conversion.cache import onnx_model_path

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
