"""Model-only latency per backend (``--mode models``): the networks alone, no pre- or
post-processing.

For the person detector and the landmark model of each selected complexity (default: all
four models), each backend (``--backend``, default: the default backend) loads the model with
:func:`vitruvian.models.backends.load_model` at the same thread count (``--pipeline-threads``,
else the pipeline's default) and runs it on one fixed input of batch 1: uniform noise in the
model's input range (``[-1, 1]`` for the detector, ``[0, 1]`` for the landmark models; the
networks' cost does not depend on the values), fetching the outputs the pipeline fetches.

Protocol: per model, every backend loads it (timed; the ONNX conversion, when one is needed,
happens before and is not counted) and runs :data:`WARMUP_RUNS` untimed calls; then
``--repeats`` rounds, each of :data:`RUNS_PER_ROUND` timed ``run`` calls per backend, the
backends' order rotated every round. Reported per model and backend: median, 10th / 90th
percentile and mean ms per call over all timed calls, CPU time per call, the load time, and
the median relative to the first backend.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vitruvian.benchmark.common import log, summarize

#: Untimed calls per model and backend before timing (``--quick``: 2).
WARMUP_RUNS = 10
QUICK_WARMUP_RUNS = 2
#: Timed calls per backend in each round (``--quick``: 5).
RUNS_PER_ROUND = 30
QUICK_RUNS_PER_ROUND = 5
DETECTOR = "pose_detection"
#: Short names of the models in the report.
MODEL_LABELS = {
    DETECTOR: "detector",
    "pose_landmark_lite": "lite",
    "pose_landmark_full": "full",
    "pose_landmark_heavy": "heavy",
}


def selected_models(complexities: Sequence[int]) -> list[str]:
    """The detector, then the landmark model of each complexity (in the order given)."""
    from vitruvian.models import model_name_for_complexity

    return [DETECTOR, *dict.fromkeys(model_name_for_complexity(c) for c in complexities)]


def output_shapes(name: str) -> list[tuple[int, ...]]:
    """The outputs that :class:`vitruvian.pipeline.PosePipeline` fetches from model ``name``
    (segmentation off)."""
    from vitruvian.calculators.ssd_anchors import POSE_DETECTOR_ANCHORS, generate_anchors
    from vitruvian.calculators.tensors_to_landmarks import NUM_MODEL_LANDMARKS
    from vitruvian.pipeline import HEATMAP_SIZE

    if name == DETECTOR:
        anchors = len(generate_anchors(POSE_DETECTOR_ANCHORS))
        return [(1, anchors, 12), (1, anchors, 1)]
    return [
        (1, NUM_MODEL_LANDMARKS * 5),
        (1, 1),
        (1, HEATMAP_SIZE, HEATMAP_SIZE, NUM_MODEL_LANDMARKS),
        (1, NUM_MODEL_LANDMARKS * 3),
    ]


def model_input(name: str, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """A fixed float32 input for model ``name``: uniform noise in its input range."""
    low = -1.0 if name == DETECTOR else 0.0
    rng = np.random.default_rng(seed)
    return rng.uniform(low, 1.0, size=tuple(shape)).astype(np.float32)


class _Loaded:
    """One model loaded on one backend, with its input and output indices."""

    def __init__(self, name: str, backend: str, num_threads: int | None) -> None:
        from vitruvian.models.backends import load_model

        if backend.startswith("onnxruntime-"):
            from vitruvian.models.conversion.cache import onnx_model_path

            onnx_model_path(name)  # convert (or check the cache) outside the timed load
        start = time.perf_counter()
        self.model = load_model(name, backend, num_threads)
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.outputs = self.model.output_indices(output_shapes(name))
        self.tensor = model_input(name, self.model.input_shape)
        self.times_s: list[float] = []
        self.cpu_s = 0.0

    def run(self, calls: int, timed: bool) -> None:
        model, tensor, outputs = self.model, self.tensor, self.outputs
        cpu_start = time.process_time()
        for _ in range(calls):
            start = time.perf_counter()
            model.run(tensor, outputs)
            if timed:
                self.times_s.append(time.perf_counter() - start)
        if timed:
            self.cpu_s += time.process_time() - cpu_start


def measure_model(
    name: str,
    backends: Sequence[str],
    num_threads: int | None,
    repeats: int,
    warmup: int,
    runs_per_round: int,
) -> dict[str, dict[str, Any]]:
    """Model-only latency of one model on each backend, interleaved (see the module's text).

    Returns, per backend, the summary of its timed calls (:func:`summarize` plus
    ``cpu_ms_per_call``, ``load_ms``, ``calls``, ``input_shape``, ``ratio_to_first``).
    """
    loaded = {backend: _Loaded(name, backend, num_threads) for backend in backends}
    try:
        for backend, item in loaded.items():
            log(f"  models {MODEL_LABELS.get(name, name)}: warm-up {backend}")
            item.run(warmup, timed=False)
        order = list(backends)
        for rep in range(repeats):
            shift = rep % len(order)
            for backend in [*order[shift:], *order[:shift]]:
                loaded[backend].run(runs_per_round, timed=True)
            log(
                f"  models {MODEL_LABELS.get(name, name)} round {rep + 1}/{repeats}: "
                + ", ".join(f"{b} {np.median(loaded[b].times_s) * 1e3:.2f} ms" for b in backends)
            )
        out: dict[str, dict[str, Any]] = {}
        for backend, item in loaded.items():
            calls = len(item.times_s)
            out[backend] = {
                **summarize(item.times_s),
                "cpu_ms_per_call": item.cpu_s * 1e3 / calls,
                "load_ms": item.load_ms,
                "calls": calls,
                "input_shape": list(item.model.input_shape),
            }
        first = out[backends[0]]["median_ms"]
        for stats in out.values():
            stats["ratio_to_first"] = stats["median_ms"] / first
        return out
    finally:
        for item in loaded.values():
            item.model.close()


def run_models(args: argparse.Namespace, backends: Sequence[str]) -> dict[str, Any]:
    """The model-only section of the report (the ``"models"`` key).

    Args:
        args: the options (``complexity``, ``repeats``, ``quick``, ``pipeline_threads``).
        backends: concrete backends (from :func:`vitruvian.models.backends.resolve_backend`).
    """
    from vitruvian.models.runtime import default_num_threads

    warmup = QUICK_WARMUP_RUNS if args.quick else WARMUP_RUNS
    runs_per_round = QUICK_RUNS_PER_ROUND if args.quick else RUNS_PER_ROUND
    threads = args.pipeline_threads
    models = selected_models(args.complexity)
    section: dict[str, Any] = {
        "settings": {
            "backends": list(backends),
            "models": models,
            "num_threads": default_num_threads() if threads is None else threads,
            "warmup_runs": warmup,
            "runs_per_round": runs_per_round,
            "rounds": args.repeats,
            "batch": 1,
            "input": "uniform noise in the model's input range, fixed seed",
        },
        "labels": {name: MODEL_LABELS.get(name, name) for name in models},
        "results": {},
    }
    for name in models:
        log(f"model-only latency: {name}")
        section["results"][name] = measure_model(
            name, backends, threads, args.repeats, warmup, runs_per_round
        )
    return section
