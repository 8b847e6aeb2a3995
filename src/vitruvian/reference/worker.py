"""MediaPipe itself, run in the reference Python: the one bridge of vitruvian's comparisons.

This file runs *inside the reference Python environment* (one with ``mediapipe`` installed,
e.g. ``mediapipe==0.10.14``), launched by file path by :class:`vitruvian.reference.client.
ReferencePython`; it is not meant to be run by hand. It never imports ``vitruvian`` (the
reference environment does not have it): the only project code it uses is ``crops.py`` and
``testing_clips.py`` of the same package (numpy and OpenCV only), loaded by file path, so that
both sides build the same crops and decode videos identically.

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout,
``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``. Whatever MediaPipe or its native
libraries print on stdout is sent to stderr instead, so it cannot corrupt the replies; progress
is written to stderr as lines ``progress DONE TOTAL``.

Commands of the benchmark (``vitruvian bench``), a long-lived session:

* ``{"cmd": "versions"}``: ``{"versions": {mediapipe, python, numpy, opencv}}``;
* ``{"cmd": "load", "images": [path, ...]}`` decodes the images (``cv2.imread`` + BGR to RGB):
  ``{"versions", "sha1": [...], "decode_s"}``;
* ``{"cmd": "load_video", "path": path, "max_frames": n_or_null}`` decodes the video's frames
  (``testing_clips.read_video_rgb``): ``{"sha1": [...], "decode_s"}``;
* ``{"cmd": "unload"}`` drops the decoded images and frames (before measuring memory);
* ``{"cmd": "open", "complexity": c}`` creates ``Pose(static_image_mode=True,
  model_complexity=c)`` (closing any open one); ``{"cmd": "close"}`` closes it;
* ``{"cmd": "pass"}`` runs ``process(rgb)`` once on every image in order:
  ``{"times_s": [...], "pose": [bool, ...], "cpu_s", "peak_rss_mb", "hwm_reset"}``
  (``time.perf_counter`` around each call; ``cpu_s`` the process's CPU time over the calls);
* ``{"cmd": "video_pass", "complexity": c, "segmentation": bool}``: the same over the video's
  frames with a fresh video-mode ``Pose(model_complexity=c, enable_segmentation=bool)``;
* ``{"cmd": "extract", "path": path, "complexity": c, "max_frames": n_or_null}`` times
  MediaPipe's offline frame loop on a video file (``Pose`` creation in ``load_s``; decoding,
  RGB conversion, ``process`` and keeping each frame's landmarks in ``run_s`` and ``cpu_s``):
  ``{"frames", "frames_with_pose", "load_s", "run_s", "cpu_s", "peak_rss_mb", "hwm_reset"}``.

Jobs, one request each (their specs are described at each function):

* ``{"cmd": "eval", "spec": {...}}``: :func:`eval_job` (``vitruvian eval coco --compare
  mediapipe``);
* ``{"cmd": "goldens_image", "spec": {...}}`` and ``{"cmd": "goldens_video", "spec": {...}}``:
  :func:`goldens_image_job` and :func:`goldens_video_job` (``scripts/make_goldens.py``).

``{"cmd": "quit"}`` ends the worker.

Peak memory: before each timed pass the worker collects garbage, returns the C heap's free pages
to the system (glibc's ``malloc_trim``) and resets the kernel's peak-RSS counter (writing ``5``
to ``/proc/self/clear_refs``, Linux); it reads ``VmHWM`` from ``/proc/self/status`` afterwards.
Where the reset is not possible the value is the peak since the process started (``hwm_reset``
false).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import cv2
import numpy as np

#: The package's numpy/OpenCV-only modules this worker uses, loaded by file path.
CROPS_PY = Path(__file__).resolve().parents[1] / "crops.py"
TESTING_CLIPS_PY = Path(__file__).resolve().parents[1] / "testing_clips.py"


def _load_module(path: str | Path, name: str) -> ModuleType:
    """Load a numpy/OpenCV-only module of ``vitruvian`` by path, without importing the package."""
    spec = importlib.util.spec_from_file_location(name, path)
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


def _landmarks4(landmark_list: Any) -> list[list[float]] | None:
    """33 x ``[x, y, z, visibility]`` from MediaPipe's landmark list (``None`` stays ``None``)."""
    if landmark_list is None:
        return None
    return [
        [float(lm.x), float(lm.y), float(lm.z), float(lm.visibility)]
        for lm in landmark_list.landmark
    ]


