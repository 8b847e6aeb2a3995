"""Parity of our pipeline with MediaPipe 0.10.14 on the goldens of ``scripts/make_goldens.py``.

For each model complexity, our :class:`vitruvian.pipeline.PosePipeline` (static images,
segmentation on, detection confidence 0.5) is run on exactly the inputs the goldens were made
from (whole COCO/mmpose images and COCO person crops built by :func:`vitruvian.crops.parity_input`)
and must match MediaPipe's results:

* the same presence decision (a pose or none) on every input;
* over inputs where both found a pose, 2D landmark error (in the input image's pixels) of mean
  <= 2 px and 95th percentile <= 5 px; world landmark error (Euclidean) of mean <= 0.02 m;
* per whole image where both found a pose, IoU(ours > 0.5, golden mask) >= 0.95.

Each complexity runs twice: on the default LiteRT backend (one image at a time), and on the
ONNX Runtime backend (our TFLite->ONNX conversion, CPU) through ``process_batch`` in batches
of :data:`ONNX_BATCH`, with the same limits.

The measured figures are printed, attached to the test report with ``record_property`` and
gathered in ``out/parity_report.json`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vitruvian.crops import parity_input

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".." / "shared" / "data"
GOLDENS_DIR = Path(__file__).resolve().parent / "goldens"
GOLDEN_PATH = GOLDENS_DIR / "mediapipe_0.10.14.json"
REPORT_PATH = REPO_ROOT / "out" / "parity_report.json"

COMPLEXITIES = (0, 1, 2)
#: (complexity, backend) cases; the ONNX one goes through process_batch.
CASES = [(c, "litert") for c in COMPLEXITIES] + [(c, "onnxruntime-cpu") for c in COMPLEXITIES]
ONNX_BATCH = 8
MAX_MEAN_PX = 2.0
MAX_P95_PX = 5.0
MAX_MEAN_WORLD_M = 0.02
MIN_MASK_IOU = 0.95
#: How many of the worst inputs a failure message lists.
N_WORST = 8

pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "coco" / "person_keypoints.json").is_file(),
    reason=f"test data not found: {DATA_DIR.resolve()} (expected ../shared/data)",
)

_REPORT: dict[str, Any] = {}


@dataclass(frozen=True)
class Output:
    """One pipeline's (ours or the golden's) answer for one input."""

    landmarks: np.ndarray | None  # (33, 5) normalised, or None when no pose
    world: np.ndarray | None  # (33, 3) metres
    mask: np.ndarray | None  # (H, W) bool, whole images only


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    """The golden JSON."""
    return json.loads(GOLDEN_PATH.read_text())


@pytest.fixture(scope="module")
def inputs(golden: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every golden input as the RGB image fed to the pipelines, by id."""
    meta = golden["meta"]
    sources: dict[str, np.ndarray] = {}
    built: dict[str, np.ndarray] = {}
    for item in golden["inputs"]:
        if item["source"] not in sources:
            bgr = cv2.imread(str(DATA_DIR / item["source"]), cv2.IMREAD_COLOR)
            assert bgr is not None, f"cannot read {DATA_DIR / item['source']}"
            sources[item["source"]] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb = sources[item["source"]]
        if item["bbox"] is not None:
            rgb, _, _ = parity_input(rgb, item["bbox"], meta["margin"], meta["min_side"])
        built[item["id"]] = np.ascontiguousarray(rgb)
    return built


@pytest.fixture(scope="module", autouse=True)
def _write_report() -> Iterator[None]:
    """Write the gathered figures to ``out/parity_report.json`` after the module's tests."""
    yield
    if _REPORT:
        REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
        REPORT_PATH.write_text(json.dumps(_REPORT, indent=1, sort_keys=True) + "\n")


def _golden_outputs(golden: dict[str, Any], complexity: int) -> dict[str, Output]:
    """The golden results of one complexity, by input id."""
    outputs: dict[str, Output] = {}
    for input_id, entry in golden["results"][str(complexity)].items():
        landmarks = entry["landmarks"]
        mask = None
        if entry.get("mask"):
            image = cv2.imread(str(GOLDENS_DIR / entry["mask"]), cv2.IMREAD_GRAYSCALE)
            assert image is not None, f"cannot read golden mask {entry['mask']}"
            mask = image > 127
        outputs[input_id] = Output(
            landmarks=None if landmarks is None else np.array(landmarks, dtype=np.float64),
            world=None if entry["world"] is None else np.array(entry["world"], dtype=np.float64),
            mask=mask,
        )
    return outputs


