"""Batch input and output for the ``vitruvian run`` command.

* :mod:`vitruvian.io.sources`: images, folders, globs, videos and cameras, decoded lazily into
  :class:`~vitruvian.io.sources.Frame` objects (RGB, upright, with the video's timestamps).
* :mod:`vitruvian.io.records`: the output row schema, one row per frame (columns and units
  are documented there).
* :mod:`vitruvian.io.writers`: Parquet / CSV / JSON Lines tables, annotated MP4 or PNG
  frames, the preview window.
* :mod:`vitruvian.io.runner`: the loop that runs :class:`~vitruvian.solutions.pose.Pose` over
  the sources and feeds the writers.
"""

from vitruvian.io.records import COLUMNS, make_row
from vitruvian.io.runner import RunOptions, RunSummary, run_pose
from vitruvian.io.sources import (
    Frame,
    Source,
    SourceError,
    SourceReadError,
    SourceSpecError,
    resolve_sources,
)
from vitruvian.io.writers import OutputError, open_annotated_writer, open_row_writer

__all__ = [
    "COLUMNS",
    "Frame",
    "OutputError",
    "RunOptions",
    "RunSummary",
    "Source",
    "SourceError",
    "SourceReadError",
    "SourceSpecError",
    "make_row",
    "open_annotated_writer",
    "open_row_writer",
    "resolve_sources",
    "run_pose",
]
