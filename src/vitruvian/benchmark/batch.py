"""Batch throughput (``--mode batch``): ``PosePipeline.process_batch`` against batch size.

Per model complexity (default 1 in this mode) and backend (``--backend``, default: the default
backend), one :class:`vitruvian.pipeline.PosePipeline` (``--pipeline-threads``, else its default
thread count) processes the static mode's images (decoded once, outside the timing), cycled up
to a whole number of the largest batch size so that every batch is full (:func:`pass_inputs`):

* ``loop``: ``[pipeline.process(image) for image in inputs]``, the one-by-one baseline;
* batch size ``B`` (``--batch-sizes``, default 1, 2, 4, 8, 16): ``process_batch`` on
  consecutive slices of ``B`` images. ONNX Runtime runs each stage as one model call on the
  whole batch; LiteRT's graphs have a fixed batch of 1, so there the items run one after
  another and only the Python around them is shared.

Protocol: one untimed warm-up pass of every (backend, configuration), then ``--repeats``
rounds in which each of them makes one timed pass (the order rotated every round). Reported:
images/s and ms per image from the median pass time (range of images/s over the passes), CPU
ms per image, the speed-up over the same backend's loop, images with a pose, and the largest
landmark difference between the batch results and the loop's (they should agree to float
rounding).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vitruvian.benchmark.common import (
    BenchError,
    decode_images,
    describe_path,
    list_images,
    log,
)
from vitruvian.benchmark.latency import QUICK_IMAGES

if TYPE_CHECKING:
    from vitruvian.pipeline import PosePipeline
    from vitruvian.types import PoseResult

#: ``--batch-sizes`` default.
DEFAULT_BATCH_SIZES = (1, 2, 4, 8, 16)
#: Complexities of ``--mode batch`` when ``--complexity`` is not given.
BATCH_COMPLEXITIES = (1,)
#: The one-by-one baseline's key.
LOOP = "loop"
LITERT_NOTE = (
    "on LiteRT `process_batch` runs the items one after another (the `.tflite` graphs have a "
    "fixed batch of 1): only the Python around the model calls is shared, so expect about the "
    "loop's speed; on ONNX Runtime each stage is one model call per batch."
)


def pass_inputs(images: Sequence[np.ndarray], batch_sizes: Sequence[int]) -> list[np.ndarray]:
    """The images of one pass: ``images`` cycled up to the next multiple of the largest batch
    size (all of them when that is 1), so that the largest batches are all full."""
    largest = max(batch_sizes)
    total = math.ceil(len(images) / largest) * largest
    return [images[i % len(images)] for i in range(total)]


def _timed_pass(
    pipeline: PosePipeline, inputs: Sequence[np.ndarray], batch_size: int | None
) -> tuple[float, float, list[PoseResult | None]]:
    """One pass: wall seconds, CPU seconds and the results (``batch_size=None``: the loop)."""
    cpu_start = time.process_time()
    start = time.perf_counter()
    if batch_size is None:
        results = [pipeline.process(image) for image in inputs]
    else:
        results = []
        for first in range(0, len(inputs), batch_size):
            results.extend(pipeline.process_batch(inputs[first : first + batch_size]))
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu_start, results


def max_landmark_difference(
    a: Sequence[PoseResult | None], b: Sequence[PoseResult | None]
) -> float | None:
    """Largest absolute landmark difference between two result lists (normalised units);
    ``None`` when they differ in length or in which images have a pose."""
    if len(a) != len(b) or any((x is None) != (y is None) for x, y in zip(a, b, strict=True)):
        return None
    diffs = [
        float(np.max(np.abs(x.landmarks - y.landmarks)))
        for x, y in zip(a, b, strict=True)
        if x is not None and y is not None
    ]
    return max(diffs, default=0.0)


def _summary(
    walls: Sequence[float], cpus: Sequence[float], results: Sequence[PoseResult | None]
) -> dict[str, Any]:
    """Throughput of one (backend, configuration) over its timed passes."""
    count = len(results)
    median = float(np.median(walls))
    return {
        "images_per_s": count / median,
        "images_per_s_min": count / max(walls),
        "images_per_s_max": count / min(walls),
        "ms_per_image": median * 1e3 / count,
        "cpu_ms_per_image": sum(cpus) * 1e3 / (count * len(cpus)),
        "pass_s": list(walls),
        "results": count,
        "images_with_pose": sum(r is not None for r in results),
    }


def measure_batch(
    inputs: Sequence[np.ndarray],
    complexity: int,
    backends: Sequence[str],
    batch_sizes: Sequence[int],
    repeats: int,
    num_threads: int | None,
) -> dict[str, Any]:
    """Batch throughput at one complexity (see the module's text).

    Returns, per backend: ``{"loop": summary, "batches": {str(size): summary}}``; each batch
    summary also has ``speedup_vs_loop`` and ``max_abs_diff_vs_loop``.
    """
    from vitruvian.pipeline import PosePipeline

    configs: list[int | None] = [None, *batch_sizes]
    pipelines = {
        backend: PosePipeline(complexity, num_threads=num_threads, backend=backend)
        for backend in backends
    }
    try:
        for backend, pipeline in pipelines.items():
            for size in configs:
                log(f"  batch c{complexity} warm-up {backend} {size or LOOP}")
                _timed_pass(pipeline, inputs, size)
        runs = [(backend, size) for backend in backends for size in configs]
        walls: dict[tuple[str, int | None], list[float]] = {run: [] for run in runs}
        cpus: dict[tuple[str, int | None], list[float]] = {run: [] for run in runs}
        last: dict[tuple[str, int | None], list[PoseResult | None]] = {}
        for rep in range(repeats):
            shift = rep % len(runs)
            for backend, size in [*runs[shift:], *runs[:shift]]:
                wall, cpu, results = _timed_pass(pipelines[backend], inputs, size)
                walls[backend, size].append(wall)
                cpus[backend, size].append(cpu)
                last[backend, size] = results
            log(
                f"  batch c{complexity} pass {rep + 1}/{repeats}: "
                + ", ".join(
                    f"{b} {s or LOOP} {len(inputs) / walls[b, s][-1]:.1f} img/s" for b, s in runs
                )
            )
    finally:
        for pipeline in pipelines.values():
            pipeline.close()
    out: dict[str, Any] = {}
    for backend in backends:
        loop = _summary(walls[backend, None], cpus[backend, None], last[backend, None])
        batches: dict[str, dict[str, Any]] = {}
        for size in batch_sizes:
            stats = _summary(walls[backend, size], cpus[backend, size], last[backend, size])
            stats["batch_size"] = size
            stats["batches_per_pass"] = math.ceil(len(inputs) / size)
            stats["speedup_vs_loop"] = stats["images_per_s"] / loop["images_per_s"]
            stats["max_abs_diff_vs_loop"] = max_landmark_difference(
                last[backend, size], last[backend, None]
            )
            batches[str(size)] = stats
        out[backend] = {LOOP: loop, "batches": batches}
    return out


def run_batch(args: argparse.Namespace, backends: Sequence[str]) -> dict[str, Any]:
    """The batch section of the report (the ``"batch"`` key).

    Args:
        args: the options (``complexity``, ``batch_sizes``, ``repeats``, ``quick``,
            ``pipeline_threads``, ``data_dir``).
        backends: concrete backends (from :func:`vitruvian.models.backends.resolve_backend`).
    """
    from vitruvian.models.runtime import default_num_threads

    paths = list_images(args.data_dir)
    if not paths:
        raise BenchError(f"no images under {args.data_dir}; point --data-dir at the shared data")
    if args.quick:
        paths = paths[:QUICK_IMAGES]
    log(f"decoding {len(paths)} images")
    images = decode_images(paths)
    inputs = pass_inputs(images, args.batch_sizes)
    threads = args.pipeline_threads
    notes: list[str] = []
    if "litert" in backends:
        notes.append(LITERT_NOTE)
    if len(inputs) > len(images):
        notes.append(
            f"a pass is the {len(images)} images cycled to {len(inputs)} (a multiple of the "
            f"largest batch size, {max(args.batch_sizes)}), so that its batches are all full."
        )
    section: dict[str, Any] = {
        "images": [describe_path(p, args.data_dir) for p in paths],
        "inputs_per_pass": len(inputs),
        "settings": {
            "backends": list(backends),
            "batch_sizes": list(args.batch_sizes),
            "complexities": args.complexity,
            "repeats": args.repeats,
            "warmup_passes": 1,
            "num_threads": default_num_threads() if threads is None else threads,
        },
        "results": {},
        "notes": notes,
    }
    for complexity in args.complexity:
        log(f"complexity {complexity}: batch throughput, {len(inputs)} images per pass")
        section["results"][str(complexity)] = measure_batch(
            inputs, complexity, backends, args.batch_sizes, args.repeats, threads
        )
    return section
