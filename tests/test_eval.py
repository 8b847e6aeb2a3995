"""``vitruvian eval coco``: keypoint mapping, metrics, protocols and the command line.

What is checked:

* synthetic ground truth (no data needed): ground-truth keypoints placed into a ``(33, 5)``
  landmark array at the mapped BlazePose indices, in crop coordinates, and mapped back by
  :func:`~vitruvian.eval.coco.to_coco_keypoints` score AP = AP50 = AP75 = 100 and PCK 100; a
  shift of every keypoint by ``f x sqrt(area)`` gives each person the OKS
  ``mean_i exp(-f^2 / (2 k_i^2))``, hence exactly ``10 x (thresholds <= OKS)`` AP; PCK is 0 when
  the shift exceeds 0.2 x torso and 100 below it; one pose per image in the image protocol
  gives COCO's 101-point AP for 50 % recall; poses swapped between two crops are matched to the
  other person (AP unchanged) and fail PCK; PCK by hand on a 3-4-5 torso.
* on ``../shared/data/coco`` (72 persons with >= 5 keypoints): ground truth through the crop
  mapping scores 100; re-scoring MediaPipe's stored predictions
  (``tests/goldens/mediapipe_0.10.14_eval.json``) reproduces its stored figures; our crops
  are MediaPipe's byte for byte; our AP and PCK per complexity are within 1 point of
  MediaPipe's and the detection count within 1; with ``roi_from_box`` every crop has a pose.
* the command: ``--complexity 0 1``, ``--json`` and ``--report`` (non-blank PNG charts), the
  image protocol, usage errors, a missing pycocotools, a reference Python without mediapipe,
  and (only where ``VITRUVIAN_REFERENCE_PYTHON`` is set) ``--compare mediapipe``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from vitruvian.cli import _spread_multi_values, cli
from vitruvian.crops import crop_geometry
from vitruvian.eval import EvalError, import_eval_dependency
from vitruvian.eval.coco import (
    BLAZEPOSE_INDEX_FOR_COCO,
    MEDIAPIPE,
    VITRUVIAN,
    CocoKeypoints,
    RunResult,
    crop_affine,
    eval_items,
    load_coco_keypoints,
    prediction_record,
    run_vitruvian,
    to_coco_keypoints,
)
from vitruvian.eval.metrics import (
    PckResult,
    coco_keypoint_ap,
    evaluate_run,
    pck,
    pck_counts,
    torso_diameter,
)
from vitruvian.eval.report import format_table

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ANNOTATIONS = DATA_DIR / "coco" / "person_keypoints.json"
IMAGES = DATA_DIR / "coco" / "images"
GOLDEN_PATH = Path(__file__).resolve().parent / "goldens" / "mediapipe_0.10.14_eval.json"
COMPLEXITIES = (0, 1, 2)
N_PERSONS = 72
#: Our figures may differ from MediaPipe's stored ones by this much (percentage points) ...
MAX_FIGURE_DIFF = 1.0
#: ... and the number of crops with a pose by this many.
MAX_DETECTION_DIFF = 1
#: COCO's per-keypoint OKS sigmas (pycocotools ``COCOeval``), to predict OKS by hand.
COCO_SIGMAS = (
    np.array([26, 25, 25, 35, 35, 79, 79, 72, 72, 62, 62, 107, 107, 87, 87, 89, 89]) / 1000.0
)
OKS_THRESHOLDS = np.linspace(0.5, 0.95, 10)

needs_data = pytest.mark.skipif(
    not (ANNOTATIONS.is_file() and IMAGES.is_dir()),
    reason=f"shared data set not found at {DATA_DIR} (needs coco/person_keypoints.json)",
)


# -- helpers ------------------------------------------------------------------------------------


def _landmarks_from_keypoints(
    keypoints: np.ndarray, affine: np.ndarray, input_size: tuple[int, int]
) -> np.ndarray:
    """Place COCO keypoints (image px) into a synthetic ``(33, 5)`` landmark array normalised to
    the input of ``affine`` (input px -> image px); visibility 0.9 where labelled, else 0."""
    inverse = cv2.invertAffineTransform(affine)
    homogeneous = np.column_stack([keypoints[:, :2], np.ones(len(keypoints))])
    in_input = homogeneous @ inverse.T
    landmarks = np.zeros((33, 5))
    index = list(BLAZEPOSE_INDEX_FOR_COCO)
    landmarks[index, 0] = in_input[:, 0] / input_size[0]
    landmarks[index, 1] = in_input[:, 1] / input_size[1]
    landmarks[index, 3] = np.where(keypoints[:, 2] > 0, 0.9, 0.0)
    landmarks[index, 4] = 1.0
    return landmarks


def _crops_run(dataset: CocoKeypoints, keypoints: dict[int, np.ndarray | None]) -> RunResult:
    """A crops-protocol run whose pose for each person's crop is ``keypoints[ann_id]`` (image px),
    sent through the synthetic landmark array and :func:`to_coco_keypoints`."""
    items = eval_items(dataset, "crops")
    mapped: list[np.ndarray | None] = []
    for item in items:
        assert item.bbox is not None and item.ann_id is not None
        person_kp = keypoints.get(item.ann_id)
        if person_kp is None:
            mapped.append(None)
            continue
        side = crop_geometry(item.bbox, 0.25)[2]
        affine = crop_affine(item.bbox)
        landmarks = _landmarks_from_keypoints(person_kp, affine, (side, side))
        mapped.append(to_coco_keypoints(landmarks, (side, side), affine))
    return RunResult(VITRUVIAN, "test", 1, "crops", False, 0.5, items, mapped, [1.0] * len(items))


def _synthetic_dataset(tmp_path: Path) -> CocoKeypoints:
    """Three 1200 x 600 images, two well separated 17-keypoint persons each, plus one person with
    3 keypoints (not evaluated) and one crowd region; written as COCO JSON and loaded back."""
    rng = np.random.default_rng(20240)
    images, annotations = [], []
    ann_id = 1
    for image_id in (1, 2, 3):
        images.append(
            {"id": image_id, "file_name": f"synthetic_{image_id}.jpg", "width": 1200, "height": 600}
        )
        for x0 in (100.0, 650.0):
            w, h = 200.0, 400.0
            kp = np.zeros((17, 3))
            kp[:, 0] = x0 + rng.uniform(0.1, 0.9, 17) * w
            kp[:, 1] = 50.0 + rng.uniform(0.05, 0.95, 17) * h
            kp[:, 2] = 2
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": [x0, 50.0, w, h],
                    "area": 0.6 * w * h,
                    "num_keypoints": 17,
                    "keypoints": [round(float(v), 2) for v in kp.reshape(-1)],
                }
            )
            ann_id += 1
    small = np.zeros((17, 3))
    small[:3] = [[1000, 100, 2], [1010, 95, 2], [990, 95, 1]]
    annotations.append(
        {
            "id": 100,
            "image_id": 1,
            "category_id": 1,
            "iscrowd": 0,
            "bbox": [950.0, 80.0, 100.0, 200.0],
            "area": 10000.0,
            "num_keypoints": 3,
            "keypoints": small.reshape(-1).tolist(),
        }
    )
    annotations.append(
        {
            "id": 101,
            "image_id": 2,
            "category_id": 1,
            "iscrowd": 1,
            "bbox": [950.0, 300.0, 200.0, 200.0],
            "area": 30000.0,
            "num_keypoints": 0,
            "keypoints": [0] * 51,
        }
    )
    categories = [{"id": 1, "name": "person", "supercategory": "person"}]
    path = tmp_path / "synthetic_keypoints.json"
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )
    return load_coco_keypoints(path, min_keypoints=5)


def _shift(keypoints: np.ndarray, distance: float) -> np.ndarray:
    """``keypoints`` moved by ``distance`` pixels along the image diagonal."""
    moved = keypoints.copy()
    moved[:, :2] += distance / math.sqrt(2.0)
    return moved


# -- mapping and format -------------------------------------------------------------------------


def test_to_coco_keypoints_picks_the_blazepose_indices_and_applies_the_affine() -> None:
    rng = np.random.default_rng(1)
    landmarks = rng.uniform(0, 1, (33, 5))
    affine = np.array([[1.0, 0.0, -40.0], [0.0, 1.0, 25.0]])
    keypoints = to_coco_keypoints(landmarks, (300, 200), affine)
    assert keypoints.shape == (17, 3)
    # COCO 11 (left_hip) is BlazePose 23 (LEFT_HIP); x scaled by the width, y by the height.
    assert keypoints[11, 0] == pytest.approx(landmarks[23, 0] * 300 - 40.0)
    assert keypoints[11, 1] == pytest.approx(landmarks[23, 1] * 200 + 25.0)
    assert keypoints[11, 2] == pytest.approx(landmarks[23, 3])
    np.testing.assert_allclose(keypoints[:, 2], landmarks[list(BLAZEPOSE_INDEX_FOR_COCO), 3])
    with pytest.raises(ValueError, match="33"):
        to_coco_keypoints(landmarks[:17], (300, 200), affine)


def test_prediction_record_is_coco_results_format() -> None:
    keypoints = np.column_stack([np.arange(17.0), np.arange(17.0) + 100, np.linspace(0, 1, 17)])
    record = prediction_record(42, keypoints)
    assert record["image_id"] == 42 and record["category_id"] == 1
    assert len(record["keypoints"]) == 51
    assert record["keypoints"][3:6] == [1.0, 101.0, pytest.approx(1 / 16)]
    assert record["score"] == pytest.approx(0.5)


def test_complexity_takes_several_values_in_a_row() -> None:
    args = ["--complexity", "0", "1", "2", "--json", "x.json", "--complexity", "1"]
    assert _spread_multi_values(args, ["--complexity"]) == [
        "--complexity",
        "0",
        "--complexity",
        "1",
        "--complexity",
        "2",
        "--json",
        "x.json",
        "--complexity",
        "1",
    ]
    assert _spread_multi_values(["--complexity"], ["--complexity"]) == ["--complexity"]


# -- metrics on synthetic ground truth ----------------------------------------------------------


def test_ground_truth_through_the_mapping_scores_100(tmp_path: Path) -> None:
    dataset = _synthetic_dataset(tmp_path)
    assert len(dataset.persons) == 6  # the 3-keypoint person and the crowd are not evaluated
    run = _crops_run(dataset, {p.ann_id: p.keypoints for p in dataset.persons})
    figures = evaluate_run(dataset, run)
    assert (figures.ap, figures.ap50, figures.ap75) == (100.0, 100.0, 100.0)
    assert figures.pck == 100.0 and figures.pck_persons == 6
    assert (figures.detections, figures.inputs) == (6, 6)
    assert figures.own_person_matches == 6 and figures.other_person_matches == 0


def test_missing_poses_lower_recall(tmp_path: Path) -> None:
    dataset = _synthetic_dataset(tmp_path)
    kept = {p.ann_id: p.keypoints for p in dataset.persons[:3]}
    figures = evaluate_run(dataset, _crops_run(dataset, kept))
    # Half the persons found with precision 1: COCO's 101-point AP is 51 / 101.
    assert figures.ap == pytest.approx(100 * 51 / 101)
    assert figures.pck == pytest.approx(50.0)
    assert figures.detections == 3


@pytest.mark.parametrize(
    ("fraction", "expected_ap"), [(0.05, 80.0), (0.08, 50.0), (0.12, 20.0), (0.15, 0.0)]
)
def test_shift_by_a_fraction_of_the_scale_gives_the_predicted_ap(
    tmp_path: Path, fraction: float, expected_ap: float
) -> None:
    dataset = _synthetic_dataset(tmp_path)
    area = {ann["id"]: ann["area"] for ann in dataset.data["annotations"]}
    shifted = {
        p.ann_id: _shift(p.keypoints, fraction * math.sqrt(area[p.ann_id])) for p in dataset.persons
    }
    figures = evaluate_run(dataset, _crops_run(dataset, shifted))
    # OKS = mean_i exp(-d^2 / (2 s^2 k_i^2)), k_i = 2 sigma_i, d = fraction * s: the same for all.
    oks = float(np.mean(np.exp(-(fraction**2) / (2 * (2 * COCO_SIGMAS) ** 2))))
    assert np.min(np.abs(OKS_THRESHOLDS - oks)) > 0.005, "pick a fraction away from thresholds"
    assert expected_ap == 10.0 * np.count_nonzero(OKS_THRESHOLDS <= oks)
    assert figures.ap == pytest.approx(expected_ap)
    assert figures.ap50 == (100.0 if oks >= 0.5 else 0.0)
    assert figures.ap75 == (100.0 if oks >= 0.75 else 0.0)
    assert figures.ap < 100.0


@pytest.mark.parametrize(("fraction", "expected"), [(0.19, 100.0), (0.21, 0.0), (0.5, 0.0)])
def test_pck_drops_to_zero_past_a_fifth_of_the_torso(
    tmp_path: Path, fraction: float, expected: float
) -> None:
    dataset = _synthetic_dataset(tmp_path)
    shifted = {
        p.ann_id: _shift(p.keypoints, fraction * torso_diameter(p.keypoints))
        for p in dataset.persons
    }
    figures = evaluate_run(dataset, _crops_run(dataset, shifted))
    assert figures.pck == pytest.approx(expected)


def test_swapped_crop_poses_match_the_other_person(tmp_path: Path) -> None:
    dataset = _synthetic_dataset(tmp_path)
    poses = {p.ann_id: p.keypoints for p in dataset.persons}
    poses[1], poses[2] = poses[2], poses[1]  # both persons of image 1
    figures = evaluate_run(dataset, _crops_run(dataset, poses))
    # COCO matches an image's poses jointly, so AP does not see the swap; PCK (per crop) does.
    assert figures.ap == 100.0
    assert (figures.own_person_matches, figures.other_person_matches) == (4, 2)
    assert figures.pck == pytest.approx(100.0 * 4 / 6)


def test_image_protocol_scores_the_pose_against_its_best_person(tmp_path: Path) -> None:
    dataset = _synthetic_dataset(tmp_path)
    items = eval_items(dataset, "image")
    assert [item.image_id for item in items] == [1, 2, 3]
    # One pose per image: the second person of each image, whole image = identity affine.
    by_image = {p.image_id: p.keypoints for p in dataset.persons}
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    keypoints = [
        to_coco_keypoints(
            _landmarks_from_keypoints(by_image[item.image_id], identity, (1200, 600)),
            (1200, 600),
            identity,
        )
        for item in items
    ]
    run = RunResult(VITRUVIAN, "test", 1, "image", False, 0.5, items, keypoints, [1.0] * 3)
    figures = evaluate_run(dataset, run)
    assert figures.ap == pytest.approx(100 * 51 / 101)
    assert figures.pck == pytest.approx(50.0)
    assert figures.own_person_matches is None


def test_no_prediction_scores_zero(tmp_path: Path) -> None:
    dataset = _synthetic_dataset(tmp_path)
    figures = evaluate_run(dataset, _crops_run(dataset, {}))
    assert (figures.ap, figures.pck, figures.detections) == (0.0, 0.0, 0)
    assert coco_keypoint_ap(dataset.ground_truth(), [], dataset.image_ids).ap == 0.0


def test_pck_by_hand() -> None:
    gt = np.zeros((17, 3))
    gt[5] = [100.0, 100.0, 2]  # left shoulder
    gt[12] = [160.0, 180.0, 2]  # right hip: torso 100 px (a 60-80-100 triangle), threshold 20
    gt[0] = [120.0, 40.0, 1]  # nose, labelled but hidden
    gt[9] = [300.0, 300.0, 2]  # left wrist
    gt[16] = [50.0, 400.0, 2]  # right ankle
    assert torso_diameter(gt) == pytest.approx(100.0)
    pred = gt.copy()
    pred[5, :2] += [12.0, 16.0]  # exactly 20 px: correct (inclusive)
    pred[12, :2] += [0.0, 19.5]  # correct
    pred[0, :2] += [20.5, 0.0]  # wrong
    pred[9, :2] += [-12.0, -16.1]  # just over 20 px: wrong
    pred[3, :2] = [999.0, 999.0]  # unlabelled keypoint: not scored
    assert pck_counts(gt, pred) == (3, 5)  # shoulder, hip, ankle
    assert pck_counts(gt, None) == (0, 5)
    assert pck_counts(gt, pred, alpha=0.3) == (5, 5)
    no_hip = gt.copy()
    no_hip[12, 2] = 0
    assert torso_diameter(no_hip) is None and pck_counts(no_hip, pred) is None
    result = pck([gt, gt, no_hip], [pred, None, pred])
    assert result == PckResult(correct=3, labelled=10, persons=2, excluded=1)
    assert result.value == pytest.approx(30.0)


def test_missing_pycocotools_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    monkeypatch.setitem(sys.modules, "pycocotools.coco", None)
    with pytest.raises(EvalError, match=r"pip install vitruvian\[eval\]"):
        import_eval_dependency("pycocotools.coco")
    result = CliRunner().invoke(
        cli, ["eval", "coco", "--annotations", __file__, "--images", str(Path(__file__).parent)]
    )
    assert result.exit_code == 1
    assert "pip install vitruvian[eval]" in result.output
    assert "Traceback" not in result.output


# -- the shared COCO sample ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset() -> CocoKeypoints:
    """The shared COCO sample's annotations."""
    return load_coco_keypoints(ANNOTATIONS)


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    """MediaPipe 0.10.14's crops-protocol figures and predictions."""
    return json.loads(GOLDEN_PATH.read_text())


