"""``vitruvian web``: the browser package and the models in a folder, served on 127.0.0.1
(:mod:`vitruvian.web`)."""

from __future__ import annotations

from pathlib import Path

import click

from vitruvian.cli.app import cli


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
