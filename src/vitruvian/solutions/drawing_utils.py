"""Drawing helpers with MediaPipe's ``mp.solutions.drawing_utils`` API.

Colours are OpenCV **BGR** tuples of ints in 0..255, images are BGR ``uint8`` ``(H, W, 3)``
arrays (what ``cv2.imread`` returns), and positions come from normalised landmarks (x / image
width, y / image height, origin at the top-left corner).

The functions accept this package's landmark lists, MediaPipe's own ``landmark_pb2`` lists
(anything with a ``.landmark`` sequence whose items have ``x``/``y``/``z`` and optionally
``HasField``), and plain ``(N, 3..5)`` numpy arrays ``[x, y, z[, visibility[, presence]]]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import cv2
import numpy as np

from vitruvian.solutions.landmarks import FIELDS

__all__ = [
    "BLACK_COLOR",
    "BLUE_COLOR",
    "GREEN_COLOR",
    "RED_COLOR",
    "WHITE_COLOR",
    "DrawingSpec",
    "draw_landmarks",
    "plot_landmarks",
]

_PRESENCE_THRESHOLD = 0.5
_VISIBILITY_THRESHOLD = 0.5
_BGR_CHANNELS = 3

#: BGR colours (MediaPipe's values).
WHITE_COLOR = (224, 224, 224)
BLACK_COLOR = (0, 0, 0)
RED_COLOR = (0, 0, 255)
GREEN_COLOR = (0, 128, 0)
BLUE_COLOR = (255, 0, 0)


@dataclasses.dataclass
class DrawingSpec:
    """How to draw landmarks or connections.

    Attributes:
        color: BGR colour, ints in 0..255.
        thickness: line / circle outline thickness in pixels (-1 fills circles).
        circle_radius: landmark circle radius in pixels.
    """

    color: tuple[int, int, int] = WHITE_COLOR
    thickness: int = 2
    circle_radius: int = 2


LandmarkSpec = DrawingSpec | Mapping[int, DrawingSpec]
ConnectionSpec = DrawingSpec | Mapping[tuple[int, int], DrawingSpec]


def _normalized_to_pixel_coordinates(
    normalized_x: float, normalized_y: float, image_width: int, image_height: int
) -> tuple[int, int] | None:
    """Convert a normalised point to integer pixel coordinates ``(col, row)``.

    ``normalized_x``/``normalized_y`` are fractions of the image width/height. Points outside
    [0, 1] give ``None`` (MediaPipe does not draw them); otherwise the pixel containing the
    point, ``floor(v * size)`` clamped to ``size - 1``.
    """

    def is_valid_normalized_value(value: float) -> bool:
        return (value > 0 or math.isclose(0, value)) and (value < 1 or math.isclose(1, value))

    if not (is_valid_normalized_value(normalized_x) and is_valid_normalized_value(normalized_y)):
        return None
    x_px = min(math.floor(normalized_x * image_width), image_width - 1)
    y_px = min(math.floor(normalized_y * image_height), image_height - 1)
    return x_px, y_px


def _landmark_table(landmark_list: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(values, has)``: ``(N, 5)`` float64 values and ``(N, 5)`` bool "is set" flags.

    Accepts this package's lists (read directly), objects with a protobuf-like ``.landmark``
    sequence, plain sequences of landmark objects (MediaPipe Tasks style, where unset fields
    are ``None``), and ``(N, 3..5)`` arrays.
    """
    if isinstance(landmark_list, np.ndarray):
        data = np.asarray(landmark_list, dtype=np.float64)
        if data.ndim != 2 or not 3 <= data.shape[1] <= len(FIELDS):
            raise ValueError(
                f"landmark array must be (N, 3..5) [x, y, z[, visibility[, presence]]], "
                f"got shape {data.shape}"
            )
        values = np.zeros((len(data), len(FIELDS)))
        values[:, : data.shape[1]] = data
        has = np.zeros(values.shape, dtype=bool)
        has[:, : data.shape[1]] = True
        return values, has
    landmarks = getattr(landmark_list, "landmark", landmark_list)
    inner_values = getattr(landmarks, "_values", None)
    inner_has = getattr(landmarks, "_has", None)
    if isinstance(inner_values, np.ndarray) and isinstance(inner_has, np.ndarray):
        return inner_values.astype(np.float64), inner_has.copy()
    items = list(landmarks)
    values = np.zeros((len(items), len(FIELDS)))
    has = np.zeros(values.shape, dtype=bool)
    for i, landmark in enumerate(items):
        has_field = getattr(landmark, "HasField", None)
        for j, name in enumerate(FIELDS):
            if has_field is not None:
                try:
                    if not has_field(name):
                        continue
                except ValueError:  # a message type without this field
                    continue
            value = getattr(landmark, name, None)
            if value is not None:
                values[i, j] = float(value)
                has[i, j] = True
    return values, has