@pytest.fixture(scope="module")
def ours(dataset: CocoKeypoints) -> list[RunResult]:
    """Our crops-protocol runs at complexities 0, 1, 2."""
    return run_vitruvian(IMAGES, eval_items(dataset, "crops"), COMPLEXITIES, protocol="crops")


@needs_data
def test_shared_ground_truth_scores_100(dataset: CocoKeypoints) -> None:
    assert len(dataset.persons) == N_PERSONS
    run = _crops_run(dataset, {p.ann_id: p.keypoints for p in dataset.persons})
    figures = evaluate_run(dataset, run)
    assert (figures.ap, figures.ap50, figures.ap75, figures.pck) == (100.0,) * 4
    assert figures.own_person_matches == N_PERSONS


def _golden_run(dataset: CocoKeypoints, golden: dict[str, Any], complexity: int) -> RunResult:
    """MediaPipe's stored predictions as a run."""
    items = eval_items(dataset, "crops")
    stored = golden["predictions"][str(complexity)]
    keypoints = [None if kp is None else np.array(kp, dtype=np.float64) for kp in stored]
    return RunResult(MEDIAPIPE, "0.10.14", complexity, "crops", False, 0.5, items, keypoints, [])


@needs_data
@pytest.mark.parametrize("complexity", COMPLEXITIES)
def test_stored_mediapipe_predictions_rescore_to_the_stored_figures(
    dataset: CocoKeypoints, golden: dict[str, Any], complexity: int
) -> None:
    items = eval_items(dataset, "crops")
    assert [g["id"] for g in golden["items"]] == [item.id for item in items]
    assert [tuple(g["bbox"]) for g in golden["items"]] == [item.bbox for item in items]
    figures = evaluate_run(dataset, _golden_run(dataset, golden, complexity)).as_dict()
    for name, value in golden["figures"][str(complexity)].items():
        assert figures[name] == pytest.approx(value, abs=1e-3), name


