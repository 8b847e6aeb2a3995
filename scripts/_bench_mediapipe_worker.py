"""Time the reference MediaPipe Pose for ``scripts/bench.py`` (runs in the reference Python).

This file runs *inside the reference Python environment* (the one with ``mediapipe`` installed),
launched by ``scripts/bench.py``; it is not meant to be run by hand. It imports nothing from
``vitruvian``, only ``mediapipe``, ``numpy``, ``cv2`` and the standard library.

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
* ``{"cmd": "open", "complexity": c}`` creates
  ``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=c)`` (closing any open one);
* ``{"cmd": "pass"}`` runs ``process(rgb)`` once on every image in order and replies
  ``{"ok": true, "times_s": [...], "pose": [bool, ...], "cpu_s": float}``
  (``time.perf_counter`` around each call; ``cpu_s`` is the process's CPU time over the calls,
  all threads);
* ``{"cmd": "video_pass", "complexity": c, "segmentation": bool}`` creates a fresh video-mode
  ``mp.solutions.pose.Pose(model_complexity=c, enable_segmentation=bool)`` (every other option
  at its default; not timed), runs ``process(rgb)`` on every frame in order, closes it and
  replies as ``pass`` does;
* ``{"cmd": "close"}`` closes the open static ``Pose``; ``{"cmd": "quit"}`` ends the worker.

Errors are replied as ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

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
TESTING_CLIPS_PY = Path(__file__).resolve().parents[1] / "src" / "vitruvian" / "testing_clips.py"


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
        cpu_start = time.process_time()
        for rgb in images:
            start = time.perf_counter()
            result = process(rgb)
            times.append(time.perf_counter() - start)
            found.append(result.pose_landmarks is not None)
        return {"times_s": times, "pose": found, "cpu_s": time.process_time() - cpu_start}

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

    def close(self) -> dict[str, Any]:
        """Close the open ``Pose``, if any."""
        pose, self.pose = self.pose, None
        if pose is not None:
            pose.close()
        return {}


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
                max_frames = request.get("max_frames")
                reply = worker.load_video(
                    str(request["path"]), None if max_frames is None else int(max_frames)
                )
            elif cmd == "open":
                reply = worker.open(int(request["complexity"]))
            elif cmd == "pass":
                reply = worker.run_pass()
            elif cmd == "video_pass":
                reply = worker.run_video_pass(
                    int(request["complexity"]), bool(request["segmentation"])
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