def _shown(values: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Which landmarks MediaPipe would draw: not (set and < 0.5) for visibility and presence."""
    visibility_ok = ~(has[:, 3] & (values[:, 3] < _VISIBILITY_THRESHOLD))
    presence_ok = ~(has[:, 4] & (values[:, 4] < _PRESENCE_THRESHOLD))
    return visibility_ok & presence_ok


def _check_connection(connection: tuple[int, int], num_landmarks: int) -> tuple[int, int]:
    start_idx, end_idx = int(connection[0]), int(connection[1])
    if not (0 <= start_idx < num_landmarks and 0 <= end_idx < num_landmarks):
        raise ValueError(
            f"Landmark index is out of range. Invalid connection "
            f"from landmark #{start_idx} to landmark #{end_idx}."
        )
    return start_idx, end_idx


def draw_landmarks(
    image: np.ndarray,
    landmark_list: Any,
    connections: Iterable[tuple[int, int]] | None = None,
    landmark_drawing_spec: LandmarkSpec | None = DrawingSpec(color=RED_COLOR),  # noqa: B008
    connection_drawing_spec: ConnectionSpec | None = DrawingSpec(),  # noqa: B008
    is_drawing_landmarks: bool = True,
) -> None:
    """Draw landmarks and the connections between them onto a BGR image, in place.

    Same behaviour as MediaPipe's ``drawing_utils.draw_landmarks``: landmarks whose
    ``visibility`` or ``presence`` is set and below 0.5 are skipped, as are landmarks outside
    the image (normalised x or y outside [0, 1]); a connection is drawn when both its ends are
    drawn. Connections are drawn first as lines, then each landmark as a white
    (``WHITE_COLOR``) ring of radius ``max(r + 1, int(r * 1.2))`` with a circle of radius ``r``
    in the spec's colour on top.

    Args:
        image: BGR ``uint8`` ``(H, W, 3)`` array, modified in place (non-contiguous writeable
            views are supported).
        landmark_list: a ``NormalizedLandmarkList`` (e.g. ``results.pose_landmarks``), or an
            ``(N, 3..5)`` array of normalised ``[x, y, z[, visibility[, presence]]]``. ``None``
            draws nothing.
        connections: pairs of landmark indices to join, e.g. ``POSE_CONNECTIONS``.
        landmark_drawing_spec: one :class:`DrawingSpec` for all landmarks, or a mapping from
            landmark index to spec (every drawn landmark must be in it). ``None`` draws no
            landmarks.
        connection_drawing_spec: one :class:`DrawingSpec` for all connections, or a mapping
            from connection tuple to spec. ``None`` draws no connections.
        is_drawing_landmarks: False draws the connections only.

    Raises:
        ValueError: ``image`` is not a writeable ``(H, W, 3)`` uint8 array, or a connection
            refers to a landmark index out of range.
    """
    if landmark_list is None or (isinstance(landmark_list, np.ndarray) and landmark_list.size == 0):
        return
    if (
        not isinstance(image, np.ndarray)
        or image.ndim != 3
        or image.shape[2] != _BGR_CHANNELS
        or image.dtype != np.uint8
    ):
        description = (
            f"shape {image.shape}, dtype {image.dtype}"
            if isinstance(image, np.ndarray)
            else type(image).__name__
        )
        raise ValueError(
            f"Input image must contain three channel bgr data: expected an (H, W, 3) uint8 "
            f"BGR array, got {description}."
        )
    if not image.flags.writeable:
        raise ValueError("Input image is read-only; draw on a writeable copy (image.copy()).")
    canvas = image if image.flags.c_contiguous else np.ascontiguousarray(image)
    image_rows, image_cols, _ = canvas.shape

    values, has = _landmark_table(landmark_list)
    shown = _shown(values, has)
    idx_to_coordinates: dict[int, tuple[int, int]] = {}
    for idx in np.flatnonzero(shown):
        landmark_px = _normalized_to_pixel_coordinates(
            float(values[idx, 0]), float(values[idx, 1]), image_cols, image_rows
        )
        if landmark_px:
            idx_to_coordinates[int(idx)] = landmark_px

    if connections and connection_drawing_spec is not None:
        num_landmarks = len(values)
        for connection in connections:
            start_idx, end_idx = _check_connection(connection, num_landmarks)
            if start_idx in idx_to_coordinates and end_idx in idx_to_coordinates:
                spec = (
                    connection_drawing_spec[connection]
                    if isinstance(connection_drawing_spec, Mapping)
                    else connection_drawing_spec
                )
                cv2.line(
                    canvas,
                    idx_to_coordinates[start_idx],
                    idx_to_coordinates[end_idx],
                    spec.color,
                    spec.thickness,
                )

    # Landmarks go on top of the connection lines.
    if is_drawing_landmarks and landmark_drawing_spec:
        for idx, landmark_px in idx_to_coordinates.items():
            spec = (
                landmark_drawing_spec[idx]
                if isinstance(landmark_drawing_spec, Mapping)
                else landmark_drawing_spec
            )
            circle_border_radius = max(spec.circle_radius + 1, int(spec.circle_radius * 1.2))
            cv2.circle(canvas, landmark_px, circle_border_radius, WHITE_COLOR, spec.thickness)
            cv2.circle(canvas, landmark_px, spec.circle_radius, spec.color, spec.thickness)

    if canvas is not image:
        image[...] = canvas


def _normalize_color(color: tuple[int, int, int]) -> tuple[float, ...]:
    """A colour's components scaled from 0..255 to 0..1 (order unchanged)."""
    return tuple(v / 255.0 for v in color)


def plot_landmarks(
    landmark_list: Any,
    connections: Iterable[tuple[int, int]] | None = None,
    landmark_drawing_spec: DrawingSpec = DrawingSpec(color=RED_COLOR, thickness=5),  # noqa: B008
    connection_drawing_spec: DrawingSpec = DrawingSpec(color=BLACK_COLOR, thickness=5),  # noqa: B008
    elevation: int = 10,
    azimuth: int = 10,
) -> None:
    """Plot landmarks and connections in a new matplotlib 3D figure, then ``plt.show()``.

    Same as MediaPipe's ``drawing_utils.plot_landmarks``: each landmark ``(x, y, z)`` is plotted
    at ``(-z, x, -y)`` on the axes' (X, Y, Z), so the vertical axis points up in the subject's
    frame, and landmarks with ``visibility`` or ``presence`` set and below 0.5 are left out. Use
    it with world landmarks (``results.pose_world_landmarks``, metres) or normalised ones. With
    a non-interactive backend (Agg), fetch the figure with ``matplotlib.pyplot.gcf()`` to save
    it.

    Args:
        landmark_list: a ``LandmarkList``/``NormalizedLandmarkList`` or an ``(N, 3..5)`` array;
            ``None`` plots nothing.
        connections: pairs of landmark indices to join, e.g. ``POSE_CONNECTIONS``.
        landmark_drawing_spec: colour (BGR) and marker line width of the landmarks.
        connection_drawing_spec: colour (BGR) and line width of the connections.
        elevation: view elevation in degrees.
        azimuth: view azimuth in degrees.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: a connection refers to a landmark index out of range.
    """
    if landmark_list is None or (isinstance(landmark_list, np.ndarray) and landmark_list.size == 0):
        return
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "plot_landmarks needs matplotlib, which is not installed; "
            "install it with `pip install vitruvian[plot]` (or `pip install matplotlib`)"
        ) from error

    values, has = _landmark_table(landmark_list)
    shown = _shown(values, has)
    plt.figure(figsize=(10, 10))
    ax = plt.axes(projection="3d")
    ax.view_init(elev=elevation, azim=azimuth)
    landmark_color = _normalize_color(tuple(landmark_drawing_spec.color)[::-1])
    plotted_landmarks: dict[int, tuple[float, float, float]] = {}
    for idx in np.flatnonzero(shown):
        x, y, z = (float(v) for v in values[idx, :3])
        ax.scatter3D(
            xs=[-z],
            ys=[x],
            zs=[-y],
            color=landmark_color,
            linewidth=landmark_drawing_spec.thickness,
        )
        plotted_landmarks[int(idx)] = (-z, x, -y)
    if connections:
        connection_color = _normalize_color(tuple(connection_drawing_spec.color)[::-1])
        num_landmarks = len(values)
        for connection in connections:
            start_idx, end_idx = _check_connection(connection, num_landmarks)
            if start_idx in plotted_landmarks and end_idx in plotted_landmarks:
                start, end = plotted_landmarks[start_idx], plotted_landmarks[end_idx]
                ax.plot3D(
                    xs=[start[0], end[0]],
                    ys=[start[1], end[1]],
                    zs=[start[2], end[2]],
                    color=connection_color,
                    linewidth=connection_drawing_spec.thickness,
                )
    plt.show()
