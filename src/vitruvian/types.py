"""Plain numpy result types returned by the pipeline.

Coordinate frames
-----------------
* Image landmarks are *normalised*: ``x`` is divided by the image width and ``y`` by the image
  height, with (0, 0) the top-left corner of the top-left pixel. ``z`` is a relative depth with
  the origin at the hip midpoint, on the same scale as ``x`` (smaller is closer to the camera).
* World landmarks are in metres, origin at the centre between the hips, x to the subject's left
  as seen in the image (image right), y down, z away from the camera, as MediaPipe defines them.
* ``visibility`` and ``presence`` are probabilities in [0, 1] (sigmoid of the model's logits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Number of body landmarks BlazePose predicts.
NUM_LANDMARKS = 33

#: Column order of :attr:`PoseResult.landmarks` and :attr:`PoseResult.world_landmarks`.
LANDMARK_COLUMNS = ("x", "y", "z", "visibility", "presence")


@dataclass(frozen=True)
class NormalizedRect:
    """A rotated rectangle in normalised image coordinates (MediaPipe's ``NormalizedRect``).

    ``x_center``/``width`` are fractions of the image width, ``y_center``/``height`` fractions of
    the image height; ``rotation`` is in radians, clockwise in the image (y points down).
    """

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Detection:
    """One person detection in normalised image coordinates.

    ``box`` is ``[xmin, ymin, xmax, ymax]`` (of the face box the detector predicts) and
    ``keypoints`` a ``(4, 2)`` array: hip midpoint, a point on the full-body circle, shoulder
    midpoint, a point on the upper-body circle. ``score`` is in [0, 1].
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float


@dataclass(frozen=True)
class PoseResult:
    """What the pipeline finds in one image.

    Attributes:
        landmarks: ``(33, 5)`` float32, columns :data:`LANDMARK_COLUMNS`, normalised image frame.
        world_landmarks: ``(33, 5)`` float32, same columns, x/y/z in metres (hip-centred).
        segmentation_mask: ``(H, W)`` float32 in [0, 1] at the input image size, or ``None``
            when segmentation is disabled.
        roi: the rotated region the landmark model looked at.
        presence_score: the landmark model's pose-presence probability in [0, 1].
        detection: the detection the ROI came from (``None`` when the ROI was given or tracked).
        auxiliary_landmarks: ``(2, 5)`` float32, the alignment points used for tracking.
        person_id: in video mode, the tracked person's ID: an integer that stays with the
            person while tracked and is never reused within a stream; in static mode with
            several people, the order found (0 is the person found alone); ``None`` otherwise.
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray
    segmentation_mask: np.ndarray | None
    roi: NormalizedRect
    presence_score: float
    detection: Detection | None = None
    auxiliary_landmarks: np.ndarray | None = None
    person_id: int | None = None
