"""MediaPipe's side of ``vitruvian eval coco --compare mediapipe``, run by a reference Python.

This file runs *inside the reference Python environment* (one with ``mediapipe`` installed, e.g.
``mediapipe==0.10.14``), launched by :func:`vitruvian.eval.coco.run_mediapipe` by file path; it
never imports ``vitruvian``. The only project code it uses is ``vitruvian/crops.py``, loaded by
file path (that module needs only numpy and OpenCV), so that MediaPipe is fed exactly the crops
our side builds.

Protocol: ``python mediapipe_worker.py SPEC.json RESULT.json``.

The spec holds ``images_dir``, ``crops_py`` (path of ``vitruvian/crops.py``), ``margin``,
``complexities``, ``min_presence`` (MediaPipe's ``min_tracking_confidence``) and ``items``, each
``{"id", "file_name", "bbox"}``: ``bbox`` is a COCO person box ``[x, y, w, h]`` in image pixels
(the input is then ``crops.person_crop(rgb, bbox, margin)``) or null (the whole image).

Every item is decoded with ``cv2.imread`` and converted to RGB, as on our side, and fed to one
``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=c,
min_detection_confidence=0.5, min_tracking_confidence=min_presence)`` per complexity.

The result holds ``versions`` (mediapipe, python, numpy, opencv), ``inputs`` (per item id the
input's ``[height, width]`` and the SHA-1 of its RGB bytes) and ``results``: per complexity (a
string key) per item id ``{"landmarks": ..., "ms": ...}``, where ``landmarks`` is 33 x
``[x, y, z, visibility]`` normalised to the input (x / input width, y / input height, origin at
the input's top-left corner) or null when no pose was found, and ``ms`` the wall time of
``process()`` in milliseconds.

Progress goes to stderr as lines ``progress DONE TOTAL`` (DONE counts ``process()`` calls over
all complexities).
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
    """Load ``vitruvian/crops.py`` by file path, without importing the ``vitruvian`` package."""
    spec = importlib.util.spec_from_file_location("_vitruvian_eval_crops", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_rgb(path: Path) -> np.ndarray:
    """Decode an image file to an ``(H, W, 3)`` uint8 RGB array."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read {path} as an image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _landmarks(landmark_list: Any) -> list[list[float]] | None:
    """33 x ``[x, y, z, visibility]`` from MediaPipe's landmark list (``None`` stays ``None``)."""
    if landmark_list is None:
        return None
    return [
        [float(lm.x), float(lm.y), float(lm.z), float(lm.visibility)]
        for lm in landmark_list.landmark
    ]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run MediaPipe Pose on every item of ``spec`` at every complexity; see the module doc."""
    import mediapipe as mp  # only available in the reference environment

    crops = _load_crops(spec["crops_py"])
    images_dir = Path(spec["images_dir"])
    margin = float(spec["margin"])
    complexities = [int(c) for c in spec["complexities"]]
    items = spec["items"]
    poses = {
        c: mp.solutions.pose.Pose(
            static_image_mode=True,
            model_complexity=c,
            min_detection_confidence=0.5,
            min_tracking_confidence=float(spec["min_presence"]),
        )
        for c in complexities
    }
    inputs: dict[str, Any] = {}
    results: dict[str, dict[str, Any]] = {str(c): {} for c in complexities}
    total = len(items) * len(complexities)
    done = 0
    source_name: str | None = None
    source: np.ndarray | None = None
    try:
        for item in items:
            if item["file_name"] != source_name:
                source = _read_rgb(images_dir / item["file_name"])
                source_name = item["file_name"]
            assert source is not None
            if item["bbox"] is None:
                rgb = np.ascontiguousarray(source)
            else:
                crop, _ = crops.person_crop(source, item["bbox"], margin)
                rgb = np.ascontiguousarray(crop)
            inputs[item["id"]] = {
                "size": [int(rgb.shape[0]), int(rgb.shape[1])],
                "sha1": hashlib.sha1(rgb.tobytes()).hexdigest(),
            }
            for c in complexities:
                start = time.perf_counter()
                res = poses[c].process(rgb)
                elapsed_ms = (time.perf_counter() - start) * 1e3
                results[str(c)][item["id"]] = {
                    "landmarks": _landmarks(res.pose_landmarks),
                    "ms": elapsed_ms,
                }
                done += 1
                print(f"progress {done} {total}", file=sys.stderr, flush=True)
    finally:
        for pose in poses.values():
            pose.close()
    return {
        "versions": {
            "mediapipe": mp.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
        },
        "inputs": inputs,
        "results": results,
    }


def main(argv: list[str]) -> int:
    """Entry point: ``mediapipe_worker.py SPEC.json RESULT.json``; returns the exit status."""
    if len(argv) != 2:
        print("usage: mediapipe_worker.py SPEC.json RESULT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    Path(argv[1]).write_text(json.dumps(run(spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
