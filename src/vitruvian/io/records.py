"""The row schema of ``vitruvian run --out``: one row per image or video frame.

Every output format (Parquet, CSV, JSON Lines) has the same columns, in this order
(:data:`COLUMNS`):

* ``source`` (string): the input: the file path as given on the command line (for a folder,
  the folder joined with the image's file name), or ``camera:N`` for camera N.
* ``frame`` (int): 0-based index of the frame within its source (0 for an image).
* ``person_id`` (int): which person the row is about. Video mode: the person's ID, which stays
  with them while they are tracked and is never reused within the video; static mode: the
  order found in the image (0 is the person a one-person run finds). Null when no pose was
  found. With ``--num-poses N`` a frame has one row per person found (ordered by
  ``person_id``), or one row with ``pose_present`` false when nobody was found.
* ``timestamp_s`` (float, seconds): videos: the frame's time from the container
  (``CAP_PROP_POS_MSEC / 1000``, made strictly increasing); cameras: seconds since the first
  frame; images: null.
* ``image_width``, ``image_height`` (int, pixels): size of the upright image.
* ``pose_present`` (bool): whether a pose was found.
* ``presence_score`` (float in [0, 1]): the landmark model's pose-presence probability.
* ``<name>_x`` (float32): image landmark x divided by the image width, origin at the image's
  left edge (0 = left edge, 1 = right edge; points off the image fall outside [0, 1]).
* ``<name>_y`` (float32): y divided by the image height, origin at the top edge (y down).
* ``<name>_z`` (float32): depth relative to the hip midpoint, on the same scale as x (times
  the image width gives pixels); negative is nearer to the camera.
* ``<name>_visibility`` (float32 in [0, 1]): probability that the landmark is not occluded.
* ``<name>_presence`` (float32 in [0, 1]): probability that the landmark is in the image.
* ``<name>_world_x``, ``<name>_world_y``, ``<name>_world_z`` (float32, metres): the world
  landmark (MediaPipe's ``pose_world_landmarks``), origin midway between the hips, x to the
  image's right, y down, z away from the camera.

``<name>`` runs over the 33 landmarks in :class:`~vitruvian.solutions.pose.PoseLandmark`
order, with MediaPipe's lower-case names (:data:`LANDMARK_NAMES`: ``nose``,
``left_eye_inner``, ... ``right_foot_index``). All 33 x 5 image-landmark columns come first
(``nose_x, nose_y, nose_z, nose_visibility, nose_presence, left_eye_inner_x, ...``), then the
33 x 3 world columns (``nose_world_x, nose_world_y, nose_world_z, left_eye_inner_world_x,
...``), so ``row[8:173]`` reshapes to MediaPipe's ``(33, 5)`` array and ``row[173:272]`` to
``(33, 3)``. Pixel coordinates are ``x * image_width`` and ``y * image_height``, origin at the
top-left corner of the image. When no pose is found, ``presence_score`` and every landmark
column are empty: null in Parquet and JSON Lines, an empty field in CSV.

Landmark values are float32 in Parquet (the model's own precision, stored exactly) and the
same values printed in full (as Python floats) in CSV and JSON Lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vitruvian.solutions.pose import PoseLandmark
from vitruvian.types import NUM_LANDMARKS, PoseResult

__all__ = [
    "COLUMNS",
    "COLUMN_TYPES",
    "LANDMARK_FIELDS",
    "LANDMARK_NAMES",
    "LANDMARK_VALUE_COLUMNS",
    "META_COLUMNS",
    "WORLD_FIELDS",
    "WORLD_VALUE_COLUMNS",
    "make_row",
]

#: The 33 landmark names, lower case, in ``PoseLandmark`` order.
LANDMARK_NAMES: tuple[str, ...] = tuple(member.name.lower() for member in PoseLandmark)

#: Per-landmark fields of the image landmarks (the columns of ``PoseResult.landmarks``).
LANDMARK_FIELDS = ("x", "y", "z", "visibility", "presence")

#: Per-landmark fields of the world landmarks (metres).
WORLD_FIELDS = ("world_x", "world_y", "world_z")

#: The frame description columns, first in every row.
META_COLUMNS = (
    "source",
    "frame",
    "person_id",
    "timestamp_s",
    "image_width",
    "image_height",
    "pose_present",
    "presence_score",
)

#: ``nose_x, nose_y, nose_z, nose_visibility, nose_presence, left_eye_inner_x, ...`` (165).
LANDMARK_VALUE_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{field}" for name in LANDMARK_NAMES for field in LANDMARK_FIELDS
)

#: ``nose_world_x, nose_world_y, nose_world_z, left_eye_inner_world_x, ...`` (99).
WORLD_VALUE_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{field}" for name in LANDMARK_NAMES for field in WORLD_FIELDS
)

#: Every column, in order (8 + 165 + 99 = 272).
COLUMNS: tuple[str, ...] = META_COLUMNS + LANDMARK_VALUE_COLUMNS + WORLD_VALUE_COLUMNS

#: Logical type of each column: ``"string"``, ``"int64"``, ``"bool"``, ``"float64"`` or
#: ``"float32"`` (writers map these to their own types).
COLUMN_TYPES: dict[str, str] = {
    "source": "string",
    "frame": "int64",
    "person_id": "int64",
    "timestamp_s": "float64",
    "image_width": "int64",
    "image_height": "int64",
    "pose_present": "bool",
    "presence_score": "float64",
    **{column: "float32" for column in LANDMARK_VALUE_COLUMNS + WORLD_VALUE_COLUMNS},
}

_EMPTY_VALUES: dict[str, None] = dict.fromkeys(LANDMARK_VALUE_COLUMNS + WORLD_VALUE_COLUMNS)


def make_row(
    source: str,
    frame: int,
    timestamp_s: float | None,
    image_width: int,
    image_height: int,
    pose: PoseResult | None,
) -> dict[str, Any]:
    """Build one output row (a dict keyed by :data:`COLUMNS`, in that order).

    Args:
        source: the input's name (file path or ``camera:N``).
        frame: 0-based frame index within the source.
        timestamp_s: the frame's time in seconds, or ``None`` for an image.
        image_width: image width in pixels.
        image_height: image height in pixels.
        pose: the pose found in the frame (``results.pose``), or ``None``.

    Returns:
        The row: Python ``str``/``int``/``float``/``bool`` values, ``None`` for empty cells
        (the landmark columns and ``presence_score`` when ``pose`` is ``None``).
    """
    row: dict[str, Any] = {
        "source": source,
        "frame": int(frame),
        "person_id": None if pose is None else int(pose.person_id or 0),
        "timestamp_s": None if timestamp_s is None else float(timestamp_s),
        "image_width": int(image_width),
        "image_height": int(image_height),
        "pose_present": pose is not None,
        "presence_score": None if pose is None else float(pose.presence_score),
    }
    if pose is None:
        row.update(_EMPTY_VALUES)
        return row
    landmarks = np.asarray(pose.landmarks, dtype=np.float32)
    world = np.asarray(pose.world_landmarks, dtype=np.float32)
    if landmarks.shape[0] != NUM_LANDMARKS or world.shape[0] != NUM_LANDMARKS:
        raise ValueError(
            f"expected {NUM_LANDMARKS} landmarks, got {landmarks.shape[0]} and {world.shape[0]}"
        )
    image_values = landmarks[:, : len(LANDMARK_FIELDS)].reshape(-1).tolist()
    world_values = world[:, : len(WORLD_FIELDS)].reshape(-1).tolist()
    row.update(zip(LANDMARK_VALUE_COLUMNS, image_values, strict=True))
    row.update(zip(WORLD_VALUE_COLUMNS, world_values, strict=True))
    return row
