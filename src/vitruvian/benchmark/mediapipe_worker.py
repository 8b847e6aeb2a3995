"""MediaPipe's side of ``vitruvian bench``, run by the reference Python (the one with mediapipe).

This file runs *inside the reference Python environment*, launched by file path by
:class:`vitruvian.benchmark.common.MediaPipeWorker`; it is not meant to be run by hand. It never
imports ``vitruvian`` (the reference environment does not have it); the only project code it
uses is ``vitruvian/testing_clips.py`` (numpy and OpenCV only), loaded by file path, so that both
sides decode the video identically.

It is a long-lived worker so that the benchmark can interleave MediaPipe's timed passes with its
own (the images and the video are decoded once; in static mode the ``Pose`` object stays open
between passes). Protocol: one JSON object per line on stdin, one JSON reply per line on stdout
(anything that MediaPipe or its native libraries write to stdout is sent to stderr instead, so it
cannot corrupt the replies):

* ``{"cmd": "versions"}`` imports mediapipe and replies ``{"ok": true, "versions": {...}}``;
* ``{"cmd": "load", "images": [path, ...]}`` decodes the images (``cv2.imread`` + BGR to RGB)
  and replies ``{"ok": true, "versions": {...}, "sha1": [...], "decode_s": float}``;
* ``{"cmd": "load_video", "path": path, "max_frames": n_or_null}`` decodes the video's frames
  (``cv2.VideoCapture`` + BGR to RGB; all of them, or the first ``max_frames``) and replies
  ``{"ok": true, "sha1": [...], "decode_s": float}``;
* ``{"cmd": "unload"}`` drops the decoded images and frames (before the extraction passes,
  whose memory is measured);
* ``{"cmd": "open", "complexity": c}`` creates
  ``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=c)`` (closing any open one);
* ``{"cmd": "pass"}`` runs ``process(rgb)`` once on every image in order and replies
  ``{"ok": true, "times_s": [...], "pose": [bool, ...], "cpu_s": float, "peak_rss_mb": x}``
  (``time.perf_counter`` around each call; ``cpu_s`` is the process's CPU time over the calls,
  all threads; ``peak_rss_mb`` the process's peak resident memory during the pass, see below);
* ``{"cmd": "video_pass", "complexity": c, "segmentation": bool}`` creates a fresh video-mode
  ``mp.solutions.pose.Pose(model_complexity=c, enable_segmentation=bool)`` (every other option
  at its default; not timed), runs ``process(rgb)`` on every frame in order, closes it and
  replies as ``pass`` does;
* ``{"cmd": "extract", "path": path, "complexity": c, "max_frames": n_or_null}`` times
  MediaPipe's offline frame loop on a video file: a video-mode ``Pose(model_complexity=c)``
  is created (``load_s``), then ``cv2.VideoCapture(path)`` is opened and every frame is read,
  converted to RGB, processed and its landmarks stored as a row in memory (``run_s``, and
  ``cpu_s`` the process's CPU time over it). Replies
  ``{"ok": true, "frames": n, "frames_with_pose": k, "load_s": x, "run_s": x, "cpu_s": x,
  "peak_rss_mb": x, "hwm_reset": bool}``;
* ``{"cmd": "close"}`` closes the open static ``Pose``; ``{"cmd": "quit"}`` ends the worker.

Peak memory: before each pass the worker collects garbage, returns the C heap's free pages to
the system (glibc's ``malloc_trim``) and resets the kernel's peak-RSS counter (writing ``5`` to
``/proc/self/clear_refs``, Linux); it reads ``VmHWM`` from ``/proc/self/status`` after the pass.
Where the reset is not possible the value is the peak since the process started (``hwm_reset``
false).

Errors are replied as ``{"ok": false, "error": "..."}``.
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

#: Loaded by file path (this process has no ``vitruvian``), so both sides decode identically.
TESTING_CLIPS_PY = Path(__file__).resolve().parents[1] / "testing_clips.py"


def _testing_clips() -> ModuleType:
    """Load ``vitruvian/testing_clips.py`` (numpy + OpenCV only) by its path."""
    spec = importlib.util.spec_from_file_location("_vitruvian_testing_clips", TESTING_CLIPS_PY)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {TESTING_CLIPS_PY}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


class _Worker:
    """State of the worker: the decoded images and the open MediaPipe ``Pose``."""

    def __init__(self) -> None:
        self.images: list[Any] = []
        self.frames: list[Any] = []
        self.pose: Any = None

    @staticmethod
    def versions() -> dict[str, Any]:
        """Versions of the reference side's libraries."""
        import cv2
        import mediapipe as mp
        import numpy as np

        return {
            "versions": {
                "mediapipe": mp.__version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "opencv": cv2.__version__,
            }
        }

    def load(self, paths: list[str]) -> dict[str, Any]:
        """Decode the images once (RGB, contiguous)."""
        import cv2
        import numpy as np

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
        frames = _testing_clips().read_video_rgb(path, max_frames)
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
        import cv2
        import mediapipe as mp
        import numpy as np

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


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def main() -> int:
    """Serve the line protocol until ``quit`` or end of input."""
    proto = _redirect_stdout()
    worker = _Worker()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            cmd = request.get("cmd")
            if cmd == "quit":
                worker.close()
                proto.write(json.dumps({"ok": True}) + "\n")
                return 0
            if cmd == "versions":
                reply = worker.versions()
            elif cmd == "load":
                reply = worker.load([str(p) for p in request["images"]])
            elif cmd == "load_video":
                reply = worker.load_video(
                    str(request["path"]), _optional_int(request.get("max_frames"))
                )
            elif cmd == "unload":
                reply = worker.unload()
            elif cmd == "open":
                reply = worker.open(int(request["complexity"]))
            elif cmd == "pass":
                reply = worker.run_pass()
            elif cmd == "video_pass":
                reply = worker.run_video_pass(
                    int(request["complexity"]), bool(request["segmentation"])
                )
            elif cmd == "extract":
                reply = worker.extract(
                    str(request["path"]),
                    int(request["complexity"]),
                    _optional_int(request.get("max_frames")),
                )
            elif cmd == "close":
                reply = worker.close()
            else:
                raise ValueError(f"unknown command {cmd!r}")
            proto.write(json.dumps({"ok": True, **reply}) + "\n")
        except Exception as exc:  # reported to the parent, which decides what to do
            proto.write(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
