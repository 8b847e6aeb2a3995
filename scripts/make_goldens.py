"""Produce the MediaPipe parity goldens: ``tests/goldens/mediapipe_<version>.json`` + masks.

The reference MediaPipe Pose runs in a *separate* Python environment (one with ``mediapipe``
installed), named by ``--reference-python`` or the ``VITRUVIAN_REFERENCE_PYTHON`` environment
variable; this script runs MediaPipe there through :mod:`vitruvian.reference` (its client is
loaded by file path, and its worker runs in that Python). This script itself needs
only the standard library, so any Python 3.10+ can run it (except the evaluation goldens, below).

Inputs (see ``tests/test_parity.py``, which rebuilds them the same way):

* every image of ``coco/images`` and ``mmpose`` under the data directory, whole;
* for every non-crowd COCO person annotation with ``num_keypoints >= 5``, the square crop of
  :func:`vitruvian.crops.parity_input` (crop of :func:`vitruvian.crops.person_crop`, margin 0.25,
  upscaled to 256 x 256 with ``INTER_LINEAR`` when smaller).

For each model complexity 0, 1, 2, a fresh ``Pose(static_image_mode=True, model_complexity=c,
enable_segmentation=True, min_detection_confidence=0.5)`` is fed every input (RGB). The JSON holds
the landmarks (normalised, 33 x [x, y, z, visibility, presence]) and world landmarks
(33 x [x, y, z]) per complexity per input, null when no pose was found; for whole images the
segmentation mask thresholded at 0.5 is written to ``masks/c<c>/<id with / as _>.png``.

Video goldens (``tests/goldens/mediapipe_<version>_video.json`` + ``masks/video/``, checked by
``tests/test_video.py``): MediaPipe in video mode, a fresh ``Pose(static_image_mode=False,
model_complexity=c, enable_segmentation=True, smooth_segmentation=False)`` per run (other options
at their defaults), fed the frames of a clip in order with one ``process()`` per frame, so that
MediaPipe advances its clock by 33333 us per frame. Clips: ``video/pose_squats.mp4`` decoded by
:func:`vitruvian.testing_clips.read_video_rgb`, and a "still with jitter" clip made from
``tfjs/pose.jpg`` by :func:`vitruvian.testing_clips.still_with_jitter` (parameters in the JSON).
Runs: every clip at every complexity, plus ``pose_squats`` at complexity 1 with
``smooth_landmarks=False``. Per run and frame the JSON holds the landmarks (normalised,
33 x [x, y, z, visibility]) and world landmarks (33 x [x, y, z]), or null when no pose was found;
per run the landmark jitter of :func:`vitruvian.testing_clips.landmark_jitter` (pixels, from the
unrounded landmarks); for ``pose_squats`` at complexity 1 the masks (> 0.5) of a few frames are
PNGs. MediaPipe's per-frame latency medians on ``pose_squats`` are recorded for information, both
for the golden runs (segmentation on) and with default options (segmentation off).

Evaluation goldens (``tests/goldens/mediapipe_<version>_eval.json``, checked by
``tests/test_eval.py``): MediaPipe's side of ``vitruvian eval coco`` with the crops protocol on
``coco/person_keypoints.json`` (every non-crowd person with at least 5 labelled keypoints, the
crop of :func:`vitruvian.crops.person_crop` with margin 0.25, no resize, a fresh
``Pose(static_image_mode=True, model_complexity=c)`` per complexity with its default confidences),
run by :func:`vitruvian.eval.coco.run_mediapipe` and scored by :mod:`vitruvian.eval.metrics`.
The JSON holds the figures per complexity (AP, AP50, AP75, PCK@0.2, detections / crops, how the
poses were matched) and, per crop, the 17 COCO keypoints ``[x, y, visibility]`` in image pixels
(null when no pose was found), rounded as stored; the figures are computed from the rounded
keypoints, so re-scoring them reproduces the figures exactly. MediaPipe has no ROI input, so
there are no ``--roi-from-box`` figures. This part imports ``vitruvian.eval``: run the script with
the project's Python (``.venv/bin/python``, with the ``eval`` extra installed).

Re-running rewrites a golden only when its content changed: the date and latency fields alone do
not count, so re-running with the same MediaPipe leaves the files byte-identical.

Usage::

    python scripts/make_goldens.py --reference-python PATH/TO/mediapipe-env/bin/python
    python scripts/make_goldens.py --only video --reference-python PATH/TO/python
    .venv/bin/python scripts/make_goldens.py --only eval --reference-python PATH/TO/python
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT_DIR = REPO_ROOT / "tests" / "goldens"
#: The bridge's client (standard library only), loaded by path so that this script needs no
#: installed vitruvian.
REFERENCE_CLIENT_PY = REPO_ROOT / "src" / "vitruvian" / "reference" / "client.py"
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"

#: Crop margin and smallest crop side; the parity test reads them back from the JSON meta.
MARGIN = 0.25
MIN_SIDE = 256
MIN_KEYPOINTS = 5
COMPLEXITIES = (0, 1, 2)
DECIMALS = 5

#: Video goldens: decimals kept per landmark column (x, y, z, visibility; 1e-4 of 1280 px is
#: 0.13 px) and for world coordinates (metres: 1 mm).
VIDEO_LANDMARK_DECIMALS = (4, 4, 3, 3)
VIDEO_WORLD_DECIMALS = 3
#: MediaPipe's Python solution advances its clock by this much per ``process()`` call.
VIDEO_FRAME_STEP_US = 33333
#: The clips, as the worker (and ``tests/test_video.py``) builds them; the jitter parameters are
#: those of :func:`vitruvian.testing_clips.still_with_jitter` (repeated here so that this script
#: needs no numpy).
VIDEO_CLIPS: tuple[dict[str, Any], ...] = (
    {"id": "pose_squats", "kind": "video", "source": "video/pose_squats.mp4"},
    {
        "id": "pose_jitter",
        "kind": "jitter",
        "source": "tfjs/pose.jpg",
        "n_frames": 40,
        "amplitude": 1.5,
        "step": 0.75,
        "seed": 20240,
    },
)
#: Clip, complexity and frames whose masks are stored.
VIDEO_MASK_RUN = ("pose_squats", 1)
VIDEO_MASK_FRAMES = (0, 20, 40, 64)
#: Clip the latencies are measured on.
VIDEO_TIMING_CLIP = "pose_squats"
#: Evaluation goldens: MediaPipe's landmark presence threshold (its default
#: ``min_tracking_confidence``) and decimals kept per keypoint column (x, y in pixels, visibility).
EVAL_MIN_PRESENCE = 0.5
EVAL_KEYPOINT_DECIMALS = (2, 2, 4)
#: The figures of :class:`vitruvian.eval.metrics.Figures` stored per complexity.
EVAL_FIGURES = (
    "ap",
    "ap50",
    "ap75",
    "pck",
    "pck_persons",
    "pck_keypoints",
    "detections",
    "inputs",
    "own_person_matches",
    "other_person_matches",
    "ignored_region_matches",
)
#: Meta fields that differ between runs of the same MediaPipe; ignored when deciding whether a
#: golden changed.
VOLATILE_META = ("date", "latency_ms_median", "latency_ms_median_default_options")


def build_input_spec(data_dir: Path) -> list[dict[str, Any]]:
    """List the golden inputs: whole images first, then the COCO person crops.

    Returns:
        one ``{"id", "source", "bbox"}`` dict per input; ``source`` is relative to ``data_dir``
        and ``bbox`` is the COCO ``[x, y, w, h]`` box (``None`` for a whole image).
    """
    inputs: list[dict[str, Any]] = []
    for folder, prefix in (("coco/images", "coco"), ("mmpose", "mmpose")):
        for path in sorted((data_dir / folder).glob("*.jpg")):
            inputs.append(
                {"id": f"{prefix}/{path.stem}", "source": f"{folder}/{path.name}", "bbox": None}
            )
    coco = json.loads((data_dir / "coco" / "person_keypoints.json").read_text())
    file_names = {img["id"]: img["file_name"] for img in coco["images"]}
    annotations = sorted(coco["annotations"], key=lambda a: (file_names[a["image_id"]], a["id"]))
    for ann in annotations:
        if ann.get("iscrowd", 0) or ann.get("num_keypoints", 0) < MIN_KEYPOINTS:
            continue
        file_name = file_names[ann["image_id"]]
        inputs.append(
            {
                "id": f"coco/{Path(file_name).stem}/ann{ann['id']}",
                "source": f"coco/images/{file_name}",
                "bbox": [float(v) for v in ann["bbox"]],
            }
        )
    return inputs


def build_video_spec() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """List the video clips, the golden runs and the timing-only runs.

    Returns:
        ``(clips, runs, timing_runs)``. A run is ``{"id", "clip", "complexity",
        "smooth_landmarks", "mask_frames"}``, its id ``<clip>/c<complexity>`` (with
        ``/unsmoothed`` appended for the ``smooth_landmarks=False`` run).
    """
    clips = [dict(clip) for clip in VIDEO_CLIPS]
    runs: list[dict[str, Any]] = []
    for clip in clips:
        for c in COMPLEXITIES:
            mask_frames = list(VIDEO_MASK_FRAMES) if (clip["id"], c) == VIDEO_MASK_RUN else []
            runs.append(
                {
                    "id": f"{clip['id']}/c{c}",
                    "clip": clip["id"],
                    "complexity": c,
                    "smooth_landmarks": True,
                    "mask_frames": mask_frames,
                }
            )
    runs.append(
        {
            "id": "pose_squats/c1/unsmoothed",
            "clip": "pose_squats",
            "complexity": 1,
            "smooth_landmarks": False,
            "mask_frames": [],
        }
    )
    timing_runs = [
        {"id": f"{VIDEO_TIMING_CLIP}/c{c}", "clip": VIDEO_TIMING_CLIP, "complexity": c}
        for c in COMPLEXITIES
    ]
    return clips, runs, timing_runs


def _round(value: Any) -> Any:
    """Round every float in a nested list/dict structure to :data:`DECIMALS` decimals."""
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


@functools.cache
def _reference_client() -> ModuleType:
    """:mod:`vitruvian.reference.client`, loaded by file path (once)."""
    spec = importlib.util.spec_from_file_location("_reference_client", REFERENCE_CLIENT_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reference_python(arg: str | None) -> str:
    """Resolve the reference interpreter from the argument or the environment variable."""
    client = _reference_client()
    try:
        return str(client.resolve_reference_python(arg, needed_by="make_goldens.py"))
    except client.ReferencePythonError as exc:
        raise SystemExit(f"error: {exc}") from None


def _round_video_frame(frame: dict[str, Any] | None) -> dict[str, Any] | None:
    """Round one video frame's landmarks to :data:`VIDEO_LANDMARK_DECIMALS` per column and its
    world landmarks to :data:`VIDEO_WORLD_DECIMALS` (``None`` stays ``None``)."""
    if frame is None:
        return None
    return {
        "landmarks": [
            [round(v, d) for v, d in zip(row, VIDEO_LANDMARK_DECIMALS, strict=True)]
            for row in frame["landmarks"]
        ],
        "world": [[round(v, VIDEO_WORLD_DECIMALS) for v in row] for row in frame["world"]],
    }


def _dir_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _stable(golden: dict[str, Any]) -> dict[str, Any]:
    """``golden`` without the meta fields of :data:`VOLATILE_META`."""
    meta = {k: v for k, v in golden["meta"].items() if k not in VOLATILE_META}
    return {**golden, "meta": meta}


def _write_golden(path: Path, golden: dict[str, Any]) -> bool:
    """Write ``golden`` as compact JSON unless ``path`` holds the same up to volatile fields.

    Returns:
        whether the file was (re)written.
    """
    text = json.dumps(golden, separators=(",", ":")) + "\n"
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError:
            old = None
        if isinstance(old, dict) and "meta" in old:
            if _stable(old) == _stable(json.loads(text)):
                return False
    path.write_text(text)
    return True


def _sync_dir(src: Path, dst: Path) -> bool:
    """Make ``dst`` hold exactly the files of ``src``, touching nothing when they already match.

    Returns:
        whether anything under ``dst`` changed.
    """
    new = {p.relative_to(src): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    old = (
        {p.relative_to(dst): p.read_bytes() for p in dst.rglob("*") if p.is_file()}
        if dst.is_dir()
        else {}
    )
    if new == old:
        return False
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return True


def _run_worker(reference: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the reference MediaPipe on ``spec`` (its ``mode``: ``"image"`` or ``"video"``) in the
    reference Python (:mod:`vitruvian.reference`), its stderr shown as it comes; its result."""
    job = "goldens_video" if spec.get("mode") == "video" else "goldens_image"
    client = _reference_client()
    try:
        result: dict[str, Any] = client.run_job(reference, job, spec, echo_stderr=True)
    except client.ReferencePythonError as exc:
        raise SystemExit(f"error: {exc}") from None
    return result


