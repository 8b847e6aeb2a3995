"""One video, start to end: the unit of work of every engine (in-process, process pool, Ray).

:func:`process_video` runs a loaded :class:`~vitruvian.extract.PoseExtractor` over one video
file and either returns its rows (for a single ``--out`` table, written by the parent in source
order) or writes them into the video's file of a resumable dataset
(:mod:`vitruvian.io.dataset`), so that with ``--out-dir`` frames never travel between
processes or machines: only a small :class:`VideoOutcome` does.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vitruvian.extract import PoseExtractor

__all__ = ["VideoJob", "VideoOutcome", "extractor_for", "process_video"]

#: Frames between two progress reports of a worker.
PROGRESS_EVERY = 8


@dataclass(frozen=True)
class VideoJob:
    """One video to process.

    Attributes:
        source: the video as the user named it (the rows' ``source`` column).
        path: the file to open (absolute, so that any worker finds it; default ``source``).
        max_frames: at most this many frames (``None``: all).
        out_dir: the dataset folder to write the video's file into; ``None``: return the rows.
        options: the Pose options (:meth:`vitruvian.options.PoseOptions.as_kwargs`, video mode),
            recorded in the dataset file.
    """

    source: str
    max_frames: int | None = None
    out_dir: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def file(self) -> str:
        """The file to open."""
        return self.path or self.source


@dataclass
class VideoOutcome:
    """What became of a :class:`VideoJob`.

    Attributes:
        source: the job's video.
        frames: frames processed; rows: rows produced (one per person per frame, at least one
            per frame); frames_with_pose: frames where someone was found.
        rows: the rows, when the job returned them (no ``out_dir``).
        written: the video's dataset file was written.
        error: what went wrong (``None``: nothing). With ``written`` the video was read in part
            (a damaged file); without, it could not be processed.
        seconds: wall time of the job in its worker.
    """

    source: str
    frames: int = 0
    rows_count: int = 0
    frames_with_pose: int = 0
    rows: list[dict[str, Any]] | None = None
    written: bool = False
    error: str | None = None
    seconds: float = 0.0


def extractor_for(options: dict[str, Any], num_threads: int | None, backend: str | None) -> Any:
    """A :class:`~vitruvian.extract.PoseExtractor` for the Pose ``options`` (video mode)."""
    from vitruvian.extract import PoseExtractor

    kwargs = {k: v for k, v in options.items() if k != "static_image_mode"}
    return PoseExtractor(**kwargs, num_threads=num_threads, backend=backend)


def process_video(
    extractor: PoseExtractor,
    job: VideoJob,
    on_frames: Callable[[int], None] | None = None,
) -> VideoOutcome:
    """Run ``extractor`` over ``job``'s video (see the module docstring).

    Never raises for a problem of the video or of its output: the outcome's ``error`` says
    it. ``on_frames(n)`` is called as frames are done (every :data:`PROGRESS_EVERY`).
    """
    from vitruvian.extract import video_source
    from vitruvian.io import dataset
    from vitruvian.io.atomic import OutputError
    from vitruvian.io.records import make_row
    from vitruvian.io.sources import SourceReadError

    started = time.perf_counter()
    outcome = VideoOutcome(job.source)
    writer: dataset.VideoTableWriter | None = None
    pending = 0
    try:
        source = video_source(job.file)
        if job.out_dir is None:
            outcome.rows = []
        else:
            provenance = dataset.Provenance.of(job.file, job.options, job.max_frames)
            writer = dataset.VideoTableWriter(Path(job.out_dir), provenance)
        people_frames = extractor._extract_people(source, job.max_frames)
        try:
            for info, people in people_frames:
                rows = [
                    make_row(job.source, info.index, info.timestamp_s, info.width, info.height, p)
                    for p in (people or [None])
                ]
                if writer is not None:
                    writer.write(rows)
                else:
                    assert outcome.rows is not None
                    outcome.rows.extend(rows)
                outcome.frames += 1
                outcome.rows_count += len(rows)
                outcome.frames_with_pose += bool(people)
                pending += 1
                if on_frames is not None and pending >= PROGRESS_EVERY:
                    on_frames(pending)
                    pending = 0
        except SourceReadError as exc:  # after the frames that could be decoded
            outcome.error = str(exc)
        finally:
            people_frames.close()
        if writer is not None and outcome.frames:
            writer.commit()
            outcome.written = True
    except (SourceReadError, OutputError, OSError) as exc:
        outcome.error = str(exc)
    except Exception as exc:  # a bug must not take the other videos down: report it
        outcome.error = f"internal error: {''.join(traceback.format_exception_only(exc)).strip()}"
    finally:
        if writer is not None and not outcome.written:
            writer.discard()
    if on_frames is not None and pending:
        on_frames(pending)
    outcome.seconds = time.perf_counter() - started
    return outcome