@needs_data
def test_our_crops_are_mediapipes(golden: dict[str, Any], ours: list[RunResult]) -> None:
    assert ours[0].input_sha1 == [item["sha1"] for item in golden["items"]]


@needs_data
@pytest.mark.parametrize("complexity", COMPLEXITIES)
def test_our_figures_match_mediapipes(
    dataset: CocoKeypoints,
    golden: dict[str, Any],
    ours: list[RunResult],
    complexity: int,
    record_property: Any,
) -> None:
    run = ours[COMPLEXITIES.index(complexity)]
    figures = evaluate_run(dataset, run)
    theirs = golden["figures"][str(complexity)]
    mediapipe = evaluate_run(dataset, _golden_run(dataset, golden, complexity))
    print(f"\n{format_table([figures, mediapipe])}")
    record_property(f"eval_c{complexity}", figures.as_dict())
    assert figures.inputs == N_PERSONS
    assert abs(figures.ap - theirs["ap"]) <= MAX_FIGURE_DIFF
    assert abs(figures.ap50 - theirs["ap50"]) <= MAX_FIGURE_DIFF
    assert abs(figures.ap75 - theirs["ap75"]) <= MAX_FIGURE_DIFF
    assert abs(figures.pck - theirs["pck"]) <= MAX_FIGURE_DIFF
    assert abs(figures.detections - theirs["detections"]) <= MAX_DETECTION_DIFF


