"""MediaPipe-compatible Solution API: ``mp.solutions.pose``, ``drawing_utils``,
``drawing_styles``.

Importing this package loads OpenCV but not the inference runtime; the models load when a
:class:`~vitruvian.solutions.pose.Pose` object is created.
"""

from vitruvian.solutions import drawing_styles, drawing_utils, pose

__all__ = ["drawing_styles", "drawing_utils", "pose"]
