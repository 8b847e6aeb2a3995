"""Read a ``.tflite`` flatbuffer into a small, plain graph: tensors, constants and operators.

Only what the converter needs is kept: each tensor's name, shape, type and (for weights) its
value as a numpy array; each operator's name, inputs, outputs and options as a dict. Constant
sub-graphs that exist only to unpack weights (``DENSIFY`` of sparse fp16 weights, then
``DEQUANTIZE`` to float32) are evaluated here, so the graph handed on holds plain float32
weights.

The flatbuffer is parsed with the ``tflite`` package (generated from TFLite's ``schema.fbs``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vitruvian.models.conversion.densify import DimensionMetadata, densify

#: TFLite ``TensorType`` values -> numpy dtypes (the ones a float model can carry).
_DTYPES: dict[int, type[np.generic]] = {
    0: np.float32,
    1: np.float16,
    2: np.int32,
    3: np.uint8,
    4: np.int64,
    6: np.bool_,
    7: np.int16,
    9: np.int8,
    10: np.float64,
}

#: Fused activation codes (``ActivationFunctionType``).
ACTIVATIONS = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}
#: ``Padding`` codes.
PADDINGS = {0: "SAME", 1: "VALID"}


class ConversionError(RuntimeError):
    """The ``.tflite`` file cannot be converted (unsupported op, corrupt or unexpected file)."""


@dataclass
class Tensor:
    """A tensor of the graph; ``value`` is set for constants (weights, shapes, paddings)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type[np.generic]
    value: np.ndarray | None = None


@dataclass
class Operator:
    """One operator: its builtin name (e.g. ``"CONV_2D"``), tensor indices and options."""

    name: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """A TFLite subgraph with its constants evaluated."""

    tensors: dict[int, Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]


def _options(op: Any, name: str) -> dict[str, Any]:
    """The options this converter reads, for the ops that have any."""
    import tflite

    table = op.BuiltinOptions()
    kinds: dict[str, type] = {
        "CONV_2D": tflite.Conv2DOptions,
        "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
        "MAX_POOL_2D": tflite.Pool2DOptions,
        "AVERAGE_POOL_2D": tflite.Pool2DOptions,
        "ADD": tflite.AddOptions,
        "MUL": tflite.MulOptions,
        "CONCATENATION": tflite.ConcatenationOptions,
        "RESIZE_BILINEAR": tflite.ResizeBilinearOptions,
        "DEPTH_TO_SPACE": tflite.DepthToSpaceOptions,
        "RESHAPE": tflite.ReshapeOptions,
    }
    if name not in kinds or table is None:
        return {}
    opts = kinds[name]()
    opts.Init(table.Bytes, table.Pos)
    out: dict[str, Any] = {}
    if hasattr(opts, "FusedActivationFunction"):
        code = opts.FusedActivationFunction()
        if code not in ACTIVATIONS:
            raise ConversionError(f"{name}: unsupported fused activation code {code}")
        out["activation"] = ACTIVATIONS[code]
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        out.update(
            padding=PADDINGS[opts.Padding()],
            strides=(opts.StrideH(), opts.StrideW()),
            dilations=(opts.DilationHFactor(), opts.DilationWFactor()),
        )
    elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        out.update(
            padding=PADDINGS[opts.Padding()],
            strides=(opts.StrideH(), opts.StrideW()),
            kernel=(opts.FilterHeight(), opts.FilterWidth()),
        )
    elif name == "CONCATENATION":
        out["axis"] = opts.Axis()
    elif name == "RESIZE_BILINEAR":
        out.update(
            align_corners=bool(opts.AlignCorners()), half_pixel=bool(opts.HalfPixelCenters())
        )
    elif name == "DEPTH_TO_SPACE":
        out["block_size"] = opts.BlockSize()
    elif name == "RESHAPE" and opts.NewShapeLength():
        out["new_shape"] = tuple(int(d) for d in opts.NewShapeAsNumpy())
    return out


def _index_vector(kind: int, table: Any) -> np.ndarray | None:
    """A ``SparseIndexVector`` union (int32, uint16 or uint8 values) as an int64 array."""
    import tflite

    if table is None or kind == 0:
        return None
    classes = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}
    if kind not in classes:
        raise ConversionError(f"unknown sparse index vector type {kind}")
    vector = classes[kind]()
    vector.Init(table.Bytes, table.Pos)
    return np.asarray(vector.ValuesAsNumpy(), np.int64).reshape(-1)


def _buffer_bytes(model: Any, data: bytes, index: int) -> bytes:
    buffer = model.Buffers(index)
    if buffer is None:
        return b""
    offset, size = int(buffer.Offset()), int(buffer.Size())
    if offset > 1:  # large models keep buffers after the flatbuffer
        if offset + size > len(data):
            raise ConversionError("a weight buffer runs past the end of the file (truncated?)")
        return data[offset : offset + size]
    if buffer.DataLength() == 0:
        return b""
    return buffer.DataAsNumpy().tobytes()


