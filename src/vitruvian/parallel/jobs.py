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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vitruvian.extract import PoseExtractor

__all__ = [
    "VideoJob",
    "VideoOutcome",
    "extractor_for",
    "process_video",
    "process_videos",
    "run_task",
    "tasks",
]

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


class _VideoRun:
    """One video under way: its outcome, and its dataset file or its rows.

    Raises (on creation): SourceReadError, OutputError, OSError: the video or its file cannot
    be opened.
    """

    def __init__(self, job: VideoJob) -> None:
        from vitruvian.extract import video_source
        from vitruvian.io import dataset

        self.job = job
        self.started = time.perf_counter()
        self.outcome = VideoOutcome(job.source)
        self.writer: dataset.VideoTableWriter | None = None
        #: set when the run stopped on an unexpected error: its dataset file is not committed
        self.broken = False
        self.source = video_source(job.file)
        if job.out_dir is None:
            self.outcome.rows = []
        else:
            provenance = dataset.Provenance.of(job.file, job.options, job.max_frames)
            self.writer = dataset.VideoTableWriter(Path(job.out_dir), provenance)

    def add(self, info: Any, people: list[Any]) -> None:
        """One frame's people (``FrameInfo``, a list of ``PoseResult``)."""
        from vitruvian.io.records import make_row

        job, outcome = self.job, self.outcome
        rows = [
            make_row(job.source, info.index, info.timestamp_s, info.width, info.height, p)
            for p in (people or [None])
        ]
        if self.writer is not None:
            self.writer.write(rows)
        else:
            assert outcome.rows is not None
            outcome.rows.extend(rows)
        outcome.frames += 1
        outcome.rows_count += len(rows)
        outcome.frames_with_pose += bool(people)

    def finish(self) -> VideoOutcome:
        """Commit the dataset file if any frame was read (else drop it); the outcome."""
        try:
            if self.writer is not None and self.outcome.frames and not self.broken:
                self.writer.commit()
                self.outcome.written = True
        except OSError as exc:
            self.outcome.error = str(exc)
        finally:
            if self.writer is not None and not self.outcome.written:
                self.writer.discard()
        self.outcome.seconds = time.perf_counter() - self.started
        return self.outcome


class _Progress:
    """Frames done, reported every :data:`PROGRESS_EVERY` (and the rest by :meth:`flush`)."""

    def __init__(self, report: Callable[[int], None] | None) -> None:
        self._report = report
        self._pending = 0

    def frame(self) -> None:
        self._pending += 1
        if self._pending >= PROGRESS_EVERY:
            self.flush()

    def flush(self) -> None:
        if self._report is not None and self._pending:
            self._report(self._pending)
        self._pending = 0


def _error_text(exc: BaseException) -> str:
    """An outcome's error: the exception's message; a bug is named as one."""
    if isinstance(exc, OSError):  # SourceReadError, OutputError and the system's errors
        return str(exc)
    return f"internal error: {''.join(traceback.format_exception_only(exc)).strip()}"


def process_video(
    extractor: PoseExtractor,
    job: VideoJob,
    on_frames: Callable[[int], None] | None = None,
) -> VideoOutcome:
    """Run ``extractor`` over ``job``'s video (see the module docstring).

    Never raises for a problem of the video or of its output (nor for a bug: a worker must
    not take the other videos down): the outcome's ``error`` says it. ``on_frames(n)`` is
    called as frames are done (every :data:`PROGRESS_EVERY`).
    """
    from vitruvian.io.sources import SourceReadError

    progress = _Progress(on_frames)
    try:
        run = _VideoRun(job)
    except Exception as exc:
        return VideoOutcome(job.source, error=_error_text(exc))
    try:
        frames = extractor._extract_people(run.source, job.max_frames)
        try:
            for info, people in frames:
                run.add(info, people)
                progress.frame()
        except SourceReadError as exc:  # after the frames that could be decoded
            run.outcome.error = str(exc)
        finally:
            frames.close()
    except Exception as exc:
        run.outcome.error = _error_text(exc)
        run.broken = True
    except BaseException:  # stopped (Ctrl+C): the video is not complete, its file is dropped
        run.broken = True
        run.finish()
        raise
    outcome = run.finish()
    progress.flush()
    return outcome


def process_videos(
    extractor: PoseExtractor,
    jobs: Sequence[VideoJob],
    batch_size: int,
    on_frames: Callable[[int], None] | None = None,
) -> list[VideoOutcome]:
    """Several videos at once, ``batch_size`` at a time with their crops batched across videos
    (:meth:`vitruvian.extract.PoseExtractor.extract_many`: on a GPU backend one model call for
    all of them); each video gets the rows :func:`process_video` gives it. One person per
    video (``num_poses`` 1). Never raises, as :func:`process_video`."""
    from vitruvian.io.sources import SourceReadError

    outcomes: dict[int, VideoOutcome] = {}
    runs: dict[str, tuple[int, _VideoRun]] = {}
    for i, job in enumerate(jobs):
        try:
            run = _VideoRun(job)
        except Exception as exc:
            outcomes[i] = VideoOutcome(job.source, error=_error_text(exc))
            continue
        runs[run.source.name] = (i, run)

    def failed(exc: SourceReadError) -> None:  # the video stops, the others go on
        runs[exc.source][1].outcome.error = str(exc)

    progress = _Progress(on_frames)
    try:
        frames = extractor._extract_many(
            [run.source for _, run in runs.values()],
            batch_size,
            jobs[0].max_frames if jobs else None,
            on_error=failed,
        )
        try:
            for info, pose in frames:
                runs[info.source][1].add(info, [] if pose is None else [pose])
                progress.frame()
        finally:
            frames.close()
    except BaseException as exc:
        for _, run in runs.values():
            run.broken = True
            if isinstance(exc, Exception):
                run.outcome.error = run.outcome.error or _error_text(exc)
        if not isinstance(exc, Exception):  # stopped: every file under way is dropped
            for _, run in runs.values():
                run.finish()
            raise
    for i, run in runs.values():
        outcomes[i] = run.finish()
    progress.flush()
    return [outcomes[i] for i in range(len(jobs))]


def run_task(
    extractor: PoseExtractor,
    jobs: Sequence[VideoJob],
    batch_size: int = 1,
    on_frames: Callable[[int], None] | None = None,
) -> list[VideoOutcome]:
    """An engine's unit of work: ``jobs`` one by one, or batched across videos when
    ``batch_size > 1`` (:func:`process_videos`)."""
    if batch_size > 1:
        return process_videos(extractor, jobs, batch_size, on_frames)
    return [process_video(extractor, job, on_frames) for job in jobs]


def tasks(jobs: Sequence[VideoJob], batch_size: int) -> list[list[VideoJob]]:
    """``jobs`` in tasks: one video each, or ``batch_size`` videos processed together."""
    size = max(1, batch_size)
    return [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
