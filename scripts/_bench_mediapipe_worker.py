"""Time the reference MediaPipe Pose for ``scripts/bench.py`` (runs in the reference Python).

This file runs *inside the reference Python environment* (the one with ``mediapipe`` installed),
launched by ``scripts/bench.py``; it is not meant to be run by hand. It imports nothing from
``vitruvian``, only ``mediapipe``, ``numpy``, ``cv2`` and the standard library.

It is a long-lived worker so that the benchmark can interleave MediaPipe's timed passes with its
own (the images are decoded once, the ``Pose`` object stays open between passes). Protocol: one
JSON object per line on stdin, one JSON reply per line on stdout (anything that MediaPipe or its
native libraries write to stdout is sent to stderr instead, so it cannot corrupt the replies):

* ``{"cmd": "load", "images": [path, ...]}`` decodes the images (``cv2.imread`` + BGR to RGB)
  and replies ``{"ok": true, "versions": {...}, "sha1": [...], "decode_s": float}``;
* ``{"cmd": "open", "complexity": c}`` creates
  ``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=c)`` (closing any open one);
* ``{"cmd": "pass"}`` runs ``process(rgb)`` once on every image in order and replies
  ``{"ok": true, "times_s": [...], "pose": [bool, ...], "cpu_s": float}``
  (``time.perf_counter`` around each call; ``cpu_s`` is the process's CPU time over the pass,
  all threads);
* ``{"cmd": "close"}`` closes the open ``Pose``; ``{"cmd": "quit"}`` ends the worker.

Errors are replied as ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from typing import Any, TextIO


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
        self.pose: Any = None

    def load(self, paths: list[str]) -> dict[str, Any]:
        """Decode the images once (RGB, contiguous)."""
        import cv2
        import mediapipe as mp
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
            "versions": {
                "mediapipe": mp.__version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "opencv": cv2.__version__,
            },
            "sha1": [hashlib.sha1(img.tobytes()).hexdigest() for img in images],
            "decode_s": decode_s,
        }

    def open(self, complexity: int) -> dict[str, Any]:
        """Create the static-mode ``Pose`` for one model complexity."""
        import mediapipe as mp

        self.close()
        self.pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=complexity)
        return {}

    def run_pass(self) -> dict[str, Any]:
        """Time ``process`` once per image."""
        if self.pose is None:
            raise RuntimeError("no open Pose: send 'open' first")
        process = self.pose.process
        times: list[float] = []
        found: list[bool] = []
        cpu_start = time.process_time()
        for rgb in self.images:
            start = time.perf_counter()
            result = process(rgb)
            times.append(time.perf_counter() - start)
            found.append(result.pose_landmarks is not None)
        return {"times_s": times, "pose": found, "cpu_s": time.process_time() - cpu_start}

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
            if cmd == "load":
                reply = worker.load([str(p) for p in request["images"]])
            elif cmd == "open":
                reply = worker.open(int(request["complexity"]))
            elif cmd == "pass":
                reply = worker.run_pass()
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