@pytest.fixture(scope="module", params=CASES, ids=lambda case: f"complexity{case[0]}-{case[1]}")
def outputs(
    request: pytest.FixtureRequest, golden: dict[str, Any], inputs: dict[str, np.ndarray]
) -> tuple[int | str, dict[str, Output], dict[str, Output]]:
    """``(case, ours, golden)``: our pipeline run once over every input, and the goldens.

    ``case`` is the complexity (LiteRT) or ``"<complexity> on <backend>"``.
    """
    from vitruvian.pipeline import PosePipeline

    complexity, backend = request.param
    whole = {item["id"] for item in golden["inputs"] if item["bbox"] is None}
    pipe = PosePipeline(
        model_complexity=complexity,
        enable_segmentation=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
        backend=backend,
    )
    assert pipe.backend == backend
    ids = list(inputs)
    ours: dict[str, Output] = {}
    try:
        if backend == "litert":
            results = [pipe.process(inputs[i]) for i in ids]
        else:
            results = []
            for start in range(0, len(ids), ONNX_BATCH):
                chunk = ids[start : start + ONNX_BATCH]
                results += pipe.process_batch([inputs[i] for i in chunk])
        for input_id, res in zip(ids, results, strict=True):
            if res is None:
                ours[input_id] = Output(None, None, None)
                continue
            mask = None
            if input_id in whole and res.segmentation_mask is not None:
                mask = np.asarray(res.segmentation_mask) > 0.5
            ours[input_id] = Output(
                landmarks=np.asarray(res.landmarks, dtype=np.float64),
                world=np.asarray(res.world_landmarks, dtype=np.float64)[:, :3],
                mask=mask,
            )
    finally:
        pipe.close()
    case: int | str = complexity if backend == "litert" else f"{complexity} on {backend}"
    return case, ours, _golden_outputs(golden, complexity)


def _both_found(ours: dict[str, Output], gold: dict[str, Output]) -> list[str]:
    """Ids of the inputs where both pipelines found a pose."""
    return [i for i in gold if gold[i].landmarks is not None and ours[i].landmarks is not None]


def _record(
    record_property: Any, complexity: int | str, name: str, value: float | int | str
) -> None:
    """Keep one measured figure: test report property, module report and stdout."""
    record_property(name, value)
    _REPORT.setdefault(f"complexity{complexity}", {})[name] = value
    print(f"parity complexity {complexity}: {name} = {value}")


def test_inputs_match_goldens(golden: dict[str, Any], inputs: dict[str, np.ndarray]) -> None:
    """The inputs we build are byte-identical to those MediaPipe was fed (same decoder, crops)."""
    mismatched = []
    for item in golden["inputs"]:
        rgb = inputs[item["id"]]
        if list(rgb.shape[:2]) != item["size"]:
            mismatched.append(f"{item['id']}: size {rgb.shape[:2]} != {item['size']}")
        elif hashlib.sha1(rgb.tobytes()).hexdigest() != item["sha1"]:
            mismatched.append(f"{item['id']}: pixel content differs")
    assert not mismatched, "inputs differ from the goldens': " + "; ".join(mismatched[:N_WORST])


def test_presence(
    outputs: tuple[int | str, dict[str, Output], dict[str, Output]], record_property: Any
) -> None:
    """Same decision (pose or no pose) as MediaPipe on every input."""
    complexity, ours, gold = outputs
    found_ours = sum(o.landmarks is not None for o in ours.values())
    found_gold = sum(g.landmarks is not None for g in gold.values())
    _record(record_property, complexity, "found_ours", found_ours)
    _record(record_property, complexity, "found_mediapipe", found_gold)
    differ = [
        f"{i} (ours: {'pose' if ours[i].landmarks is not None else 'none'}, mediapipe: "
        f"{'pose' if gold[i].landmarks is not None else 'none'})"
        for i in gold
        if (ours[i].landmarks is None) != (gold[i].landmarks is None)
    ]
    _record(record_property, complexity, "presence_mismatches", len(differ))
    assert not differ, (
        f"complexity {complexity}: presence differs on {len(differ)}/{len(gold)} inputs: "
        + "; ".join(differ)
    )


