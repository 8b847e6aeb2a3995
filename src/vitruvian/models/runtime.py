"""Thin runtime layer: one loaded model per file, reused for every frame.

Two runtimes behind one small interface (``input_shape``, ``output_indices``, ``run``,
``run_filled``, ``run_batch``, ``close``):

* :class:`TFLiteModel`: LiteRT (``ai-edge-litert``) runs the ``.tflite`` files with its XNNPACK
  CPU delegate (the CPU default);
* :class:`OnnxModel`: ONNX Runtime runs vitruvian's own ONNX conversion of the same files
  (:mod:`vitruvian.models.conversion`) on the CPU, CUDA or TensorRT, with a dynamic batch dimension.

Outputs are looked up by *shape* (with a batch of 1) rather than by index, since the tensor
order inside a model file is an implementation detail of its converter.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def default_num_threads() -> int:
    """Threads for XNNPACK: the machine's cores, at most 4 (more rarely helps small models)."""
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence the C++ runtime's start-up chatter on file descriptor 2 (LiteRT prints "INFO:
    Created TensorFlow Lite XNNPACK delegate for CPU." for every model). Failures still surface
    as Python exceptions."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (e.g. some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _indices_for_shapes(
    name: str, available: Sequence[tuple[int, ...]], shapes: Sequence[tuple[int, ...]]
) -> list[int]:
    """Positions in ``available`` of the asked ``shapes`` (in the order asked)."""
    by_shape = {shape: i for i, shape in enumerate(available)}
    missing = [s for s in shapes if s not in by_shape]
    if missing:
        raise RuntimeError(
            f"{name}: outputs {sorted(by_shape)} do not include {missing}; "
            "is this the right model file?"
        )
    return [by_shape[s] for s in shapes]


class TFLiteModel:
    """A loaded ``.tflite`` model with one float32 input and a fixed set of outputs.

    Args:
        path: the model file (already verified by :mod:`vitruvian.models.assets`).
        num_threads: XNNPACK threads; ``None`` picks :func:`default_num_threads`.
    """

    backend = "litert"
    device = "cpu"

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        threads = default_num_threads() if num_threads is None else int(num_threads)
        if threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        try:
            with _native_stderr_silenced():
                self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise RuntimeError(
                f"LiteRT could not load the model {self.path}: {exc}. The file may be corrupt: "
                "delete it and run `vitruvian models fetch`."
            ) from exc
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1:
            raise RuntimeError(f"{self.path.name}: expected 1 input tensor, found {len(inputs)}")
        self._input_index = int(inputs[0]["index"])
        self.input_shape: tuple[int, ...] = tuple(int(d) for d in inputs[0]["shape"])
        self._outputs = self._interpreter.get_output_details()

    def output_indices(self, shapes: Sequence[tuple[int, ...]]) -> list[int]:
        """Tensor indices of the outputs with the given shapes (in the order asked).

        Raises:
            RuntimeError: when an asked shape is not among the model's outputs, which means the
                file is not the model the pipeline expects.
        """
        shapes_here = [tuple(int(d) for d in o["shape"]) for o in self._outputs]
        positions = _indices_for_shapes(self.path.name, shapes_here, shapes)
        return [int(self._outputs[p]["index"]) for p in positions]

    def run(self, tensor: np.ndarray, output_indices: Sequence[int]) -> list[np.ndarray]:
        """Run the model on ``tensor`` (shape :attr:`input_shape`, float32).

        Returns copies of the requested outputs, with their leading batch dimension kept.
        """
        self._interpreter.set_tensor(self._input_index, tensor)
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(i) for i in output_indices]

    def run_filled(
        self, fill: Callable[[np.ndarray], None], output_indices: Sequence[int]
    ) -> list[np.ndarray]:
        """Run the model on an input written in place by ``fill``, without an input copy.

        ``fill`` receives a writeable float32 view of the interpreter's own input buffer (shape
        :attr:`input_shape`) and must write every element; it must not keep a reference to the
        view (LiteRT refuses to run while one exists, with a ``RuntimeError``).

        Returns copies of the requested outputs, as :meth:`run` does (they are small: about
        0.04 ms per frame for all of them; views would have to be given up before the next
        run, which every result computed from them would then have to respect).
        """
        view = self._interpreter.tensor(self._input_index)()
        try:
            fill(view)
        except BaseException as exc:
            # The traceback's frames (``fill``'s and below) still reference the view; drop their
            # locals, or the interpreter could not run again while the error is kept around.
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del view
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(i) for i in output_indices]

    def run_batch(self, batch: np.ndarray, output_indices: Sequence[int]) -> list[np.ndarray]:
        """Run a batch ``(N, *input_shape[1:])`` item by item (the ``.tflite`` graphs have a
        fixed batch of 1); outputs are stacked along their batch dimension."""
        per_item = [self.run(batch[i : i + 1], output_indices) for i in range(len(batch))]
        return [np.concatenate(parts) for parts in zip(*per_item, strict=True)]

    def close(self) -> None:
        """Release the interpreter (the object cannot be used afterwards)."""
        self._interpreter = None  # type: ignore[assignment]


