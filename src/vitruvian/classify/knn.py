"""MediaPipe's pose classifier (ML Kit's ``PoseClassifier``): k nearest labelled samples by a
weighted distance between embeddings, with outlier filtering, as votes per class.

For a pose, each sample's distance is the largest weighted absolute difference between the two
embeddings (axis weights x 1, y 1, z 0.2: z is the least accurate), taken for the pose and its
mirror image, whichever is closer; the 30 closest samples by that distance are then ranked by
the mean weighted difference (again the closer of the pose and its mirror), and the 10 closest
vote for their class: votes are 0 to 10 per class.

Samples come from a CSV (:func:`load_samples`, ML Kit's format: ``name,class,`` then 33 x ``x, y,
z`` in pixels, as ``../shared/data/classification/fitness_pose_samples.csv``) or from landmarks
(:class:`PoseSample`). :func:`find_outliers` lists the samples that the rest of the set does not
classify as their own class; :func:`leave_one_out_accuracy` measures the set per class.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vitruvian.classify.embedding import mirrored, pose_embedding

#: Samples kept by the max-distance stage, and voters kept by the mean-distance stage.
MAX_DISTANCE_TOP_K = 30
MEAN_DISTANCE_TOP_K = 10
#: Weights of x, y and z in the distances.
AXES_WEIGHTS = (1.0, 1.0, 0.2)


@dataclass(frozen=True)
class PoseSample:
    """One labelled pose: ``landmarks`` ``(33, 3)`` x, y, z in pixels."""

    name: str
    class_name: str
    landmarks: np.ndarray


class SampleError(ValueError):
    """A samples file that cannot be used; the message names the file and the line."""


def load_samples(path: str | os.PathLike[str]) -> list[PoseSample]:
    """The samples of a CSV file (ML Kit's format, see the module docstring).

    Raises:
        SampleError: a missing file, or a line that is not ``name,class`` and 99 numbers.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SampleError(f"cannot read the samples file {file}: {exc.strerror or exc}") from exc
    samples = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2 + 33 * 3:
            raise SampleError(
                f"{file}, line {number}: {len(row)} fields, expected name, class and 99 numbers "
                "(33 landmarks x, y, z)"
            )
        try:
            values = np.array([float(v) for v in row[2:]], np.float64).reshape(33, 3)
        except ValueError:
            raise SampleError(f"{file}, line {number}: a landmark value is not a number") from None
        samples.append(PoseSample(row[0], row[1], values))
    if not samples:
        raise SampleError(f"{file} holds no samples")
    return samples


class PoseClassifier:
    """k-NN votes per class for a pose, against ``samples`` (see the module docstring)."""

    def __init__(
        self,
        samples: Sequence[PoseSample],
        *,
        max_distance_top_k: int = MAX_DISTANCE_TOP_K,
        mean_distance_top_k: int = MEAN_DISTANCE_TOP_K,
        axes_weights: Sequence[float] = AXES_WEIGHTS,
    ) -> None:
        if not samples:
            raise ValueError("the classifier needs at least one sample")
        self.samples = list(samples)
        self.max_distance_top_k = int(max_distance_top_k)
        self.mean_distance_top_k = int(mean_distance_top_k)
        self.weights = np.asarray(axes_weights, np.float64)
        self.classes = sorted({s.class_name for s in self.samples})
        self._labels = np.array([s.class_name for s in self.samples])
        self._embeddings = pose_embedding(np.stack([s.landmarks for s in self.samples]))

    @property
    def confidence_range(self) -> int:
        """The most votes a class can get."""
        return min(self.max_distance_top_k, self.mean_distance_top_k)

    def classify(self, landmarks: np.ndarray, exclude: int | None = None) -> dict[str, int]:
        """Votes per class (every class of the samples, 0 for those without votes) for
        ``landmarks`` ``(33, 3)`` in pixels; ``exclude`` leaves one sample out (its index)."""
        pose = pose_embedding(landmarks)[None]
        flipped = pose_embedding(mirrored(landmarks))[None]
        diff = np.abs(pose - self._embeddings) * self.weights
        diff_flipped = np.abs(flipped - self._embeddings) * self.weights
        max_distance = np.minimum(diff.max(axis=(1, 2)), diff_flipped.max(axis=(1, 2)))
        if exclude is not None:
            max_distance[exclude] = np.inf
        keep = np.argsort(max_distance, kind="stable")[: self.max_distance_top_k]
        if exclude is not None:
            keep = keep[keep != exclude]
        pairs = diff.shape[1] * 2
        mean_distance = (
            np.minimum(diff[keep].sum(axis=(1, 2)), diff_flipped[keep].sum(axis=(1, 2))) / pairs
        )
        voters = keep[np.argsort(mean_distance, kind="stable")[: self.mean_distance_top_k]]
        votes = Counter(self._labels[voters].tolist())
        return {name: int(votes.get(name, 0)) for name in self.classes}


def _top_class(votes: dict[str, int]) -> str | None:
    """The class with the most votes, or ``None`` on a tie."""
    best = max(votes.values())
    top = [name for name, count in votes.items() if count == best]
    return top[0] if len(top) == 1 else None


def find_outliers(
    samples: Sequence[PoseSample], classifier: PoseClassifier | None = None
) -> list[tuple[PoseSample, dict[str, int]]]:
    """The samples the others do not classify as their own class (a different top class, or a
    tie), each with its votes, leaving the sample itself out."""
    classifier = classifier or PoseClassifier(samples)
    outliers = []
    for index, sample in enumerate(samples):
        votes = classifier.classify(sample.landmarks, exclude=index)
        if _top_class(votes) != sample.class_name:
            outliers.append((sample, votes))
    return outliers


def leave_one_out_accuracy(samples: Sequence[PoseSample]) -> dict[str, float]:
    """Per class, the share of its samples whose top class (the others voting) is their own."""
    classifier = PoseClassifier(samples)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for index, sample in enumerate(samples):
        votes = classifier.classify(sample.landmarks, exclude=index)
        total[sample.class_name] += 1
        right[sample.class_name] += _top_class(votes) == sample.class_name
    return {name: right[name] / total[name] for name in sorted(total)}
