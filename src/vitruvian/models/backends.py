"""Choosing the inference backend: LiteRT on the CPU, or ONNX Runtime on the CPU or a GPU.

=========================  ====================================================================
``backend=``               runs
=========================  ====================================================================
``"litert"``               the ``.tflite`` files with LiteRT + XNNPACK (CPU)
``"onnxruntime"``          the ONNX conversion on ONNX Runtime: CUDA when it works here,
                           else the CPU
``"onnxruntime-cpu"``      ONNX Runtime, CPU execution provider
``"onnxruntime-cuda"``     ONNX Runtime, CUDA execution provider (``onnxruntime-gpu``)
``"onnxruntime-tensorrt"`` ONNX Runtime, TensorRT execution provider (engines cached in
                           ``<model cache>/tensorrt``; the first run builds them, slowly)
``"auto"`` (default)       CUDA through ONNX Runtime when ``onnxruntime-gpu`` and a working GPU
                           are present; otherwise LiteRT, the faster CPU backend
                           (``vitruvian bench --backend`` measures both)
=========================  ====================================================================

The default can be set without touching code (e.g. for MediaPipe scripts run unchanged) with
the environment variable ``VITRUVIAN_BACKEND``.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache

from vitruvian.models.assets import ModelError, cache_dir, model_path
from vitruvian.models.runtime import OnnxModel, TFLiteModel
from vitruvian.options import BACKENDS

__all__ = ["BACKENDS", "BACKEND_ENV", "load_model", "onnxruntime_gpu_works", "resolve_backend"]

#: Environment variable naming the default backend.
BACKEND_ENV = "VITRUVIAN_BACKEND"
_ONNX_HINT = "pip install 'vitruvian[onnx]' (CPU) or 'vitruvian[gpu]' (CUDA)"

Model = TFLiteModel | OnnxModel


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@lru_cache(maxsize=1)
def onnxruntime_gpu_works() -> bool:
    """Whether ONNX Runtime can run on a CUDA GPU here (tried once with a one-node model)."""
    if not (_installed("onnxruntime") and _installed("onnx")):
        return False
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            model.SerializeToString(),
            options,
            providers=["CUDAExecutionProvider", "CPUExecutionProvider"],
        )
    except Exception:
        return False
    return session.get_providers()[0] == "CUDAExecutionProvider"


def resolve_backend(backend: str | None = None) -> str:
    """The concrete backend for ``backend`` (``None``: ``$VITRUVIAN_BACKEND``, else ``"auto"``).

    Returns one of ``"litert"``, ``"onnxruntime-cpu"``, ``"onnxruntime-cuda"``,
    ``"onnxruntime-tensorrt"``.

    Raises:
        ValueError: an unknown name.
        ModelError: the backend's runtime is not installed (the message says what to install).
    """
    if backend is None:
        backend = os.environ.get(BACKEND_ENV, "").strip() or "auto"
    name = str(backend).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    has_litert = _installed("ai_edge_litert")
    has_ort = _installed("onnxruntime") and _installed("onnx")
    if name == "auto":
        if onnxruntime_gpu_works():
            return "onnxruntime-cuda"
        if has_litert:
            return "litert"
        if has_ort:
            return "onnxruntime-cpu"
        raise ModelError("no inference runtime is installed: pip install ai-edge-litert")
    if name == "litert":
        if not has_litert:
            raise ModelError("backend='litert' needs LiteRT: pip install ai-edge-litert")
        return name
    if not has_ort:
        raise ModelError(f"backend={name!r} needs onnxruntime and onnx: {_ONNX_HINT}")
    if name == "onnxruntime":
        return "onnxruntime-cuda" if onnxruntime_gpu_works() else "onnxruntime-cpu"
    return name


def load_model(name: str, backend: str, num_threads: int | None = None) -> Model:
    """Load model ``name`` (e.g. ``"pose_detection"``) on a backend from :func:`resolve_backend`.

    The ONNX backends convert the ``.tflite`` on first use and cache the result
    (:func:`vitruvian.models.conversion.cache.onnx_model_path`).
    """
    if backend == "litert":
        return TFLiteModel(model_path(name), num_threads)
    if not backend.startswith("onnxruntime-"):
        raise ValueError(
            f"load_model needs a concrete backend from resolve_backend, got {backend!r}"
        )
    from vitruvian.models.conversion.cache import onnx_model_path

    device = backend.removeprefix("onnxruntime-")
    provider_options = {}
    if device == "tensorrt":
        engines = cache_dir() / "tensorrt"
        engines.mkdir(parents=True, exist_ok=True)
        provider_options["TensorrtExecutionProvider"] = {
            "trt_engine_cache_enable": True,
            "trt_engine_cache_path": str(engines),
        }
    # The detector's CPU threads do not spin: the pipeline works between it and the next call.
    spin = name != "pose_detection"
    return OnnxModel(onnx_model_path(name), num_threads, device, provider_options, spin=spin)