def test_landmarks_2d(
    outputs: tuple[int | str, dict[str, Output], dict[str, Output]],
    golden: dict[str, Any],
    record_property: Any,
) -> None:
    """2D landmark error in input pixels: mean <= 2 px, 95th percentile <= 5 px."""
    complexity, ours, gold = outputs
    sizes = {item["id"]: item["size"] for item in golden["inputs"]}
    ids = _both_found(ours, gold)
    assert ids, f"complexity {complexity}: no input where both found a pose"
    errors = {}
    for i in ids:
        height, width = sizes[i]
        delta = (ours[i].landmarks[:, :2] - gold[i].landmarks[:, :2]) * (width, height)
        errors[i] = np.hypot(delta[:, 0], delta[:, 1])
    flat = np.concatenate(list(errors.values()))
    mean, p95, worst = float(flat.mean()), float(np.percentile(flat, 95)), float(flat.max())
    _record(record_property, complexity, "inputs_compared", len(ids))
    _record(record_property, complexity, "landmark_px_mean", round(mean, 3))
    _record(record_property, complexity, "landmark_px_p95", round(p95, 3))
    _record(record_property, complexity, "landmark_px_max", round(worst, 3))
    if mean > MAX_MEAN_PX or p95 > MAX_P95_PX:
        ranked = sorted(errors, key=lambda i: -errors[i].mean())[:N_WORST]
        lines = []
        for i in ranked:
            k = int(errors[i].argmax())
            height, width = sizes[i]
            lines.append(
                f"{i}: mean {errors[i].mean():.2f} px, max {errors[i][k]:.2f} px at landmark "
                f"{k} (ours {(ours[i].landmarks[k, :2] * (width, height)).round(1).tolist()}, "
                f"mediapipe {(gold[i].landmarks[k, :2] * (width, height)).round(1).tolist()})"
            )
        pytest.fail(
            f"complexity {complexity}: 2D landmark error mean {mean:.3f} px (limit "
            f"{MAX_MEAN_PX}), p95 {p95:.3f} px (limit {MAX_P95_PX}) over {len(ids)} inputs; "
            "worst inputs:\n  " + "\n  ".join(lines)
        )


def test_world_landmarks(
    outputs: tuple[int | str, dict[str, Output], dict[str, Output]], record_property: Any
) -> None:
    """World landmark error (Euclidean, metres): mean <= 0.02 m."""
    complexity, ours, gold = outputs
    ids = _both_found(ours, gold)
    assert ids, f"complexity {complexity}: no input where both found a pose"
    errors = {i: np.linalg.norm(ours[i].world - gold[i].world, axis=1) for i in ids}
    flat = np.concatenate(list(errors.values()))
    mean = float(flat.mean())
    _record(record_property, complexity, "world_m_mean", round(mean, 4))
    _record(record_property, complexity, "world_m_p95", round(float(np.percentile(flat, 95)), 4))
    _record(record_property, complexity, "world_m_max", round(float(flat.max()), 4))
    if mean > MAX_MEAN_WORLD_M:
        ranked = sorted(errors, key=lambda i: -errors[i].mean())[:N_WORST]
        lines = [
            f"{i}: mean {errors[i].mean():.4f} m, max {errors[i].max():.4f} m at landmark "
            f"{int(errors[i].argmax())} (ours "
            f"{ours[i].world[errors[i].argmax()].round(3).tolist()}, mediapipe "
            f"{gold[i].world[errors[i].argmax()].round(3).tolist()})"
            for i in ranked
        ]
        pytest.fail(
            f"complexity {complexity}: world landmark error mean {mean:.4f} m (limit "
            f"{MAX_MEAN_WORLD_M}) over {len(ids)} inputs; worst inputs:\n  " + "\n  ".join(lines)
        )


def test_segmentation(
    outputs: tuple[int | str, dict[str, Output], dict[str, Output]],
    golden: dict[str, Any],
    record_property: Any,
) -> None:
    """IoU(ours > 0.5, golden mask) >= 0.95 on every whole image where both found a pose."""
    complexity, ours, gold = outputs
    whole = {item["id"] for item in golden["inputs"] if item["bbox"] is None}
    ids = [i for i in _both_found(ours, gold) if i in whole]
    assert ids, f"complexity {complexity}: no whole image where both found a pose"
    ious: dict[str, float] = {}
    for i in ids:
        assert gold[i].mask is not None, f"{i}: golden mask missing"
        assert ours[i].mask is not None, f"complexity {complexity}, {i}: no segmentation mask"
        assert ours[i].mask.shape == gold[i].mask.shape, (
            f"{i}: mask shape {ours[i].mask.shape} != {gold[i].mask.shape}"
        )
        union = int((ours[i].mask | gold[i].mask).sum())
        ious[i] = 1.0 if union == 0 else float((ours[i].mask & gold[i].mask).sum()) / union
    worst = sorted(ious, key=ious.__getitem__)
    _record(record_property, complexity, "mask_images_compared", len(ids))
    _record(record_property, complexity, "mask_iou_min", round(ious[worst[0]], 4))
    _record(record_property, complexity, "mask_iou_min_image", worst[0])
    _record(
        record_property, complexity, "mask_iou_mean", round(float(np.mean(list(ious.values()))), 4)
    )
    bad = [i for i in worst if ious[i] < MIN_MASK_IOU]
    assert not bad, (
        f"complexity {complexity}: segmentation IoU < {MIN_MASK_IOU} on {len(bad)}/{len(ids)} "
        "whole images: " + ", ".join(f"{i} {ious[i]:.4f}" for i in bad[:N_WORST])
    )
