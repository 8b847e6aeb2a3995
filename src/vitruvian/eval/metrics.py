"""Keypoint accuracy metrics: COCO OKS AP (pycocotools), PCK@0.2, detection rate, latency.

* **AP, AP50, AP75**: COCO's keypoint average precision, computed by pycocotools' ``COCOeval``
  (iouType ``"keypoints"``, OKS with COCO's per-keypoint sigmas; nothing re-implemented here),
  with ``params.imgIds`` restricted to the images that hold an evaluated person, and reported in
  percent. All predictions of an image are evaluated together, as COCO does for multi-person
  output: ``COCOeval`` matches them greedily, highest score first, each to the unmatched ground
  truth person with the best OKS. In the crops protocol each crop's pose normally lands on the
  crop's own person; :attr:`Figures.own_person_matches` counts how often it was matched to it.
  Ground truth persons outside the evaluated set are ignored (see
  :meth:`vitruvian.eval.coco.CocoKeypoints.ground_truth`).
* **PCK@0.2**: a labelled keypoint (``v > 0``) is correct when the predicted one lies within
  ``0.2 x`` the person's torso diameter, the distance between the ground-truth left shoulder
  and right hip (pixels). Persons without both of those keypoints labelled are left out; a
  person without a prediction has all keypoints wrong. PCK = correct / labelled keypoints,
  pooled over persons, in percent. The crops protocol scores each person with its own crop's
  pose; the image protocol scores the image's pose against the person it has the best OKS with
  (the image's other persons count as missed).
* **Detection rate**: inputs with a pose / inputs.
* **Latency**: median wall time of ``process()`` per input, in milliseconds.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vitruvian.eval import EvalError, import_eval_dependency
from vitruvian.eval.coco import CocoKeypoints, RunResult

__all__ = [
    "LEFT_SHOULDER",
    "PCK_ALPHA",
    "RIGHT_HIP",
    "ApResult",
    "Figures",
    "PckResult",
    "coco_keypoint_ap",
    "evaluate_run",
    "pck",
    "pck_counts",
    "torso_diameter",
]

#: COCO indices of the keypoints that define the torso diameter.
LEFT_SHOULDER = 5
RIGHT_HIP = 12
#: PCK threshold, as a fraction of the torso diameter.
PCK_ALPHA = 0.2


@dataclass(frozen=True)
class ApResult:
    """COCO keypoint AP of a set of predictions.

    Attributes:
        ap: AP over OKS thresholds 0.50:0.05:0.95, in percent (area range "all", 20 poses per
            image at most).
        ap50: AP at OKS 0.5, in percent.
        ap75: AP at OKS 0.75, in percent.
        matched_ann_ids: per prediction (input order), the id of the ground-truth annotation
            ``COCOeval`` matched it to at OKS 0.5, or ``None`` when unmatched.
        best_ann_ids: per prediction, the evaluated ground-truth person of its image with the
            highest OKS (``None`` when the OKS is 0 with every one).
    """

    ap: float
    ap50: float
    ap75: float
    matched_ann_ids: tuple[int | None, ...]
    best_ann_ids: tuple[int | None, ...]


def _percent(value: float) -> float:
    """``COCOeval`` statistic (a fraction, -1 when undefined) as a percentage (NaN)."""
    return float("nan") if value < 0 else 100.0 * float(value)


def coco_keypoint_ap(
    ground_truth: dict[str, Any], predictions: Sequence[dict[str, Any]], image_ids: Sequence[int]
) -> ApResult:
    """COCO keypoint AP of ``predictions`` with pycocotools' ``COCOeval``.

    Args:
        ground_truth: COCO keypoint annotations (a dict as read from the JSON file).
        predictions: COCO results (``image_id``, ``category_id``, ``keypoints`` 17 x 3
            flattened in image pixels, ``score``); not modified.
        image_ids: the images to evaluate (``params.imgIds``).

    Returns:
        The AP figures (all 0 when there is no prediction) and the matches.

    Raises:
        EvalError: pycocotools is not installed.
    """
    coco_module = import_eval_dependency("pycocotools.coco")
    cocoeval_module = import_eval_dependency("pycocotools.cocoeval")
    if not predictions:
        return ApResult(0.0, 0.0, 0.0, (), ())
    # pycocotools prints progress to stdout; loadRes adds fields to the dicts it gets: copies.
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_module.COCO()
        gt.dataset = ground_truth
        gt.createIndex()
        dt = gt.loadRes([dict(p) for p in predictions])
        evaluator = cocoeval_module.COCOeval(gt, dt, "keypoints")
        evaluator.params.imgIds = [int(i) for i in image_ids]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats

    # loadRes numbers the predictions 1, 2, ... in the order given.
    params = evaluator.params
    matched: dict[int, int | None] = {}
    for entry in evaluator.evalImgs:
        if entry is None or list(entry["aRng"]) != list(params.areaRng[0]):
            continue
        for dt_id, gt_id in zip(entry["dtIds"], entry["dtMatches"][0], strict=True):
            matched[int(dt_id)] = int(gt_id) if gt_id > 0 else None

    best: dict[int, int | None] = {}
    for (image_id, cat_id), oks in evaluator.ious.items():
        dts = evaluator._dts[image_id, cat_id]
        gts = evaluator._gts[image_id, cat_id]
        if len(oks) == 0 or not dts or not gts:
            continue
        # Rows of computeOks: predictions sorted by score (stable), at most maxDets[-1].
        order = np.argsort([-d["score"] for d in dts], kind="mergesort")[: params.maxDets[-1]]
        usable = np.array([not g["ignore"] for g in gts])
        for row, index in enumerate(order):
            values = np.where(usable, np.asarray(oks)[row], -1.0)
            column = int(np.argmax(values))
            best[int(dts[index]["id"])] = int(gts[column]["id"]) if values[column] > 0 else None

    count = len(predictions)
    return ApResult(
        ap=_percent(stats[0]),
        ap50=_percent(stats[1]),
        ap75=_percent(stats[2]),
        matched_ann_ids=tuple(matched.get(i + 1) for i in range(count)),
        best_ann_ids=tuple(best.get(i + 1) for i in range(count)),
    )


def torso_diameter(gt_keypoints: np.ndarray) -> float | None:
    """The distance in pixels between the labelled left shoulder and right hip.

    Args:
        gt_keypoints: ``(17, 3)`` ground truth ``[x, y, v]`` (COCO order).

    Returns:
        The distance, or ``None`` when either keypoint is not labelled (``v == 0``) or the two
        coincide.
    """
    gt_keypoints = np.asarray(gt_keypoints, dtype=np.float64)
    if gt_keypoints[LEFT_SHOULDER, 2] <= 0 or gt_keypoints[RIGHT_HIP, 2] <= 0:
        return None
    diameter = float(np.hypot(*(gt_keypoints[LEFT_SHOULDER, :2] - gt_keypoints[RIGHT_HIP, :2])))
    return diameter if diameter > 0 else None


def pck_counts(
    gt_keypoints: np.ndarray, predicted: np.ndarray | None, alpha: float = PCK_ALPHA
) -> tuple[int, int] | None:
    """PCK counts of one person.

    Args:
        gt_keypoints: ``(17, 3)`` ground truth ``[x, y, v]`` in pixels.
        predicted: ``(17, >=2)`` predicted ``[x, y, ...]`` in the same pixels, or ``None`` (no
            prediction: every labelled keypoint is wrong).
        alpha: the threshold as a fraction of :func:`torso_diameter`.

    Returns:
        ``(correct, labelled)``: labelled keypoints within ``alpha x torso`` (inclusive) of the
        prediction, and labelled keypoints; ``None`` when the person has no torso diameter.
    """
    gt_keypoints = np.asarray(gt_keypoints, dtype=np.float64)
    torso = torso_diameter(gt_keypoints)
    if torso is None:
        return None
    labelled = gt_keypoints[:, 2] > 0
    if predicted is None:
        return 0, int(np.count_nonzero(labelled))
    predicted = np.asarray(predicted, dtype=np.float64)
    distance = np.hypot(*(predicted[:, :2] - gt_keypoints[:, :2]).T)
    correct = labelled & (distance <= alpha * torso)
    return int(np.count_nonzero(correct)), int(np.count_nonzero(labelled))


@dataclass(frozen=True)
class PckResult:
    """PCK over a set of persons.

    Attributes:
        correct: labelled keypoints predicted within the threshold.
        labelled: labelled keypoints of the persons scored.
        persons: persons scored (those with a torso diameter).
        excluded: persons left out (no torso diameter).
    """

    correct: int
    labelled: int
    persons: int
    excluded: int

    @property
    def value(self) -> float:
        """PCK in percent (NaN when no keypoint was scored)."""
        return 100.0 * self.correct / self.labelled if self.labelled else float("nan")


def pck(
    gt_keypoints: Sequence[np.ndarray],
    predicted: Sequence[np.ndarray | None],
    alpha: float = PCK_ALPHA,
) -> PckResult:
    """Pooled PCK of persons (``gt_keypoints[i]`` against ``predicted[i]``); see
    :func:`pck_counts`."""
    correct = labelled = persons = excluded = 0
    for gt, pred in zip(gt_keypoints, predicted, strict=True):
        counts = pck_counts(gt, pred, alpha)
        if counts is None:
            excluded += 1
            continue
        correct += counts[0]
        labelled += counts[1]
        persons += 1
    return PckResult(correct, labelled, persons, excluded)


@dataclass(frozen=True)
class Figures:
    """Everything measured for one run (one implementation at one complexity).

    Attributes:
        label: the run's name in tables and charts.
        implementation: ``"vitruvian"`` or ``"mediapipe"``.
        version: its version.
        complexity: landmark model, 0 / 1 / 2.
        protocol: ``"crops"`` or ``"image"``.
        roi_from_box: ground-truth boxes replaced the person detector.
        ap, ap50, ap75: COCO keypoint AP in percent.
        pck: PCK@0.2 in percent.
        pck_persons: persons scored by PCK.
        pck_keypoints: labelled keypoints scored by PCK.
        detections: inputs where a pose was found.
        inputs: inputs (crops or images).
        median_ms: median ``process()`` time per input, milliseconds.
        own_person_matches: crops protocol: poses ``COCOeval`` matched (OKS >= 0.5) to their
            crop's own person; ``None`` for the image protocol.
        other_person_matches: crops protocol: poses matched to another evaluated person.
        ignored_region_matches: crops protocol: poses matched to an ignored region (a crowd
            annotation, or a person outside the evaluated set), which ``COCOeval`` counts
            neither as a hit nor as a false positive.
    """

    label: str
    implementation: str
    version: str
    complexity: int
    protocol: str
    roi_from_box: bool
    ap: float
    ap50: float
    ap75: float
    pck: float
    pck_persons: int
    pck_keypoints: int
    detections: int
    inputs: int
    median_ms: float
    own_person_matches: int | None = None
    other_person_matches: int | None = None
    ignored_region_matches: int | None = None

    @property
    def detection_rate(self) -> float:
        """Inputs with a pose, in percent of the inputs."""
        return 100.0 * self.detections / self.inputs if self.inputs else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict (with ``detection_rate``; NaN becomes ``None``)."""
        out = asdict(self)
        out["detection_rate"] = self.detection_rate
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in out.items()}


