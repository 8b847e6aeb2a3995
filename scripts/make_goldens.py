"""Produce the MediaPipe parity goldens: ``tests/goldens/mediapipe_<version>.json`` + masks.

The reference MediaPipe Pose runs in a *separate* Python environment (one with ``mediapipe``
installed), named by ``--reference-python`` or the ``VITRUVIAN_REFERENCE_PYTHON`` environment
variable; this script launches ``scripts/_mediapipe_worker.py`` with it. This script itself needs
only the standard library, so any Python 3.10+ can run it.

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

Usage::

    python scripts/make_goldens.py --reference-python PATH/TO/mediapipe-env/bin/python
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT_DIR = REPO_ROOT / "tests" / "goldens"
CROPS_PY = REPO_ROOT / "src" / "vitruvian" / "crops.py"
WORKER_PY = Path(__file__).resolve().parent / "_mediapipe_worker.py"
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"

#: Crop margin and smallest crop side; the parity test reads them back from the JSON meta.
MARGIN = 0.25
MIN_SIDE = 256
MIN_KEYPOINTS = 5
COMPLEXITIES = (0, 1, 2)
DECIMALS = 5


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


def _round(value: Any) -> Any:
    """Round every float in a nested list/dict structure to :data:`DECIMALS` decimals."""
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _reference_python(arg: str | None) -> str:
    """Resolve the reference interpreter from the argument or the environment variable."""
    candidate = arg or os.environ.get(REFERENCE_ENV_VAR)
    if not candidate:
        raise SystemExit(
            "error: no reference Python given. Pass --reference-python PATH (or set "
            f"{REFERENCE_ENV_VAR}) to a Python interpreter that has mediapipe installed."
        )
    resolved = shutil.which(candidate)
    if resolved is None:
        raise SystemExit(f"error: reference Python {candidate!r} not found or not executable")
    return resolved


def _dir_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Build the goldens; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reference-python",
        help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR})",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    reference = _reference_python(args.reference_python)
    data_dir: Path = args.data_dir.resolve()
    out_dir: Path = args.out_dir.resolve()
    if not (data_dir / "coco" / "person_keypoints.json").is_file():
        raise SystemExit(f"error: no test data under {data_dir}")

    inputs = build_input_spec(data_dir)
    masks_dir = out_dir / "masks"
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        result_path = Path(tmp) / "result.json"
        new_masks_dir = Path(tmp) / "masks"
        spec = {
            "data_dir": str(data_dir),
            "crops_py": str(CROPS_PY),
            "mask_dir": str(new_masks_dir),
            "complexities": list(COMPLEXITIES),
            "margin": MARGIN,
            "min_side": MIN_SIDE,
            "inputs": inputs,
        }
        spec_path.write_text(json.dumps(spec))
        env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")
        subprocess.run(
            [reference, str(WORKER_PY), str(spec_path), str(result_path)], check=True, env=env
        )
        worker = json.loads(result_path.read_text())
        # Replace the old masks only once the worker has succeeded.
        if masks_dir.exists():
            shutil.rmtree(masks_dir)
        shutil.copytree(new_masks_dir, masks_dir)

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
    golden_path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")

    n_whole = sum(1 for item in inputs if item["bbox"] is None)
    print(f"inputs: {len(inputs)} ({n_whole} whole images, {len(inputs) - n_whole} crops)")
    for c in COMPLEXITIES:
        found = sum(1 for r in golden["results"][str(c)].values() if r["landmarks"] is not None)
        print(
            f"complexity {c}: pose found on {found}/{len(inputs)} inputs, "
            f"MediaPipe latency median {latency_ms[str(c)]:.1f} ms/input"
        )
    print(
        f"wrote {golden_path} ({golden_path.stat().st_size / 1024:.0f} KiB); goldens total "
        f"{_dir_size(out_dir) / 1024:.0f} KiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