def make_image_goldens(reference: str, data_dir: Path, out_dir: Path) -> None:
    """Build the still-image goldens ``mediapipe_<version>.json`` and ``masks/c<c>/``."""
    if not (data_dir / "coco" / "person_keypoints.json").is_file():
        raise SystemExit(f"error: no test data under {data_dir}")

    inputs = build_input_spec(data_dir)
    masks_dir = out_dir / "masks"
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        new_masks_dir = Path(tmp) / "masks"
        spec = {
            "data_dir": str(data_dir),
            "mask_dir": str(new_masks_dir),
            "complexities": list(COMPLEXITIES),
            "margin": MARGIN,
            "min_side": MIN_SIDE,
            "inputs": inputs,
        }
        worker = _run_worker(reference, spec)
        # Replace the old masks only once the worker has succeeded; other folders under masks/
        # (the video goldens') are left alone.
        masks_changed = False
        for c in COMPLEXITIES:
            masks_changed |= _sync_dir(new_masks_dir / f"c{c}", masks_dir / f"c{c}")

    version = worker["versions"]["mediapipe"]
    latency_ms = {
        c: round(statistics.median(times) * 1e3, 2) for c, times in worker["latencies_s"].items()
    }
    golden = {
        "meta": {
            "mediapipe_version": version,
            "reference_versions": worker["versions"],
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": f"python scripts/make_goldens.py --reference-python ${REFERENCE_ENV_VAR}",
            "pose_options": {
                "static_image_mode": True,
                "enable_segmentation": True,
                "min_detection_confidence": 0.5,
            },
            "margin": MARGIN,
            "min_side": MIN_SIDE,
            "min_keypoints": MIN_KEYPOINTS,
            "mask_threshold": 0.5,
            "decimals": DECIMALS,
            "latency_ms_median": latency_ms,
            "landmark_columns": ["x", "y", "z", "visibility", "presence"],
            "world_columns": ["x", "y", "z"],
        },
        "inputs": worker["inputs"],
        "results": _round(worker["results"]),
    }
    golden_path = out_dir / f"mediapipe_{version}.json"
    written = _write_golden(golden_path, golden)

    n_whole = sum(1 for item in inputs if item["bbox"] is None)
    print(f"inputs: {len(inputs)} ({n_whole} whole images, {len(inputs) - n_whole} crops)")
    for c in COMPLEXITIES:
        found = sum(1 for r in golden["results"][str(c)].values() if r["landmarks"] is not None)
        print(
            f"complexity {c}: pose found on {found}/{len(inputs)} inputs, "
            f"MediaPipe latency median {latency_ms[str(c)]:.1f} ms/input"
        )
    print(
        f"{'wrote' if written else 'unchanged:'} {golden_path} "
        f"({golden_path.stat().st_size / 1024:.0f} KiB); image masks "
        f"{'rewritten' if masks_changed else 'unchanged'}"
    )


