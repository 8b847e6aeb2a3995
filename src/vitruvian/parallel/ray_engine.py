"""A Ray cluster (or a local Ray on this machine): videos on actors that hold loaded models.

``pip install 'vitruvian[ray]'``. :class:`RayEngine` starts ``workers`` actors, each with a
:class:`~vitruvian.extract.PoseExtractor` loaded once (``num_cpus`` = its inference threads,
``num_gpus`` when asked, e.g. with ``backend="onnxruntime-cuda"``), and hands each free actor
the next whole video (tracking needs a video's frames in order, so a video is the unit of
work). With a dataset folder each actor writes its videos' Parquet files itself: only a small
:class:`~vitruvian.parallel.jobs.VideoOutcome` goes back through Ray's object store, never the
frames or the rows. The folder must then be on storage every node sees at the same path (NFS,
a mounted bucket), like the videos.

The cluster: ``address`` (``vitruvian run --address``), else ``$RAY_ADDRESS``, else a new local
Ray on this machine (stopped at the end). An actor that dies (its node lost) fails its video
after a second try and is replaced. ``import vitruvian`` never imports Ray.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from vitruvian.parallel.jobs import VideoJob, VideoOutcome, extractor_for, run_task, tasks
from vitruvian.parallel.local import POLL_S, threads_per_worker

__all__ = ["RAY_INSTALL_HINT", "RayEngine", "import_ray"]

RAY_INSTALL_HINT = "pip install 'vitruvian[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, or an ImportError that names the fix."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(f"--engine ray needs Ray: {RAY_INSTALL_HINT}") from exc
    return ray


class _PoseActor:
    """The actor class (made remote by :class:`RayEngine`): one loaded extractor."""

    def __init__(
        self, options: dict[str, Any], threads: int, backend: str | None, batch_size: int
    ) -> None:
        self._extractor = extractor_for(options, threads, backend)
        self._batch = batch_size

    def run(self, jobs: list[VideoJob]) -> list[VideoOutcome]:
        return run_task(self._extractor, jobs, self._batch)


class RayEngine:
    """Videos on ``workers`` Ray actors.

    Args:
        workers: actors (>= 1).
        options: the Pose options (video mode) every actor loads.
        threads: inference threads (and CPUs reserved) per actor; ``None``: this machine's
            cores divided among the workers for a local Ray, else 1.
        backend: the inference backend.
        address: the cluster (``"auto"``, ``"ray://host:10001"``, ...); ``None``:
            ``$RAY_ADDRESS`` or a new local Ray.
        num_gpus: GPUs reserved per actor (e.g. 1, or 0.25 to share one GPU among four).
        batch_size: videos each actor runs together, crops batched across them (what a GPU
            needs to be busy; see :func:`~vitruvian.parallel.jobs.process_videos`).

    Raises:
        ImportError: Ray is not installed (the message names the fix).
    """

    def __init__(
        self,
        workers: int,
        options: dict[str, Any],
        threads: int | None = None,
        backend: str | None = None,
        address: str | None = None,
        num_gpus: float = 0.0,
        batch_size: int = 1,
    ) -> None:
        ray = import_ray()
        self._ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        self._owns = not ray.is_initialized()
        if self._owns:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": "ERROR",
                "log_to_driver": False,
            }
            if address is None:
                kwargs["num_cpus"] = os.cpu_count() or 1
            ray.init(address=address, **kwargs)
        self.workers = max(1, int(workers))
        if threads is None:
            threads = threads_per_worker(self.workers) if address is None else 1
        self.threads = threads
        self._actor_class = ray.remote(num_cpus=threads, num_gpus=num_gpus)(_PoseActor)
        self.batch_size = max(1, int(batch_size))
        self._args = (options, threads, backend, self.batch_size)
        self._actors = [self._new_actor() for _ in range(self.workers)]

    def _new_actor(self) -> Any:
        return self._actor_class.remote(*self._args)

    def run(
        self,
        jobs: Sequence[VideoJob],
        on_frames: Callable[[int], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[VideoOutcome]:
        """Process ``jobs``; yields each outcome as its video is done (any order).
        ``on_frames`` gets each video's frames when it is done; ``on_wait`` as for
        :meth:`vitruvian.parallel.local.ProcessEngine.run`."""
        ray = self._ray
        pending = tasks(jobs, self.batch_size)
        idle = list(self._actors)
        running: dict[Any, tuple[Any, list[VideoJob]]] = {}
        deaths: dict[str, int] = {}
        try:
            while pending or running:
                while pending and idle:
                    actor, task = idle.pop(), pending.pop(0)
                    running[actor.run.remote(task)] = (actor, task)
                done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
                if on_wait is not None:
                    on_wait()
                for ref in done:
                    actor, task = running.pop(ref)
                    try:
                        outcomes = ray.get(ref)
                    except ray.exceptions.RayActorError:
                        self._actors.remove(actor)
                        actor = self._new_actor()
                        self._actors.append(actor)
                        key = task[0].source
                        deaths[key] = deaths.get(key, 0) + 1
                        if deaths[key] < 2:
                            pending.insert(0, task)
                            idle.append(actor)
                            continue
                        outcomes = [
                            VideoOutcome(
                                job.source,
                                error="its Ray worker died twice (node lost, or out of memory?)",
                            )
                            for job in task
                        ]
                    idle.append(actor)
                    for outcome in outcomes:
                        if on_frames is not None:
                            on_frames(outcome.frames)
                        yield outcome
        finally:
            for ref in running:  # stopped early: the videos under way are dropped
                ray.cancel(ref)

    def close(self) -> None:
        """Release the actors, and the local Ray this engine started."""
        for actor in self._actors:
            try:
                self._ray.kill(actor)
            except Exception:  # already gone
                pass
        self._actors = []
        if self._owns:
            self._ray.shutdown()

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
