"""All cores of one machine: videos in a pool of worker processes, models loaded once each.

Each worker (a ``spawn``-ed process: no state inherited from the parent, the same on every
platform) loads a :class:`~vitruvian.extract.PoseExtractor` once, with ``threads`` inference
threads, and then takes whole videos (:func:`~vitruvian.parallel.jobs.process_video`). Workers
report frames done through a queue, for the progress bar. A worker that dies (killed, out of
memory) fails its video and the pool goes on with new workers.

With ``workers x threads`` = cores, the cores are busy with useful work: one model on two
XNNPACK threads wastes cycles that two one-thread processes use (see the README's figures).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from vitruvian.parallel.jobs import VideoJob, VideoOutcome, extractor_for, run_task, tasks

__all__ = ["ProcessEngine", "threads_per_worker"]

#: How often the parent looks up from waiting (seconds): progress and stop requests.
POLL_S = 0.2

_EXTRACTOR: Any = None
_PROGRESS: Any = None
_BATCH = 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Inference threads per worker so that ``workers x threads`` fills the cores (>= 1)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _start_worker(
    options: dict[str, Any], threads: int, backend: str | None, progress: Any, batch_size: int
) -> None:
    """Pool initializer: load the models once in this worker."""
    global _EXTRACTOR, _PROGRESS, _BATCH
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _EXTRACTOR = extractor_for(options, threads, backend)
    _PROGRESS = progress
    _BATCH = batch_size


def _run_task(jobs: list[VideoJob]) -> list[VideoOutcome]:
    return run_task(_EXTRACTOR, jobs, _BATCH, lambda n: _PROGRESS.put(n))


class ProcessEngine:
    """Videos on ``workers`` processes of this machine.

    Args:
        workers: worker processes (>= 1).
        options: the Pose options (video mode) every worker loads.
        threads: inference threads per worker (``None``: :func:`threads_per_worker`).
        backend: the inference backend.
        batch_size: videos each worker runs together, crops batched across them (for GPU
            backends; see :func:`~vitruvian.parallel.jobs.process_videos`).
    """

    def __init__(
        self,
        workers: int,
        options: dict[str, Any],
        threads: int | None = None,
        backend: str | None = None,
        batch_size: int = 1,
    ) -> None:
        self.workers = max(1, int(workers))
        self.threads = threads or threads_per_worker(self.workers)
        self.batch_size = max(1, int(batch_size))
        self._context = multiprocessing.get_context("spawn")
        self._progress: Any = self._context.Queue()
        self._initargs = (options, self.threads, backend, self._progress, self.batch_size)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=self._initargs,
        )

    def run(
        self,
        jobs: Sequence[VideoJob],
        on_frames: Callable[[int], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[VideoOutcome]:
        """Process ``jobs``; yields each outcome as its video is done (any order).

        ``on_frames(n)`` gets the workers' progress; ``on_wait()`` is called every
        :data:`POLL_S` while waiting (it may raise, e.g. ``KeyboardInterrupt``, to stop: the
        workers are then terminated and the videos under way are lost).
        """
        pending = tasks(jobs, self.batch_size)
        running: dict[Future[list[VideoOutcome]], list[VideoJob]] = {}
        deaths: dict[str, int] = {}
        try:
            while pending or running:
                while pending and len(running) < 2 * self.workers:
                    task = pending.pop(0)
                    running[self._pool.submit(_run_task, task)] = task
                done, _ = wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
                self._drain(on_frames)
                if on_wait is not None:
                    on_wait()
                broken = False
                for future in done:
                    task = running.pop(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:
                        # A worker died and took the pool down: every task under way is tried
                        # again on a new pool; one that was under way twice fails.
                        broken = True
                        key = task[0].source
                        deaths[key] = deaths.get(key, 0) + 1
                        if deaths[key] < 2:
                            pending.insert(0, task)
                            continue
                        outcomes = [
                            VideoOutcome(
                                job.source,
                                error="its worker process died twice (killed, or out of memory?)",
                            )
                            for job in task
                        ]
                    yield from outcomes
                if broken:
                    for task in running.values():
                        pending.insert(0, task)
                    running.clear()
                    self._restart()
            self._drain(on_frames)
        except BaseException:
            self.terminate()
            raise

    def _drain(self, on_frames: Callable[[int], None] | None) -> None:
        while True:
            try:
                count = self._progress.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if on_frames is not None:
                on_frames(count)

    def _restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def terminate(self) -> None:
        """Stop at once: kill the workers (their videos under way are lost)."""
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)

    def close(self) -> None:
        """Wait for the workers to exit (after :meth:`run`)."""
        self._pool.shutdown(wait=True)
        with contextlib.suppress(Exception):
            self._progress.close()

    def __enter__(self) -> ProcessEngine:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.terminate()
        self.close()
