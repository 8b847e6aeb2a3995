"""``vitruvian bench``: latency, throughput, cold start and memory (:mod:`vitruvian.benchmark`)."""

from __future__ import annotations

import click

from vitruvian.cli.app import cli


@cli.command(
    "bench",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def bench(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Benchmarks: latency, throughput, memory.

    The options are parsed by :mod:`vitruvian.benchmark` (``vitruvian bench --help`` lists
    them); the exit status is 0 on success and 2 on a usage error or when the benchmark cannot
    run (missing data, a reference Python without mediapipe).
    """
    from vitruvian.benchmark import main as bench_main

    ctx.exit(bench_main(list(args), prog="vitruvian bench"))
