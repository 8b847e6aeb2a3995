"""Run the reference MediaPipe Pose on the golden inputs (worker of ``make_goldens.py``).

This file runs *inside the reference Python environment* (the one that has ``mediapipe``
installed), launched by ``scripts/make_goldens.py``; it is not meant to be run by hand. It
imports nothing from ``vitruvian`` except ``crops.py`` and ``testing_clips.py``, which it loads by
file path so that the crops and clips are built by exactly the same code as in the tests.

Protocol: ``python _mediapipe_worker.py SPEC.json RESULT.json``. The spec's ``mode`` picks the
job (``"image"`` when absent):

* ``"image"`` (still images): the spec holds ``data_dir``, ``crops_py`` (path of
  ``vitruvian/crops.py``), ``mask_dir``, ``complexities``, ``margin``, ``min_side`` and
  ``inputs`` (each ``{"id", "source", "bbox"}``, ``bbox`` null for a whole image). The result
  holds the library versions, the description of every input as fed (size, resize flag, SHA-1 of
  the RGB bytes), per complexity per input the landmarks, and the latencies.
* ``"video"`` (video mode): the spec holds ``data_dir``, ``clips_py`` (path of
  ``vitruvian/testing_clips.py``, loaded by path like ``crops.py``), ``mask_dir``, ``clips``
  (each ``{"id", "kind", "source", ...}``: ``kind`` ``"video"`` decodes ``source`` with OpenCV,
  ``"jitter"`` builds :func:`still_with_jitter` of the ``source`` image with the given
  ``n_frames``, ``amplitude``, ``step``, ``seed``), ``runs`` (each ``{"id", "clip",
  "complexity", "smooth_landmarks", "mask_frames"}``) and ``timing_runs`` (same, timed only).
  Every run gets a fresh ``Pose(static_image_mode=False, enable_segmentation=True,
  smooth_segmentation=False, ...)`` fed the clip's frames in order, one ``process()`` per frame
  (MediaPipe then advances its clock by 33333 us per call); timing runs use the default options
  (no segmentation). The result holds the versions, per clip the frame size and one SHA-1 per
  frame, per run the per-frame landmarks (null where no pose), the mask paths and the landmark
  jitter (:func:`landmark_jitter`, in pixels, from the unrounded landmarks; null unless every
  frame has a pose), and the latencies.
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


def _load_module(path: str, name: str) -> ModuleType:
    """Load a numpy/OpenCV-only module of ``vitruvian`` by path, without importing the package.

    Used for ``crops.py`` and ``testing_clips.py``.
    """
    spec = importlib.util.spec_from_file_location(name, path)
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


def _versions(mp: ModuleType) -> dict[str, str]:
    """Versions of the libraries that shape the reference results."""
    return {
        "mediapipe": mp.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
    }


def _write_mask(path: Path, mask: np.ndarray) -> None:
    """Write ``mask > 0.5`` as a 1-bit PNG."""
    binary = np.where(mask > 0.5, 255, 0).astype(np.uint8)
    if not cv2.imwrite(str(path), binary, [cv2.IMWRITE_PNG_BILEVEL, 1]):
        raise OSError(f"cannot write {path}")


def _build_clip(clips: ModuleType, data_dir: Path, clip: dict[str, Any]) -> list[np.ndarray]:
    """The RGB frames of one video clip of the spec."""
    if clip["kind"] == "video":
        return clips.read_video_rgb(data_dir / clip["source"])
    if clip["kind"] == "jitter":
        bgr = cv2.imread(str(data_dir / clip["source"]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(data_dir / clip["source"])
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return clips.still_with_jitter(
            rgb,
            n_frames=int(clip["n_frames"]),
            amplitude=float(clip["amplitude"]),
            step=float(clip["step"]),
            seed=int(clip["seed"]),
        )
    raise ValueError(f"unknown clip kind {clip['kind']!r}")


def _run_video(mp: ModuleType, spec: dict[str, Any]) -> dict[str, Any]:
    """The ``"video"`` job: every run of the spec through a fresh video-mode ``Pose``."""
    data_dir = Path(spec["data_dir"])
    mask_dir = Path(spec["mask_dir"])
    mask_dir.mkdir(parents=True, exist_ok=True)
    clips_module = _load_module(spec["clips_py"], "_vitruvian_testing_clips")

    frames: dict[str, list[np.ndarray]] = {}
    clips: dict[str, Any] = {}
    for clip in spec["clips"]:
        rgb_frames = _build_clip(clips_module, data_dir, clip)
        frames[clip["id"]] = rgb_frames
        clips[clip["id"]] = {
            **{k: v for k, v in clip.items() if k != "id"},
            "n_frames": len(rgb_frames),
            "size": [int(rgb_frames[0].shape[0]), int(rgb_frames[0].shape[1])],
            "sha1": [hashlib.sha1(f.tobytes()).hexdigest() for f in rgb_frames],
        }

    runs: dict[str, Any] = {}
    latencies: dict[str, list[float]] = {}
    for run in spec["runs"]:
        per_frame: list[dict[str, Any] | None] = []
        masks: dict[str, str] = {}
        times: list[float] = []
        mask_frames = set(run.get("mask_frames", []))
        with mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=run["complexity"],
            smooth_landmarks=run["smooth_landmarks"],
            enable_segmentation=True,
            smooth_segmentation=False,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        ) as pose:
            for index, rgb in enumerate(frames[run["clip"]]):
                start = time.perf_counter()
                res = pose.process(rgb)
                times.append(time.perf_counter() - start)
                if res.pose_landmarks is None:
                    per_frame.append(None)
                    continue
                per_frame.append(
                    {
                        "landmarks": [row[:4] for row in _landmarks(res.pose_landmarks)],
                        "world": _world(res.pose_world_landmarks),
                    }
                )
                if index in mask_frames and res.segmentation_mask is not None:
                    name = f"{run['id'].replace('/', '_')}_f{index:03d}.png"
                    _write_mask(mask_dir / name, res.segmentation_mask)
                    masks[str(index)] = name
        print(f"{run['id']}: median {np.median(times) * 1e3:.1f} ms/frame", file=sys.stderr)
        jitter = None
        if all(frame is not None for frame in per_frame):
            height, width = frames[run["clip"]][0].shape[:2]
            tracks = np.array([frame["landmarks"] for frame in per_frame])[:, :, :2]
            jitter = clips_module.landmark_jitter(tracks * (width, height))
        runs[run["id"]] = {"frames": per_frame, "masks": masks, "jitter_px": jitter}
        latencies[run["id"]] = times

    timings: dict[str, list[float]] = {}
    for run in spec.get("timing_runs", []):
        times = []
        with mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=run["complexity"]
        ) as pose:
            for rgb in frames[run["clip"]]:
                start = time.perf_counter()
                pose.process(rgb)
                times.append(time.perf_counter() - start)
        print(f"{run['id']} (timing): median {np.median(times) * 1e3:.1f} ms", file=sys.stderr)
        timings[run["id"]] = times

    return {
        "versions": _versions(mp),
        "clips": clips,
        "runs": runs,
        "latencies_s": latencies,
        "timing_latencies_s": timings,
    }


def main(argv: list[str]) -> int:
    """Entry point: ``_mediapipe_worker.py SPEC.json RESULT.json``."""
    if len(argv) != 2:
        print("usage: _mediapipe_worker.py SPEC.json RESULT.json", file=sys.stderr)
        return 2
    import mediapipe as mp  # only available in the reference environment

    spec = json.loads(Path(argv[0]).read_text())
    if spec.get("mode", "image") == "video":
        Path(argv[1]).write_text(json.dumps(_run_video(mp, spec)))
        return 0
    data_dir = Path(spec["data_dir"])
    mask_dir = Path(spec["mask_dir"])
    crops = _load_module(spec["crops_py"], "_vitruvian_crops")
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
                    _write_mask(out_dir / name, res.segmentation_mask)
                    entry["mask"] = f"masks/c{complexity}/{name}"
                per_input[item["id"]] = entry
                print(f"c{complexity} {item['id']}: {times[-1] * 1e3:.1f} ms", file=sys.stderr)
        results[str(complexity)] = per_input
        latencies[str(complexity)] = times

    payload = {
        "versions": _versions(mp),
        "inputs": described,
        "results": results,
        "latencies_s": latencies,
    }
    Path(argv[1]).write_text(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
