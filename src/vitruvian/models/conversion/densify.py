"""DENSIFY: expand a TFLite sparse tensor into its dense array.

TFLite stores sparse weights (the pose detector has 38 of them) in a generalised CSR format:
the tensor is walked in ``traversal_order`` (the original dimensions first, then any block
dimensions); each traversal level is either *dense* (every index ``0..dense_size-1``) or
*sparse CSR* (for each parent position, the indices ``array_indices[segments[p]:segments[p+1]]``).
The stored values are the leaves of that walk, in order.

This follows ``FormatConverter::SparseToDense`` in TFLite's
``kernels/internal/utils/sparsity_format_converter.cc``, but walks the levels breadth-first with
numpy instead of recursing element by element.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DENSE = 0
SPARSE_CSR = 1


@dataclass(frozen=True)
class DimensionMetadata:
    """One traversal level: ``DENSE`` with ``dense_size``, or ``SPARSE_CSR`` with its arrays."""

    format: int
    dense_size: int = 0
    array_segments: np.ndarray | None = None
    array_indices: np.ndarray | None = None


def densify(
    values: np.ndarray,
    dense_shape: Sequence[int],
    traversal_order: Sequence[int],
    block_map: Sequence[int],
    dim_metadata: Sequence[DimensionMetadata],
) -> np.ndarray:
    """The dense tensor of shape ``dense_shape`` that a sparse TFLite tensor stands for.

    Args:
        values: the stored (non-zero) values, in traversal order.
        dense_shape: the tensor's shape.
        traversal_order: for each traversal level, the dimension it walks (original dimensions
            ``0..rank-1``, block dimensions ``rank..``).
        block_map: for each block dimension, the original dimension it subdivides.
        dim_metadata: one entry per traversal level.

    Raises:
        ValueError: inconsistent metadata (the values do not fill the walk exactly, or an index
            falls outside the dense shape).
    """
    shape = tuple(int(d) for d in dense_shape)
    rank = len(shape)
    order = [int(t) for t in traversal_order]
    blocks = [int(b) for b in block_map]
    if len(order) != len(dim_metadata) or sorted(order) != list(range(len(order))):
        raise ValueError(f"bad traversal order {order} for {len(dim_metadata)} levels")
    if len(order) != rank + len(blocks):
        raise ValueError(f"traversal order {order} does not match rank {rank} + {blocks} blocks")

    # Breadth-first walk: one row per partial path, its indices so far and its position.
    indices = np.zeros((1, 0), np.int64)
    position = np.zeros(1, np.int64)
    for meta in dim_metadata:
        if meta.format == DENSE:
            size = int(meta.dense_size)
            indices = np.concatenate(
                [
                    np.repeat(indices, size, axis=0),
                    np.tile(np.arange(size), len(position))[:, None],
                ],
                axis=1,
            )
            position = (position[:, None] * size + np.arange(size)).reshape(-1)
        elif meta.format == SPARSE_CSR:
            if meta.array_segments is None or meta.array_indices is None:
                raise ValueError("a sparse level has no segments or indices")
            segments = np.asarray(meta.array_segments, np.int64)
            level_indices = np.asarray(meta.array_indices, np.int64)
            if position.size and position.max() + 1 >= segments.size:
                raise ValueError("sparse segments are shorter than the level above needs")
            starts, ends = segments[position], segments[position + 1]
            counts = ends - starts
            if np.any(counts < 0) or (counts.sum() and ends.max() > level_indices.size):
                raise ValueError("sparse segments are not increasing or run past the indices")
            # The children of each path, in order: starts[p], starts[p]+1, ..., ends[p]-1.
            child = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
            child += np.arange(int(counts.sum()))
            indices = np.concatenate(
                [np.repeat(indices, counts, axis=0), level_indices[child][:, None]], axis=1
            )
            position = child
        else:
            raise ValueError(f"unknown sparse dimension format {meta.format}")

    flat_values = np.asarray(values).reshape(-1)
    if len(position) != flat_values.size:
        raise ValueError(
            f"the sparse walk has {len(position)} leaves but {flat_values.size} values are stored"
        )
    # Original coordinates: the dimension-level indices, refined by their block indices.
    original = np.zeros((len(position), rank), np.int64)
    for level in range(rank):
        original[:, order[level]] = indices[:, level]
    for level in range(rank, len(order)):
        block = order[level] - rank
        dim = blocks[block]
        block_size = int(dim_metadata[rank + block].dense_size)
        original[:, dim] = original[:, dim] * block_size + indices[:, level]
    if np.any(original >= np.asarray(shape)) or np.any(original < 0):
        raise ValueError(f"a sparse index falls outside the dense shape {shape}")

    dense = np.zeros(shape, flat_values.dtype)
    dense[tuple(original.T)] = flat_values
    return dense
