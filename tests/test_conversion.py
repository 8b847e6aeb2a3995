"""The TFLite -> ONNX converter (:mod:`vitruvian.models.conversion`) and the backends that use it.

* ``densify``: checked against a plain recursive port of TFLite's
  ``FormatConverter::SparseToDense`` / ``Populate``
  (``tensorflow/lite/kernels/internal/utils/sparsity_format_converter.cc``) on sparse tensors
  encoded here from random dense arrays (CSR, CSC-like traversal orders, block sparsity).
* The reader: on the four real models every weight-unpacking op (DENSIFY, DEQUANTIZE) is folded
  away, and the folded weights are bit-identical to the ones LiteRT itself computes; files that
  are not TFLite models give :class:`ConversionError`.
* The converter: hand-built graphs, op by op, against numpy references of TF's semantics
  (bilinear resize with half-pixel centers / aligned corners, SAME padding, DepthToSpace, ...)
  run through ONNX Runtime with a batch of 2 (the batch dimension is dynamic).
* Model-level parity, the acceptance test of the converter: each converted model on ONNX Runtime
  against the ``.tflite`` on LiteRT, on random inputs and on real crops of the test images, with
  the tolerances of the issue. ``pytest -s`` prints the largest difference of every output; they
  are also recorded as ``record_property`` entries (visible in ``--junitxml`` reports).
* ``run_batch``, the conversion cache and backend resolution.
"""

from __future__ import annotations

import collections
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vitruvian.calculators.detection_to_roi import detection_to_roi
from vitruvian.models import CACHE_ENV, MODEL_NAMES, ModelError, cache_dir
from vitruvian.models.backends import (
    BACKEND_ENV,
    BACKENDS,
    load_model,
    onnxruntime_gpu_works,
    resolve_backend,
)
from vitruvian.models.conversion.cache import onnx_model_path
from vitruvian.models.conversion.densify import DENSE, SPARSE_CSR, DimensionMetadata, densify
from vitruvian.models.conversion.tflite_reader import (
    ConversionError,
    Graph,
    Operator,
    Tensor,
    _fold_constants,
    read_tflite,
)
from vitruvian.models.conversion.tflite_to_onnx import (
    CONVERTER_VERSION,
    OPSET,
    convert_tflite,
    graph_to_onnx,
)
from vitruvian.models.runtime import OnnxModel, TFLiteModel
from vitruvian.pipeline import PosePipeline

ort = pytest.importorskip("onnxruntime", reason="the ONNX tests need vitruvian[onnx]")
pytest.importorskip("onnx", reason="the ONNX tests need vitruvian[onnx]")
pytest.importorskip("tflite", reason="the ONNX tests need vitruvian[onnx]")

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DETECTOR = "pose_detection"
#: Sparse (DENSIFY) weight tensors in the pinned detector; the landmark models have none.
DETECTOR_DENSIFY_OPS = 38

#: Outputs compared, by role: name -> shape with a batch of 1.
DETECTOR_OUTPUTS = {"boxes": (1, 2254, 12), "scores": (1, 2254, 1)}
LANDMARK_OUTPUTS = {
    "landmarks": (1, 195),
    "pose_flag": (1, 1),
    "mask": (1, 256, 256, 1),
    "heatmap": (1, 64, 64, 39),
    "world_landmarks": (1, 117),
}
#: The issue's tolerances (max absolute difference, ONNX Runtime vs LiteRT) for each compared
#: quantity. Measured (x86-64 CPU, ONNX Runtime 1.32, LiteRT 2.3) over the real inputs: landmarks
#: <= 1.6e-3, visibility/presence 4e-5, pose flag 6e-8, mask 1.5e-3, heatmap 6e-4, world 3e-5,
#: detector boxes 1.2e-3, scores 6e-7; random inputs stay within 1.5e-2 (landmarks).
LIMITS = {
    "boxes (224 px)": 0.05,
    "scores (sigmoid)": 1e-3,
    "landmarks xyz (256 px)": 0.05,
    "visibility/presence (sigmoid)": 1e-3,
    "pose_flag": 1e-3,
    "mask (sigmoid)": 1e-2,
    "heatmap": 1e-2,
    "world_landmarks (m)": 1e-3,
}


def _role(name: str) -> str:
    return "detector" if name == DETECTOR else "landmark"


def _outputs(name: str) -> dict[str, tuple[int, ...]]:
    return DETECTOR_OUTPUTS if name == DETECTOR else LANDMARK_OUTPUTS


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, np.float64), -80.0, 80.0)))


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    assert np.isfinite(a).all() and np.isfinite(b).all(), "non-finite output"
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ================================================================================================
# 1. densify
# ================================================================================================


def _reference_densify(
    values: np.ndarray,
    dense_shape: Sequence[int],
    traversal_order: Sequence[int],
    block_map: Sequence[int],
    dim_metadata: Sequence[DimensionMetadata],
) -> np.ndarray:
    """A line-by-line port of TFLite's ``FormatConverter::SparseToDense`` (recursive Populate)."""
    rank = len(dense_shape)
    levels = len(traversal_order)
    dense = np.zeros(tuple(dense_shape), values.dtype)
    flat_values = values.reshape(-1)
    indices = [0] * levels
    cursor = [0]

    def populate(level: int, prev_idx: int) -> None:
        if level == levels:
            orig_idx = [0] * rank
            for i in range(rank):
                orig_idx[traversal_order[i]] = indices[i]
            for i in range(rank, levels):
                b = traversal_order[i] - rank
                block_size = dim_metadata[rank + b].dense_size
                orig_idx[block_map[b]] = orig_idx[block_map[b]] * block_size + indices[i]
            dense[tuple(orig_idx)] = flat_values[cursor[0]]
            cursor[0] += 1
            return
        meta = dim_metadata[level]
        if meta.format == DENSE:
            for i in range(meta.dense_size):
                indices[level] = i
                populate(level + 1, prev_idx * meta.dense_size + i)
        else:
            assert meta.array_segments is not None and meta.array_indices is not None
            for i in range(
                int(meta.array_segments[prev_idx]), int(meta.array_segments[prev_idx + 1])
            ):
                indices[level] = int(meta.array_indices[i])
                populate(level + 1, i)

    populate(0, 0)
    assert cursor[0] == flat_values.size, "reference: values left over"
    return dense


