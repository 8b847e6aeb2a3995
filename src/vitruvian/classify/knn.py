"""MediaPipe's k-NN pose classifier (ML Kit's ``PoseClassifier``, the Colab's
``PoseClassifier``) on labelled pose samples, its outlier finder, and leave-one-out accuracy.

Classification of a pose, against every sample's :func:`~vitruvian.classify.embedding.
pose_embedding`, in two stages:

1. *Max distance*: for each sample, the largest per-coordinate absolute difference between the
   two embeddings, each coordinate weighted by :data:`AXES_WEIGHTS` (x 1, y 1, z 0.2: z is the
   least accurate), computed for the pose and for its mirror image (x negated), the smaller of
   the two kept. The :data:`MAX_DISTANCE_TOP_K` (30) nearest samples go on: this drops samples
   that are close on average but have a joint bent the other way.
2. *Mean distance*: among those, the mean weighted absolute difference (again the smaller of
   pose and mirror); the :data:`MEAN_DISTANCE_TOP_K` (10) nearest vote for their class.

The result is votes per class, 0 to 10 (``min`` of the two top-k values), summing to 10 when
there are at least 10 samples. Ties in distance keep the samples' order.

Samples come from a CSV in ML Kit's format (:func:`load_samples`; no header, one line per
sample: ``name,class,`` then x, y, z of the 33 landmarks in pixels, as
``fitness_pose_samples.csv``) or from landmarks (:class:`PoseSample`); :func:`save_samples`
writes that format. :func:`find_outliers` is the Colab's ``find_pose_sample_outliers``: each
sample classified against the whole set is an outlier when its own class is not the single top
class; :func:`leave_one_out_accuracy` measures a set per class, each sample classified by all
the others.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vitruvian.classify.embedding import mirror, pose_embedding, to_pixels

__all__ = [
    "AXES_WEIGHTS",
    "MAX_DISTANCE_TOP_K",
    "MEAN_DISTANCE_TOP_K",
    "Outlier",
    "PoseClassifier",
    "PoseSample",
    "SampleError",
    "find_outliers",
    "leave_one_out_accuracy",
    "load_samples",
    "remove_outliers",
    "samples_csv",
    "save_samples",
    "top_classes",
]

#: Samples kept by the max-distance stage.
MAX_DISTANCE_TOP_K = 30
#: Samples kept by the mean-distance stage: the voters.
MEAN_DISTANCE_TOP_K = 10
#: Weights of the x, y and z differences in both distances.
AXES_WEIGHTS = (1.0, 1.0, 0.2)

_FIELDS = 2 + 33 * 3


@dataclass(frozen=True)
class PoseSample:
    """One labelled pose.

    Attributes:
        name: where it comes from (an image file name in ML Kit's set).
        class_name: its class, e.g. ``"squats_down"``.
        landmarks: ``(33, 3)`` float64 image landmarks in pixels (x right, y down, z on the
            scale of x; see :mod:`vitruvian.classify.embedding`).
    """

    name: str
    class_name: str
    landmarks: np.ndarray

    def __post_init__(self) -> None:
        lm = np.asarray(self.landmarks, dtype=np.float64)
        if lm.shape[0] != 33 or lm.ndim != 2 or lm.shape[1] < 3:
            raise ValueError(f"sample {self.name!r}: landmarks must be (33, 3), got {lm.shape}")
        object.__setattr__(self, "landmarks", lm[:, :3])


class SampleError(ValueError):
    """A samples file that cannot be read or used; the message names the file (and line)."""


def load_samples(path: str | os.PathLike[str]) -> list[PoseSample]:
    """The samples of a CSV file in ML Kit's format (see the module docstring).

    Empty lines are skipped. Unlike ML Kit's loader, which skips bad lines silently, a bad line
    is an error.

    Raises:
        SampleError: the file cannot be read, holds no sample, or has a line that is not a name,
            a class and 99 numbers.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SampleError(f"cannot read the samples file {file}: {reason}") from exc
    samples = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(field.strip() for field in row):
            continue
        if len(row) != _FIELDS:
            raise SampleError(
                f"{file}, line {number}: {len(row)} fields; a sample is a name, a class and 99 "
                "numbers (x, y, z of 33 landmarks, in pixels)"
            )
        try:
            values = np.array([float(v) for v in row[2:]], dtype=np.float64)
        except ValueError:
            raise SampleError(f"{file}, line {number}: a landmark value is not a number") from None
        if not np.all(np.isfinite(values)):
            raise SampleError(f"{file}, line {number}: a landmark value is not finite")
        if not row[1].strip():
            raise SampleError(f"{file}, line {number}: the class name is empty")
        samples.append(PoseSample(row[0], row[1], values.reshape(33, 3)))
    if not samples:
        raise SampleError(f"{file} holds no samples")
    return samples


def samples_csv(samples: Iterable[PoseSample]) -> str:
    """The samples in ML Kit's CSV format (no header; floats written to read back exactly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for sample in samples:
        writer.writerow(
            [sample.name, sample.class_name, *(repr(float(v)) for v in sample.landmarks.ravel())]
        )
    return buffer.getvalue()


def save_samples(path: str | os.PathLike[str], samples: Iterable[PoseSample]) -> None:
    """Write the samples to ``path`` in ML Kit's CSV format (replacing it)."""
    Path(path).write_text(samples_csv(samples), encoding="utf-8")


class PoseClassifier:
    """k-NN votes per class for a pose against labelled samples (see the module docstring).

    Args:
        samples: the labelled poses (at least one).
        max_distance_top_k: samples kept by the max-distance stage (ML Kit: 30).
        mean_distance_top_k: voters kept by the mean-distance stage (ML Kit: 10).
        axes_weights: weights of x, y, z in the distances (ML Kit: 1, 1, 0.2).
    """

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
        if max_distance_top_k < 1 or mean_distance_top_k < 1:
            raise ValueError("the top-k values must be at least 1")
        self.samples: list[PoseSample] = list(samples)
        self.max_distance_top_k = int(max_distance_top_k)
        self.mean_distance_top_k = int(mean_distance_top_k)
        self.axes_weights = np.asarray(axes_weights, dtype=np.float64).reshape(3)
        #: The samples' classes, sorted.
        self.classes: list[str] = sorted({s.class_name for s in self.samples})
        self._labels = np.array([s.class_name for s in self.samples], dtype=object)
        if np.any(self.axes_weights < 0):
            raise ValueError("the axes weights must not be negative")
        # |a - b| * w = |a * w - b * w| for w >= 0: the samples are weighted once, here.
        embeddings = pose_embedding(np.stack([s.landmarks for s in self.samples]))
        self._weighted = (embeddings * self.axes_weights).reshape(len(self.samples), -1)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str], **options: object) -> PoseClassifier:
        """A classifier on the samples of a CSV file (:func:`load_samples`); ``options`` as for
        the constructor."""
        return cls(load_samples(path), **options)  # type: ignore[arg-type]

    @property
    def confidence_range(self) -> int:
        """The most votes one class can get (ML Kit's ``confidenceRange()``)."""
        return min(self.max_distance_top_k, self.mean_distance_top_k)

    def classify(
        self,
        landmarks: np.ndarray,
        *,
        image_size: tuple[int, int] | None = None,
        exclude: int | None = None,
    ) -> dict[str, int]:
        """Votes per class for one pose.

        Args:
            landmarks: ``(33, >=3)`` image landmarks in pixels, or normalised ones
                (``PoseResult.landmarks``) with ``image_size``.
            image_size: ``(width, height)`` in pixels, for normalised landmarks.
            exclude: the index of a sample to leave out (leave-one-out).

        Returns:
            Every class of the samples (sorted) with its votes, 0 to :attr:`confidence_range`.
        """
        pixels = to_pixels(landmarks, *image_size) if image_size else np.asarray(landmarks)
        pose = pose_embedding(pixels)
        flipped = pose_embedding(mirror(pixels))
        diff = np.abs(self._weighted - (pose * self.axes_weights).ravel())
        diff_flipped = np.abs(self._weighted - (flipped * self.axes_weights).ravel())
        max_distance = np.minimum(diff.max(axis=1), diff_flipped.max(axis=1))
        candidates = np.arange(len(self.samples))
        if exclude is not None:
            candidates = np.delete(candidates, exclude)
            max_distance = np.delete(max_distance, exclude)
        kept = candidates[np.argsort(max_distance, kind="stable")[: self.max_distance_top_k]]
        # ML Kit divides the summed differences by 2 x 23, the Colab takes the mean over the
        # 69 values: the same order either way.
        mean_distance = np.minimum(diff[kept].mean(axis=1), diff_flipped[kept].mean(axis=1))
        voters = kept[np.argsort(mean_distance, kind="stable")[: self.mean_distance_top_k]]
        votes = dict.fromkeys(self.classes, 0)
        for label in self._labels[voters]:
            votes[label] += 1
        return votes


