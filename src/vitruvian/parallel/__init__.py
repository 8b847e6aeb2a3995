"""Many videos at once: all cores of one machine, or a Ray cluster, into a resumable dataset.

::

    from vitruvian.parallel import extract_to_dataset

    run = extract_to_dataset(video_paths, "poses/", workers=8)            # this machine
    run = extract_to_dataset(video_paths, "poses/", engine="ray")         # Ray (RAY_ADDRESS)
    print(run.summary())      # then: pyarrow.dataset.dataset("poses/", format="parquet")

The unit of work is a whole video (tracking needs its frames in order): each worker holds a
loaded :class:`~vitruvian.extract.PoseExtractor` and runs one video after another
(:func:`~vitruvian.parallel.jobs.process_video`). Engines, one interface:

* :class:`InlineEngine`: in this process (``workers=1``);
* :class:`~vitruvian.parallel.local.ProcessEngine`: a pool of worker processes;
* :class:`~vitruvian.parallel.ray_engine.RayEngine`: Ray actors, locally or on a cluster.

The dataset (:mod:`vitruvian.io.dataset`) makes the run resumable: videos already done with the
same options are skipped, a killed run's unfinished files are never read as complete, and
failures are recorded in the dataset. ``vitruvian run VIDEOS --out-dir DIR [--workers N]
[--engine ray]`` is the command for the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vitruvian.options import PoseOptions
from vitruvian.parallel.jobs import VideoJob, VideoOutcome, extractor_for, run_task, tasks

__all__ = [
    "ENGINES",
    "DatasetRun",
    "Engine",
    "InlineEngine",
    "VideoJob",
    "VideoOutcome",
    "default_workers",
    "extract_to_dataset",
    "make_engine",
    "run_dataset",
]

#: ``engine=`` values.
ENGINES = ("local", "ray")


class Engine(Protocol):
    """What runs :class:`VideoJob` s (see the module docstring)."""

    workers: int

    def run(
        self,
        jobs: Sequence[VideoJob],
        on_frames: Callable[[int], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[VideoOutcome]: ...

    def close(self) -> None: ...


class InlineEngine:
    """The videos one after another in this process, models loaded once (``batch_size``
    videos at a time with their crops batched, when it is more than 1)."""

    workers = 1

    def __init__(
        self,
        options: dict[str, Any],
        threads: int | None = None,
        backend: str | None = None,
        batch_size: int = 1,
    ) -> None:
        self._extractor = extractor_for(options, threads, backend)
        self.batch_size = max(1, int(batch_size))

    def run(
        self,
        jobs: Sequence[VideoJob],
        on_frames: Callable[[int], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[VideoOutcome]:
        def progress(count: int) -> None:  # also between frames: a stop request is seen
            if on_frames is not None:
                on_frames(count)
            if on_wait is not None:
                on_wait()

        for task in tasks(jobs, self.batch_size):
            if on_wait is not None:
                on_wait()
            yield from run_task(self._extractor, task, self.batch_size, progress)

    def close(self) -> None:
        self._extractor.close()


def default_workers(videos: int, cores: int | None = None) -> int:
    """Worker processes for ``videos`` video files: one per core when there are several
    videos, else 1 (a single video's frames form one chain: its model uses the cores)."""
    cores = cores or os.cpu_count() or 1
    return 1 if videos < 2 else max(1, min(cores, videos))


def make_engine(
    engine: str,
    workers: int,
    options: dict[str, Any],
    *,
    threads: int | None = None,
    backend: str | None = None,
    address: str | None = None,
    num_gpus: float = 0.0,
    batch_size: int = 1,
) -> Engine:
    """An engine by name (``"local"``: in-process for one worker, else a process pool;
    ``"ray"``: Ray actors); each worker runs ``batch_size`` videos together (crops batched
    across them, one person each: for GPU backends) or one at a time.

    Raises:
        ValueError: an unknown engine; ImportError: Ray is missing (the message names the fix).
    """
    if batch_size > 1 and options.get("num_poses", 1) > 1:
        raise ValueError("batch_size > 1 follows one person per video: use num_poses=1")
    if engine == "ray":
        from vitruvian.parallel.ray_engine import RayEngine

        return RayEngine(workers, options, threads, backend, address, num_gpus, batch_size)
    if engine != "local":
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if workers <= 1:
        return InlineEngine(options, threads, backend, batch_size)
    from vitruvian.parallel.local import ProcessEngine

    return ProcessEngine(workers, options, threads, backend, batch_size)


@dataclass
class DatasetRun:
    """What :func:`run_dataset` did.

    Attributes:
        out_dir: the dataset folder.
        skipped: videos already done (same options, unchanged source).
        redone: videos whose older file (other options, or a changed source) was replaced.
        outcomes: one per video processed now, in the order they finished.
        seconds: wall time.
        stopped: ``True`` when the run was interrupted.
    """

    out_dir: Path
    skipped: list[str] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)
    outcomes: list[VideoOutcome] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False

    @property
    def failed(self) -> list[VideoOutcome]:
        """The videos with an error (written in part, or not at all)."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def frames(self) -> int:
        return sum(o.frames for o in self.outcomes)

    def summary(self) -> str:
        """One line: videos done, skipped and failed, frames, throughput."""
        done = sum(o.written for o in self.outcomes)
        rate = f", {self.frames / self.seconds:.1f} frames/s" if self.frames else ""
        parts = [
            f"{done} video{'' if done == 1 else 's'} written ({self.frames} frames{rate})",
            f"{len(self.skipped)} already done",
        ]
        if self.redone:
            parts.append(f"{len(self.redone)} redone (other options, or the video changed)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (listed in {self.out_dir / '_failed'})")
        if self.stopped:
            parts.append("stopped early: run again to finish")
        return "; ".join(parts)


def run_dataset(
    sources: Sequence[str | tuple[str, str]],
    out_dir: str | os.PathLike[str],
    options: PoseOptions,
    engine: Engine,
    *,
    max_frames: int | None = None,
    on_frames: Callable[[int], None] | None = None,
    on_outcome: Callable[[VideoOutcome], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    plan: Any = None,
) -> DatasetRun:
    """Process the videos of ``sources`` not yet done into the dataset ``out_dir`` with
    ``engine`` (resume rules in :mod:`vitruvian.io.dataset`); failure records are written and
    removed as videos fail or succeed. A source is a path, or ``(name, path)``: the name for
    the rows' ``source`` column, the path to open. ``plan``: a
    :func:`vitruvian.io.dataset.plan` of the paths made beforehand (else made here).

    Raises:
        OutputBusyError: another run holds ``out_dir``; OutputError: it cannot be written.
    """
    from vitruvian.io import dataset

    started = time.perf_counter()
    recorded = options.as_kwargs()
    result = DatasetRun(Path(out_dir))
    named = [(s, s) if isinstance(s, str) else s for s in sources]
    names = {os.path.abspath(path): name for name, path in named}
    with dataset.DatasetWriter(out_dir) as writer:
        todo = plan or dataset.plan(out_dir, [path for _, path in named], recorded, max_frames)
        result.skipped, result.redone = list(todo.done), list(todo.stale)
        jobs = [
            VideoJob(names[os.path.abspath(p)], max_frames, str(out_dir), recorded, p)
            for p in dict.fromkeys(todo.todo)  # a video named twice is done once
        ]
        files = {job.source: job.file for job in jobs}
        try:
            for outcome in engine.run(jobs, on_frames, on_wait):
                path = files[outcome.source]
                if outcome.error is None:
                    writer.succeeded(path)
                else:
                    writer.failed(path, outcome.error, outcome.written)
                result.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        except KeyboardInterrupt:
            result.stopped = True
    result.seconds = time.perf_counter() - started
    return result


def extract_to_dataset(
    paths: Iterable[str | os.PathLike[str] | tuple[str, str]],
    out_dir: str | os.PathLike[str],
    *,
    options: PoseOptions | None = None,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    num_gpus: float = 0.0,
    threads: int | None = None,
    backend: str | None = None,
    max_frames: int | None = None,
    batch_size: int = 1,
    progress: bool = False,
    on_outcome: Callable[[VideoOutcome], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> DatasetRun:
    """Pose of every frame of many videos into a resumable Parquet dataset (one file per
    video; see :mod:`vitruvian.io.dataset`), on ``workers`` processes of this machine
    (``engine="local"``; default :func:`default_workers`) or Ray actors (``engine="ray"``,
    ``address`` or ``$RAY_ADDRESS``, else a local Ray).

    Args:
        paths: the video files, or ``(name, path)`` pairs (the name for the rows' ``source``).
        out_dir: the dataset folder (created).
        options: the Pose options (video mode; default :class:`PoseOptions` ()).
        workers, engine, address, num_gpus, threads, backend: where and how it runs (see
            :func:`make_engine`; ``threads`` per worker, default: the cores shared out).
        max_frames: at most this many frames per video.
        batch_size: videos each worker runs together, crops batched across them (with a GPU
            backend; one person per video).
        progress: show a progress bar (frames, videos, ETA) on stderr.
        on_outcome: called with each video's outcome as it is done.
        on_wait: called while waiting (it may raise ``KeyboardInterrupt`` to stop early).

    Returns:
        The :class:`DatasetRun` (failed videos are in it and in the dataset's ``_failed/``).
    """
    import sys

    from tqdm import tqdm

    from vitruvian.io import dataset
    from vitruvian.io.sources import total_frames

    options = (options or PoseOptions()).replace(static_image_mode=False)
    sources = [p if isinstance(p, tuple) else (os.fspath(p), os.fspath(p)) for p in paths]
    todo = dataset.plan(out_dir, [path for _, path in sources], options.as_kwargs(), max_frames)
    count = default_workers(len(todo.todo)) if workers is None else workers
    with tqdm(
        total=_frames_to_do(todo.todo, max_frames, total_frames),
        unit="frame",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        bar.set_postfix_str(f"videos 0/{len(todo.todo)}")
        finished = 0

        def outcome_done(outcome: VideoOutcome) -> None:
            nonlocal finished
            finished += 1
            bar.set_postfix_str(f"videos {finished}/{len(todo.todo)}")
            if on_outcome is not None:
                on_outcome(outcome)

        runner = make_engine(
            engine,
            count,
            options.as_kwargs(),
            threads=threads,
            backend=backend,
            address=address,
            num_gpus=num_gpus,
            batch_size=batch_size,
        )
        try:
            return run_dataset(
                sources,
                out_dir,
                options,
                runner,
                max_frames=max_frames,
                on_frames=bar.update,
                on_outcome=outcome_done,
                on_wait=on_wait,
                plan=todo,
            )
        finally:
            runner.close()


def _frames_to_do(
    paths: Sequence[str], max_frames: int | None, total_frames: Callable[..., int | None]
) -> int | None:
    """The frames of ``paths`` as their containers announce them (for the progress bar)."""
    from vitruvian.extract import video_source
    from vitruvian.io.sources import SourceReadError

    sources = []
    for path in paths:
        try:
            sources.append(video_source(path))
        except SourceReadError:
            continue
    return total_frames(sources, max_frames)
