"""The pose embedding of MediaPipe's pose classification (ML Kit's ``PoseEmbedding``): 23
difference vectors between landmarks (and landmark midpoints), after the pose is centred on the
hips and scaled to a common size.

Input: 33 BlazePose landmarks as ``(33, 3)`` (or ``(N, 33, 3)``) x, y, z in *pixels* (x right,
y down, z on the scale of x), as the sample CSV holds them. Landmarks normalised to an image
(``PoseResult.landmarks[:, :3]``) become pixels with :func:`to_pixels`; the aspect ratio matters,
the overall scale does not (the embedding is scale invariant).

Normalisation: subtract the hips' midpoint; divide by the pose size, the larger of 2.5 x the
torso size (hips' midpoint to shoulders' midpoint, in x and y only) and the largest x-y distance
from the hips' midpoint to any landmark; multiply by 100.
"""

from __future__ import annotations

import numpy as np

from vitruvian.solutions.pose import PoseLandmark as P

#: The torso size times this is the smallest pose size.
TORSO_MULTIPLIER = 2.5

#: The embedding's pairs, grouped by the joints between them (as ML Kit lists them, the hip-to-
#: wrist pair twice). A pair of pairs is the midpoint of each.
_MID_HIPS = (P.LEFT_HIP, P.RIGHT_HIP)
_MID_SHOULDERS = (P.LEFT_SHOULDER, P.RIGHT_SHOULDER)
EMBEDDING_PAIRS: tuple[tuple[int | tuple[int, int], int | tuple[int, int]], ...] = (
    # one joint
    (_MID_HIPS, _MID_SHOULDERS),
    (P.LEFT_SHOULDER, P.LEFT_ELBOW),
    (P.RIGHT_SHOULDER, P.RIGHT_ELBOW),
    (P.LEFT_ELBOW, P.LEFT_WRIST),
    (P.RIGHT_ELBOW, P.RIGHT_WRIST),
    (P.LEFT_HIP, P.LEFT_KNEE),
    (P.RIGHT_HIP, P.RIGHT_KNEE),
    (P.LEFT_KNEE, P.LEFT_ANKLE),
    (P.RIGHT_KNEE, P.RIGHT_ANKLE),
    # two joints
    (P.LEFT_SHOULDER, P.LEFT_WRIST),
    (P.RIGHT_SHOULDER, P.RIGHT_WRIST),
    (P.LEFT_HIP, P.LEFT_ANKLE),
    (P.RIGHT_HIP, P.RIGHT_ANKLE),
    # four joints
    (P.LEFT_HIP, P.LEFT_WRIST),
    (P.RIGHT_HIP, P.RIGHT_WRIST),
    # five joints
    (P.LEFT_SHOULDER, P.LEFT_ANKLE),
    (P.RIGHT_SHOULDER, P.RIGHT_ANKLE),
    (P.LEFT_HIP, P.LEFT_WRIST),
    (P.RIGHT_HIP, P.RIGHT_WRIST),
    # cross body
    (P.LEFT_ELBOW, P.RIGHT_ELBOW),
    (P.LEFT_KNEE, P.RIGHT_KNEE),
    (P.LEFT_WRIST, P.RIGHT_WRIST),
    (P.LEFT_ANKLE, P.RIGHT_ANKLE),
)


def to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Image-normalised landmarks (``(..., 33, >=3)``: x / width, y / height, z on the scale of
    x) as pixels ``(..., 33, 3)``."""
    return np.asarray(landmarks, np.float64)[..., :3] * np.array([width, height, width])


def _point(landmarks: np.ndarray, index: int | tuple[int, int]) -> np.ndarray:
    if isinstance(index, tuple):
        return (landmarks[..., index[0], :] + landmarks[..., index[1], :]) / 2.0
    return landmarks[..., index, :]


def normalize(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks ``(..., 33, 3)`` centred on the hips' midpoint and scaled to the pose size
    (times 100); see the module docstring."""
    lm = np.asarray(landmarks, np.float64)
    centred = lm - _point(lm, _MID_HIPS)[..., None, :]
    torso = np.linalg.norm(_point(centred, _MID_SHOULDERS)[..., :2], axis=-1)
    farthest = np.linalg.norm(centred[..., :2], axis=-1).max(axis=-1)
    size = np.maximum(torso * TORSO_MULTIPLIER, farthest)
    return centred / size[..., None, None] * 100.0


def pose_embedding(landmarks: np.ndarray) -> np.ndarray:
    """The ``(..., 23, 3)`` embedding of landmarks ``(..., 33, 3)`` in pixels."""
    lm = normalize(landmarks)
    return np.stack([_point(lm, a) - _point(lm, b) for a, b in EMBEDDING_PAIRS], axis=-2)


def mirrored(landmarks: np.ndarray) -> np.ndarray:
    """The landmarks with x negated (the classifier compares a pose and its mirror image)."""
    return np.asarray(landmarks, np.float64) * np.array([-1.0, 1.0, 1.0])
