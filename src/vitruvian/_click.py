"""Command-line parsing shared by the commands (a helper layer: click only).

:class:`MultiValueCommand` is a click command whose options listed in ``multi_value_options``
take several values in a row (``--model-complexity 0 1 2``, as argparse's ``nargs="+"``), and
that keeps the arguments as typed in ``ctx.meta["vitruvian.args"]`` (reports quote them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

__all__ = ["MultiValueCommand", "spread_multi_values"]


def spread_multi_values(args: Sequence[str], names: Sequence[str]) -> list[str]:
    """Rewrite ``--opt a b c`` as ``--opt a --opt b --opt c`` for the options in ``names``.

    Values are the arguments that follow the option up to the next one starting with ``-``
    (or ``--``); ``--opt=a`` is left as it is.
    """
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            out += [arg, *args[index:]]
            break
        if arg not in names:
            out.append(arg)
            continue
        values = []
        while index < len(args) and not args[index].startswith("-"):
            values.append(args[index])
            index += 1
        if not values:
            out.append(arg)  # let click report the missing value
        for value in values:
            out += [arg, value]
    return out


class MultiValueCommand(click.Command):
    """A command whose ``multi_value_options`` (``multiple=True`` options) take several values
    after one flag; the arguments as typed are kept in ``ctx.meta["vitruvian.args"]``."""

    def __init__(self, *args: Any, multi_value_options: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multi_value_options = tuple(multi_value_options)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["vitruvian.args"] = list(args)
        return super().parse_args(ctx, spread_multi_values(args, self.multi_value_options))