def _constant(model: Any, data: bytes, tensor: Any, dtype: type[np.generic]) -> np.ndarray | None:
    raw = _buffer_bytes(model, data, tensor.Buffer())
    if not raw:
        return None
    values = np.frombuffer(raw, dtype=dtype)
    shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
    sparsity = tensor.Sparsity()
    if sparsity is None:
        if values.size != int(np.prod(shape, dtype=np.int64)):
            raise ConversionError(
                f"tensor {tensor.Name().decode(errors='replace')!r}: {values.size} values for "
                f"shape {shape}"
            )
        return values.reshape(shape).copy()
    # Sparse weights stay sparse here; DENSIFY expands them (see _fold_constants).
    return values.copy()


def _sparsity(tensor: Any) -> dict[str, Any] | None:
    sparsity = tensor.Sparsity()
    if sparsity is None:
        return None
    levels = []
    for i in range(sparsity.DimMetadataLength()):
        meta = sparsity.DimMetadata(i)
        levels.append(
            DimensionMetadata(
                format=int(meta.Format()),
                dense_size=int(meta.DenseSize()),
                array_segments=_index_vector(meta.ArraySegmentsType(), meta.ArraySegments()),
                array_indices=_index_vector(meta.ArrayIndicesType(), meta.ArrayIndices()),
            )
        )
    return {
        "traversal_order": [int(t) for t in sparsity.TraversalOrderAsNumpy()]
        if sparsity.TraversalOrderLength()
        else [],
        "block_map": [int(b) for b in sparsity.BlockMapAsNumpy()]
        if sparsity.BlockMapLength()
        else [],
        "dim_metadata": levels,
    }


def read_tflite(path: str | os.PathLike[str]) -> Graph:
    """Parse the first subgraph of a ``.tflite`` file, with weight-unpacking ops folded away.

    Raises:
        ConversionError: the file is not a TFLite model, has several subgraphs, or uses a tensor
            type or custom op this converter does not handle.
    """
    import tflite
    from tflite.utils import BUILTIN_OPCODE2NAME

    data = Path(path).read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ConversionError(f"{path} is not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() != 1:
            raise ConversionError(f"{path}: expected 1 subgraph, found {model.SubgraphsLength()}")
        graph = model.Subgraphs(0)

        tensors: dict[int, Tensor] = {}
        sparse: dict[int, dict[str, Any]] = {}
        for i in range(graph.TensorsLength()):
            t = graph.Tensors(i)
            if t.Type() not in _DTYPES:
                raise ConversionError(f"tensor {t.Name()!r}: unsupported TFLite type {t.Type()}")
            dtype = _DTYPES[t.Type()]
            shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
            tensors[i] = Tensor(i, t.Name().decode(errors="replace"), shape, dtype)
            tensors[i].value = _constant(model, data, t, dtype)
            info = _sparsity(t)
            if info is not None:
                sparse[i] = info

        operators = []
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code_table = model.OperatorCodes(op.OpcodeIndex())
            code = max(int(code_table.BuiltinCode()), int(code_table.DeprecatedBuiltinCode()))
            name = BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")
            if name == "CUSTOM":
                custom = code_table.CustomCode()
                name = f"CUSTOM({custom.decode(errors='replace') if custom else '?'})"
            operators.append(
                Operator(
                    name=name,
                    inputs=[int(j) for j in op.InputsAsNumpy()] if op.InputsLength() else [],
                    outputs=[int(j) for j in op.OutputsAsNumpy()] if op.OutputsLength() else [],
                    options=_options(op, name),
                )
            )
        inputs = [int(j) for j in graph.InputsAsNumpy()]
        outputs = [int(j) for j in graph.OutputsAsNumpy()]
        used = inputs + outputs + [j for op in operators for j in op.inputs + op.outputs]
        bad = sorted({j for j in used if j != -1 and j not in tensors})
        if bad:
            raise ConversionError(f"{path}: operators refer to missing tensors {bad[:5]}")
    except ConversionError:
        raise
    except Exception as exc:  # flatbuffer accessors fail with assorted errors on corrupt data
        raise ConversionError(f"{path}: cannot parse the TFLite model ({exc})") from exc

    result = Graph(tensors, operators, inputs, outputs)
    _fold_constants(result, sparse)
    return result


def _fold_constants(graph: Graph, sparse: dict[int, dict[str, Any]]) -> None:
    """Evaluate DENSIFY and DEQUANTIZE on constants and drop them from the operator list."""
    kept = []
    for op in graph.operators:
        source = graph.tensors[op.inputs[0]] if op.inputs else None
        if op.name == "DENSIFY" and source is not None and source.value is not None:
            info = sparse.get(source.index)
            if info is None:
                raise ConversionError(f"DENSIFY input {source.name!r} has no sparsity metadata")
            target = graph.tensors[op.outputs[0]]
            try:
                target.value = densify(source.value, target.shape, **info)
            except ValueError as exc:
                raise ConversionError(f"DENSIFY of {source.name!r}: {exc}") from exc
        elif op.name == "DEQUANTIZE" and source is not None and source.value is not None:
            if source.index in sparse:
                raise ConversionError(f"DEQUANTIZE of the still-sparse tensor {source.name!r}")
            if source.dtype != np.float16:
                raise ConversionError(
                    f"DEQUANTIZE of {np.dtype(source.dtype).name} weights ({source.name!r}) is "
                    "not supported: only fp16 weights are"
                )
            graph.tensors[op.outputs[0]].value = source.value.astype(np.float32)
        else:
            kept.append(op)
    graph.operators = kept
