"""Pose classification and repetition counting: MediaPipe's fitness use case.

* :mod:`~vitruvian.classify.embedding`: the pose embedding (ML Kit's ``PoseEmbedding``);
* :mod:`~vitruvian.classify.knn`: the k-NN classifier on labelled samples, the outlier finder
  and leave-one-out accuracy;
* :mod:`~vitruvian.classify.counting`: the votes' smoothing, ML Kit's repetition counter, and a
  counter that needs no samples (a joint angle with hysteresis), with per-repetition events.

``vitruvian reps VIDEO`` (:mod:`vitruvian.cli.reps`) runs them on a video or a camera.
"""

from vitruvian.classify.counting import (
    EXERCISES,
    AngleCounter,
    EMASmoothing,
    Repetition,
    RepetitionCounter,
    exercise_angle,
    joint_angle,
)
from vitruvian.classify.embedding import pose_embedding, to_pixels
from vitruvian.classify.knn import (
    PoseClassifier,
    PoseSample,
    SampleError,
    find_outliers,
    leave_one_out_accuracy,
    load_samples,
)

__all__ = [
    "EXERCISES",
    "AngleCounter",
    "EMASmoothing",
    "PoseClassifier",
    "PoseSample",
    "Repetition",
    "RepetitionCounter",
    "SampleError",
    "exercise_angle",
    "find_outliers",
    "joint_angle",
    "leave_one_out_accuracy",
    "load_samples",
    "pose_embedding",
    "to_pixels",
]
