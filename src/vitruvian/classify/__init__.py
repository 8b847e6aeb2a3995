"""Pose classification and repetition counting: MediaPipe's fitness use case.

MediaPipe Pose's guide to pose classification (``docs/solutions/pose_classification.md``) and
ML Kit's Android sample (``PoseEmbedding``, ``PoseClassifier``, ``EMASmoothing``,
``RepetitionCounter``) with their numbers, plus a counter that needs no samples:

* :mod:`~vitruvian.classify.embedding`: the pose embedding (23 difference vectors of the pose
  centred on the hips and scaled to its size), from image landmarks in pixels;
* :mod:`~vitruvian.classify.knn`: the k-NN classifier on labelled samples (ML Kit's CSV), the
  outlier finder and leave-one-out accuracy;
* :mod:`~vitruvian.classify.smoothing`: the votes' exponential moving average (10 frames,
  alpha 0.2);
* :mod:`~vitruvian.classify.angles`: joint angles on the world landmarks (knees for squats,
  elbows for push-ups);
* :mod:`~vitruvian.classify.counter`: ML Kit's votes counter (enter above 6, count below 4),
  the angle counter with hysteresis, and :class:`PerPerson` (one counter per ``track_id``);
* :mod:`~vitruvian.classify.events`: :class:`Repetition`, each repetition's start, bottom and
  end frame and time, duration and range of motion;
* :mod:`~vitruvian.classify.exercise`: :class:`ExerciseCounter`, all of it per frame from a
  :class:`~vitruvian.types.PoseResult`;
* :mod:`~vitruvian.classify.drawing`: the live counter on annotated frames.

``vitruvian reps`` and ``vitruvian samples`` (:mod:`vitruvian.cli.reps`,
:mod:`vitruvian.cli.samples`) run them on videos, cameras and folders of photos.
"""

from vitruvian.classify.angles import (
    EXERCISES,
    Exercise,
    body_tilt_deg,
    exercise_angle,
    joint_angle,
)
from vitruvian.classify.counter import (
    ENTER_THRESHOLD,
    EXIT_THRESHOLD,
    AngleCounter,
    PerPerson,
    RepetitionCounter,
)
from vitruvian.classify.embedding import (
    EMBEDDING_PAIRS,
    TORSO_MULTIPLIER,
    mirror,
    normalize,
    pose_embedding,
    to_pixels,
)
from vitruvian.classify.events import EVENT_FIELDS, Repetition
from vitruvian.classify.exercise import ExerciseCounter, FrameState
from vitruvian.classify.knn import (
    Outlier,
    PoseClassifier,
    PoseSample,
    SampleError,
    find_outliers,
    leave_one_out_accuracy,
    load_samples,
    remove_outliers,
    save_samples,
    top_classes,
)
from vitruvian.classify.smoothing import EMASmoothing

__all__ = [
    "EMBEDDING_PAIRS",
    "ENTER_THRESHOLD",
    "EVENT_FIELDS",
    "EXERCISES",
    "EXIT_THRESHOLD",
    "TORSO_MULTIPLIER",
    "AngleCounter",
    "EMASmoothing",
    "Exercise",
    "ExerciseCounter",
    "FrameState",
    "Outlier",
    "PerPerson",
    "PoseClassifier",
    "PoseSample",
    "Repetition",
    "RepetitionCounter",
    "SampleError",
    "body_tilt_deg",
    "exercise_angle",
    "find_outliers",
    "joint_angle",
    "leave_one_out_accuracy",
    "load_samples",
    "mirror",
    "normalize",
    "pose_embedding",
    "remove_outliers",
    "save_samples",
    "to_pixels",
    "top_classes",
]