def evaluate_run(dataset: CocoKeypoints, run: RunResult, alpha: float = PCK_ALPHA) -> Figures:
    """Score one run against the data set's evaluated persons.

    Args:
        dataset: the annotations (and the evaluated persons).
        run: the outputs of :func:`vitruvian.eval.coco.run_vitruvian` or ``run_mediapipe``.
        alpha: PCK threshold.

    Raises:
        EvalError: pycocotools is missing, or the run's items do not belong to ``dataset``.
    """
    predictions = run.predictions()
    ap = coco_keypoint_ap(dataset.ground_truth(), predictions, dataset.image_ids)
    posed = [item for item, kp in zip(run.items, run.keypoints, strict=True) if kp is not None]
    by_person: dict[int, np.ndarray] = {}
    own = other = ignored = None
    if run.protocol == "crops":
        own = other = ignored = 0
        evaluated = {person.ann_id for person in dataset.persons}
        for item, keypoints in zip(run.items, run.keypoints, strict=True):
            if item.ann_id is None:
                raise EvalError(f"crops run holds a whole-image item {item.id!r}")
            if keypoints is not None:
                by_person[item.ann_id] = keypoints
        for item, matched in zip(posed, ap.matched_ann_ids, strict=True):
            if matched is None:
                continue
            if matched == item.ann_id:
                own += 1
            elif matched in evaluated:
                other += 1
            else:
                ignored += 1
    else:
        kept = [kp for _, kp in run.poses()]
        for keypoints, ann_id in zip(kept, ap.best_ann_ids, strict=True):
            if ann_id is not None:  # an image's most confident pose first
                by_person.setdefault(ann_id, keypoints)
    scores = pck(
        [person.keypoints for person in dataset.persons],
        [by_person.get(person.ann_id) for person in dataset.persons],
        alpha,
    )
    times = run.times_ms
    return Figures(
        label=run.label,
        implementation=run.implementation,
        version=run.version,
        complexity=run.complexity,
        protocol=run.protocol,
        roi_from_box=run.roi_from_box,
        ap=ap.ap,
        ap50=ap.ap50,
        ap75=ap.ap75,
        pck=scores.value,
        pck_persons=scores.persons,
        pck_keypoints=scores.labelled,
        detections=len(posed),
        inputs=len(run.items),
        median_ms=float(np.median(times)) if times else float("nan"),
        own_person_matches=own,
        other_person_matches=other,
        ignored_region_matches=ignored,
    )
