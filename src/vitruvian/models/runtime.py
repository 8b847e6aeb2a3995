"""Thin runtime layer: one LiteRT interpreter per model, loaded once and reused.

LiteRT (``ai-edge-litert``) runs the ``.tflite`` files with its XNNPACK CPU delegate. Outputs are
looked up by *shape* rather than by index, since the tensor order inside a ``.tflite`` file is
an implementation detail of the converter.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

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


class TFLiteModel:
    """A loaded ``.tflite`` model with one float32 input and a fixed set of outputs.

    Args:
        path: the model file (already verified by :mod:`vitruvian.models.assets`).
        num_threads: XNNPACK threads; ``None`` picks :func:`default_num_threads`.
    """

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
        by_shape = {tuple(int(d) for d in o["shape"]): int(o["index"]) for o in self._outputs}
        missing = [s for s in shapes if s not in by_shape]
        if missing:
            raise RuntimeError(
                f"{self.path.name}: outputs {sorted(by_shape)} do not include {missing}; "
                "is this the right model file?"
            )
        return [by_shape[s] for s in shapes]

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

    def close(self) -> None:
        """Release the interpreter (the object cannot be used afterwards)."""
        self._interpreter = None  # type: ignore[assignment]