#: ONNX Runtime execution providers for each ``onnxruntime-*`` backend, in preference order.
ONNX_PROVIDERS: dict[str, tuple[str, ...]] = {
    "cpu": ("CPUExecutionProvider",),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "tensorrt": ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
}


class OnnxModel:
    """A converted ``.onnx`` model on ONNX Runtime: one float32 input with a dynamic batch.

    Args:
        path: the converted model (from :func:`vitruvian.models.conversion.cache.onnx_model_path`).
        num_threads: CPU threads (``intra_op_num_threads``); ``None`` picks
            :func:`default_num_threads`.
        device: ``"cpu"``, ``"cuda"`` or ``"tensorrt"`` (see :data:`ONNX_PROVIDERS`).
        provider_options: extra options per provider name (e.g. the TensorRT engine cache).
        spin: let idle CPU worker threads busy-wait for the next run (faster for back-to-back
            calls, slower when other work runs between calls).

    Raises:
        RuntimeError: the file cannot be loaded, or ``device`` asks for a GPU provider that
            ONNX Runtime cannot start here (the message lists what it can).
    """

    backend = "onnxruntime"

    def __init__(
        self,
        path: str | os.PathLike[str],
        num_threads: int | None = None,
        device: str = "cpu",
        provider_options: dict[str, dict[str, Any]] | None = None,
        spin: bool = True,
    ) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        threads = default_num_threads() if num_threads is None else int(num_threads)
        if threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        if device not in ONNX_PROVIDERS:
            raise ValueError(f"device must be one of {sorted(ONNX_PROVIDERS)}, got {device!r}")
        available = ort.get_available_providers()
        wanted = ONNX_PROVIDERS[device]
        if wanted[0] not in available:
            raise RuntimeError(
                f"ONNX Runtime here has no {wanted[0]} (it has {', '.join(available)}); for "
                "GPUs install onnxruntime-gpu instead of onnxruntime (`pip install "
                "'vitruvian[gpu]'`) with a matching CUDA, or use backend='onnxruntime-cpu'"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: no per-session warnings on stderr
        # ORT's worker threads busy-wait for the next run by default. That suits a model called
        # back to back (the landmark model, frame after frame), but after the detector the
        # pipeline has its own work to do (NMS, the crop) on the same cores: measured on two
        # cores, spinning off for the detector only took a static frame from 32 to 21 ms at
        # complexity 1 and left video mode at 12 ms; off for both, video took 14 ms.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        extra = provider_options or {}
        providers = [(p, extra.get(p, {})) for p in wanted if p in available]
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as exc:  # ORT raises its own exception types
            raise RuntimeError(
                f"ONNX Runtime could not load {self.path}: {exc}. Delete the file to have it "
                "converted again, or use backend='litert'."
            ) from exc
        active = self._session.get_providers()
        if active[0] != wanted[0]:
            raise RuntimeError(
                f"ONNX Runtime could not start {wanted[0]} for {self.path.name} (it fell back "
                f"to {active[0]}); check the GPU driver and CUDA/cuDNN libraries, or use "
                "backend='onnxruntime-cpu'"
            )
        self.device = device
        self.providers: list[str] = list(active)
        model_input = self._session.get_inputs()
        if len(model_input) != 1:
            raise RuntimeError(f"{self.path.name}: expected 1 input, found {len(model_input)}")
        self._input_name = model_input[0].name
        self.input_shape: tuple[int, ...] = tuple(
            d if isinstance(d, int) else 1 for d in model_input[0].shape
        )
        self._output_names = [o.name for o in self._session.get_outputs()]
        self._output_shapes = [
            tuple(d if isinstance(d, int) else 1 for d in o.shape)
            for o in self._session.get_outputs()
        ]
        self._input = np.zeros(self.input_shape, np.float32)

    def output_indices(self, shapes: Sequence[tuple[int, ...]]) -> list[int]:
        """Positions of the outputs with the given shapes (batch 1), in the order asked."""
        return _indices_for_shapes(self.path.name, self._output_shapes, shapes)

    def run(self, tensor: np.ndarray, output_indices: Sequence[int]) -> list[np.ndarray]:
        """Run the model on ``tensor`` (``(N, *input_shape[1:])`` float32, any ``N >= 1``)."""
        names = [self._output_names[i] for i in output_indices]
        return self._session.run(names, {self._input_name: tensor})

    run_batch = run

    def run_filled(
        self, fill: Callable[[np.ndarray], None], output_indices: Sequence[int]
    ) -> list[np.ndarray]:
        """Run the model on an input written in place by ``fill`` into a reused buffer."""
        fill(self._input)
        return self.run(self._input, output_indices)

    def close(self) -> None:
        """Release the session (the object cannot be used afterwards)."""
        self._session = None  # type: ignore[assignment]
