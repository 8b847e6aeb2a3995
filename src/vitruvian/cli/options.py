"""The command line's Pose flags, built from :class:`vitruvian.options.PoseOptions` and its help
texts (:data:`vitruvian.options.OPTION_HELP`), so that every command spells and documents them
the same way:

``--model-complexity`` (alias ``--complexity``), ``--static/--video``, ``--smooth/--no-smooth``,
``--segmentation/--no-segmentation``, ``--smooth-segmentation/--no-smooth-segmentation``,
``--min-detection-confidence``, ``--min-tracking-confidence``, ``--num-poses``.

:func:`pose_options` adds them to a command, which then receives one ``pose`` argument (a
:class:`PoseOptions`) and ``static_image_mode`` (``True``, ``False``, or ``None`` when neither
``--static`` nor ``--video`` was given: the command decides by its input).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from vitruvian.options import OPTION_HELP, PoseOptions

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULTS = PoseOptions()

#: ``--model-complexity`` (``--complexity`` too, the spelling ``bench`` and ``eval`` used).
model_complexity_option = click.option(
    "--model-complexity",
    "--complexity",
    "model_complexity",
    type=click.IntRange(0, 2),
    default=_DEFAULTS.model_complexity,
    show_default=True,
    help=OPTION_HELP["model_complexity"],
)


def _flag(name: str, on: str, off: str) -> Callable[[F], F]:
    return click.option(
        f"{on}/{off}",
        name,
        default=getattr(_DEFAULTS, name),
        show_default=True,
        help=OPTION_HELP[name],
    )


def _confidence(name: str) -> Callable[[F], F]:
    return click.option(
        "--" + name.replace("_", "-"),
        name,
        type=click.FloatRange(0.0, 1.0),
        default=getattr(_DEFAULTS, name),
        show_default=True,
        help=OPTION_HELP[name],
    )


_POSE_FLAGS = (
    model_complexity_option,
    click.option(
        "--static/--video",
        "static_image_mode",
        default=None,
        help=OPTION_HELP["static_image_mode"] + " [default: video mode for videos and cameras, "
        "static for images]",
    ),
    _flag("smooth_landmarks", "--smooth", "--no-smooth"),
    _flag("enable_segmentation", "--segmentation", "--no-segmentation"),
    _flag("smooth_segmentation", "--smooth-segmentation", "--no-smooth-segmentation"),
    _confidence("min_detection_confidence"),
    _confidence("min_tracking_confidence"),
    click.option(
        "--num-poses",
        "num_poses",
        type=click.IntRange(1),
        default=_DEFAULTS.num_poses,
        show_default=True,
        help=OPTION_HELP["num_poses"],
    ),
)

_NAMES = tuple(field for field in OPTION_HELP if field != "static_image_mode")


def pose_options(command: F) -> F:
    """Add the Pose flags to a click command; it receives ``pose: PoseOptions`` (static mode as
    given, else off) and ``static_image_mode: bool | None`` instead of the separate values."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _NAMES}
        static = kwargs["static_image_mode"]
        kwargs["pose"] = PoseOptions(static_image_mode=bool(static), **values)
        return command(*args, **kwargs)

    for flag in reversed(_POSE_FLAGS):
        wrapper = flag(wrapper)
    return wrapper  # type: ignore[return-value]
