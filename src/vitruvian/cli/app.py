"""The root ``vitruvian`` command group, the options its commands share, and the entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import click

from vitruvian.models import ModelError
from vitruvian.options import BACKENDS

__all__ = ["cli", "main"]

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


class _UsageLineError(click.ClickException):
    """A usage error reported as one ``Error: ...`` line (no usage banner), exit code 2."""

    exit_code = 2


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