def _encode_sparse(
    dense: np.ndarray,
    traversal_order: Sequence[int],
    formats: Sequence[int],
    block_map: Sequence[int] = (),
    block_sizes: Sequence[int] = (),
    index_dtype: type[np.generic] = np.int32,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Encode ``dense`` in TFLite's sparse format: the values and ``densify``'s keyword args.

    Level ``l`` walks dimension ``traversal_order[l]`` (``rank + b``: block dimension ``b``, of
    size ``block_sizes[b]``, subdividing original dimension ``block_map[b]``); a CSR level keeps
    only the indices whose sub-tensor holds a non-zero, a dense level keeps them all.
    """
    rank = dense.ndim
    blocked = dict(zip(block_map, block_sizes, strict=True))
    # Split each blocked dimension d into (outer, inner); then put the axes in traversal order.
    split_shape: list[int] = []
    axis_of: dict[int, int] = {}
    for d in range(rank):
        if d in blocked:
            assert dense.shape[d] % blocked[d] == 0
            axis_of[d] = len(split_shape)
            split_shape.append(dense.shape[d] // blocked[d])
            axis_of[rank + list(block_map).index(d)] = len(split_shape)
            split_shape.append(blocked[d])
        else:
            axis_of[d] = len(split_shape)
            split_shape.append(dense.shape[d])
    walk = dense.reshape(split_shape).transpose([axis_of[t] for t in traversal_order])

    paths: list[tuple[int, ...]] = [()]
    metadata = []
    for level, fmt in enumerate(formats):
        size = walk.shape[level]
        if fmt == DENSE:
            paths = [p + (i,) for p in paths for i in range(size)]
            metadata.append(DimensionMetadata(DENSE, dense_size=size))
        else:
            segments, kept_indices, children = [0], [], []
            for p in paths:
                for i in range(size):
                    if np.any(walk[p + (i,)] != 0):
                        kept_indices.append(i)
                        children.append(p + (i,))
                segments.append(len(kept_indices))
            paths = children
            metadata.append(
                DimensionMetadata(
                    SPARSE_CSR,
                    array_segments=np.array(segments, index_dtype),
                    array_indices=np.array(kept_indices, index_dtype),
                )
            )
    values = np.array([walk[p] for p in paths], dense.dtype)
    return values, {
        "dense_shape": dense.shape,
        "traversal_order": list(traversal_order),
        "block_map": list(block_map),
        "dim_metadata": metadata,
    }


def _random_sparse(
    shape: tuple[int, ...], seed: int, density: float = 0.3, block: tuple[int, ...] | None = None
) -> np.ndarray:
    """A random float16 array with about ``1 - density`` zeros (whole zero blocks if given)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)
    coarse_shape = (
        shape if block is None else tuple(s // b for s, b in zip(shape, block, strict=True))
    )
    keep = rng.random(coarse_shape) < density
    keep.flat[0], keep.flat[-1] = True, False  # never all zero, never all kept
    for axis, b in enumerate(block or ()):
        keep = np.repeat(keep, b, axis=axis)
    return np.where(keep, values, 0).astype(np.float16)


#: (case id, dense shape, traversal order, level formats, block map, block sizes)
DENSIFY_CASES: list[tuple[str, tuple[int, ...], list[int], list[int], list[int], list[int]]] = [
    ("csr-2d", (6, 9), [0, 1], [DENSE, SPARSE_CSR], [], []),
    ("detector-like-4d", (16, 1, 1, 24), [0, 1, 2, 3], [DENSE, DENSE, DENSE, SPARSE_CSR], [], []),
    ("csc-2d", (7, 5), [1, 0], [DENSE, SPARSE_CSR], [], []),
    ("all-sparse-2d", (5, 8), [0, 1], [SPARSE_CSR, SPARSE_CSR], [], []),
    ("permuted-3d", (3, 4, 5), [2, 0, 1], [DENSE, SPARSE_CSR, SPARSE_CSR], [], []),
    ("block-1x4", (4, 8), [0, 1, 2], [DENSE, SPARSE_CSR, DENSE], [1], [4]),
    ("block-2x2", (6, 8), [0, 1, 2, 3], [DENSE, SPARSE_CSR, DENSE, DENSE], [0, 1], [2, 2]),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "shape, order, formats, block_map, block_sizes",
    [case[1:] for case in DENSIFY_CASES],
    ids=[case[0] for case in DENSIFY_CASES],
)
def test_densify_matches_reference(
    shape: tuple[int, ...],
    order: list[int],
    formats: list[int],
    block_map: list[int],
    block_sizes: list[int],
    seed: int,
) -> None:
    block = None
    if block_map:
        block = tuple(
            block_sizes[block_map.index(d)] if d in block_map else 1 for d in range(len(shape))
        )
    dense = _random_sparse(shape, seed, block=block)
    assert 0 < np.count_nonzero(dense) < dense.size, "the test array must be partly sparse"
    values, kwargs = _encode_sparse(dense, order, formats, block_map, block_sizes)
    if any(f == SPARSE_CSR for f in formats) and not block_map:
        assert values.size == np.count_nonzero(dense), "the encoding should store non-zeros only"

    expected = _reference_densify(values, **kwargs)
    np.testing.assert_array_equal(expected, dense)  # the encoder and reference agree
    got = densify(values, **kwargs)
    assert got.dtype == dense.dtype and got.shape == dense.shape
    np.testing.assert_array_equal(got, dense)


@pytest.mark.parametrize("index_dtype", [np.uint8, np.uint16, np.int32, np.int64])
def test_densify_accepts_every_index_vector_type(index_dtype: type[np.generic]) -> None:
    dense = _random_sparse((5, 7), seed=3)
    values, kwargs = _encode_sparse(dense, [0, 1], [DENSE, SPARSE_CSR], index_dtype=index_dtype)
    np.testing.assert_array_equal(densify(values, **kwargs), dense)


def test_densify_all_zero_tensor() -> None:
    dense = np.zeros((4, 6), np.float16)
    values, kwargs = _encode_sparse(dense, [0, 1], [DENSE, SPARSE_CSR])
    assert values.size == 0
    got = densify(values, **kwargs)
    np.testing.assert_array_equal(got, dense)
    np.testing.assert_array_equal(_reference_densify(values, **kwargs), dense)


def _csr_case() -> tuple[np.ndarray, dict[str, Any]]:
    dense = _random_sparse((6, 9), seed=4, density=0.5)
    return _encode_sparse(dense, [0, 1], [DENSE, SPARSE_CSR])


@pytest.mark.parametrize("change", [-1, 1])
def test_densify_values_count_mismatch(change: int) -> None:
    values, kwargs = _csr_case()
    wrong = values[:-1] if change < 0 else np.concatenate([values, values[:1]])
    with pytest.raises(ValueError, match="values"):
        densify(wrong, **kwargs)


def test_densify_index_out_of_range() -> None:
    values, kwargs = _csr_case()
    csr = kwargs["dim_metadata"][1]
    indices = csr.array_indices.copy()
    indices[-1] = 9  # the column count: one past the last column
    kwargs["dim_metadata"] = [
        kwargs["dim_metadata"][0],
        DimensionMetadata(SPARSE_CSR, array_segments=csr.array_segments, array_indices=indices),
    ]
    with pytest.raises(ValueError, match="outside the dense shape"):
        densify(values, **kwargs)


def test_densify_segments_past_indices() -> None:
    values, kwargs = _csr_case()
    csr = kwargs["dim_metadata"][1]
    segments = csr.array_segments.copy()
    segments[-1] += 5
    kwargs["dim_metadata"] = [
        kwargs["dim_metadata"][0],
        DimensionMetadata(SPARSE_CSR, array_segments=segments, array_indices=csr.array_indices),
    ]
    with pytest.raises(ValueError):
        densify(values, **kwargs)


def test_densify_bad_traversal_order() -> None:
    values, kwargs = _csr_case()
    with pytest.raises(ValueError, match="traversal order"):
        densify(values, **{**kwargs, "traversal_order": [0, 0]})


# ================================================================================================
# 2. The reader
# ================================================================================================


@pytest.fixture(scope="module")
def graphs(real_models: dict[str, Path]) -> dict[str, Graph]:
    """``read_tflite`` of each model."""
    return {name: read_tflite(path) for name, path in real_models.items()}


@pytest.fixture(scope="module")
def raw_operators(real_models: dict[str, Path]) -> dict[str, list[Operator]]:
    """Each model's operators straight from the ``tflite`` package, nothing folded."""
    import tflite
    from tflite.utils import BUILTIN_OPCODE2NAME

    result = {}
    for name, path in real_models.items():
        model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
        graph = model.Subgraphs(0)
        ops = []
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            ops.append(
                Operator(
                    BUILTIN_OPCODE2NAME[builtin],
                    [int(j) for j in op.InputsAsNumpy()],
                    [int(j) for j in op.OutputsAsNumpy()],
                )
            )
        result[name] = ops
    return result


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_reader_folds_weight_unpacking(
    name: str, graphs: dict[str, Graph], raw_operators: dict[str, list[Operator]]
) -> None:
    graph = graphs[name]
    raw = collections.Counter(op.name for op in raw_operators[name])
    assert raw["DEQUANTIZE"] > 0, "the pinned models store fp16 weights"
    assert raw["DENSIFY"] == (DETECTOR_DENSIFY_OPS if name == DETECTOR else 0)

    kept = collections.Counter(op.name for op in graph.operators)
    assert kept["DENSIFY"] == kept["DEQUANTIZE"] == 0
    # Exactly the unpacking ops went; every other op is kept, in order.
    assert [op.name for op in graph.operators] == [
        op.name for op in raw_operators[name] if op.name not in ("DENSIFY", "DEQUANTIZE")
    ]

    convs = [op for op in graph.operators if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert convs
    for op in convs:
        for position in (1, 2):  # weights, bias
            tensor = graph.tensors[op.inputs[position]]
            assert tensor.value is not None, f"{op.name} input {tensor.name!r} is not constant"
            assert tensor.value.dtype == np.float32, f"{tensor.name!r} is {tensor.value.dtype}"
            assert tensor.value.shape == tensor.shape
            assert np.isfinite(tensor.value).all()
        assert np.any(graph.tensors[op.inputs[1]].value != 0)


def test_reader_densifies_the_detector(
    graphs: dict[str, Graph], raw_operators: dict[str, list[Operator]]
) -> None:
    graph = graphs[DETECTOR]
    densify_ops = [op for op in raw_operators[DETECTOR] if op.name == "DENSIFY"]
    assert len(densify_ops) == DETECTOR_DENSIFY_OPS
    zero_fraction = []
    for op in densify_ops:
        sparse, dense = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        assert dense.value is not None and dense.value.shape == dense.shape
        assert sparse.value is not None
        # The stored values are exactly the dense tensor's non-zeros (plain CSR, no blocks).
        assert sparse.value.size == np.count_nonzero(dense.value)
        zero_fraction.append(1 - sparse.value.size / dense.value.size)
    assert min(zero_fraction) > 0.3, f"these weights are not sparse: {min(zero_fraction):.2f}"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_unpacked_weights_equal_litert(
    name: str,
    real_models: dict[str, Path],
    graphs: dict[str, Graph],
    raw_operators: dict[str, list[Operator]],
) -> None:
    """The reader's DENSIFY and DEQUANTIZE results are bit-identical to LiteRT's own.

    The interpreter runs without its default XNNPACK delegate: XNNPACK takes the fp16 weights
    itself, so with it the DEQUANTIZE output tensors are never written (even with
    ``experimental_preserve_all_tensors``, 138 of the detector's 144 read back as garbage).
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(real_models[name]),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    interpreter.set_tensor(detail["index"], rng.uniform(-1, 1, detail["shape"]).astype(np.float32))
    interpreter.invoke()

    graph = graphs[name]
    checked: collections.Counter[str] = collections.Counter()
    for op in raw_operators[name]:
        if op.name not in ("DENSIFY", "DEQUANTIZE"):
            continue
        expected = interpreter.get_tensor(op.outputs[0])
        got = graph.tensors[op.outputs[0]].value
        assert got is not None
        wanted_dtype = np.float32 if op.name == "DEQUANTIZE" else np.float16
        assert expected.dtype == got.dtype == wanted_dtype
        assert expected.shape == got.shape
        np.testing.assert_array_equal(got, expected, err_msg=f"{op.name} -> {op.outputs[0]}")
        checked[op.name] += 1
    assert checked["DEQUANTIZE"] > 100
    assert checked["DENSIFY"] == (DETECTOR_DENSIFY_OPS if name == DETECTOR else 0)


def _not_a_model(kind: str, source: bytes) -> bytes:
    rng = np.random.default_rng(5)
    if kind == "empty":
        return b""
    if kind == "random":
        return rng.bytes(4096)
    if kind == "random-with-identifier":  # passes the TFL3 check, fails in the flatbuffer
        return rng.bytes(4) + b"TFL3" + rng.bytes(4096)
    if kind == "header-only":
        return source[:8]
    fraction = float(kind.removeprefix("truncated-"))
    return source[: int(len(source) * fraction)]


@pytest.mark.parametrize(
    "kind",
    [
        "empty",
        "random",
        "random-with-identifier",
        "header-only",
        "truncated-0.01",
        "truncated-0.5",
        "truncated-0.999",
    ],
)
def test_reader_refuses_non_models(kind: str, real_models: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "broken.tflite"
    path.write_bytes(_not_a_model(kind, real_models[DETECTOR].read_bytes()))
    with pytest.raises(ConversionError, match="broken.tflite") as info:
        read_tflite(path)
    message = str(info.value)
    assert "TFLite" in message
    # The whole conversion reports the same error.
    with pytest.raises(ConversionError):
        convert_tflite(path)


def test_fold_constants_errors_are_conversion_errors() -> None:
    def graph_with(op_name: str, source: Tensor) -> Graph:
        target = Tensor(1, "out", (2, 2), np.float32)
        return Graph({0: source, 1: target}, [Operator(op_name, [0], [1])], [], [1])

    int8 = Tensor(0, "w_int8", (2, 2), np.int8, np.ones((2, 2), np.int8))
    with pytest.raises(ConversionError, match="int8.*w_int8|w_int8.*int8"):
        _fold_constants(graph_with("DEQUANTIZE", int8), {})

    fp16 = Tensor(0, "w_sparse", (3,), np.float16, np.ones(3, np.float16))
    with pytest.raises(ConversionError, match="no sparsity metadata"):
        _fold_constants(graph_with("DENSIFY", fp16), {})

    dense = np.array([[1, 0], [2, 3]], np.float16)
    values, kwargs = _encode_sparse(dense, [0, 1], [DENSE, SPARSE_CSR])
    fp16.value = values[:-1]  # one value short
    info = {k: kwargs[k] for k in ("traversal_order", "block_map", "dim_metadata")}
    with pytest.raises(ConversionError, match="DENSIFY of 'w_sparse'"):
        _fold_constants(graph_with("DENSIFY", fp16), {0: info})


# ================================================================================================
# 3. The converter, op by op
# ================================================================================================


class _GraphMaker:
    """Builds a small :class:`Graph` by hand: tensors get indices in creation order."""

    def __init__(self) -> None:
        self.tensors: dict[int, Tensor] = {}
        self.operators: list[Operator] = []

    def tensor(
        self,
        shape: Sequence[int] = (),
        value: Any = None,
        dtype: type[np.generic] = np.float32,
    ) -> int:
        index = len(self.tensors)
        array = None if value is None else np.asarray(value, dtype)
        shape = array.shape if array is not None else tuple(shape)
        self.tensors[index] = Tensor(index, f"t{index}", tuple(shape), dtype, array)
        return index

    def op(self, name: str, inputs: Sequence[int], out_shape: Sequence[int], **options: Any) -> int:
        out = self.tensor(out_shape)
        self.operators.append(Operator(name, list(inputs), [out], options))
        return out

    def graph(self, inputs: Sequence[int], outputs: Sequence[int]) -> Graph:
        return Graph(self.tensors, self.operators, list(inputs), list(outputs))


def _run_onnx(graph: Graph, *feeds: np.ndarray) -> list[np.ndarray]:
    """Convert ``graph`` and run it on ONNX Runtime (CPU) with ``feeds`` for its inputs."""
    model = graph_to_onnx(graph, "handmade")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [i.name for i in session.get_inputs()]
    assert all(i.shape[0] == "batch" for i in session.get_inputs())
    return session.run(None, dict(zip(names, feeds, strict=True)))


def _nhwc(shape: tuple[int, ...], seed: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def test_unknown_op_is_named() -> None:
    g = _GraphMaker()
    x = g.tensor((1, 4, 4, 3))
    y = g.op("RELU", [x], (1, 4, 4, 3))
    z = g.op("SQUARED_DIFFERENCE", [x, y], (1, 4, 4, 3))
    w = g.op("CUSTOM(MyOp)", [z], (1, 4, 4, 3))
    with pytest.raises(ConversionError) as info:
        graph_to_onnx(g.graph([x], [w]), "tiny")
    message = str(info.value)
    assert "SQUARED_DIFFERENCE" in message and "CUSTOM(MyOp)" in message
    assert "tiny" in message and "litert" in message
    assert "RELU," in message  # the supported ops are listed


def test_non_constant_weights_are_refused() -> None:
    g = _GraphMaker()
    x = g.tensor((1, 4, 4, 3))
    w = g.tensor((2, 1, 1, 3))  # an activation, not a constant
    options = dict(padding="VALID", strides=(1, 1), dilations=(1, 1), activation=None)
    y = g.op("CONV_2D", [x, w], (1, 4, 4, 2), **options)
    with pytest.raises(ConversionError, match="must be a constant"):
        graph_to_onnx(g.graph([x, w], [y]))


def _tf_resize_bilinear(
    x: np.ndarray, out_h: int, out_w: int, align_corners: bool, half_pixel: bool
) -> np.ndarray:
    """TF/TFLite ResizeBilinear on NHWC, in float64."""

    def axis(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = np.arange(out_size, dtype=np.float64)
        if align_corners and out_size > 1:
            pos = out * (in_size - 1) / (out_size - 1)
        elif half_pixel:
            pos = (out + 0.5) * in_size / out_size - 0.5
        else:
            pos = out * in_size / out_size
        floor = np.floor(pos)
        lower = np.maximum(floor, 0).astype(np.int64)
        upper = np.minimum(np.ceil(pos), in_size - 1).astype(np.int64)
        return lower, upper, pos - floor

    y0, y1, fy = axis(x.shape[1], out_h)
    x0, x1, fx = axis(x.shape[2], out_w)
    data = x.astype(np.float64)
    fx = fx[None, None, :, None]
    top = data[:, y0][:, :, x0] * (1 - fx) + data[:, y0][:, :, x1] * fx
    bottom = data[:, y1][:, :, x0] * (1 - fx) + data[:, y1][:, :, x1] * fx
    fy = fy[None, :, None, None]
    return top * (1 - fy) + bottom * fy


#: (input HW, output HW, align_corners, half_pixel_centers)
RESIZE_CASES: list[tuple[tuple[int, int], tuple[int, int], bool, bool]] = [
    ((7, 7), (14, 14), False, True),  # as in the models (an exact scale)
    ((8, 6), (16, 12), False, True),
    ((6, 4), (9, 6), False, True),  # 1.5
    ((5, 6), (7, 11), False, True),  # non-integer scales
    ((9, 8), (4, 3), False, True),  # downscaling
    ((5, 6), (9, 11), True, False),
    ((6, 5), (4, 8), True, False),
    ((3, 3), (7, 7), True, False),
    ((4, 5), (8, 7), False, False),  # legacy (asymmetric) sampling
    ((4, 6), (1, 3), False, True),  # a single output row
    ((4, 6), (1, 3), True, False),
    ((1, 1), (3, 4), True, False),  # a single input pixel
]


def _resize_id(case: tuple[tuple[int, int], tuple[int, int], bool, bool]) -> str:
    (h, w), (oh, ow), align_corners, half_pixel = case
    mode = "align_corners" if align_corners else "half_pixel" if half_pixel else "asymmetric"
    return f"{h}x{w}-to-{oh}x{ow}-{mode}"


def _resize_graph(
    in_hw: tuple[int, int], out_hw: tuple[int, int], align_corners: bool, half_pixel: bool
) -> Graph:
    g = _GraphMaker()
    x = g.tensor((1, *in_hw, 3))
    size = g.tensor(value=out_hw, dtype=np.int32)
    y = g.op(
        "RESIZE_BILINEAR",
        [x, size],
        (1, *out_hw, 3),
        align_corners=align_corners,
        half_pixel=half_pixel,
    )
    return g.graph([x], [y])


@pytest.mark.parametrize(
    "in_hw, out_hw, align_corners, half_pixel", RESIZE_CASES, ids=map(_resize_id, RESIZE_CASES)
)
def test_resize_bilinear(
    in_hw: tuple[int, int], out_hw: tuple[int, int], align_corners: bool, half_pixel: bool
) -> None:
    data = _nhwc((2, *in_hw, 3), seed=10)
    (got,) = _run_onnx(_resize_graph(in_hw, out_hw, align_corners, half_pixel), data)
    expected = _tf_resize_bilinear(data, *out_hw, align_corners, half_pixel)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "in_hw, out_hw, align_corners, half_pixel",
    [pytest.param(*case, id=_resize_id(case)) for case in RESIZE_CASES],
)
def test_resize_bilinear_on_the_onnx_reference(
    in_hw: tuple[int, int], out_hw: tuple[int, int], align_corners: bool, half_pixel: bool
) -> None:
    """The same graphs on ONNX's own reference implementation (``onnx.reference``), which
    computes output sizes as the ONNX spec says; ONNX Runtime is more lenient."""
    from onnx.reference import ReferenceEvaluator

    graph = _resize_graph(in_hw, out_hw, align_corners, half_pixel)
    data = _nhwc((2, *in_hw, 3), seed=10)
    (got,) = ReferenceEvaluator(graph_to_onnx(graph)).run(None, {"t0": data})
    expected = _tf_resize_bilinear(data, *out_hw, align_corners, half_pixel)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_depth_to_space() -> None:
    g = _GraphMaker()
    x = g.tensor((1, 3, 4, 12))
    y = g.op("DEPTH_TO_SPACE", [x], (1, 6, 8, 3), block_size=2)
    data = _nhwc((2, 3, 4, 12), seed=11)
    (got,) = _run_onnx(g.graph([x], [y]), data)
    # TF (NHWC): out[n, h*b + i, w*b + j, c] = in[n, h, w, (i*b + j)*C + c]
    n, h, w, _ = data.shape
    expected = data.reshape(n, h, w, 2, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, 6, 8, 3)
    np.testing.assert_array_equal(got, expected)


def test_pad_including_channels() -> None:
    g = _GraphMaker()
    x = g.tensor((1, 4, 5, 3))
    paddings = [[0, 0], [1, 2], [0, 1], [3, 2]]
    pads = g.tensor(value=paddings, dtype=np.int32)
    y = g.op("PAD", [x, pads], (1, 7, 6, 8))
    data = _nhwc((2, 4, 5, 3), seed=12)
    (got,) = _run_onnx(g.graph([x], [y]), data)
    np.testing.assert_array_equal(got, np.pad(data, paddings))


@pytest.mark.parametrize("axis", [3, -1, 1, 2])
@pytest.mark.parametrize("after_pad", [False, True], ids=["nhwc-inputs", "nchw-inputs"])
@pytest.mark.parametrize("with_constant", [False, True], ids=["activations", "constant"])
def test_concatenation(axis: int, after_pad: bool, with_constant: bool) -> None:
    """Activations straight from the graph inputs (held in NHWC) or from PAD ops (held in NCHW
    inside the ONNX graph), with or without a constant part (then with a batch of 1: a constant
    has the batch of 1 of the TFLite graph)."""
    batch = 1 if with_constant else 2
    shapes = [(1, 4, 5, 3), (1, 4, 5, 2) if axis % 4 == 3 else (1, 4, 5, 3)]
    data = [_nhwc((batch, *s[1:]), seed=13 + i) for i, s in enumerate(shapes)]
    g = _GraphMaker()
    inputs = [g.tensor(s) for s in shapes]
    parts, expected_parts = list(inputs), list(data)
    if after_pad:
        border = [[0, 0], [1, 1], [1, 1], [0, 0]]
        pads = g.tensor(value=border, dtype=np.int32)
        parts = [
            g.op("PAD", [t, pads], (1, s[1] + 2, s[2] + 2, s[3]))
            for t, s in zip(inputs, shapes, strict=True)
        ]
        expected_parts = [np.pad(d, border) for d in data]
    if with_constant:
        constant = _nhwc(expected_parts[0].shape, seed=20)
        parts.insert(1, g.tensor(value=constant))
        expected_parts.insert(1, constant)
    out_shape = list(g.tensors[parts[0]].shape)
    out_shape[axis] = sum(g.tensors[t].shape[axis] for t in parts)
    y = g.op("CONCATENATION", parts, out_shape, axis=axis, activation=None)
    (got,) = _run_onnx(g.graph(inputs, [y]), *data)
    np.testing.assert_array_equal(got, np.concatenate(expected_parts, axis=axis))


def _tf_conv(
    x: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray | None,
    strides: tuple[int, int],
    dilations: tuple[int, int],
    padding: str,
    depthwise: bool,
) -> np.ndarray:
    """TF's Conv2D / DepthwiseConv2D on NHWC with TFLite weight layouts, in float64."""
    x = x.astype(np.float64)
    _, kh, kw, _ = weights.shape
    n, h, w, c = x.shape
    pads = []
    out_sizes = []
    for size, k, s, d in zip((h, w), (kh, kw), strides, dilations, strict=True):
        effective = (k - 1) * d + 1
        if padding == "SAME":
            out = -(-size // s)
            total = max((out - 1) * s + effective - size, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (size - effective) // s + 1
            pads.append((0, 0))
        out_sizes.append(out)
    xp = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    (oh, ow), (sh, sw), (dh, dw) = out_sizes, strides, dilations
    channels = weights.shape[3] if depthwise else weights.shape[0]
    result = np.zeros((n, oh, ow, channels))
    for i in range(kh):
        for j in range(kw):
            patch = xp[
                :,
                i * dh : i * dh + (oh - 1) * sh + 1 : sh,
                j * dw : j * dw + (ow - 1) * sw + 1 : sw,
            ]
            if depthwise:
                result += np.repeat(patch, channels // c, axis=3) * weights[0, i, j]
            else:
                result += patch @ weights[:, i, j, :].T.astype(np.float64)
    if bias is not None:
        result += bias
    return result


def _tf_pool(
    x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: str, kind: str
) -> np.ndarray:
    """TF's MaxPool / AvgPool on NHWC (SAME averages over the cells inside the image only)."""
    fill = -np.inf if kind == "max" else 0.0
    h, w = x.shape[1:3]
    pads, outs = [], []
    for size, k, s in zip((h, w), kernel, strides, strict=True):
        if padding == "SAME":
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (size - k) // s + 1
            pads.append((0, 0))
        outs.append(out)
    xp = np.pad(x.astype(np.float64), [(0, 0), *pads, (0, 0)], constant_values=fill)
    valid = np.pad(np.ones(x.shape[:3] + (1,)), [(0, 0), *pads, (0, 0)])
    windows = []
    counts = np.zeros((x.shape[0], *outs, 1))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows = slice(i, i + (outs[0] - 1) * strides[0] + 1, strides[0])
            cols = slice(j, j + (outs[1] - 1) * strides[1] + 1, strides[1])
            windows.append(xp[:, rows, cols])
            counts += valid[:, rows, cols]
    stacked = np.stack(windows)
    return stacked.max(axis=0) if kind == "max" else stacked.sum(axis=0) / counts


#: (id, op, input HW, channels in, kernel HW, channels out / multiplier, strides, dilations,
#:  padding, fused activation)
CONV_CASES = [
    ("same-s2-odd", "CONV_2D", (9, 10), 3, (3, 3), 4, (2, 2), (1, 1), "SAME", "RELU6"),
    ("same-s2-even-kernel", "CONV_2D", (8, 7), 3, (4, 2), 5, (2, 2), (1, 1), "SAME", None),
    ("valid-s2", "CONV_2D", (9, 10), 4, (3, 3), 2, (2, 2), (1, 1), "VALID", "RELU"),
    ("same-dilated", "CONV_2D", (9, 9), 3, (3, 3), 2, (1, 1), (2, 2), "SAME", "TANH"),
    ("1x1", "CONV_2D", (5, 6), 6, (1, 1), 3, (1, 1), (1, 1), "VALID", "RELU_N1_TO_1"),
    ("dw-same-s2", "DEPTHWISE_CONV_2D", (9, 10), 4, (3, 3), 1, (2, 2), (1, 1), "SAME", None),
    ("dw-mult2-k5", "DEPTHWISE_CONV_2D", (8, 9), 3, (5, 5), 2, (1, 1), (1, 1), "SAME", "RELU6"),
    ("dw-valid-s2", "DEPTHWISE_CONV_2D", (9, 9), 2, (3, 3), 1, (2, 2), (1, 1), "VALID", None),
]


@pytest.mark.parametrize(
    "op_name, hw, c_in, kernel, c_out, strides, dilations, padding, activation",
    [case[1:] for case in CONV_CASES],
    ids=[case[0] for case in CONV_CASES],
)
def test_convolutions(
    op_name: str,
    hw: tuple[int, int],
    c_in: int,
    kernel: tuple[int, int],
    c_out: int,
    strides: tuple[int, int],
    dilations: tuple[int, int],
    padding: str,
    activation: str | None,
) -> None:
    depthwise = op_name == "DEPTHWISE_CONV_2D"
    rng = np.random.default_rng(30)
    w_shape = (1, *kernel, c_in * c_out) if depthwise else (c_out, *kernel, c_in)
    weights = rng.normal(0, 0.5, w_shape).astype(np.float32)
    bias = rng.normal(0, 0.5, w_shape[3] if depthwise else c_out).astype(np.float32)
    data = _nhwc((2, *hw, c_in), seed=31)
    expected = _tf_conv(data, weights, bias, strides, dilations, padding, depthwise)
    expected = {
        None: lambda v: v,
        "RELU": lambda v: np.maximum(v, 0),
        "RELU6": lambda v: np.clip(v, 0, 6),
        "RELU_N1_TO_1": lambda v: np.clip(v, -1, 1),
        "TANH": np.tanh,
    }[activation](expected)

    g = _GraphMaker()
    x = g.tensor((1, *hw, c_in))
    w, b = g.tensor(value=weights), g.tensor(value=bias)
    y = g.op(
        op_name,
        [x, w, b],
        (1, *expected.shape[1:]),
        padding=padding,
        strides=strides,
        dilations=dilations,
        activation=activation,
    )
    (got,) = _run_onnx(g.graph([x], [y]), data)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "op_name, kernel, strides, padding",
    [
        ("MAX_POOL_2D", (3, 3), (2, 2), "SAME"),
        ("MAX_POOL_2D", (2, 2), (2, 2), "VALID"),
        ("AVERAGE_POOL_2D", (3, 3), (2, 2), "SAME"),
        ("AVERAGE_POOL_2D", (3, 2), (1, 2), "SAME"),
        ("AVERAGE_POOL_2D", (2, 2), (2, 2), "VALID"),
    ],
)
def test_pooling(
    op_name: str, kernel: tuple[int, int], strides: tuple[int, int], padding: str
) -> None:
    data = _nhwc((2, 9, 10, 3), seed=40)
    kind = "max" if op_name == "MAX_POOL_2D" else "average"
    expected = _tf_pool(data, kernel, strides, padding, kind)
    g = _GraphMaker()
    x = g.tensor((1, 9, 10, 3))
    y = g.op(
        op_name,
        [x],
        (1, *expected.shape[1:]),
        padding=padding,
        strides=strides,
        kernel=kernel,
        activation=None,
    )
    (got,) = _run_onnx(g.graph([x], [y]), data)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=1e-6)


def test_elementwise_ops_and_reshape_keep_nhwc_semantics() -> None:
    """ADD / MUL (with broadcast constants, fused activations), the unary ops and RESHAPE, on
    activations the converter holds in NCHW (after a convolution) and in NHWC (graph inputs)."""
    rng = np.random.default_rng(50)
    data = _nhwc((2, 4, 5, 3), seed=51)
    other = _nhwc((2, 4, 5, 3), seed=52)
    weights = rng.normal(0, 0.5, (3, 1, 1, 3)).astype(np.float32)
    scale = rng.normal(0, 1, (3,)).astype(np.float32)
    offset = rng.normal(0, 1, (1, 1, 1, 3)).astype(np.float32)

    g = _GraphMaker()
    x, x2 = g.tensor((1, 4, 5, 3)), g.tensor((1, 4, 5, 3))
    conv_options = dict(padding="VALID", strides=(1, 1), dilations=(1, 1), activation=None)
    conv = g.op("CONV_2D", [x, g.tensor(value=weights)], (1, 4, 5, 3), **conv_options)
    scaled = g.op("MUL", [conv, g.tensor(value=scale)], (1, 4, 5, 3), activation=None)
    shifted = g.op("ADD", [scaled, g.tensor(value=offset)], (1, 4, 5, 3), activation="RELU6")
    mixed = g.op("ADD", [shifted, x2], (1, 4, 5, 3), activation="RELU")  # NCHW + NHWC
    product = g.op("MUL", [x, x2], (1, 4, 5, 3), activation=None)  # NHWC * NHWC
    logistic = g.op("LOGISTIC", [mixed], (1, 4, 5, 3))
    tanh = g.op("TANH", [conv], (1, 4, 5, 3))
    relu = g.op("RELU", [conv], (1, 4, 5, 3))
    relu6 = g.op(
        "RELU6", [g.op("MUL", [conv, g.tensor(value=np.float32(8))], (1, 4, 5, 3))], (1, 4, 5, 3)
    )
    flat = g.op("RESHAPE", [tanh, g.tensor(value=[1, -1, 2], dtype=np.int32)], (1, 30, 2))
    rows = g.op("RESHAPE", [relu, g.tensor(value=[-1, 60], dtype=np.int32)], (1, 60))
    square = g.op("RESHAPE", [conv, g.tensor(value=[1, 5, 4, 3], dtype=np.int32)], (1, 5, 4, 3))
    outputs = [logistic, product, relu6, flat, rows, square]
    got = _run_onnx(g.graph([x, x2], outputs), data, other)

    conv_ref = np.einsum("nhwi,oi->nhwo", data.astype(np.float64), weights[:, 0, 0, :])
    shifted_ref = np.clip(conv_ref * scale + offset, 0, 6)
    mixed_ref = np.maximum(shifted_ref + other, 0)
    expected = [
        1 / (1 + np.exp(-mixed_ref)),
        data * other,
        np.clip(conv_ref * 8, 0, 6),
        np.tanh(conv_ref).reshape(2, 30, 2),
        np.maximum(conv_ref, 0).reshape(2, 60),
        conv_ref.reshape(2, 5, 4, 3),
    ]
    for index, (actual, wanted) in enumerate(zip(got, expected, strict=True)):
        assert actual.shape == wanted.shape, f"output {index}"
        np.testing.assert_allclose(actual, wanted, atol=1e-5, rtol=1e-5, err_msg=f"output {index}")


# ================================================================================================
# 4. Model-level parity: ONNX Runtime (converted) vs LiteRT (.tflite)
# ================================================================================================


@pytest.fixture(scope="module")
def tflite_models(real_models: dict[str, Path]) -> Iterator[dict[str, TFLiteModel]]:
    models = {name: TFLiteModel(path) for name, path in real_models.items()}
    yield models
    for model in models.values():
        model.close()


@pytest.fixture(scope="module")
def onnx_models(real_models: dict[str, Path]) -> Iterator[dict[str, OnnxModel]]:
    """The converted models (from the real cache, converted there on first use) on the CPU."""
    models = {name: OnnxModel(onnx_model_path(name), device="cpu") for name in real_models}
    yield models
    for model in models.values():
        model.close()


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def real_inputs(real_models: dict[str, Path]) -> dict[str, np.ndarray]:
    """Real model inputs: each test image letterboxed for the detector, and the landmark crop of
    its detected person (built with the pipeline's own helpers, on LiteRT)."""
    images = [DATA_DIR / "tfjs" / "pose.jpg"]
    images += sorted((DATA_DIR / "mmpose").glob("*.jpg"))[:2]
    images += sorted((DATA_DIR / "coco" / "images").glob("*.jpg"))[:2]
    images = [p for p in images if p.is_file()]
    if not images:
        pytest.skip(f"test data not found: {DATA_DIR.resolve()} (expected ../shared/data)")
    detector, landmark = [], []
    with PosePipeline(0, enable_segmentation=True, backend="litert") as pipeline:
        for path in images:
            image = _read_rgb(path)
            matrix, _ = pipeline._detector_transform(image)
            tensor = np.empty((224, 224, 3), np.float32)
            pipeline._detector_input(image, matrix, tensor)
            detector.append(tensor)
            detections = pipeline.detect(image)
            if not detections:
                continue
            height, width = image.shape[:2]
            roi = detection_to_roi(detections[0].keypoints, width, height)
            matrix, _ = pipeline._landmark_transform(image, roi)
            tensor = np.empty((256, 256, 3), np.float32)
            pipeline._landmark_input(image, matrix, tensor)
            landmark.append(tensor)
    assert len(landmark) >= 2, "the detector found a person in fewer than 2 test images"
    return {"detector": np.stack(detector), "landmark": np.stack(landmark)}


def _random_inputs(name: str, count: int, seed: int) -> np.ndarray:
    """Uniform inputs over the model's input range: [-1, 1] detector, [0, 1] landmark."""
    low, size = (-1.0, 224) if name == DETECTOR else (0.0, 256)
    rng = np.random.default_rng(seed)
    return rng.uniform(low, 1.0, (count, size, size, 3)).astype(np.float32)


def _differences(name: str, ref: list[np.ndarray], got: list[np.ndarray]) -> dict[str, float]:
    """Max absolute difference per compared quantity (outputs in :func:`_outputs` order)."""
    if name == DETECTOR:
        return {
            "boxes (224 px)": _max_diff(ref[0], got[0]),
            "scores (sigmoid)": _max_diff(_sigmoid(ref[1]), _sigmoid(got[1])),
        }
    ref_lm, got_lm = ref[0].reshape(-1, 39, 5), got[0].reshape(-1, 39, 5)
    return {
        "landmarks xyz (256 px)": _max_diff(ref_lm[..., :3], got_lm[..., :3]),
        "visibility/presence (sigmoid)": _max_diff(
            _sigmoid(ref_lm[..., 3:]), _sigmoid(got_lm[..., 3:])
        ),
        "pose_flag": _max_diff(ref[1], got[1]),
        "mask (sigmoid)": _max_diff(_sigmoid(ref[2]), _sigmoid(got[2])),
        "heatmap": _max_diff(ref[3], got[3]),
        "world_landmarks (m)": _max_diff(ref[4], got[4]),
    }


@pytest.mark.parametrize("kind", ["random", "real"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_onnx_matches_litert(
    name: str,
    kind: str,
    tflite_models: dict[str, TFLiteModel],
    onnx_models: dict[str, OnnxModel],
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    """The issue's acceptance test: every output of every converted model within tolerance."""
    if kind == "random":
        inputs = _random_inputs(name, 2, seed=60)
    else:
        inputs = request.getfixturevalue("real_inputs")[_role(name)]
    shapes = list(_outputs(name).values())
    reference, converted = tflite_models[name], onnx_models[name]
    assert converted.input_shape == reference.input_shape
    ref_indices = reference.output_indices(shapes)
    onnx_indices = converted.output_indices(shapes)

    worst: dict[str, float] = {}
    for item in inputs:
        tensor = np.ascontiguousarray(item[None])
        ref = reference.run(tensor, ref_indices)
        got = converted.run(tensor, onnx_indices)
        for key, value in _differences(name, ref, got).items():
            worst[key] = max(worst.get(key, 0.0), value)

    lines = []
    for key, value in worst.items():
        lines.append(
            f"{name} [{kind}, {len(inputs)} inputs] {key}: max |diff| {value:.3g} "
            f"(limit {LIMITS[key]:g})"
        )
        record_property(f"max_abs_diff/{name}/{kind}/{key}", value)
    print("\n" + "\n".join(lines))
    too_far = {k: v for k, v in worst.items() if not v <= LIMITS[k]}
    assert not too_far, f"{name} ({kind} inputs) outside tolerance: {too_far}"


def _inferred_output_shapes(model: Any) -> list[list[int | str]]:
    """The graph outputs' shapes as ONNX shape inference derives them (declared ones dropped)."""
    import onnx
    from onnx import shape_inference

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for output in copy.graph.output:
        output.type.tensor_type.ClearField("shape")
    inferred = shape_inference.infer_shapes(copy, strict_mode=True)
    return [
        [
            d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in o.type.tensor_type.shape.dim
        ]
        for o in inferred.graph.output
    ]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_converted_model_shapes(
    name: str, graphs: dict[str, Graph], onnx_models: dict[str, OnnxModel]
) -> None:
    """Declared input/outputs: the TFLite ones with a dynamic batch; and ONNX shape inference
    derives the same output shapes from the nodes."""
    import onnx

    model = onnx.load(str(onnx_models[name].path))
    graph = graphs[name]
    dims = [
        [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]
        for v in model.graph.output
    ]
    assert dims == [["batch", *graph.tensors[i].shape[1:]] for i in graph.outputs]
    (model_input,) = model.graph.input
    input_dims = [d.dim_value or d.dim_param for d in model_input.type.tensor_type.shape.dim]
    assert input_dims == ["batch", *graph.tensors[graph.inputs[0]].shape[1:]]
    for inferred, index in zip(_inferred_output_shapes(model), graph.outputs, strict=True):
        assert inferred[1:] == list(graph.tensors[index].shape[1:])
        assert isinstance(inferred[0], str), "the batch dimension must stay dynamic"


# ================================================================================================
# 5. Batches
# ================================================================================================


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_run_batch_equals_single_runs(
    name: str, tflite_models: dict[str, TFLiteModel], onnx_models: dict[str, OnnxModel]
) -> None:
    batch = _random_inputs(name, 3, seed=70)
    batch[1] = batch[1] ** 2  # three clearly different inputs
    batch[2] = batch[2][:, ::-1]
    batch = np.ascontiguousarray(batch)
    shapes = list(_outputs(name).values())
    for model in (tflite_models[name], onnx_models[name]):
        indices = model.output_indices(shapes)
        together = model.run_batch(batch, indices)
        alone = [model.run(np.ascontiguousarray(batch[i : i + 1]), indices) for i in range(3)]
        for k, (out, shape) in enumerate(zip(together, shapes, strict=True)):
            assert out.shape == (3, *shape[1:]), f"{model.backend} output {k}"
            expected = np.concatenate([single[k] for single in alone])
            if model.backend == "litert":
                np.testing.assert_array_equal(out, expected)
            else:  # a batch may take other kernels: equal to float32 rounding
                np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
        first = together[0]
        assert not np.allclose(first[0], first[1]) and not np.allclose(first[0], first[2])


# ================================================================================================
# 6. The conversion cache
# ================================================================================================


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lite_cache(
    real_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A temporary model cache holding only a copy of ``pose_landmark_lite.tflite``."""
    directory = tmp_path / "cache"
    directory.mkdir()
    monkeypatch.setenv(CACHE_ENV, str(directory))
    assert cache_dir() == directory  # never touch the real cache from here on
    shutil.copyfile(real_models["pose_landmark_lite"], directory / "pose_landmark_lite.tflite")
    return directory


def _file_id(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_cache_converts_once_and_records(lite_cache: Path) -> None:
    name = "pose_landmark_lite"
    tflite_path = lite_cache / f"{name}.tflite"
    onnx_path = onnx_model_path(name)
    record_path = lite_cache / f"{name}.onnx.json"
    assert onnx_path == lite_cache / f"{name}.onnx"
    assert onnx_path.is_file() and record_path.is_file()
    record = json.loads(record_path.read_text())
    assert record == {
        "model": name,
        "source_sha256": _sha256(tflite_path),
        "converter_version": CONVERTER_VERSION,
        "opset": OPSET,
        "sha256": _sha256(onnx_path),
        "size": onnx_path.stat().st_size,
    }
    assert sorted(p.name for p in lite_cache.iterdir() if p.name.startswith(".incoming")) == []
    import onnx

    onnx.checker.check_model(str(onnx_path))
    # The cached file is the converter's output for this .tflite (the conversion is stable).
    assert onnx_path.read_bytes() == convert_tflite(tflite_path).SerializeToString()

    before = (_file_id(onnx_path), _file_id(record_path))
    assert onnx_model_path(name) == onnx_path
    assert (_file_id(onnx_path), _file_id(record_path)) == before, "rewritten without cause"


def test_cache_reconverts_damaged_or_stale_files(
    lite_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "pose_landmark_lite"
    onnx_path = onnx_model_path(name)
    record_path = lite_cache / f"{name}.onnx.json"
    good = _sha256(onnx_path)
    capsys.readouterr()

    # Damaged bytes (same size): converted again, the good file is back.
    data = bytearray(onnx_path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    onnx_path.write_bytes(bytes(data))
    assert _sha256(onnx_path) != good
    assert onnx_model_path(name) == onnx_path
    assert _sha256(onnx_path) == good == json.loads(record_path.read_text())["sha256"]
    assert "re-converting" in capsys.readouterr().err

    # A record from another converter version: converted again, the record updated.
    record = json.loads(record_path.read_text())
    record["converter_version"] = CONVERTER_VERSION - 1
    record_path.write_text(json.dumps(record))
    before = _file_id(onnx_path)
    assert onnx_model_path(name) == onnx_path
    assert _file_id(onnx_path) != before, "not converted again"
    assert json.loads(record_path.read_text())["converter_version"] == CONVERTER_VERSION
    assert _sha256(onnx_path) == good
    assert "converter version" in capsys.readouterr().err

    # A lost record: converted again.
    record_path.unlink()
    assert onnx_model_path(name) == onnx_path
    assert record_path.is_file() and _sha256(onnx_path) == good


@pytest.mark.parametrize("already_converted", [False, True])
def test_cache_refuses_a_corrupt_tflite(lite_cache: Path, already_converted: bool) -> None:
    name = "pose_landmark_lite"
    tflite_path = lite_cache / f"{name}.tflite"
    onnx_path, record_path = lite_cache / f"{name}.onnx", lite_cache / f"{name}.onnx.json"
    if already_converted:
        onnx_model_path(name)
    before = {p.name: p.read_bytes() for p in lite_cache.iterdir() if p.suffix != ".tflite"}
    data = bytearray(tflite_path.read_bytes())
    data[len(data) // 3] ^= 0x01
    tflite_path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch"):
        onnx_model_path(name)
    # Nothing converted, nothing changed, and a stale conversion is never handed out.
    after = {p.name: p.read_bytes() for p in lite_cache.iterdir() if p.suffix != ".tflite"}
    assert after == before
    assert onnx_path.exists() == record_path.exists() == already_converted


# ================================================================================================
# 7. Backends
# ================================================================================================


@pytest.fixture
def no_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKEND_ENV, raising=False)


@pytest.mark.usefixtures("no_backend_env")
def test_resolve_backend_names() -> None:
    gpu = onnxruntime_gpu_works()
    assert resolve_backend("auto") == ("onnxruntime-cuda" if gpu else "litert")
    assert resolve_backend(None) == resolve_backend("auto")
    assert resolve_backend("onnxruntime") == ("onnxruntime-cuda" if gpu else "onnxruntime-cpu")
    assert resolve_backend("litert") == "litert"
    assert resolve_backend(" ONNXRuntime-CPU ") == "onnxruntime-cpu"
    for concrete in ("onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-tensorrt"):
        assert resolve_backend(concrete) == concrete


@pytest.mark.usefixtures("no_backend_env")
def test_resolve_backend_unknown_lists_the_choices() -> None:
    with pytest.raises(ValueError) as info:
        resolve_backend("tensorflow")
    message = str(info.value)
    assert "tensorflow" in message
    assert all(choice in message for choice in BACKENDS)


def test_resolve_backend_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "onnxruntime-cpu")
    assert resolve_backend(None) == "onnxruntime-cpu"
    assert resolve_backend("litert") == "litert"  # an explicit choice wins
    monkeypatch.setenv(BACKEND_ENV, "  ")
    assert resolve_backend(None) == resolve_backend("auto")
    monkeypatch.setenv(BACKEND_ENV, "bogus")
    with pytest.raises(ValueError, match="bogus"):
        resolve_backend(None)


def test_load_model_backends(real_models: dict[str, Path]) -> None:
    litert = load_model("pose_landmark_lite", "litert", num_threads=1)
    assert isinstance(litert, TFLiteModel)
    converted = load_model("pose_landmark_lite", "onnxruntime-cpu", num_threads=1)
    assert isinstance(converted, OnnxModel)
    assert converted.providers == ["CPUExecutionProvider"]
    assert converted.input_shape == litert.input_shape == (1, 256, 256, 3)
    with pytest.raises(ValueError, match="concrete backend"):
        load_model("pose_landmark_lite", "auto")


def test_cuda_backend_without_onnxruntime_gpu(real_models: dict[str, Path]) -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this ONNX Runtime has the CUDA provider")
    assert resolve_backend("onnxruntime-cuda") == "onnxruntime-cuda"
    with pytest.raises(RuntimeError, match="onnxruntime-gpu"):
        load_model("pose_landmark_lite", "onnxruntime-cuda")
    # TensorRT the same (directly: load_model would create its engine folder in the cache).
    with pytest.raises(RuntimeError, match="onnxruntime-gpu"):
        OnnxModel(onnx_model_path("pose_landmark_lite"), device="tensorrt")