def make_video_goldens(reference: str, data_dir: Path, out_dir: Path) -> None:
    """Build the video-mode goldens ``mediapipe_<version>_video.json`` and ``masks/video/``."""
    clips, runs, timing_runs = build_video_spec()
    for clip in clips:
        if not (data_dir / clip["source"]).is_file():
            raise SystemExit(f"error: {clip['source']} not found under {data_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    masks_dir = out_dir / "masks" / "video"

    with tempfile.TemporaryDirectory() as tmp:
        new_masks_dir = Path(tmp) / "masks_video"
        spec = {
            "mode": "video",
            "data_dir": str(data_dir),
            "mask_dir": str(new_masks_dir),
            "clips": clips,
            "runs": runs,
            "timing_runs": timing_runs,
        }
        worker = _run_worker(reference, spec)
        masks_changed = _sync_dir(new_masks_dir, masks_dir)

    version = worker["versions"]["mediapipe"]
    by_id = {run["id"]: run for run in runs}
    golden_runs: dict[str, Any] = {}
    for run_id, result in worker["runs"].items():
        run = by_id[run_id]
        golden_runs[run_id] = {
            "clip": run["clip"],
            "options": {
                "static_image_mode": False,
                "model_complexity": run["complexity"],
                "smooth_landmarks": run["smooth_landmarks"],
                "enable_segmentation": True,
                "smooth_segmentation": False,
                "min_detection_confidence": 0.5,
                "min_tracking_confidence": 0.5,
            },
            "masks": {k: f"masks/video/{name}" for k, name in result["masks"].items()},
            "jitter_px": None if result["jitter_px"] is None else round(result["jitter_px"], 4),
            "frames": [_round_video_frame(frame) for frame in result["frames"]],
        }

    # Latency medians per complexity, on the timing clip's smoothed runs.
    timed = {f"{VIDEO_TIMING_CLIP}/c{c}": str(c) for c in COMPLEXITIES}

    def medians(latencies: dict[str, list[float]]) -> dict[str, float]:
        return {
            timed[run_id]: round(statistics.median(times) * 1e3, 2)
            for run_id, times in latencies.items()
            if run_id in timed
        }

    latency_ms = medians(worker["latencies_s"])
    latency_default_ms = medians(worker["timing_latencies_s"])
    golden = {
        "meta": {
            "mediapipe_version": version,
            "reference_versions": worker["versions"],
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": (
                f"python scripts/make_goldens.py --only video --reference-python "
                f"${REFERENCE_ENV_VAR}"
            ),
            "frame_step_us": VIDEO_FRAME_STEP_US,
            "mask_threshold": 0.5,
            "decimals": {
                "landmarks": list(VIDEO_LANDMARK_DECIMALS),
                "world": VIDEO_WORLD_DECIMALS,
            },
            "latency_clip": VIDEO_TIMING_CLIP,
            "latency_ms_median": latency_ms,
            "latency_ms_median_default_options": latency_default_ms,
            "landmark_columns": ["x", "y", "z", "visibility"],
            "world_columns": ["x", "y", "z"],
        },
        "clips": worker["clips"],
        "runs": golden_runs,
    }
    golden_path = out_dir / f"mediapipe_{version}_video.json"
    written = _write_golden(golden_path, golden)

    for run_id, run in golden_runs.items():
        found = sum(frame is not None for frame in run["frames"])
        n_frames = len(run["frames"])
        print(f"{run_id}: pose on {found}/{n_frames} frames, jitter {run['jitter_px']} px")
    for c in COMPLEXITIES:
        print(
            f"complexity {c}: MediaPipe video-mode latency median on {VIDEO_TIMING_CLIP} "
            f"{latency_ms[str(c)]:.1f} ms/frame with segmentation, "
            f"{latency_default_ms[str(c)]:.1f} ms/frame with default options"
        )
    print(
        f"{'wrote' if written else 'unchanged:'} {golden_path} "
        f"({golden_path.stat().st_size / 1024:.0f} KiB); video masks "
        f"{'rewritten' if masks_changed else 'unchanged'} ({_dir_size(masks_dir) / 1024:.0f} KiB)"
    )