@needs_data
def test_roi_from_box_gives_every_crop_a_pose(
    dataset: CocoKeypoints, ours: list[RunResult], record_property: Any
) -> None:
    runs = run_vitruvian(
        IMAGES, eval_items(dataset, "crops"), COMPLEXITIES, protocol="crops", roi_from_box=True
    )
    figures = [evaluate_run(dataset, run) for run in runs]
    detector = [evaluate_run(dataset, run) for run in ours]
    print(f"\n{format_table(detector + figures)}")
    for fig in figures:
        record_property(f"eval_roi_c{fig.complexity}", fig.as_dict())
        assert (fig.detections, fig.inputs) == (N_PERSONS, N_PERSONS)
        assert fig.label == "vitruvian, GT box ROI"
        assert 0.0 < fig.ap < 100.0 and 0.0 < fig.pck < 100.0


@needs_data
def test_cli_writes_table_json_and_report(tmp_path: Path) -> None:
    json_path = tmp_path / "eval.json"
    report_dir = tmp_path / "report"
    args = ["eval", "coco", "--annotations", str(ANNOTATIONS), "--images", str(IMAGES)]
    args += ["--complexity", "0", "1", "--json", str(json_path), "--report", str(report_dir)]
    result = CliRunner().invoke(cli, [*args, "-q"])
    assert result.exit_code == 0, result.output
    assert "PCK@0.2" in result.output and "/72" in result.output

    document = json.loads(json_path.read_text())
    assert [r["complexity"] for r in document["results"]] == [0, 1]
    assert document["settings"]["persons_evaluated"] == N_PERSONS
    assert document["command"].startswith("vitruvian eval coco --annotations")
    assert all(0 <= r["ap"] <= 100 and r["inputs"] == N_PERSONS for r in document["results"])

    markdown = (report_dir / "report.md").read_text()
    assert "| vitruvian | 1 |" in markdown and "--complexity 0 1" in markdown
    charts = sorted(report_dir.glob("*.png"))
    assert [p.stem for p in charts] == sorted(
        ["ap", "ap50", "ap75", "pck", "detection_rate", "latency"]
    )
    for chart in charts:
        image = cv2.imread(str(chart), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[0] > 200 and image.shape[1] > 300, chart
        colours = np.unique(image.reshape(-1, 3), axis=0)
        assert len(colours) > 20 and image.std() > 10, f"{chart} looks blank"
        assert f"]({chart.name})" in markdown


@needs_data
def test_cli_image_protocol() -> None:
    args = ["eval", "coco", "--annotations", str(ANNOTATIONS), "--images", str(IMAGES)]
    result = CliRunner().invoke(cli, [*args, "--protocol", "image", "--complexity", "0", "-q"])
    assert result.exit_code == 0, result.output
    assert "/25" in result.output  # the 25 images holding a person with >= 5 keypoints


@needs_data
def test_image_protocol_with_several_people_scores_higher(dataset: CocoKeypoints) -> None:
    """Whole images with ``num_poses=5``: every person found is a prediction; AP and PCK rise
    above the one-pose figures (measured at complexity 1 with the default 5 keypoints: AP 14.6
    -> 17.8, PCK 32.7 -> 42.1, 16 -> 22 poses), and each image's first pose is the one-pose
    run's."""
    items = eval_items(dataset, "image")
    (one,) = run_vitruvian(IMAGES, items, [1], protocol="image")
    (many,) = run_vitruvian(IMAGES, items, [1], protocol="image", num_poses=5)
    for a, b in zip(one.keypoints, many.keypoints, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, atol=1e-6)
    found = len(many.poses())
    assert len(one.poses()) < found <= 5 * len(items)
    single, multi = evaluate_run(dataset, one), evaluate_run(dataset, many)
    print(
        f"\nimage protocol c1: AP {single.ap:.1f} -> {multi.ap:.1f}, PCK {single.pck:.1f} -> "
        f"{multi.pck:.1f}, poses {len(one.poses())} -> {found}"
    )
    assert multi.ap > single.ap and multi.pck > single.pck
    assert multi.label == "vitruvian, up to 5 poses"


@needs_data
def test_cli_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["eval", "coco", "--annotations", str(ANNOTATIONS), "--images", str(IMAGES), "-q"]
    result = runner.invoke(cli, [*base, "--protocol", "image", "--roi-from-box"])
    assert result.exit_code == 2 and "--roi-from-box needs --protocol crops" in result.output
    result = runner.invoke(cli, [*base, "--num-poses", "3"])
    assert result.exit_code == 2 and "--num-poses needs --protocol image" in result.output

    monkeypatch.delenv("VITRUVIAN_REFERENCE_PYTHON", raising=False)
    result = runner.invoke(cli, [*base, "--compare", "mediapipe"])
    assert result.exit_code == 1 and "--reference-python" in result.output
    result = runner.invoke(
        cli, [*base, "--compare", "mediapipe", "--reference-python", str(tmp_path / "nope")]
    )
    assert result.exit_code == 1 and "not found" in result.output
    # A Python without mediapipe: the worker fails before our models run.
    result = runner.invoke(
        cli,
        [
            *base,
            "--complexity",
            "0",
            "--compare",
            "mediapipe",
            "--reference-python",
            sys.executable,
        ],
    )
    assert result.exit_code == 1 and "mediapipe" in result.output
    assert result.output.count("\n") == 1, result.output  # one line, no traceback

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(cli, ["eval", "coco", "--annotations", str(broken), "--images", "."])
    assert result.exit_code == 1 and "cannot read" in result.output


@needs_data
@pytest.mark.skipif(
    not os.environ.get("VITRUVIAN_REFERENCE_PYTHON"),
    reason="VITRUVIAN_REFERENCE_PYTHON (a Python with mediapipe 0.10.14) is not set",
)
def test_cli_compare_mediapipe(tmp_path: Path) -> None:
    json_path = tmp_path / "eval.json"
    args = ["eval", "coco", "--annotations", str(ANNOTATIONS), "--images", str(IMAGES)]
    args += ["--complexity", "0", "--compare", "mediapipe", "--json", str(json_path), "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    document = json.loads(json_path.read_text())
    labels = [r["label"] for r in document["results"]]
    assert labels[0] == "vitruvian" and labels[1].startswith("mediapipe ")
    assert document["settings"]["inputs_decoded_differently_by_reference"] == 0
    ours, theirs = document["results"]
    assert abs(ours["ap"] - theirs["ap"]) <= MAX_FIGURE_DIFF
    assert abs(ours["detections"] - theirs["detections"]) <= MAX_DETECTION_DIFF
