"""Deterministic test clips for the video-mode goldens and tests.

This module depends only on numpy and OpenCV (no other ``vitruvian`` import), so that
``scripts/make_goldens.py`` can load it by file path inside a foreign Python environment (the
reference MediaPipe one) and build exactly the same frames as the tests do, like
:mod:`vitruvian.crops`.

* :func:`read_video_rgb` decodes a video file with OpenCV into RGB frames.
* :func:`still_with_jitter` turns one still image into a short clip of the same scene moved by
  small sub-pixel translations: a seeded, bounded random walk, the same on every platform (the
  random numbers come from a self-contained SplitMix64 generator, not from numpy's streams).
* :func:`landmark_jitter` measures how much landmark tracks shake over a clip.
* :func:`paste` and :func:`people_clip` build clips of several people from one-person clips,
  each copy at a known place, so that each person's true pose is known by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

__all__ = [
    "JITTER_AMPLITUDE_PX",
    "JITTER_FRAMES",
    "JITTER_SEED",
    "JITTER_STEP_PX",
    "jitter_offsets",
    "Layer",
    "landmark_jitter",
    "paste",
    "people_clip",
    "read_video_rgb",
    "still_with_jitter",
]

#: Defaults of :func:`still_with_jitter`: number of frames, walk bound, largest step, seed.
JITTER_FRAMES = 40
JITTER_AMPLITUDE_PX = 1.5
JITTER_STEP_PX = 0.75
JITTER_SEED = 20240

_MASK64 = (1 << 64) - 1


def _splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: returns ``(new_state, 64-bit output)``."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _uniforms(seed: int, count: int) -> list[float]:
    """``count`` deterministic floats in [0, 1) (53-bit resolution) from ``seed``."""
    state = seed & _MASK64
    values = []
    for _ in range(count):
        state, out = _splitmix64(state)
        values.append((out >> 11) / float(1 << 53))
    return values


def jitter_offsets(
    n_frames: int = JITTER_FRAMES,
    amplitude: float = JITTER_AMPLITUDE_PX,
    step: float = JITTER_STEP_PX,
    seed: int = JITTER_SEED,
) -> np.ndarray:
    """Translations of a bounded random walk, one ``(dx, dy)`` per frame.

    Frame 0 is not moved. Each later frame adds an independent step, uniform in
    ``[-step, step)`` per axis, to the previous offset; an offset that leaves
    ``[-amplitude, amplitude]`` is reflected back at the bound.

    Args:
        n_frames: number of frames (>= 1).
        amplitude: largest offset from the original position, in pixels.
        step: largest change between consecutive frames, per axis, in pixels.
        seed: seed of the random walk.

    Returns:
        ``(n_frames, 2)`` float64 offsets in pixels.
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if amplitude < 0 or step < 0:
        raise ValueError(f"amplitude and step must be >= 0, got {amplitude} and {step}")
    draws = _uniforms(seed, 2 * (n_frames - 1))
    offsets = np.zeros((n_frames, 2), dtype=np.float64)
    for i in range(1, n_frames):
        for axis in range(2):
            value = offsets[i - 1, axis] + (2.0 * draws[2 * (i - 1) + axis] - 1.0) * step
            if value > amplitude:
                value = 2.0 * amplitude - value
            elif value < -amplitude:
                value = -2.0 * amplitude - value
            offsets[i, axis] = value
    return offsets


