"""Convert a TFLite model (as read by :mod:`~vitruvian.models.conversion.tflite_reader`) to ONNX.

TFLite computes in NHWC; ONNX's Conv, MaxPool, Resize and DepthToSpace are NCHW. The converter
keeps every 4-D activation in NCHW from the first layer to the last, so the only transposes are
one after the graph input, one before each graph output (or RESHAPE) that needs NHWC, and none
per layer. Weights are transposed once, at conversion time. The batch dimension is dynamic
(``"batch"``), and RESHAPE keeps it with a ``0`` in the target shape.

Supported TFLite ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, PAD, RESIZE_BILINEAR (with its
``align_corners`` / ``half_pixel_centers`` semantics), MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE,
CONCATENATION, DEPTH_TO_SPACE, LOGISTIC, RELU, RELU6, TANH, plus DEQUANTIZE (fp16) and DENSIFY
of constant weights, which the reader evaluates. Any other op raises :class:`ConversionError`
naming it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from vitruvian.models.conversion.tflite_reader import ConversionError, Graph, Operator, read_tflite

#: ONNX opset of the converted models (ONNX Runtime 1.14+, onnxruntime-web, TensorRT 8.6+).
OPSET = 17
#: Bumped whenever the converter's output changes; part of the cache key of converted files.
CONVERTER_VERSION = 2
BATCH_DIM = "batch"

_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)
#: An NHWC axis -> the same axis in NCHW.
_NHWC_AXIS_IN_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}


class _Builder:
    """Accumulates ONNX nodes and initializers while walking the TFLite operators in order."""

    def __init__(self, graph: Graph) -> None:
        from onnx import helper

        self._helper = helper
        self.graph = graph
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()
        #: TFLite tensor index -> (ONNX value name, layout) for activations.
        self._values: dict[int, tuple[str, str]] = {}
        #: (TFLite tensor index, layout) -> name of a transposed copy already made.
        self._transposed: dict[tuple[int, str], str] = {}
        self._graph_outputs = set(graph.outputs)
        self._shared: dict[tuple[str, tuple[int, ...], bytes], str] = {}
        self.names = {i: self._unique(t.name or f"tensor_{i}") for i, t in graph.tensors.items()}

    # -- names and constants ---------------------------------------------------------------------

    def _unique(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_./:-]", "_", hint) or "value"
        name, n = base, 1
        while name in self._used:
            n += 1
            name = f"{base}__{n}"
        self._used.add(name)
        return name

    def fresh(self, hint: str) -> str:
        return self._unique(hint)

    def constant(self, array: np.ndarray, hint: str) -> str:
        from onnx import numpy_helper

        name = self._unique(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def shared_constant(self, array: np.ndarray, hint: str) -> str:
        """A small constant stored once however often it is used (clip bounds, empty roi)."""
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._shared:
            self._shared[key] = self.constant(array, hint)
        return self._shared[key]

    def node(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or self.fresh(op_type.lower())
        self.nodes.append(
            self._helper.make_node(
                op_type, inputs, [output], name=self.fresh(f"{op_type}_{len(self.nodes)}"), **attrs
            )
        )
        return output

    # -- activations and layouts -----------------------------------------------------------------

    def rank(self, index: int) -> int:
        return len(self.graph.tensors[index].shape)

    def shape(self, index: int) -> tuple[int, ...]:
        return self.graph.tensors[index].shape

    def const_value(self, index: int, what: str) -> np.ndarray:
        value = self.graph.tensors[index].value
        if value is None:
            raise ConversionError(f"{what} must be a constant ({self.graph.tensors[index].name!r})")
        return value

    def is_constant(self, index: int) -> bool:
        return self.graph.tensors[index].value is not None

    def layout(self, index: int) -> str:
        if index in self._values:
            return self._values[index][1]
        return "NHWC" if self.rank(index) == 4 else "PLAIN"

    def value(self, index: int, want: str | None = None) -> str:
        """The ONNX name of a TFLite tensor, in layout ``want`` (``"NCHW"``/``"NHWC"``) if 4-D."""
        tensor = self.graph.tensors[index]
        if tensor.value is not None:
            array = tensor.value
            if want == "NCHW" and array.ndim <= 4:
                array = array.reshape((1,) * (4 - array.ndim) + array.shape).transpose(_TO_NCHW)
            return self.constant(array, f"{tensor.name}_const")
        if index not in self._values:
            raise ConversionError(f"tensor {tensor.name!r} is used before it is computed")
        name, layout = self._values[index]
        if want is None or layout == "PLAIN" or layout == want:
            return name
        key = (index, want)
        if key not in self._transposed:
            perm = _TO_NCHW if want == "NCHW" else _TO_NHWC
            self._transposed[key] = self.node(
                "Transpose", [name], self.fresh(f"{name}_{want.lower()}"), perm=list(perm)
            )
        return self._transposed[key]

    def output(self, index: int, layout: str) -> str:
        """The ONNX name an op should write TFLite tensor ``index`` to, stored in ``layout``."""
        if self.rank(index) != 4:
            layout = "PLAIN"
        name = self.names[index]
        if index in self._graph_outputs and layout == "NCHW":
            name = self.fresh(f"{name}_nchw")  # the NHWC graph output is transposed at the end
        self._values[index] = (name, layout)
        return name

    def activation(
        self, index: int, layout: str, kind: str | None, emit: Callable[[str], None]
    ) -> None:
        """Emit an op into tensor ``index`` followed by its fused activation, if any."""
        if kind is None:
            emit(self.output(index, layout))
            return
        raw = self.fresh(f"{self.names[index]}_preact")
        emit(raw)
        self.apply_activation(kind, raw, self.output(index, layout))

    def apply_activation(self, kind: str, source: str, target: str) -> None:
        """Write activation ``kind`` (a TFLite activation name) of ``source`` to ``target``."""
        clips = {"RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
        if kind == "RELU":
            self.node("Relu", [source], target)
        elif kind in clips:
            lo, hi = (self.shared_constant(np.float32(v), "clip") for v in clips[kind])
            self.node("Clip", [source, lo, hi], target)
        elif kind == "TANH":
            self.node("Tanh", [source], target)
        else:
            raise ConversionError(f"unsupported fused activation {kind}")


# -- op converters -------------------------------------------------------------------------------


def _same_pads(
    size: tuple[int, int],
    kernel: tuple[int, int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
) -> list[int]:
    """TensorFlow's SAME padding as ONNX ``pads`` [top, left, bottom, right] (extra at the end)."""
    begins, ends = [], []
    for n, k, s, d in zip(size, kernel, strides, dilations, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def _spatial_pads(
    b: _Builder, op: Operator, kernel: tuple[int, int], dilations: tuple[int, int] = (1, 1)
) -> list[int]:
    if op.options["padding"] == "VALID":
        return [0, 0, 0, 0]
    _, h, w, _ = b.shape(op.inputs[0])
    return _same_pads((h, w), kernel, op.options["strides"], dilations)


def _conv(b: _Builder, op: Operator) -> None:
    depthwise = op.name == "DEPTHWISE_CONV_2D"
    weights = b.const_value(op.inputs[1], f"{op.name} weights").astype(np.float32)
    if weights.ndim != 4 or b.rank(op.inputs[0]) != 4:
        raise ConversionError(f"{op.name}: expected 4-D input and weights")
    channels = b.shape(op.inputs[0])[3]
    if depthwise:  # [1, kh, kw, C*m] -> [C*m, 1, kh, kw], one group per input channel
        kernel = weights.transpose(3, 0, 1, 2)
        group = channels
    else:  # [O, kh, kw, I] -> [O, I, kh, kw]
        kernel = weights.transpose(0, 3, 1, 2)
        group = max(1, channels // kernel.shape[1])
    dilations = tuple(op.options["dilations"])
    inputs = [b.value(op.inputs[0], "NCHW"), b.constant(kernel, f"{b.names[op.inputs[1]]}_oihw")]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias = b.const_value(op.inputs[2], f"{op.name} bias").astype(np.float32).reshape(-1)
        inputs.append(b.constant(bias, f"{b.names[op.inputs[2]]}_bias"))
    attrs = dict(
        kernel_shape=list(kernel.shape[2:]),
        strides=list(op.options["strides"]),
        dilations=list(dilations),
        pads=_spatial_pads(b, op, kernel.shape[2:], dilations),
        group=group,
    )
    b.activation(
        op.outputs[0],
        "NCHW",
        op.options.get("activation"),
        lambda out: b.node("Conv", inputs, out, **attrs),
    )


def _pool(b: _Builder, op: Operator) -> None:
    kernel = tuple(op.options["kernel"])
    attrs = dict(
        kernel_shape=list(kernel),
        strides=list(op.options["strides"]),
        pads=_spatial_pads(b, op, kernel),
    )
    onnx_op = "MaxPool" if op.name == "MAX_POOL_2D" else "AveragePool"
    if onnx_op == "AveragePool":
        attrs["count_include_pad"] = 0  # TFLite averages over the valid cells only
    source = b.value(op.inputs[0], "NCHW")
    b.activation(
        op.outputs[0],
        "NCHW",
        op.options.get("activation"),
        lambda out: b.node(onnx_op, [source], out, **attrs),
    )


def _binary(b: _Builder, op: Operator) -> None:
    four_d = [i for i in op.inputs if b.rank(i) == 4 and not b.is_constant(i)]
    layout = "NCHW" if four_d and all(b.layout(i) == "NCHW" for i in four_d) else None
    if layout is None and four_d:
        layout = "NHWC"
    names = [b.value(i, layout) for i in op.inputs]
    onnx_op = {"ADD": "Add", "MUL": "Mul"}[op.name]
    b.activation(
        op.outputs[0],
        layout or "PLAIN",
        op.options.get("activation"),
        lambda out: b.node(onnx_op, names, out),
    )


def _pad(b: _Builder, op: Operator) -> None:
    paddings = b.const_value(op.inputs[1], "PAD paddings").astype(np.int64).reshape(-1, 2)
    if b.rank(op.inputs[0]) == 4:
        paddings = paddings[list(_TO_NCHW)]
        source, layout = b.value(op.inputs[0], "NCHW"), "NCHW"
    else:
        source, layout = b.value(op.inputs[0]), "PLAIN"
    pads = b.constant(np.concatenate([paddings[:, 0], paddings[:, 1]]), "pads")
    b.node("Pad", [source, pads], b.output(op.outputs[0], layout), mode="constant")


def _resize_bilinear(b: _Builder, op: Operator) -> None:
    _, in_h, in_w, _ = b.shape(op.inputs[0])
    out_h, out_w = (int(v) for v in b.const_value(op.inputs[1], "RESIZE_BILINEAR size"))
    if op.options["align_corners"]:
        mode = "align_corners"
    elif op.options["half_pixel"]:
        mode = "half_pixel"  # TF's half_pixel_centers: (x + 0.5) * in/out - 0.5, clamped at 0
    else:
        mode = "asymmetric"
    source = b.value(op.inputs[0], "NCHW")
    roi = b.shared_constant(np.zeros(0, np.float32), "roi")
    scales = np.array([1.0, 1.0, out_h / in_h, out_w / in_w], np.float32)
    # ONNX sizes the output floor(n * scale) with the float32 scale (checked in float64, as the
    # spec's reference does): use scales only for whole-number ratios, where that is exact.
    exact = all(
        m % n == 0 and int(np.floor(n * float(s))) == m
        for n, s, m in ((in_h, scales[2], out_h), (in_w, scales[3], out_w))
    )
    inputs = [source, roi]
    if exact:
        inputs.append(b.constant(scales, "scales"))
    else:  # sizes = [batch, channels] of the input + the target size
        shape = b.node("Shape", [source], end=2)
        target = b.constant(np.array([out_h, out_w], np.int64), "size")
        inputs += ["", b.node("Concat", [shape, target], axis=0)]
    b.node(
        "Resize",
        inputs,
        b.output(op.outputs[0], "NCHW"),
        mode="linear",
        coordinate_transformation_mode=mode,
    )


def _reshape(b: _Builder, op: Operator) -> None:
    if len(op.inputs) > 1 and op.inputs[1] >= 0 and b.is_constant(op.inputs[1]):
        new_shape = [int(d) for d in b.const_value(op.inputs[1], "RESHAPE shape").reshape(-1)]
    elif "new_shape" in op.options:
        new_shape = list(op.options["new_shape"])
    else:
        raise ConversionError("RESHAPE with a computed target shape is not supported")
    in_shape = b.shape(op.inputs[0])
    if new_shape and in_shape and new_shape[0] == in_shape[0] == 1:
        new_shape[0] = 0  # keep the (dynamic) batch dimension
    source = b.value(op.inputs[0], "NHWC")  # TFLite reshapes in NHWC element order
    out_rank = len(b.shape(op.outputs[0]))
    target = b.constant(np.array(new_shape, np.int64), "shape")
    if out_rank == 4:
        flat = b.node("Reshape", [source, target])
        b.node("Transpose", [flat], b.output(op.outputs[0], "NCHW"), perm=list(_TO_NCHW))
    else:
        b.node("Reshape", [source, target], b.output(op.outputs[0], "PLAIN"))


def _concatenation(b: _Builder, op: Operator) -> None:
    rank = b.rank(op.outputs[0])
    axis = op.options["axis"] % rank
    layout = "PLAIN"
    if rank == 4:
        activations = [i for i in op.inputs if not b.is_constant(i)]
        layout = "NCHW" if all(b.layout(i) == "NCHW" for i in activations) else "NHWC"
        if layout == "NCHW":
            axis = _NHWC_AXIS_IN_NCHW[axis]
    names = [b.value(i, layout if rank == 4 else None) for i in op.inputs]
    b.activation(
        op.outputs[0],
        layout,
        op.options.get("activation"),
        lambda out: b.node("Concat", names, out, axis=axis),
    )


def _depth_to_space(b: _Builder, op: Operator) -> None:
    # TF's DepthToSpace reads channel (i * block + j) * C_out + c: ONNX's "DCR" order.
    source = b.value(op.inputs[0], "NCHW")
    b.node(
        "DepthToSpace",
        [source],
        b.output(op.outputs[0], "NCHW"),
        blocksize=int(op.options["block_size"]),
        mode="DCR",
    )


def _logistic(b: _Builder, op: Operator) -> None:
    layout = b.layout(op.inputs[0])
    b.node("Sigmoid", [b.value(op.inputs[0])], b.output(op.outputs[0], layout))


def _activation(kind: str) -> Callable[[_Builder, Operator], None]:
    """A standalone activation op (RELU, RELU6, TANH), as its fused form is emitted."""

    def convert(b: _Builder, op: Operator) -> None:
        layout = b.layout(op.inputs[0])
        b.apply_activation(kind, b.value(op.inputs[0]), b.output(op.outputs[0], layout))

    return convert


CONVERTERS: dict[str, Callable[[_Builder, Operator], None]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _conv,
    "MAX_POOL_2D": _pool,
    "AVERAGE_POOL_2D": _pool,
    "ADD": _binary,
    "MUL": _binary,
    "PAD": _pad,
    "RESIZE_BILINEAR": _resize_bilinear,
    "RESHAPE": _reshape,
    "CONCATENATION": _concatenation,
    "DEPTH_TO_SPACE": _depth_to_space,
    "LOGISTIC": _logistic,
    "RELU": _activation("RELU"),
    "RELU6": _activation("RELU6"),
    "TANH": _activation("TANH"),
}


def graph_to_onnx(graph: Graph, name: str = "model") -> Any:
    """Build an ``onnx.ModelProto`` from a TFLite graph (float32 in and out, dynamic batch).

    Raises:
        ConversionError: an op this converter does not support, or an input it cannot express.
    """
    import onnx
    from onnx import TensorProto, helper

    unsupported = sorted({op.name for op in graph.operators if op.name not in CONVERTERS})
    if unsupported:
        raise ConversionError(
            f"{name}: TFLite op(s) {', '.join(unsupported)} are not supported by vitruvian's ONNX "
            f"converter (it handles {', '.join(sorted(CONVERTERS))}, DEQUANTIZE and DENSIFY). "
            "Use backend='litert' for this model."
        )
    b = _Builder(graph)

    def value_info(index: int) -> Any:
        tensor = graph.tensors[index]
        if tensor.dtype != np.float32:
            raise ConversionError(f"{name}: graph input/output {tensor.name!r} is not float32")
        dims: list[int | str] = list(tensor.shape)
        if dims:
            dims[0] = BATCH_DIM
        return helper.make_tensor_value_info(b.names[index], TensorProto.FLOAT, dims)

    inputs = []
    for index in graph.inputs:
        inputs.append(value_info(index))
        b._values[index] = (b.names[index], "NHWC" if b.rank(index) == 4 else "PLAIN")
    for op in graph.operators:
        CONVERTERS[op.name](b, op)
    outputs = []
    for index in graph.outputs:
        if index not in b._values:
            raise ConversionError(
                f"{name}: graph output {graph.tensors[index].name!r} is never computed"
            )
        internal, layout = b._values[index]
        if layout == "NCHW":
            b.node("Transpose", [internal], b.names[index], perm=list(_TO_NHWC))
        outputs.append(value_info(index))

    onnx_graph = helper.make_graph(b.nodes, name, inputs, outputs, b.initializers)
    model = helper.make_model(
        onnx_graph,
        producer_name="vitruvian",
        producer_version=str(CONVERTER_VERSION),
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = 8  # readable by ONNX Runtime 1.14 and newer
    onnx.checker.check_model(model)
    return model


def convert_tflite(path: str | os.PathLike[str]) -> Any:
    """Read a ``.tflite`` file and return the equivalent ``onnx.ModelProto``."""
    graph = read_tflite(path)
    return graph_to_onnx(graph, name=os.path.splitext(os.path.basename(os.fspath(path)))[0])