def _redirect_stdout() -> TextIO:
    """Keep a private handle on the real stdout and point file descriptor 1 at stderr."""
    sys.stdout.flush()
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process, after collecting garbage and
    handing the C heap's free pages back (glibc's ``malloc_trim``); ``False`` where the reset
    is not possible."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """Peak resident memory (``VmHWM``; else ``ru_maxrss``), in MiB."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource  # not on Windows, where /proc is missing too

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


class _Session:
    """The benchmark's state: the decoded images and frames, and the open MediaPipe ``Pose``."""

    def __init__(self) -> None:
        self.images: list[Any] = []
        self.frames: list[Any] = []
        self.pose: Any = None

    @staticmethod
    def versions() -> dict[str, Any]:
        """Versions of the reference side's libraries."""
        return {"versions": _versions()}

    def load(self, paths: list[str]) -> dict[str, Any]:
        """Decode the images once (RGB, contiguous)."""
        start = time.perf_counter()
        images = []
        for path in paths:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(path)
            images.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        decode_s = time.perf_counter() - start
        self.images = images
        return {
            **self.versions(),
            "sha1": [hashlib.sha1(img.tobytes()).hexdigest() for img in images],
            "decode_s": decode_s,
        }

    def load_video(self, path: str, max_frames: int | None) -> dict[str, Any]:
        """Decode the video's frames once (RGB, contiguous): all, or the first ``max_frames``."""
        start = time.perf_counter()
        frames = _load_module(TESTING_CLIPS_PY, "_vitruvian_testing_clips").read_video_rgb(
            path, max_frames
        )
        self.frames = frames
        return {
            "sha1": [hashlib.sha1(frame.tobytes()).hexdigest() for frame in frames],
            "decode_s": time.perf_counter() - start,
        }

    def unload(self) -> dict[str, Any]:
        """Drop the decoded images and frames."""
        self.images = []
        self.frames = []
        return {}

    def open(self, complexity: int) -> dict[str, Any]:
        """Create the static-mode ``Pose`` for one model complexity."""
        import mediapipe as mp

        self.close()
        self.pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=complexity)
        return {}

    @staticmethod
    def _time_calls(pose: Any, images: list[Any]) -> dict[str, Any]:
        """Time ``pose.process`` once per image, in order."""
        process = pose.process
        times: list[float] = []
        found: list[bool] = []
        reset = _reset_peak_rss()
        cpu_start = time.process_time()
        for rgb in images:
            start = time.perf_counter()
            result = process(rgb)
            times.append(time.perf_counter() - start)
            found.append(result.pose_landmarks is not None)
        return {
            "times_s": times,
            "pose": found,
            "cpu_s": time.process_time() - cpu_start,
            "peak_rss_mb": _peak_rss_mb(),
            "hwm_reset": reset,
        }

    def run_pass(self) -> dict[str, Any]:
        """Time ``process`` once per image (static mode)."""
        if self.pose is None:
            raise RuntimeError("no open Pose: send 'open' first")
        return self._time_calls(self.pose, self.images)

    def run_video_pass(self, complexity: int, segmentation: bool) -> dict[str, Any]:
        """Time ``process`` once per frame with a fresh video-mode ``Pose``."""
        import mediapipe as mp

        if not self.frames:
            raise RuntimeError("no video loaded: send 'load_video' first")
        pose = mp.solutions.pose.Pose(model_complexity=complexity, enable_segmentation=segmentation)
        try:
            return self._time_calls(pose, self.frames)
        finally:
            pose.close()

    @staticmethod
    def extract(path: str, complexity: int, max_frames: int | None) -> dict[str, Any]:
        """MediaPipe's offline frame loop over a video file: decode, process, keep the rows."""
        import mediapipe as mp

        reset = _reset_peak_rss()
        start = time.perf_counter()
        pose = mp.solutions.pose.Pose(model_complexity=complexity)
        loaded = time.perf_counter()
        cpu_start = time.process_time()
        rows: list[Any] = []
        with_pose = 0
        try:
            capture = cv2.VideoCapture(path)
            if not capture.isOpened():
                raise OSError(f"OpenCV cannot open the video {path}")
            try:
                while max_frames is None or len(rows) < max_frames:
                    ok, bgr = capture.read()
                    if not ok:
                        break
                    result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    if result.pose_landmarks is None:
                        rows.append(None)
                        continue
                    with_pose += 1
                    rows.append(
                        np.array(
                            [
                                (p.x, p.y, p.z, p.visibility, p.presence)
                                for p in result.pose_landmarks.landmark
                            ],
                            np.float32,
                        )
                    )
            finally:
                capture.release()
            done = time.perf_counter()
            cpu_s = time.process_time() - cpu_start
        finally:
            pose.close()
        return {
            "frames": len(rows),
            "frames_with_pose": with_pose,
            "load_s": loaded - start,
            "run_s": done - loaded,
            "cpu_s": cpu_s,
            "peak_rss_mb": _peak_rss_mb(),
            "hwm_reset": reset,
        }

    def close(self) -> dict[str, Any]:
        """Close the open ``Pose``, if any."""
        pose, self.pose = self.pose, None
        if pose is not None:
            pose.close()
        return {}