def _import_eval() -> tuple[ModuleType, ModuleType]:
    """``vitruvian.eval.coco`` and ``vitruvian.eval.metrics``, with pycocotools importable."""
    try:
        from vitruvian.eval import EvalError, coco, import_eval_dependency, metrics

        try:
            import_eval_dependency("pycocotools.cocoeval")
        except EvalError as exc:
            raise ImportError(str(exc)) from exc
    except ImportError as exc:
        raise SystemExit(
            "error: the eval goldens need the vitruvian package with its eval extra in this "
            "Python (run the script with the project's .venv/bin/python, or "
            f"pip install -e '.[eval]'): {exc}"
        ) from exc
    return coco, metrics


def make_eval_goldens(reference: str, data_dir: Path, out_dir: Path) -> None:
    """Build the evaluation golden ``mediapipe_<version>_eval.json`` (crops protocol)."""
    import numpy as np

    coco, metrics = _import_eval()
    annotations = data_dir / "coco" / "person_keypoints.json"
    images_dir = data_dir / "coco" / "images"
    if not annotations.is_file():
        raise SystemExit(f"error: no test data under {data_dir}")
    dataset = coco.load_coco_keypoints(annotations, MIN_KEYPOINTS)
    items = coco.eval_items(dataset, "crops")
    runs = coco.run_mediapipe(
        reference,
        images_dir,
        items,
        COMPLEXITIES,
        protocol="crops",
        min_presence=EVAL_MIN_PRESENCE,
        margin=MARGIN,
    )

    predictions: dict[str, list[Any]] = {}
    figures: dict[str, dict[str, Any]] = {}
    latency_ms: dict[str, float] = {}
    for run in runs:
        stored = [
            None
            if keypoints is None
            else [
                [round(float(v), d) for v, d in zip(row, EVAL_KEYPOINT_DECIMALS, strict=True)]
                for row in keypoints
            ]
            for keypoints in run.keypoints
        ]
        # Score the keypoints as stored, so that re-scoring the golden gives the same figures.
        run.keypoints = [None if kp is None else np.array(kp) for kp in stored]
        scored = metrics.evaluate_run(dataset, run).as_dict()
        key = str(run.complexity)
        predictions[key] = stored
        figures[key] = {
            name: round(scored[name], 4) if isinstance(scored[name], float) else scored[name]
            for name in EVAL_FIGURES
        }
        latency_ms[key] = round(statistics.median(run.times_ms), 2)

    version = runs[0].version
    golden = {
        "meta": {
            "mediapipe_version": version,
            "reference_versions": runs[0].versions,
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": (
                f".venv/bin/python scripts/make_goldens.py --only eval --reference-python "
                f"${REFERENCE_ENV_VAR}"
            ),
            "annotations": "coco/person_keypoints.json",
            "protocol": "crops",
            "margin": MARGIN,
            "min_keypoints": MIN_KEYPOINTS,
            "pose_options": {
                "static_image_mode": True,
                "min_detection_confidence": 0.5,
                "min_tracking_confidence": EVAL_MIN_PRESENCE,
            },
            "score_rule": "mean visibility of the 17 keypoints",
            "pck_alpha": 0.2,
            "keypoint_columns": ["x", "y", "visibility"],
            "decimals": list(EVAL_KEYPOINT_DECIMALS),
            "latency_ms_median": latency_ms,
        },
        "items": [
            {
                "id": item.id,
                "image_id": item.image_id,
                "ann_id": item.ann_id,
                "file_name": item.file_name,
                "bbox": list(item.bbox),
                "sha1": sha1,
            }
            for item, sha1 in zip(items, runs[0].input_sha1, strict=True)
        ],
        "figures": figures,
        "predictions": predictions,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    golden_path = out_dir / f"mediapipe_{version}_eval.json"
    written = _write_golden(golden_path, golden)
    for c in COMPLEXITIES:
        f = figures[str(c)]
        print(
            f"complexity {c}: AP {f['ap']:.1f}, AP50 {f['ap50']:.1f}, AP75 {f['ap75']:.1f}, "
            f"PCK@0.2 {f['pck']:.1f}, pose on {f['detections']}/{f['inputs']} crops, "
            f"MediaPipe latency median {latency_ms[str(c)]:.1f} ms/crop"
        )
    print(
        f"{'wrote' if written else 'unchanged:'} {golden_path} "
        f"({golden_path.stat().st_size / 1024:.0f} KiB)"
    )


def main(argv: list[str] | None = None) -> int:
    """Build the goldens; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reference-python",
        help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR})",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--only",
        choices=("image", "video", "eval"),
        help="build only the still-image, the video or the evaluation goldens (default: all)",
    )
    args = parser.parse_args(argv)

    reference = _reference_python(args.reference_python)
    data_dir: Path = args.data_dir.resolve()
    out_dir: Path = args.out_dir.resolve()
    if args.only in (None, "eval"):
        _import_eval()  # fail before the long runs when the eval part cannot run here
    if args.only in (None, "image"):
        make_image_goldens(reference, data_dir, out_dir)
    if args.only in (None, "video"):
        make_video_goldens(reference, data_dir, out_dir)
    if args.only in (None, "eval"):
        make_eval_goldens(reference, data_dir, out_dir)
    print(f"goldens total {_dir_size(out_dir) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