def still_with_jitter(
    image: np.ndarray,
    n_frames: int = JITTER_FRAMES,
    amplitude: float = JITTER_AMPLITUDE_PX,
    step: float = JITTER_STEP_PX,
    seed: int = JITTER_SEED,
) -> list[np.ndarray]:
    """A "still camera with jitter" clip: ``image`` translated by :func:`jitter_offsets`.

    Each frame is ``cv2.warpAffine`` of ``image`` by the pure translation ``(dx, dy)`` of that
    frame (content moves right/down for positive offsets) with ``INTER_LINEAR`` interpolation and
    ``BORDER_REFLECT`` borders, at the input's size and dtype.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` image (e.g. RGB uint8).
        n_frames, amplitude, step, seed: see :func:`jitter_offsets`.

    Returns:
        ``n_frames`` C-contiguous arrays shaped like ``image``.
    """
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must be a non-empty (H, W) or (H, W, C) array, got {image.shape}")
    height, width = image.shape[:2]
    frames = []
    for dx, dy in jitter_offsets(n_frames, amplitude, step, seed):
        matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
        frame = cv2.warpAffine(
            image,
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        frames.append(np.ascontiguousarray(frame))
    return frames


def read_video_rgb(path: str | Path, max_frames: int | None = None) -> list[np.ndarray]:
    """Decode the frames of a video file with OpenCV, converted from BGR to RGB.

    Args:
        path: the video file.
        max_frames: stop after this many frames (``None``: all).

    Returns:
        The frames in order, each a C-contiguous ``(H, W, 3)`` uint8 RGB array.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        OSError: OpenCV cannot open the file or decodes no frame from it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f"OpenCV cannot open the video {path}")
    frames: list[np.ndarray] = []
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    finally:
        capture.release()
    if not frames:
        raise OSError(f"no frame decoded from {path}")
    return frames


def landmark_jitter(points: np.ndarray) -> float:
    """Jitter of landmark tracks: the mean norm of their second difference over frames.

    For positions ``p[t, k]`` (frame ``t``, landmark ``k``), the second difference
    ``p[t + 1, k] - 2 p[t, k] + p[t - 1, k]`` is the change of velocity at frame ``t``: zero for a
    still or uniformly moving point, large for a point that shakes. The jitter is the mean of its
    Euclidean norm over every inner frame ``t`` (``1 .. T - 2``) and every landmark ``k``, in the
    units of ``points`` (pixels for landmarks scaled by the image size).

    Args:
        points: ``(T, K, D)`` positions of ``K`` landmarks over ``T >= 3`` frames (``D`` = 2 for
            image x, y).

    Returns:
        The jitter, a float >= 0.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[0] < 3:
        raise ValueError(f"points must be (T >= 3, K, D), got shape {points.shape}")
    second = points[2:] - 2.0 * points[1:-1] + points[:-2]
    return float(np.linalg.norm(second, axis=-1).mean())


def paste(
    canvas: np.ndarray, frame: np.ndarray, dx: int, alpha: np.ndarray | None = None
) -> np.ndarray:
    """Paste ``frame`` into ``canvas`` (same height) with its left edge at column ``dx``, in
    place; the columns that fall outside the canvas are cut off.

    Args:
        canvas: ``(H, W, 3)`` uint8, modified.
        frame: ``(H, w, 3)`` uint8.
        dx: the frame's left edge in canvas columns (may be negative or beyond ``W``).
        alpha: ``(H, w)`` float in [0, 1]: blend ``frame`` over the canvas with it (e.g. the
            person's segmentation mask, so that only the person is pasted); ``None``: opaque.

    Returns:
        ``canvas``.
    """
    width = canvas.shape[1]
    c0, c1 = max(dx, 0), min(dx + frame.shape[1], width)
    if c1 <= c0:
        return canvas
    part = frame[:, c0 - dx : c1 - dx]
    if alpha is None:
        canvas[:, c0:c1] = part
    else:
        a = alpha[:, c0 - dx : c1 - dx, None].astype(np.float32)
        under = canvas[:, c0:c1].astype(np.float32)
        canvas[:, c0:c1] = np.rint(a * part + (1 - a) * under).astype(np.uint8)
    return canvas


class Layer(NamedTuple):
    """One copy of a one-person clip in :func:`people_clip`."""

    #: the copy's frames (``(H, w, 3)`` uint8 RGB each).
    frames: Sequence[np.ndarray]
    #: per output frame: which frame of ``frames`` is shown (``None``: the copy is absent).
    index: Sequence[int | None]
    #: per output frame: the copy's left edge in canvas columns.
    dx: Sequence[int]
    #: per frame of ``frames``: the alpha to paste it with (``None``: opaque).
    alpha: Sequence[np.ndarray] | None = None


def people_clip(width: int, layers: Sequence[Layer], only: int | None = None) -> list[np.ndarray]:
    """A clip of several people: each output frame is a black ``width``-wide canvas with every
    layer's frame pasted at its place, in order (later layers in front).

    Args:
        width: the canvas width in pixels (its height is the layers' frame height).
        layers: the copies; all have the same number of output frames.
        only: paste only this layer (the same canvas, alone): the one-person clip whose
            tracked result is that person's ground truth in the full clip.

    Returns:
        The frames, C-contiguous ``(H, width, 3)`` uint8 RGB.
    """
    count = len(layers[0].index)
    height = layers[0].frames[0].shape[0]
    out = []
    for t in range(count):
        canvas = np.zeros((height, width, 3), np.uint8)
        for k, layer in enumerate(layers):
            i = layer.index[t]
            if i is None or (only is not None and k != only):
                continue
            alpha = None if layer.alpha is None else layer.alpha[i]
            paste(canvas, layer.frames[i], layer.dx[t], alpha)
        out.append(canvas)
    return out
