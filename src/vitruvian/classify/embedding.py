"""The pose embedding of MediaPipe's pose classification (ML Kit's ``PoseEmbedding``, the
``FullBodyPoseEmbedder`` of MediaPipe's pose-classification Colab).

Input: the 33 BlazePose landmarks as *image* coordinates in pixels, ``(..., 33, >=3)``: x to
the right and y down, in pixels of the image the pose was found in, and z (relative depth,
origin at the hips' midpoint) on the scale of x. That is what ML Kit's
``PoseLandmark.getPosition3D()`` gives, what MediaPipe's Colab builds from the Python solution
(``[lmk.x * width, lmk.y * height, lmk.z * width]``) and what the sample CSV
(``fitness_pose_samples.csv``) holds. Extra columns (visibility, presence) are ignored.

vitruvian's :attr:`PoseResult.landmarks <vitruvian.types.PoseResult.landmarks>` are
*normalised* (x / width, y / height, z on the scale of x / width): :func:`to_pixels` (or
``image_size=`` of :func:`pose_embedding`) multiplies them by ``(width, height, width)``. The
overall factor ``width`` does not matter (the embedding is scale invariant, below), but the
aspect ratio does: a normalised pose of a 720 x 1280 frame is squashed 1.78 times in y, and the
samples were made in pixels. So normalised landmarks must be given with their image size. World
landmarks (metres) are a different, un-projected frame (z metric, no perspective) and are not
comparable with samples made from image landmarks: do not embed them against the ML Kit set.

Normalisation (:func:`normalize`): subtract the hips' midpoint; divide by the *pose size*, the
larger of :data:`TORSO_MULTIPLIER` x the torso size (hips' midpoint to shoulders' midpoint) and
the largest distance from the hips' midpoint to any landmark, both measured in x and y only;
multiply by 100. Translation and scale therefore drop out, and z is scaled with x and y.

Embedding (:func:`pose_embedding`): the ``(..., 23, 3)`` vectors ``to - from`` for the pairs of
:data:`EMBEDDING_PAIRS` (a landmark or the midpoint of two), ML Kit's list in its order: the
sign convention is ML Kit's ``subtract(from, to)``, which returns ``to - from``.
"""

from __future__ import annotations

import numpy as np

from vitruvian.solutions.pose import PoseLandmark as P

__all__ = [
    "EMBEDDING_PAIRS",
    "EMBEDDING_SIZE",
    "TORSO_MULTIPLIER",
    "mirror",
    "normalize",
    "pose_embedding",
    "to_pixels",
]

#: The smallest pose size is this many torso sizes (ML Kit: "picked by experimentation").
TORSO_MULTIPLIER = 2.5

#: A landmark index, or a pair of indices standing for their midpoint.
Point = int | tuple[int, int]

_HIPS: tuple[int, int] = (P.LEFT_HIP, P.RIGHT_HIP)
_SHOULDERS: tuple[int, int] = (P.LEFT_SHOULDER, P.RIGHT_SHOULDER)