def top_classes(votes: dict[str, int] | dict[str, float]) -> list[str]:
    """The classes with the most votes (several on a tie; none when every class has 0)."""
    if not votes:
        return []
    best = max(votes.values())
    return [name for name, count in votes.items() if count == best and count > 0]


@dataclass(frozen=True)
class Outlier:
    """A sample that the set does not classify as its own class.

    Attributes:
        index: its index in the samples.
        sample: the sample.
        top_classes: the classes with the most votes (several on a tie).
        votes: the votes per class.
    """

    index: int
    sample: PoseSample
    top_classes: list[str]
    votes: dict[str, int]


def find_outliers(
    samples: Sequence[PoseSample],
    classifier: PoseClassifier | None = None,
    *,
    leave_one_out: bool = False,
) -> list[Outlier]:
    """The samples whose own class is not the single top class of their votes.

    With ``leave_one_out=False`` (MediaPipe's Colab, ``find_pose_sample_outliers``) each sample
    is classified against the whole set, itself included (so it votes for its own class once);
    with ``True`` against all the others only, which is stricter.

    Args:
        samples: the labelled poses.
        classifier: a classifier on exactly ``samples`` (built when ``None``).
        leave_one_out: leave each sample out of its own classification.
    """
    classifier = classifier or PoseClassifier(samples)
    outliers = []
    for index, sample in enumerate(samples):
        votes = classifier.classify(sample.landmarks, exclude=index if leave_one_out else None)
        top = top_classes(votes)
        if top != [sample.class_name]:
            outliers.append(Outlier(index, sample, top, votes))
    return outliers


def remove_outliers(
    samples: Sequence[PoseSample], *, leave_one_out: bool = False
) -> list[PoseSample]:
    """``samples`` without those :func:`find_outliers` finds (one pass)."""
    dropped = {o.index for o in find_outliers(samples, leave_one_out=leave_one_out)}
    return [s for i, s in enumerate(samples) if i not in dropped]


def leave_one_out_accuracy(
    samples: Sequence[PoseSample], classifier: PoseClassifier | None = None
) -> dict[str, float]:
    """Per class (sorted), the share of its samples whose single top class, voted by all the
    other samples, is their own class (a tie counts as wrong)."""
    classifier = classifier or PoseClassifier(samples)
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    for index, sample in enumerate(samples):
        top = top_classes(classifier.classify(sample.landmarks, exclude=index))
        total[sample.class_name] = total.get(sample.class_name, 0) + 1
        right[sample.class_name] = right.get(sample.class_name, 0) + (top == [sample.class_name])
    return {name: right[name] / total[name] for name in sorted(total)}
