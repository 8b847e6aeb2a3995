"""Joint angles for the counter that needs no samples (:class:`~vitruvian.classify.counter.
AngleCounter`): which joint each exercise watches, and its thresholds.

Angles are measured on the *world* landmarks (:attr:`PoseResult.world_landmarks
<vitruvian.types.PoseResult.world_landmarks>`: metres, origin between the hips, x to the image's
right, y down, z away from the camera), in 3-D: a knee bent to 90 degrees reads about 90 degrees
whether the camera sees the person from the front or the side, which the image landmarks'
projected angle does not. Both sides are averaged, each weighted by the lowest visibility of its
three landmarks (the side hidden from a side view counts little); with no visibility column,
or none visible, equally.

Exercises (:data:`EXERCISES`):

* ``squats``: the knee angle (hip - knee - ankle). Standing, it reads about 165 degrees on
  ``pose_squats.mp4``, and 85 to 90 at the bottom of her squats. Down below 110, up above 155.
* ``pushups``: the elbow angle (shoulder - elbow - wrist), only while the body (hips' midpoint
  to shoulders' midpoint) is within 45 degrees of horizontal, so that arms bent while standing
  do not count. Down below 100, up above 150.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitruvian.solutions.pose import PoseLandmark as P

__all__ = [
    "EXERCISES",
    "Exercise",
    "body_tilt_deg",
    "exercise_angle",
    "joint_angle",
]


@dataclass(frozen=True)
class Exercise:
    """What the angle counter watches for one exercise.

    Attributes:
        name: e.g. ``"squats"``.
        joints: per side, the landmarks ``(outer, joint, outer)`` whose angle at ``joint`` is
            watched.
        down_deg: a repetition is real once the angle falls below this (degrees).
        up_deg: the rest band: the angle above this (degrees); a repetition starts when the
            angle falls below it and is counted when it rises above it again.
        max_tilt_deg: only count while the body is within this many degrees of horizontal
            (``None``: any posture).
    """

    name: str
    joints: tuple[tuple[int, int, int], ...]
    down_deg: float
    up_deg: float
    max_tilt_deg: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.down_deg < self.up_deg < 180.0:
            raise ValueError(
                f"{self.name}: need 0 < down_deg < up_deg < 180, got {self.down_deg}, {self.up_deg}"
            )


#: The exercises the angle counter knows.
EXERCISES: dict[str, Exercise] = {
    "squats": Exercise(
        "squats",
        ((P.LEFT_HIP, P.LEFT_KNEE, P.LEFT_ANKLE), (P.RIGHT_HIP, P.RIGHT_KNEE, P.RIGHT_ANKLE)),
        down_deg=110.0,
        up_deg=155.0,
    ),
    "pushups": Exercise(
        "pushups",
        (
            (P.LEFT_SHOULDER, P.LEFT_ELBOW, P.LEFT_WRIST),
            (P.RIGHT_SHOULDER, P.RIGHT_ELBOW, P.RIGHT_WRIST),
        ),
        down_deg=100.0,
        up_deg=150.0,
        max_tilt_deg=45.0,
    ),
}


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray | float:
    """The angle at ``b`` between ``b -> a`` and ``b -> c``, in degrees, 0 to 180 (points
    ``(..., D)``; a float for single points). 0 where a vector has no length."""
    u = np.asarray(a, dtype=np.float64) - b
    v = np.asarray(c, dtype=np.float64) - b
    angle = np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, -1)))
    if np.ndim(angle) == 0:
        return float(angle)
    return angle


def body_tilt_deg(world_landmarks: np.ndarray) -> float:
    """How far the body (hips' midpoint to shoulders' midpoint) is from horizontal, in degrees:
    0 lying or in a plank, 90 upright (world landmarks, y down)."""
    xyz = np.asarray(world_landmarks, dtype=np.float64)[:, :3]
    torso = (xyz[P.LEFT_SHOULDER] + xyz[P.RIGHT_SHOULDER] - xyz[P.LEFT_HIP] - xyz[P.RIGHT_HIP]) / 2
    return float(np.degrees(np.arctan2(abs(torso[1]), np.hypot(torso[0], torso[2]))))


def get_exercise(exercise: str | Exercise) -> Exercise:
    """``exercise`` itself, or the :data:`EXERCISES` entry of that name.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if not isinstance(exercise, str):
        return exercise
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
    return EXERCISES[exercise]


def exercise_angle(world_landmarks: np.ndarray, exercise: str | Exercise) -> float | None:
    """The watched angle of one pose, in degrees (see the module docstring), or ``None`` when
    the exercise does not apply to this posture (push-ups with the body upright).

    Args:
        world_landmarks: ``(33, >=3)`` world landmarks in metres; a 4th column (visibility)
            weights the sides.
        exercise: a name of :data:`EXERCISES` or an :class:`Exercise`.
    """
    spec = get_exercise(exercise)
    lm = np.asarray(world_landmarks, dtype=np.float64)
    if spec.max_tilt_deg is not None and body_tilt_deg(lm) > spec.max_tilt_deg:
        return None
    index = np.array(spec.joints)
    angles = joint_angle(lm[index[:, 0], :3], lm[index[:, 1], :3], lm[index[:, 2], :3])
    weights = lm[index, 3].min(axis=1) if lm.shape[1] > 3 else np.ones(len(index))
    if not np.isfinite(weights).all() or weights.sum() <= 1e-6:
        weights = np.ones(len(index))
    return float(np.average(angles, weights=weights))
