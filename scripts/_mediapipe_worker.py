"""Run the reference MediaPipe Pose on the golden inputs (worker of ``make_goldens.py``).

This file runs *inside the reference Python environment* (the one that has ``mediapipe``
installed), launched by ``scripts/make_goldens.py``; it is not meant to be run by hand. It
imports nothing from ``vitruvian`` except ``crops.py``, which it loads by file path so that the
crops are built by exactly the same code as in the parity tests.

Protocol: ``python _mediapipe_worker.py SPEC.json RESULT.json``. The spec holds ``data_dir``,
``crops_py`` (path of ``vitruvian/crops.py``), ``mask_dir``, ``complexities``, ``margin``,
``min_side`` and ``inputs`` (each ``{"id", "source", "bbox"}``, ``bbox`` null for a whole image).
The result holds the library versions, the description of every input as fed (size, resize
flag, SHA-1 of the RGB bytes), per complexity per input the landmarks, and the latencies.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np


def _load_crops(path: str) -> ModuleType:
    """Load ``vitruvian/crops.py`` by path, without importing the ``vitruvian`` package."""
    spec = importlib.util.spec_from_file_location("_vitruvian_crops", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_input(
    crops: ModuleType, data_dir: Path, item: dict[str, Any], margin: float, min_side: int
) -> tuple[np.ndarray, bool]:
    """Read the source image and build the RGB input the pose graph is fed."""
    bgr = cv2.imread(str(data_dir / item["source"]), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(data_dir / item["source"])
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if item["bbox"] is None:
        return np.ascontiguousarray(rgb), False
    crop, _, resized = crops.parity_input(rgb, item["bbox"], margin, min_side)
    return np.ascontiguousarray(crop), bool(resized)


def _landmarks(landmark_list: Any) -> list[list[float | None]] | None:
    """33 x [x, y, z, visibility, presence] (presence null when MediaPipe leaves it unset)."""
    if landmark_list is None:
        return None
    return [
        [
            float(lm.x),
            float(lm.y),
            float(lm.z),
            float(lm.visibility),
            float(lm.presence) if lm.HasField("presence") else None,
        ]
        for lm in landmark_list.landmark
    ]


def _world(landmark_list: Any) -> list[list[float]] | None:
    """33 x [x, y, z] in metres."""
    if landmark_list is None:
        return None
    return [[float(lm.x), float(lm.y), float(lm.z)] for lm in landmark_list.landmark]


def main(argv: list[str]) -> int:
    """Entry point: ``_mediapipe_worker.py SPEC.json RESULT.json``."""
    if len(argv) != 2:
        print("usage: _mediapipe_worker.py SPEC.json RESULT.json", file=sys.stderr)
        return 2
    import mediapipe as mp  # only available in the reference environment

    spec = json.loads(Path(argv[0]).read_text())
    data_dir = Path(spec["data_dir"])
    mask_dir = Path(spec["mask_dir"])
    crops = _load_crops(spec["crops_py"])
    margin = float(spec["margin"])
    min_side = int(spec["min_side"])

    images: dict[str, np.ndarray] = {}
    described: list[dict[str, Any]] = []
    for item in spec["inputs"]:
        rgb, resized = _build_input(crops, data_dir, item, margin, min_side)
        images[item["id"]] = rgb
        described.append(
            {
                **item,
                "resized": resized,
                "size": [int(rgb.shape[0]), int(rgb.shape[1])],
                "sha1": hashlib.sha1(rgb.tobytes()).hexdigest(),
            }
        )

    results: dict[str, dict[str, Any]] = {}
    latencies: dict[str, list[float]] = {}
    for complexity in spec["complexities"]:
        per_input: dict[str, Any] = {}
        times: list[float] = []
        out_dir = mask_dir / f"c{complexity}"
        out_dir.mkdir(parents=True, exist_ok=True)
        with mp.solutions.pose.Pose(
            static_image_mode=True,
            model_complexity=complexity,
            enable_segmentation=True,
            min_detection_confidence=0.5,
        ) as pose:
            for item in described:
                rgb = images[item["id"]]
                start = time.perf_counter()
                res = pose.process(rgb)
                times.append(time.perf_counter() - start)
                entry: dict[str, Any] = {
                    "landmarks": _landmarks(res.pose_landmarks),
                    "world": _world(res.pose_world_landmarks),
                    "mask": None,
                }
                if item["bbox"] is None and res.segmentation_mask is not None:
                    name = item["id"].replace("/", "_") + ".png"
                    mask = np.where(res.segmentation_mask > 0.5, 255, 0).astype(np.uint8)
                    if not cv2.imwrite(str(out_dir / name), mask, [cv2.IMWRITE_PNG_BILEVEL, 1]):
                        raise OSError(f"cannot write {out_dir / name}")
                    entry["mask"] = f"masks/c{complexity}/{name}"
                per_input[item["id"]] = entry
                print(f"c{complexity} {item['id']}: {times[-1] * 1e3:.1f} ms", file=sys.stderr)
        results[str(complexity)] = per_input
        latencies[str(complexity)] = times

    payload = {
        "versions": {
            "mediapipe": mp.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
        },
        "inputs": described,
        "results": results,
        "latencies_s": latencies,
    }
    Path(argv[1]).write_text(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
