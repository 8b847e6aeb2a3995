"""Default drawing styles (MediaPipe's ``mp.solutions.drawing_styles``, pose part).

All colours are OpenCV BGR tuples. The pose style colours the subject's left side orange, the
right side cyan and the nose white, exactly as MediaPipe does.
"""

from __future__ import annotations

from collections.abc import Mapping

from vitruvian.solutions.drawing_utils import DrawingSpec
from vitruvian.solutions.pose import PoseLandmark

__all__ = ["get_default_pose_landmarks_style"]

_WHITE = (224, 224, 224)
#: BGR orange used for the subject's left side.
_POSE_LEFT_COLOR = (0, 138, 255)
#: BGR cyan used for the subject's right side.
_POSE_RIGHT_COLOR = (231, 217, 0)
_THICKNESS_POSE_LANDMARKS = 2

_POSE_LANDMARKS_LEFT = frozenset(
    [
        PoseLandmark.LEFT_EYE_INNER,
        PoseLandmark.LEFT_EYE,
        PoseLandmark.LEFT_EYE_OUTER,
        PoseLandmark.LEFT_EAR,
        PoseLandmark.MOUTH_LEFT,
        PoseLandmark.LEFT_SHOULDER,
        PoseLandmark.LEFT_ELBOW,
        PoseLandmark.LEFT_WRIST,
        PoseLandmark.LEFT_PINKY,
        PoseLandmark.LEFT_INDEX,
        PoseLandmark.LEFT_THUMB,
        PoseLandmark.LEFT_HIP,
        PoseLandmark.LEFT_KNEE,
        PoseLandmark.LEFT_ANKLE,
        PoseLandmark.LEFT_HEEL,
        PoseLandmark.LEFT_FOOT_INDEX,
    ]
)

_POSE_LANDMARKS_RIGHT = frozenset(
    [
        PoseLandmark.RIGHT_EYE_INNER,
        PoseLandmark.RIGHT_EYE,
        PoseLandmark.RIGHT_EYE_OUTER,
        PoseLandmark.RIGHT_EAR,
        PoseLandmark.MOUTH_RIGHT,
        PoseLandmark.RIGHT_SHOULDER,
        PoseLandmark.RIGHT_ELBOW,
        PoseLandmark.RIGHT_WRIST,
        PoseLandmark.RIGHT_PINKY,
        PoseLandmark.RIGHT_INDEX,
        PoseLandmark.RIGHT_THUMB,
        PoseLandmark.RIGHT_HIP,
        PoseLandmark.RIGHT_KNEE,
        PoseLandmark.RIGHT_ANKLE,
        PoseLandmark.RIGHT_HEEL,
        PoseLandmark.RIGHT_FOOT_INDEX,
    ]
)


def get_default_pose_landmarks_style() -> Mapping[int, DrawingSpec]:
    """Return MediaPipe's default pose landmark style, for ``draw_landmarks``.

    Returns:
        A new dict from each of the 33 :class:`PoseLandmark` values to a :class:`DrawingSpec`:
        left-side landmarks orange ``(0, 138, 255)``, right-side landmarks cyan
        ``(231, 217, 0)``, the nose white ``(224, 224, 224)`` (BGR), thickness 2, circle radius
        2. All left-side landmarks share one spec object, as do all right-side ones.
    """
    style: dict[int, DrawingSpec] = {}
    left_spec = DrawingSpec(color=_POSE_LEFT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    right_spec = DrawingSpec(color=_POSE_RIGHT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    for landmark in _POSE_LANDMARKS_LEFT:
        style[landmark] = left_spec
    for landmark in _POSE_LANDMARKS_RIGHT:
        style[landmark] = right_spec
    style[PoseLandmark.NOSE] = DrawingSpec(color=_WHITE, thickness=_THICKNESS_POSE_LANDMARKS)
    return style