# -- jobs --------------------------------------------------------------------------------------


def eval_job(spec: dict[str, Any]) -> dict[str, Any]:
    """``eval``: MediaPipe Pose on every item of ``spec`` at every complexity (see the module
    doc).

    The spec holds ``images_dir``, ``margin``,
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
    """
    import mediapipe as mp  # only available in the reference environment

    crops = _load_module(CROPS_PY, "_vitruvian_crops")
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
                    "landmarks": _landmarks4(res.pose_landmarks),
                    "ms": elapsed_ms,
                }
                done += 1
                print(f"progress {done} {total}", file=sys.stderr, flush=True)
    finally:
        for pose in poses.values():
            pose.close()
    return {
        "versions": _versions(),
        "inputs": inputs,
        "results": results,
    }


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


def _landmarks5(landmark_list: Any) -> list[list[float | None]] | None:
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


def _versions() -> dict[str, str]:
    """Versions of the libraries that shape the reference results."""
    import mediapipe as mp

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


def goldens_image_job(spec: dict[str, Any]) -> dict[str, Any]:
    """``goldens_image``: landmarks, world landmarks and masks of the still inputs at each
    complexity (static mode, segmentation on)."""
    import mediapipe as mp

    data_dir = Path(spec["data_dir"])
    mask_dir = Path(spec["mask_dir"])
    crops = _load_module(CROPS_PY, "_vitruvian_crops")
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
                    "landmarks": _landmarks5(res.pose_landmarks),
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

    return {
        "versions": _versions(),
        "inputs": described,
        "results": results,
        "latencies_s": latencies,
    }


def goldens_video_job(spec: dict[str, Any]) -> dict[str, Any]:
    """``goldens_video``: every run of the spec through a fresh video-mode ``Pose``."""
    import mediapipe as mp

    data_dir = Path(spec["data_dir"])
    mask_dir = Path(spec["mask_dir"])
    mask_dir.mkdir(parents=True, exist_ok=True)
    clips_module = _load_module(TESTING_CLIPS_PY, "_vitruvian_testing_clips")

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
                        "landmarks": [row[:4] for row in _landmarks5(res.pose_landmarks)],
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
        "versions": _versions(),
        "clips": clips,
        "runs": runs,
        "latencies_s": latencies,
        "timing_latencies_s": timings,
    }


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _handle(session: _Session, request: dict[str, Any]) -> dict[str, Any]:
    """One request's reply (without ``ok``)."""
    cmd = request.get("cmd")
    if cmd == "versions":
        return session.versions()
    if cmd == "load":
        return session.load([str(p) for p in request["images"]])
    if cmd == "load_video":
        return session.load_video(str(request["path"]), _optional_int(request.get("max_frames")))
    if cmd == "unload":
        return session.unload()
    if cmd == "open":
        return session.open(int(request["complexity"]))
    if cmd == "pass":
        return session.run_pass()
    if cmd == "video_pass":
        return session.run_video_pass(int(request["complexity"]), bool(request["segmentation"]))
    if cmd == "extract":
        return session.extract(
            str(request["path"]),
            int(request["complexity"]),
            _optional_int(request.get("max_frames")),
        )
    if cmd == "close":
        return session.close()
    if cmd == "eval":
        return eval_job(request["spec"])
    if cmd == "goldens_image":
        return goldens_image_job(request["spec"])
    if cmd == "goldens_video":
        return goldens_video_job(request["spec"])
    raise ValueError(f"unknown command {cmd!r}")


def main() -> int:
    """Serve the line protocol until ``quit`` or the end of the input."""
    proto = _redirect_stdout()
    session = _Session()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request.get("cmd") == "quit":
                session.close()
                proto.write(json.dumps({"ok": True}) + "\n")
                return 0
            reply = _handle(session, request)
            proto.write(json.dumps({"ok": True, **reply}) + "\n")
        except Exception as exc:  # reported to the parent, which decides what to do
            proto.write(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
