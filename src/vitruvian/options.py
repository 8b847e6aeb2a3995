"""The Pose options, declared once: :class:`PoseOptions` (MediaPipe's seven ``Pose`` options
and ``num_poses``, validated), their help texts (:data:`OPTION_HELP`, which the command line's
flags are built from), and the checks :class:`~vitruvian.pipeline.PosePipeline` and the
MediaPipe-compatible ``Pose`` run before any model is loaded.

``Pose(**options.as_kwargs())``, ``PoseTracker(**options.tracker_kwargs())`` and the extractor
take the same values, so a command, a script or a config file can hold one object.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

#: Accepted ``backend=`` values (see :mod:`vitruvian.models.backends`).
BACKENDS: tuple[str, ...] = (
    "auto",
    "litert",
    "onnxruntime",
    "onnxruntime-cpu",
    "onnxruntime-cuda",
    "onnxruntime-tensorrt",
)


def check_confidence(name: str, value: object) -> float:
    """Return ``value`` as a float in [0, 1] or raise (TypeError/ValueError) naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0.0, 1.0], got {value!r}")
    result = float(value)
    if math.isnan(result) or not 0.0 <= result <= 1.0:
        raise ValueError(f"{name} must be in [0.0, 1.0], got {value!r}")
    return result


def check_model_complexity(value: object) -> int:
    """Return ``value`` as an int in {0, 1, 2} or raise ValueError."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in (0, 1, 2):
        return int(value)
    raise ValueError(f"model_complexity must be 0 (lite), 1 (full) or 2 (heavy), got {value!r}")


#: One line of help per option (the command line's flags say the same).
OPTION_HELP: dict[str, str] = {
    "static_image_mode": "Treat every input as an unrelated photo: detect the person in each, "
    "no tracking or smoothing (else video mode).",
    "model_complexity": "Landmark model: 0 lite, 1 full, 2 heavy.",
    "smooth_landmarks": "Smooth landmarks across frames (video mode).",
    "enable_segmentation": "Predict the person mask.",
    "smooth_segmentation": "Smooth the mask across frames (video mode).",
    "min_detection_confidence": "Minimum person-detector score, in [0, 1].",
    "min_tracking_confidence": "Minimum pose-presence score to keep tracking (video mode), in "
    "[0, 1].",
    "num_poses": "Find up to this many people, each with an ID that stays with them in video "
    "(not in MediaPipe; 1 is its single person).",
}


def check_num_poses(num_poses: object) -> int:
    """``num_poses`` as an int >= 1, or a ValueError naming the argument."""
    if isinstance(num_poses, bool) or not isinstance(num_poses, numbers.Integral) or num_poses < 1:
        raise ValueError(f"num_poses must be an integer >= 1, got {num_poses!r}")
    return int(num_poses)


@dataclasses.dataclass(frozen=True)
class PoseOptions:
    """MediaPipe Pose's options, with its defaults; validated on creation (``TypeError`` or
    ``ValueError`` naming the option).

    Attributes:
        static_image_mode: every input on its own (detector each time) instead of video mode.
        model_complexity: 0 (lite), 1 (full) or 2 (heavy landmark model).
        smooth_landmarks: One-Euro smoothing of landmarks across frames (video mode).
        enable_segmentation: predict the person mask.
        smooth_segmentation: smooth the mask across frames (video mode).
        min_detection_confidence: detector score threshold in [0, 1].
        min_tracking_confidence: pose-presence score below which tracking is lost, in [0, 1].
        num_poses: not in MediaPipe: up to this many people (keyword ``num_poses`` of ``Pose``
            and ``PoseTracker``).
    """

    static_image_mode: bool = False
    model_complexity: int = 1
    smooth_landmarks: bool = True
    enable_segmentation: bool = False
    smooth_segmentation: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    num_poses: int = 1

    def __post_init__(self) -> None:
        for name in (
            "static_image_mode",
            "smooth_landmarks",
            "enable_segmentation",
            "smooth_segmentation",
        ):
            object.__setattr__(self, name, bool(getattr(self, name)))
        object.__setattr__(self, "model_complexity", check_model_complexity(self.model_complexity))
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            object.__setattr__(self, name, check_confidence(name, getattr(self, name)))
        object.__setattr__(self, "num_poses", check_num_poses(self.num_poses))

    def replace(self, **changes: Any) -> PoseOptions:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_kwargs(self) -> dict[str, Any]:
        """The options as keyword arguments of ``Pose`` (MediaPipe's seven names and
        ``num_poses``)."""
        return dataclasses.asdict(self)

    def tracker_kwargs(self) -> dict[str, Any]:
        """The options :class:`~vitruvian.tracking.PoseTracker` takes (all but
        ``static_image_mode``: a tracker is video mode)."""
        kwargs = self.as_kwargs()
        del kwargs["static_image_mode"]
        return kwargs
