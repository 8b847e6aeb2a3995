"""Presenting evaluation figures: terminal table, JSON file, Markdown report and bar charts.

The charts are drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no
change to the global backend); one PNG per metric, complexities on the x axis and one bar per
run label (ours, MediaPipe, ...) at each.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vitruvian.eval import import_eval_dependency
from vitruvian.eval.metrics import Figures

__all__ = [
    "CHART_METRICS",
    "METHOD_NOTES",
    "format_table",
    "markdown_table",
    "results_document",
    "write_bar_chart",
    "write_json",
    "write_report",
]

#: The charted metrics: ``(Figures attribute, chart file stem, title, y-axis label)``.
CHART_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("ap", "ap", "COCO keypoint AP (OKS 0.50:0.95)", "AP (%)"),
    ("ap50", "ap50", "COCO keypoint AP at OKS 0.50", "AP50 (%)"),
    ("ap75", "ap75", "COCO keypoint AP at OKS 0.75", "AP75 (%)"),
    ("pck", "pck", "PCK@0.2 (torso: left shoulder to right hip)", "PCK@0.2 (%)"),
    ("detection_rate", "detection_rate", "Inputs with a pose", "detection rate (%)"),
    ("median_ms", "latency", "Median process() time per input", "ms"),
)

#: How the figures are computed, for the Markdown report (one bullet each).
METHOD_NOTES: tuple[str, ...] = (
    "crops protocol: one input per non-crowd person with at least `min_keypoints` labelled "
    "keypoints: the square crop of `vitruvian.crops.person_crop` around its box (longer side "
    "+25 % on each side, zero padding, no resize), `Pose(static_image_mode=True)` on it; "
    "image protocol: each image holding such a person, whole, one pose per image.",
    "BlazePose landmarks 0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28 are "
    "COCO's 17 keypoints, mapped back to image pixels with the crop's affine.",
    "Predictions in COCO results format: keypoint v = the landmark's visibility, score = the "
    "mean visibility of the 17 keypoints (MediaPipe 0.10.14 gives no presence score, so both "
    "implementations are ranked by the same rule); inputs without a pose give no prediction.",
    "AP, AP50, AP75: pycocotools COCOeval (iouType keypoints), imgIds = images with an "
    "evaluated person, all predictions of an image evaluated together; persons outside the "
    "evaluated set are ignored regions, like crowd annotations.",
    "PCK@0.2: a labelled keypoint is correct within 0.2 x the distance between the GT left "
    "shoulder and right hip; persons without both are left out, a missing pose counts as "
    "wrong; pooled over keypoints. The image protocol scores the pose against the person it "
    "has the best OKS with.",
    "Detection rate: inputs with a pose / inputs. Latency: median wall time of `process()`.",
)


def _fmt(value: float | None, digits: int = 1) -> str:
    """A number for tables (``-`` for missing or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _rows(figures: Sequence[Figures]) -> list[list[str]]:
    """Table cells, one row per run, sorted by complexity (stable for the run order)."""
    rows = []
    for fig in sorted(figures, key=lambda f: f.complexity):
        rows.append(
            [
                fig.label,
                str(fig.complexity),
                _fmt(fig.ap),
                _fmt(fig.ap50),
                _fmt(fig.ap75),
                _fmt(fig.pck),
                f"{fig.detections}/{fig.inputs}",
                _fmt(fig.median_ms),
            ]
        )
    return rows


_HEADER = ["implementation", "complexity", "AP", "AP50", "AP75", "PCK@0.2", "detected", "ms"]


def format_table(figures: Sequence[Figures]) -> str:
    """A plain-text table for the terminal: one row per run (implementation x complexity).

    Columns: AP, AP50, AP75 and PCK@0.2 in percent, inputs with a pose / inputs, and the median
    ``process()`` time in milliseconds.
    """
    rows = [_HEADER, *_rows(figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figures]) -> str:
    """The same table as :func:`format_table`, in Markdown."""
    header = [*_HEADER[:-1], "median ms"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(figures)]
    return "\n".join(lines)


def results_document(
    figures: Sequence[Figures], settings: Mapping[str, Any], command: str | None = None
) -> dict[str, Any]:
    """The JSON document of ``--json``: ``{"command", "settings", "results"}``.

    ``results`` holds :meth:`Figures.as_dict` per run (percentages, milliseconds; NaN as null).
    """
    return {
        "command": command,
        "settings": dict(settings),
        "results": [fig.as_dict() for fig in figures],
    }


def write_json(
    path: str | os.PathLike[str],
    figures: Sequence[Figures],
    settings: Mapping[str, Any],
    command: str | None = None,
) -> Path:
    """Write :func:`results_document` to ``path`` (parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results_document(figures, settings, command), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_bar_chart(
    path: str | os.PathLike[str],
    figures: Sequence[Figures],
    metric: str,
    title: str,
    ylabel: str,
) -> Path:
    """Draw one metric as grouped bars: complexities on the x axis, one bar per run label.

    Args:
        path: the PNG to write.
        figures: the runs.
        metric: a :class:`Figures` attribute (e.g. ``"ap"``, ``"detection_rate"``).
        title, ylabel: chart texts.

    Raises:
        EvalError: matplotlib is not installed.
    """
    import_eval_dependency("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    labels = list(dict.fromkeys(fig.label for fig in figures))
    complexities = sorted({fig.complexity for fig in figures})
    values = {(fig.label, fig.complexity): float(getattr(fig, metric)) for fig in figures}
    chart = MplFigure(figsize=(6.4, 4.0), dpi=100, layout="constrained")
    FigureCanvasAgg(chart)
    axes = chart.add_subplot()
    width = 0.8 / max(len(labels), 1)
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
    top = 0.0
    for index, label in enumerate(labels):
        xs, heights = [], []
        for position, complexity in enumerate(complexities):
            value = values.get((label, complexity), float("nan"))
            if not math.isnan(value):
                xs.append(position - 0.4 + width * (index + 0.5))
                heights.append(value)
        bars = axes.bar(xs, heights, width, label=label, color=colours[index % len(colours)])
        axes.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
        top = max([top, *heights])
    axes.set_xticks(range(len(complexities)), [f"complexity {c}" for c in complexities])
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    chart.legend(loc="outside lower center", ncols=max(len(labels), 1), fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chart.savefig(path)
    return path


def write_report(
    directory: str | os.PathLike[str],
    figures: Sequence[Figures],
    settings: Mapping[str, Any],
    command: str | None = None,
) -> list[Path]:
    """Write ``report.md`` (table, settings, command, method) and one PNG chart per metric of
    :data:`CHART_METRICS` into ``directory`` (created if needed).

    Returns:
        The files written, ``report.md`` first.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    charts = [
        write_bar_chart(directory / f"{stem}.png", figures, metric, title, ylabel)
        for metric, stem, title, ylabel in CHART_METRICS
    ]
    lines = ["# vitruvian eval coco", ""]
    if command:
        lines += ["Command:", "", "```sh", command, "```", ""]
    lines += [
        "AP, AP50, AP75 and PCK@0.2 in percent; detected = inputs with a pose / inputs; "
        "median ms = median `process()` time per input.",
        "",
        markdown_table(figures),
        "",
        "## Settings",
        "",
    ]
    lines += [f"- {key}: {_setting(value)}" for key, value in settings.items()]
    lines += ["", "## Method", ""]
    lines += [f"- {note}" for note in METHOD_NOTES]
    lines += ["", "## Charts", ""]
    lines += [f"![{path.stem}]({path.name})" for path in charts]
    report = directory / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [report, *charts]


def _setting(value: Any) -> str:
    """A settings value for the Markdown list (dicts and lists as compact JSON)."""
    if isinstance(value, dict | list | tuple):
        return "`" + json.dumps(value) + "`"
    return f"`{value}`"