#: ``(from, to)`` pairs of the embedding, grouped (as ML Kit groups them) by the number of joints
#: between the two ends. ML Kit lists hip -> wrist twice (under "four" and "five joints"), so it
#: weighs twice in the distances; kept as is.
EMBEDDING_PAIRS: tuple[tuple[Point, Point], ...] = (
    # One joint.
    (_HIPS, _SHOULDERS),
    (P.LEFT_SHOULDER, P.LEFT_ELBOW),
    (P.RIGHT_SHOULDER, P.RIGHT_ELBOW),
    (P.LEFT_ELBOW, P.LEFT_WRIST),
    (P.RIGHT_ELBOW, P.RIGHT_WRIST),
    (P.LEFT_HIP, P.LEFT_KNEE),
    (P.RIGHT_HIP, P.RIGHT_KNEE),
    (P.LEFT_KNEE, P.LEFT_ANKLE),
    (P.RIGHT_KNEE, P.RIGHT_ANKLE),
    # Two joints.
    (P.LEFT_SHOULDER, P.LEFT_WRIST),
    (P.RIGHT_SHOULDER, P.RIGHT_WRIST),
    (P.LEFT_HIP, P.LEFT_ANKLE),
    (P.RIGHT_HIP, P.RIGHT_ANKLE),
    # Four joints.
    (P.LEFT_HIP, P.LEFT_WRIST),
    (P.RIGHT_HIP, P.RIGHT_WRIST),
    # Five joints.
    (P.LEFT_SHOULDER, P.LEFT_ANKLE),
    (P.RIGHT_SHOULDER, P.RIGHT_ANKLE),
    (P.LEFT_HIP, P.LEFT_WRIST),
    (P.RIGHT_HIP, P.RIGHT_WRIST),
    # Cross body.
    (P.LEFT_ELBOW, P.RIGHT_ELBOW),
    (P.LEFT_KNEE, P.RIGHT_KNEE),
    (P.LEFT_WRIST, P.RIGHT_WRIST),
    (P.LEFT_ANKLE, P.RIGHT_ANKLE),
)

#: Vectors in an embedding.
EMBEDDING_SIZE = len(EMBEDDING_PAIRS)


def _xyz(landmarks: np.ndarray) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim < 2 or lm.shape[-2] != 33 or lm.shape[-1] < 3:
        raise ValueError(f"expected landmarks of shape (..., 33, >=3), got {lm.shape}")
    return lm[..., :3]


def to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised image landmarks ``(..., 33, >=3)`` (``PoseResult.landmarks``: x / width,
    y / height, z on the scale of x / width) as pixels ``(..., 33, 3)``: x * width,
    y * height, z * width."""
    return _xyz(landmarks) * np.array([width, height, width], dtype=np.float64)


def _point(lm: np.ndarray, point: Point) -> np.ndarray:
    if isinstance(point, tuple):
        return (lm[..., point[0], :] + lm[..., point[1], :]) * 0.5
    return lm[..., point, :]


def normalize(landmarks: np.ndarray) -> np.ndarray:
    """Pixel landmarks ``(..., 33, >=3)`` centred on the hips' midpoint and divided by the pose
    size, times 100 (``(..., 33, 3)``; see the module docstring)."""
    lm = _xyz(landmarks)
    centred = lm - _point(lm, _HIPS)[..., None, :]
    torso = np.linalg.norm(_point(centred, _SHOULDERS)[..., :2], axis=-1)
    farthest = np.linalg.norm(centred[..., :2], axis=-1).max(axis=-1)
    size = np.maximum(torso * TORSO_MULTIPLIER, farthest)
    if np.any(size <= 0):
        raise ValueError("a pose with every landmark at the hips' midpoint has no size")
    return centred * (100.0 / size)[..., None, None]


def pose_embedding(landmarks: np.ndarray, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """The ``(..., 23, 3)`` embedding of a pose (or a batch), in units of 1/100 pose size.

    Args:
        landmarks: ``(..., 33, >=3)`` image landmarks in pixels (see the module docstring), or
            normalised ones (``PoseResult.landmarks``) when ``image_size`` is given.
        image_size: ``(width, height)`` in pixels of the image normalised landmarks come from;
            ``None`` when ``landmarks`` are already in pixels.
    """
    lm = _xyz(landmarks) if image_size is None else to_pixels(landmarks, *image_size)
    lm = normalize(lm)
    return np.stack([_point(lm, b) - _point(lm, a) for a, b in EMBEDDING_PAIRS], axis=-2)


def mirror(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks ``(..., 33, >=3)`` with x negated, as ML Kit and the Colab flip a pose for the
    classifier (``(..., 33, 3)``; left and right landmarks keep their names)."""
    return _xyz(landmarks) * np.array([-1.0, 1.0, 1.0])
