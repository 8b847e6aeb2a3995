"""Benchmark pose latency: vitruvian against MediaPipe 0.10.14, side by side.

Two sections, chosen with ``--mode static|video|all`` (default ``all``); for each selected model
complexity (0 lite, 1 full, 2 heavy):

* **Static-image latency**: the per-image time of ``process(rgb)`` in static-image mode on the
  shared images (``../shared/data/coco/images/*.jpg`` and ``../shared/data/mmpose/*.jpg``,
  decoded once up front with ``cv2.imread`` + BGR to RGB, outside the timing), for

  - ``vitruvian.solutions.pose.Pose(static_image_mode=True, model_complexity=c)`` (the
    MediaPipe-compatible API, landmark containers included),
  - ``vitruvian.pipeline.PosePipeline(c)`` (the numpy-first core), and
  - ``mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=c)``, when a
    reference Python with ``mediapipe`` is given (``--reference-python PATH`` or the
    ``VITRUVIAN_REFERENCE_PYTHON`` environment variable). It runs in a long-lived subprocess
    (``scripts/_bench_mediapipe_worker.py``) that decodes the same files the same way.

  Protocol: each implementation gets one untimed warm-up pass over all images, then ``--repeats``
  timed passes; every ``process`` call is timed with ``time.perf_counter``. The passes of the
  implementations are interleaved (warm-ups first, then timed pass 1 of each, pass 2 of each, ...,
  with the order rotated every pass) so that machine noise hits all of them alike. Reported: the
  median and the 10th / 90th percentiles over all timed calls, in ms; the number of images with a
  pose; and the ratio of medians ours / MediaPipe.

* **Cold start** (static section): a fresh interpreter (``python -c``) that imports the library,
  loads the models and processes one image (the image's decoding is excluded); median of
  ``--cold-runs`` (default 3) launches, ours and MediaPipe alternating. The operating system's
  file cache is warm (the models have just been read), as on any repeated launch. The launch's
  wall time as seen from the parent (interpreter start-up and shutdown included) is recorded too.

* **Video-mode latency**: the per-frame time of ``process(rgb)`` on a video stream
  (``--video``, default ``../shared/data/video/pose_squats.mp4``; every frame decoded once up
  front with ``cv2.VideoCapture`` + BGR to RGB, outside the timing) with
  ``vitruvian.solutions.pose.Pose(static_image_mode=False, model_complexity=c,
  enable_segmentation=s)`` and MediaPipe's ``Pose(model_complexity=c, enable_segmentation=s)``
  (video mode, every other option at its default), for segmentation off and on
  (``--video-segmentation off|on|both``, default ``both``). A pass is one fresh ``Pose`` run over
  all frames in order (its construction is not timed), so each pass starts with a detection and
  then tracks. Per complexity, every implementation and segmentation setting gets one warm-up pass,
  then ``--repeats`` timed passes, interleaved and rotated as above. Reported: median, mean,
  10th / 90th percentile ms per frame over all timed frames, CPU ms per frame, frames with a pose,
  for ours the person-detector runs per pass (``pose.stats``), and the ratios ours / MediaPipe of
  the medians and of the means.

Results are printed as Markdown tables on stdout (progress goes to stderr); ``--json PATH`` also
writes everything, per-call times included (the video section under the ``"video"`` key).

Usage::

    python scripts/bench.py                                   # ours only
    python scripts/bench.py --reference-python PATH/TO/mediapipe-env/bin/python --json out.json
    python scripts/bench.py --quick --complexity 0            # 5 images / 10 frames, 1 repeat
    python scripts/bench.py --mode video --complexity 1       # video mode only
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

import cv2
import numpy as np

from vitruvian.testing_clips import read_video_rgb

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
#: Image folders (relative to the data directory) whose ``*.jpg`` files are benchmarked.
IMAGE_FOLDERS = ("coco/images", "mmpose")
WORKER_PY = Path(__file__).resolve().parent / "_bench_mediapipe_worker.py"
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"
COMPLEXITIES = (0, 1, 2)
DEFAULT_REPEATS = 3
DEFAULT_COLD_RUNS = 3
QUICK_IMAGES = 5
#: The video benchmarked in video mode, relative to the data directory.
DEFAULT_VIDEO = Path("video") / "pose_squats.mp4"
#: Frames used by ``--quick`` in video mode.
QUICK_FRAMES = 10
MODES = ("static", "video", "all")
#: ``--video-segmentation`` choices and the ``enable_segmentation`` values each one runs.
VIDEO_SEGMENTATION = {"off": (False,), "on": (True,), "both": (False, True)}
#: Printed by the cold-start child in front of its JSON line.
COLD_MARKER = "VITRUVIAN_BENCH_COLD "

#: Names of the implementations, as used in the JSON.
OURS_POSE = "ours_pose"
OURS_PIPELINE = "ours_pipeline"
MEDIAPIPE = "mediapipe"

_COLD_HEAD = """\
import json, sys, time
t0 = time.perf_counter()
"""
_COLD_TAIL = """\
t3 = time.perf_counter()
pose.process(rgb)
t4 = time.perf_counter()
print({marker!r} + json.dumps({{
    "import_s": t1 - t0, "load_s": t2 - t1, "decode_s": t3 - t2, "first_frame_s": t4 - t3,
    "total_s": (t1 - t0) + (t2 - t1) + (t4 - t3)}}), flush=True)
"""
#: ``python -c`` program measuring our cold start; argv: image path, complexity.
OURS_COLD_CODE = (
    _COLD_HEAD
    + """\
import cv2
from vitruvian.solutions.pose import Pose
t1 = time.perf_counter()
pose = Pose(static_image_mode=True, model_complexity=int(sys.argv[2]))
t2 = time.perf_counter()
rgb = cv2.cvtColor(cv2.imread(sys.argv[1], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
"""
    + _COLD_TAIL.format(marker=COLD_MARKER)
)
#: The same for MediaPipe, run by the reference Python.
MEDIAPIPE_COLD_CODE = (
    _COLD_HEAD
    + """\
import cv2
import mediapipe as mp
t1 = time.perf_counter()
pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=int(sys.argv[2]))
t2 = time.perf_counter()
rgb = cv2.cvtColor(cv2.imread(sys.argv[1], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
"""
    + _COLD_TAIL.format(marker=COLD_MARKER)
)


def log(message: str) -> None:
    """Progress message on stderr (stdout carries only the report)."""
    print(message, file=sys.stderr, flush=True)


# -- inputs and machine -------------------------------------------------------------------------


def list_images(data_dir: Path) -> list[Path]:
    """The benchmark images: ``coco/images/*.jpg`` then ``mmpose/*.jpg``, each sorted by name."""
    paths: list[Path] = []
    for folder in IMAGE_FOLDERS:
        paths.extend(sorted((data_dir / folder).glob("*.jpg")))
    return paths


def decode_images(paths: Sequence[Path]) -> list[np.ndarray]:
    """Decode the images as contiguous ``(H, W, 3)`` uint8 RGB."""
    images = []
    for path in paths:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"cannot decode {path}")
        images.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return images


def decode_video(path: Path, max_frames: int | None = None) -> list[np.ndarray]:
    """Decode a video's frames (all, or the first ``max_frames``) as contiguous RGB uint8."""
    try:
        return read_video_rgb(path, max_frames)
    except OSError as exc:  # FileNotFoundError included
        raise BenchError(f"cannot decode the video {path}: {exc}") from exc


def segmentation_key(enabled: bool) -> str:
    """The JSON key of one segmentation setting."""
    return "segmentation_on" if enabled else "segmentation_off"


def cpu_model() -> str | None:
    """The CPU's model name from ``/proc/cpuinfo`` (``None`` where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return None


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores and the versions of our side's libraries."""
    from vitruvian.models.runtime import default_num_threads

    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu_model() or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(affinity) if affinity is not None else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "litert": _package_version("ai-edge-litert"),
        "vitruvian": _package_version("vitruvian"),
        "vitruvian_threads": default_num_threads(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# -- implementations under test -----------------------------------------------------------------


class PassResult(NamedTuple):
    """One timed pass over the images."""

    #: Per-image ``process`` time, seconds (``time.perf_counter``).
    times_s: list[float]
    #: Whether a pose was found, per image.
    pose: list[bool]
    #: CPU time of the whole process (all threads) over the pass, seconds.
    cpu_s: float
    #: Video mode, ours only: person-detector runs in the pass (``pose.stats.detector_runs``).
    detector_runs: int | None = None
    #: Video mode, ours only: frames whose region came from tracking (``pose.stats``).
    tracked_frames: int | None = None


class Runner(Protocol):
    """One implementation under test, driven pass by pass (images or video frames)."""

    name: str
    label: str

    def open(self, complexity: int) -> None:
        """Create the pose object for one model complexity."""

    def run_pass(self) -> PassResult:
        """Process every image (or frame) once."""

    def close(self) -> None:
        """Release the pose object."""


def _time_calls(
    process: Callable[[np.ndarray], Any],
    images: Sequence[np.ndarray],
    found: Callable[[Any], bool],
) -> PassResult:
    """Time ``process`` on each image with ``time.perf_counter``."""
    times: list[float] = []
    poses: list[bool] = []
    cpu_start = time.process_time()
    for rgb in images:
        start = time.perf_counter()
        result = process(rgb)
        times.append(time.perf_counter() - start)
        poses.append(found(result))
    return PassResult(times, poses, time.process_time() - cpu_start)


class OursPoseRunner:
    """``vitruvian.solutions.pose.Pose(static_image_mode=True, model_complexity=c)``."""

    name = OURS_POSE
    label = "vitruvian `Pose`"

    def __init__(self, images: Sequence[np.ndarray]) -> None:
        self.images = images
        self._pose: Any = None

    def open(self, complexity: int) -> None:
        from vitruvian.solutions.pose import Pose

        self.close()
        self._pose = Pose(static_image_mode=True, model_complexity=complexity)

    def run_pass(self) -> PassResult:
        return _time_calls(self._pose.process, self.images, lambda r: r.pose_landmarks is not None)

    def close(self) -> None:
        pose, self._pose = self._pose, None
        if pose is not None:
            pose.close()


class OursPipelineRunner:
    """``vitruvian.pipeline.PosePipeline(c).process`` (numpy results, no landmark containers).

    Args:
        images: the decoded images.
        num_threads: inference threads (``None``: the pipeline's default, as ``Pose`` uses).
    """

    def __init__(self, images: Sequence[np.ndarray], num_threads: int | None = None) -> None:
        self.images = images
        self.num_threads = num_threads
        if num_threads is None:
            self.name = OURS_PIPELINE
            self.label = "vitruvian `PosePipeline`"
        else:
            self.name = f"{OURS_PIPELINE}_{num_threads}t"
            plural = "" if num_threads == 1 else "s"
            self.label = f"vitruvian `PosePipeline`, {num_threads} thread{plural}"
        self._pipeline: Any = None

    def open(self, complexity: int) -> None:
        from vitruvian.pipeline import PosePipeline

        self.close()
        self._pipeline = PosePipeline(complexity, num_threads=self.num_threads)

    def run_pass(self) -> PassResult:
        return _time_calls(self._pipeline.process, self.images, lambda r: r is not None)

    def close(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.close()


class OursVideoRunner:
    """``vitruvian.solutions.pose.Pose(static_image_mode=False, ...)``, a fresh one per pass.

    Args:
        frames: the decoded video frames, in order.
        segmentation: ``enable_segmentation``.
    """

    label = "vitruvian `Pose`"

    def __init__(self, frames: Sequence[np.ndarray], segmentation: bool) -> None:
        self.frames = frames
        self.segmentation = segmentation
        self.base_name = OURS_POSE
        self.name = OURS_POSE + ("_seg" if segmentation else "")
        self._complexity: int | None = None

    def open(self, complexity: int) -> None:
        self._complexity = complexity

    def run_pass(self) -> PassResult:
        from vitruvian.solutions.pose import Pose

        assert self._complexity is not None, "open() first"
        pose = Pose(
            static_image_mode=False,
            model_complexity=self._complexity,
            enable_segmentation=self.segmentation,
        )
        try:
            result = _time_calls(pose.process, self.frames, lambda r: r.pose_landmarks is not None)
            stats = pose.stats
        finally:
            pose.close()
        return result._replace(
            detector_runs=int(stats.detector_runs),
            tracked_frames=int(getattr(stats, "tracked_frames", 0)),
        )

    def close(self) -> None:
        self._complexity = None


class BenchError(RuntimeError):
    """The benchmark cannot go on (bad reference Python, worker failure, ...)."""


class MediaPipeWorker:
    """``_bench_mediapipe_worker.py`` run by the reference Python: MediaPipe's ``Pose``, timed.

    One long-lived process serves both sections (see :class:`MediaPipeRunner` and
    :class:`MediaPipeVideoRunner`); it decodes the images and the video itself, once.

    Args:
        python: the reference interpreter (with ``mediapipe`` installed).
    """

    def __init__(self, python: str) -> None:
        self.python = python
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                [python, str(WORKER_PY)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            self._stderr.close()
            raise BenchError(f"cannot run the reference Python {python!r}: {exc}") from exc
        try:
            self.versions: dict[str, Any] = self.request({"cmd": "versions"})["versions"]
        except BenchError:
            self.shutdown()
            raise

    def load_images(self, paths: Sequence[Path]) -> list[str]:
        """Have the worker decode the images; returns the SHA-1 of each one's RGB bytes."""
        return list(self.request({"cmd": "load", "images": [str(p) for p in paths]})["sha1"])

    def load_video(self, path: Path, max_frames: int | None) -> list[str]:
        """Have the worker decode the video's frames; returns the SHA-1 of each frame's RGB."""
        reply = self.request({"cmd": "load_video", "path": str(path), "max_frames": max_frames})
        return list(reply["sha1"])

    def _stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one command, wait for its reply."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self._proc.wait(timeout=30)
            raise BenchError(
                f"the MediaPipe worker ({self.python}) exited with status "
                f"{self._proc.returncode}; its stderr ends with:\n{self._stderr_tail()}"
            )
        reply = json.loads(line)
        if not reply.get("ok"):
            raise BenchError(
                f"the MediaPipe worker failed on {request['cmd']!r}: {reply.get('error')}\n"
                f"(is mediapipe installed for {self.python}?) Its stderr ends with:\n"
                f"{self._stderr_tail()}"
            )
        return reply

    def shutdown(self) -> None:
        """End the worker process."""
        if self._proc.poll() is None:
            try:
                self.request({"cmd": "quit"})
                self._proc.wait(timeout=30)
            except (BenchError, subprocess.TimeoutExpired, ValueError):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


def _pass_from_reply(reply: dict[str, Any]) -> PassResult:
    """A worker's ``pass`` / ``video_pass`` reply as a :class:`PassResult`."""
    return PassResult(
        [float(t) for t in reply["times_s"]],
        [bool(p) for p in reply["pose"]],
        float(reply["cpu_s"]),
    )


class MediaPipeRunner:
    """MediaPipe's static-mode ``Pose`` on the images the worker has loaded."""

    name = MEDIAPIPE
    label = "MediaPipe `Pose`"

    def __init__(self, worker: MediaPipeWorker) -> None:
        self.worker = worker

    def open(self, complexity: int) -> None:
        self.worker.request({"cmd": "open", "complexity": complexity})

    def run_pass(self) -> PassResult:
        return _pass_from_reply(self.worker.request({"cmd": "pass"}))

    def close(self) -> None:
        self.worker.request({"cmd": "close"})


class MediaPipeVideoRunner:
    """MediaPipe's video-mode ``Pose`` (default options), a fresh one per pass, in the worker.

    Args:
        worker: the worker, with the video loaded.
        segmentation: ``enable_segmentation``.
    """

    label = "MediaPipe `Pose`"

    def __init__(self, worker: MediaPipeWorker, segmentation: bool) -> None:
        self.worker = worker
        self.segmentation = segmentation
        self.base_name = MEDIAPIPE
        self.name = MEDIAPIPE + ("_seg" if segmentation else "")
        self._complexity: int | None = None

    def open(self, complexity: int) -> None:
        self._complexity = complexity

    def run_pass(self) -> PassResult:
        assert self._complexity is not None, "open() first"
        request = {
            "cmd": "video_pass",
            "complexity": self._complexity,
            "segmentation": self.segmentation,
        }
        return _pass_from_reply(self.worker.request(request))

    def close(self) -> None:
        self._complexity = None


# -- measurements -------------------------------------------------------------------------------


def summarize(times_s: Sequence[float]) -> dict[str, float]:
    """Median, 10th and 90th percentile, mean, min and max of per-call times, in ms."""
    ms = np.asarray(times_s, np.float64) * 1e3
    p10, median, p90 = np.percentile(ms, [10, 50, 90])
    return {
        "median_ms": float(median),
        "p10_ms": float(p10),
        "p90_ms": float(p90),
        "mean_ms": float(ms.mean()),
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
    }


def run_interleaved(
    runners: Sequence[Runner], complexity: int, repeats: int, tag: str = ""
) -> dict[str, list[PassResult]]:
    """Warm up every runner, then ``repeats`` interleaved timed passes (rotating the order).

    Returns, per runner name, its timed passes in order (the warm-ups are dropped).
    """
    prefix = f"  {tag}c{complexity}"
    for runner in runners:
        runner.open(complexity)
    try:
        for runner in runners:
            log(f"{prefix} warm-up  {runner.name}")
            runner.run_pass()
        passes: dict[str, list[PassResult]] = {r.name: [] for r in runners}
        for rep in range(repeats):
            shift = rep % len(runners)
            for runner in [*runners[shift:], *runners[:shift]]:
                result = runner.run_pass()
                passes[runner.name].append(result)
                log(
                    f"{prefix} pass {rep + 1}/{repeats} {runner.name}: "
                    f"median {np.median(result.times_s) * 1e3:.1f} ms"
                )
    finally:
        for runner in runners:
            runner.close()
    return passes


def measure_latency(
    runners: Sequence[Runner], complexity: int, repeats: int
) -> dict[str, dict[str, Any]]:
    """Static-image latency: :func:`run_interleaved`, then per runner name the summary of all
    timed calls plus the raw per-pass times."""
    passes = run_interleaved(runners, complexity, repeats)
    out: dict[str, dict[str, Any]] = {}
    for name, results in passes.items():
        flat = [t for r in results for t in r.times_s]
        cpu_s = sum(r.cpu_s for r in results)
        pose = results[-1].pose
        out[name] = {
            **summarize(flat),
            "cpu_ms_per_image": cpu_s * 1e3 / len(flat),
            "cpu_per_wall": cpu_s / sum(flat),
            "pass_medians_ms": [float(np.median(r.times_s) * 1e3) for r in results],
            "images": len(pose),
            "images_with_pose": int(sum(pose)),
            "pose_stable_across_passes": all(r.pose == pose for r in results),
            "pose": pose,
            "times_ms": [[round(t * 1e3, 4) for t in r.times_s] for r in results],
        }
    return out


def summarize_video(results: Sequence[PassResult]) -> dict[str, Any]:
    """Summary of one implementation's timed video passes (per-frame times over all passes)."""
    flat = [t for r in results for t in r.times_s]
    cpu_s = sum(r.cpu_s for r in results)
    pose = results[-1].pose
    detector_runs = [r.detector_runs for r in results]
    tracked = [r.tracked_frames for r in results]
    return {
        **summarize(flat),
        "cpu_ms_per_frame": cpu_s * 1e3 / len(flat),
        "cpu_per_wall": cpu_s / sum(flat),
        "pass_medians_ms": [float(np.median(r.times_s) * 1e3) for r in results],
        "pass_means_ms": [float(np.mean(r.times_s) * 1e3) for r in results],
        "first_frame_ms": [r.times_s[0] * 1e3 for r in results],
        "frames": len(pose),
        "frames_with_pose": int(sum(pose)),
        "frames_with_pose_per_pass": [int(sum(r.pose)) for r in results],
        "pose_stable_across_passes": all(r.pose == pose for r in results),
        "detector_runs_per_pass": None if None in detector_runs else detector_runs,
        "tracked_frames_per_pass": None if None in tracked else tracked,
        "pose": pose,
        "times_ms": [[round(t * 1e3, 4) for t in r.times_s] for r in results],
    }


def measure_video(
    frames: Sequence[np.ndarray],
    mediapipe: MediaPipeWorker | None,
    complexity: int,
    segmentation: Sequence[bool],
    repeats: int,
) -> dict[str, Any]:
    """Video-mode latency at one complexity, every segmentation setting interleaved together.

    Returns ``{segmentation_key: {"latency": {name: summary}, "ratio": {name: {...}}}}``.
    """
    groups: list[tuple[bool, list[OursVideoRunner | MediaPipeVideoRunner]]] = []
    for seg in segmentation:
        group: list[OursVideoRunner | MediaPipeVideoRunner] = [OursVideoRunner(frames, seg)]
        if mediapipe is not None:
            group.append(MediaPipeVideoRunner(mediapipe, seg))
        groups.append((seg, group))
    runners = [runner for _, group in groups for runner in group]
    passes = run_interleaved(runners, complexity, repeats, tag="video ")
    out: dict[str, Any] = {}
    for seg, group in groups:
        latency = {r.base_name: summarize_video(passes[r.name]) for r in group}
        ratio: dict[str, dict[str, float]] = {}
        if MEDIAPIPE in latency:
            reference = latency[MEDIAPIPE]
            for name, stats in latency.items():
                if name != MEDIAPIPE:
                    ratio[name] = {
                        "median": stats["median_ms"] / reference["median_ms"],
                        "mean": stats["mean_ms"] / reference["mean_ms"],
                    }
            reference["pose_agreement_with_ours"] = sum(
                a == b for a, b in zip(latency[OURS_POSE]["pose"], reference["pose"], strict=True)
            )
        out[segmentation_key(seg)] = {"latency": latency, "ratio": ratio}
    return out


def cold_start_once(python: str, code: str, image: Path, complexity: int) -> dict[str, float]:
    """One fresh-interpreter launch: import + model load + first frame (seconds)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", code, str(image), str(complexity)],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=False,
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(COLD_MARKER)]
    if proc.returncode != 0 or not lines:
        raise BenchError(
            f"cold-start run failed ({python}, status {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    result = json.loads(lines[-1][len(COLD_MARKER) :])
    result["wall_s"] = wall
    return result


def measure_cold_start(
    launchers: dict[str, tuple[str, str]], image: Path, complexity: int, runs: int
) -> dict[str, dict[str, Any]]:
    """``runs`` launches per implementation, alternating; medians of each phase in ms."""
    raw: dict[str, list[dict[str, float]]] = {name: [] for name in launchers}
    for run in range(runs):
        for name, (python, code) in launchers.items():
            raw[name].append(cold_start_once(python, code, image, complexity))
            log(
                f"  c{complexity} cold start {run + 1}/{runs} {name}: "
                f"{raw[name][-1]['total_s'] * 1e3:.0f} ms"
            )
    out: dict[str, dict[str, Any]] = {}
    for name, results in raw.items():
        phases = ("import", "load", "first_frame", "total", "wall")
        out[name] = {
            **{
                f"{phase}_ms": float(np.median([r[f"{phase}_s"] for r in results]) * 1e3)
                for phase in phases
            },
            "runs": len(results),
            "total_runs_ms": [r["total_s"] * 1e3 for r in results],
        }
    return out


# -- report -------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _range_text(values: Sequence[int] | None) -> str:
    """``"3"`` when all values are equal, ``"2–4"`` otherwise, ``"–"`` for none."""
    if not values:
        return "–"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def _render_static(report: dict[str, Any]) -> list[str]:
    """Markdown lines of the static-image section: settings, latency and cold-start tables."""
    settings = report["settings"]
    lines = [
        "### Static-image mode",
        "",
        f"- {settings['images']} images, 1 warm-up + {settings['repeats']} timed passes each, "
        "interleaved; per-call `time.perf_counter`; static mode; CPU ms/img = process CPU time "
        "(all threads) per image; "
        + (
            "cold start = fresh interpreter: import + model load + first frame, median of "
            f"{settings['cold_runs']}"
            if settings["cold_runs"]
            else "cold start skipped"
        ),
        "",
        "| c | implementation | median ms | p10 ms | p90 ms | CPU ms/img | images with pose "
        "| ours / MediaPipe | cold start ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = report["labels"]
    for key, entry in report["results"].items():
        cold = entry.get("cold_start", {})
        for name, stats in entry["latency"].items():
            ratio = entry["ratio"].get(name)
            ratio_text = (
                "1 (ref)" if name == MEDIAPIPE else ("–" if ratio is None else f"{ratio:.2f}x")
            )
            cold_text = _ms(cold.get(name, {}).get("total_ms"))
            lines.append(
                f"| {key} | {labels[name]} | {stats['median_ms']:.1f} | {stats['p10_ms']:.1f} "
                f"| {stats['p90_ms']:.1f} | {stats['cpu_ms_per_image']:.1f} "
                f"| {stats['images_with_pose']}/{stats['images']} | {ratio_text} | {cold_text} |"
            )
    if any(entry.get("cold_start") for entry in report["results"].values()):
        lines += [
            "",
            "Cold start (medians, ms): import, model load, first frame, their total, and the "
            "launch's wall time seen from the parent (interpreter start-up and exit included).",
            "",
            "| c | implementation | import | load | first frame | total | launch wall |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for key, entry in report["results"].items():
            for name, cold in entry.get("cold_start", {}).items():
                lines.append(
                    f"| {key} | {labels[name]} | {cold['import_ms']:.0f} | {cold['load_ms']:.0f} "
                    f"| {cold['first_frame_ms']:.0f} | {cold['total_ms']:.0f} "
                    f"| {cold['wall_ms']:.0f} |"
                )
    busy = {
        name: "/".join(
            f"{entry['latency'][name]['cpu_per_wall']:.1f}" for entry in report["results"].values()
        )
        for name in labels
    }
    keys = "/".join(f"c{key}" for key in report["results"])
    lines += [
        "",
        f"Note: cores kept busy during `process()` (CPU time / wall time), {keys}: "
        + "; ".join(f"{labels[name]} {value}" for name, value in busy.items())
        + ".",
    ]
    return lines


def _render_video(video: dict[str, Any]) -> list[str]:
    """Markdown lines of the video-mode section: settings, latency table, notes."""
    settings = video["settings"]
    height, width = video["frame_size"]
    seg_text = " and ".join("on" if seg else "off" for seg in settings["segmentation"])
    lines = [
        "### Video mode",
        "",
        f"- `{video['video']}`: {video['frames']} frames, {width}x{height}, decoded once to RGB "
        f"(outside the timing); segmentation {seg_text}; per complexity, 1 warm-up + "
        f"{settings['repeats']} timed pass{'' if settings['repeats'] == 1 else 'es'} per "
        "implementation and segmentation setting, "
        "interleaved; a fresh `Pose` per pass (construction not timed), so each pass starts with "
        "a detection; per-frame `time.perf_counter` around `process()`; MediaPipe in video mode "
        "with its default options; CPU ms/frame = process CPU time (all threads) per frame; "
        "detector runs/pass = ours' `pose.stats.detector_runs` (range over the timed passes)",
        "",
        "| c | segmentation | implementation | median ms/frame | mean ms/frame | p10 ms "
        "| p90 ms | CPU ms/frame | frames with pose | detector runs/pass "
        "| ours / MediaPipe (median) | ours / MediaPipe (mean) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = video["labels"]
    busy: dict[str, list[str]] = {}
    for key, entry in video["results"].items():
        for seg_name, group in entry.items():
            seg_text = "on" if seg_name == segmentation_key(True) else "off"
            for name, stats in group["latency"].items():
                ratio = group["ratio"].get(name)
                if name == MEDIAPIPE:
                    median_ratio = mean_ratio = "1 (ref)"
                elif ratio is None:
                    median_ratio = mean_ratio = "–"
                else:
                    median_ratio = f"{ratio['median']:.2f}x"
                    mean_ratio = f"{ratio['mean']:.2f}x"
                with_pose = _range_text(stats["frames_with_pose_per_pass"])
                lines.append(
                    f"| {key} | {seg_text} | {labels[name]} | {stats['median_ms']:.1f} "
                    f"| {stats['mean_ms']:.1f} | {stats['p10_ms']:.1f} | {stats['p90_ms']:.1f} "
                    f"| {stats['cpu_ms_per_frame']:.1f} | {with_pose}/{stats['frames']} "
                    f"| {_range_text(stats['detector_runs_per_pass'])} "
                    f"| {median_ratio} | {mean_ratio} |"
                )
                busy.setdefault(f"{labels[name]}, segmentation {seg_text}", []).append(
                    f"{stats['cpu_per_wall']:.1f}"
                )
    keys = "/".join(f"c{key}" for key in video["results"])
    notes = [
        f"cores kept busy during `process()` (CPU time / wall time), {keys}: "
        + "; ".join(f"{name} {'/'.join(values)}" for name, values in busy.items())
        + ".",
        *video["notes"],
    ]
    return [*lines, "", *[f"Note: {note}" for note in notes]]


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: machine, static-mode latency and cold-start tables, video-mode
    latency table, notes."""
    machine = report["machine"]
    mp_versions = report["versions"].get(MEDIAPIPE)
    lines = [
        "## Pose latency: vitruvian vs MediaPipe",
        "",
        f"- machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), {machine['platform']}",
        f"- ours: python {machine['python']}, numpy {machine['numpy']}, "
        f"opencv {machine['opencv']}, litert {machine['litert']}, "
        f"vitruvian {machine['vitruvian']} ({machine['vitruvian_threads']} inference threads)",
    ]
    if mp_versions:
        lines.append(
            f"- reference: mediapipe {mp_versions['mediapipe']}, python {mp_versions['python']}, "
            f"numpy {mp_versions['numpy']}, opencv {mp_versions['opencv']}"
        )
    if report["results"]:
        lines += ["", *_render_static(report)]
    if report.get("video"):
        lines += ["", *_render_video(report["video"])]
    if report["notes"]:
        lines += ["", *[f"Note: {note}" for note in report["notes"]]]
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Static-image and video-mode latency of vitruvian vs MediaPipe Pose.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--reference-python",
        default=os.environ.get(REFERENCE_ENV_VAR) or None,
        help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR}); "
        "without it the MediaPipe columns are skipped",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="all",
        help="static: static-image latency and cold start; video: video-mode latency; all: both",
    )
    parser.add_argument(
        "--complexity",
        type=int,
        nargs="+",
        choices=COMPLEXITIES,
        default=list(COMPLEXITIES),
        help="model complexities to benchmark",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help="timed passes over the images (and over the video's frames)",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=None,
        help=f"cold-start launches per implementation (default {DEFAULT_COLD_RUNS}, "
        "1 with --quick; 0 skips)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_IMAGES} images, {QUICK_FRAMES} video frames, 1 timed pass, 1 cold start "
        "(smoke test)",
    )
    parser.add_argument(
        "--pipeline-threads",
        type=int,
        default=None,
        help="also time PosePipeline(c, num_threads=N) (e.g. 1, to match MediaPipe's "
        "single-threaded CPU inference)",
    )
    parser.add_argument(
        "--video",
        type=Path,
        default=None,
        help=f"video for video mode (default: DATA_DIR/{DEFAULT_VIDEO.as_posix()})",
    )
    parser.add_argument(
        "--video-segmentation",
        choices=tuple(VIDEO_SEGMENTATION),
        default="both",
        help="video mode: time Pose with enable_segmentation off, on, or both",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="shared data")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    if args.cold_runs is None:
        args.cold_runs = 1 if args.quick else DEFAULT_COLD_RUNS
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.pipeline_threads is not None and args.pipeline_threads < 1:
        parser.error("--pipeline-threads must be >= 1")
    if args.cold_runs < 0:
        parser.error("--cold-runs must be >= 0")
    if args.video is None:
        args.video = args.data_dir / DEFAULT_VIDEO
    args.complexity = list(dict.fromkeys(args.complexity))
    return args


def _describe_path(path: Path, data_dir: Path) -> str:
    """``path`` relative to the data directory where it lies inside it, else as given."""
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def run_static(
    args: argparse.Namespace, report: dict[str, Any], mediapipe: MediaPipeWorker | None
) -> None:
    """The static-image section: fills ``report``'s settings, images, labels and results."""
    paths = list_images(args.data_dir)
    if not paths:
        raise BenchError(f"no images under {args.data_dir} ({', '.join(IMAGE_FOLDERS)})")
    if args.quick:
        paths = paths[:QUICK_IMAGES]
    log(f"decoding {len(paths)} images")
    images = decode_images(paths)
    notes: list[str] = report["notes"]
    report["settings"].update(images=len(paths), cold_runs=args.cold_runs)
    report["images"] = [str(p.relative_to(args.data_dir)) for p in paths]
    runners: list[Runner] = [OursPoseRunner(images), OursPipelineRunner(images)]
    if args.pipeline_threads is not None:
        runners.append(OursPipelineRunner(images, args.pipeline_threads))
    launchers: dict[str, tuple[str, str]] = {OURS_POSE: (sys.executable, OURS_COLD_CODE)}
    if mediapipe is not None:
        runners.append(MediaPipeRunner(mediapipe))
        launchers[MEDIAPIPE] = (mediapipe.python, MEDIAPIPE_COLD_CODE)
        ours_sha1 = [hashlib.sha1(img.tobytes()).hexdigest() for img in images]
        theirs_sha1 = mediapipe.load_images(paths)
        same = theirs_sha1 == ours_sha1
        report["inputs_identical"] = same
        if not same:
            differ = sum(a != b for a, b in zip(theirs_sha1, ours_sha1, strict=True))
            notes.append(
                f"{differ} of {len(paths)} images decode to different RGB bytes in the reference "
                "environment (another OpenCV/libjpeg build); each side times its own decoding."
            )
    report["labels"] = {r.name: r.label for r in runners}
    for complexity in args.complexity:
        log(f"complexity {complexity}: latency")
        latency = measure_latency(runners, complexity, args.repeats)
        ratio: dict[str, float | None] = {}
        if MEDIAPIPE in latency:
            reference = latency[MEDIAPIPE]["median_ms"]
            for name in latency:
                if name != MEDIAPIPE:
                    ratio[name] = latency[name]["median_ms"] / reference
            agree = sum(
                a == b
                for a, b in zip(latency[OURS_POSE]["pose"], latency[MEDIAPIPE]["pose"], strict=True)
            )
            latency[MEDIAPIPE]["pose_agreement_with_ours"] = agree
        entry: dict[str, Any] = {"latency": latency, "ratio": ratio}
        if args.cold_runs:
            log(f"complexity {complexity}: cold start")
            entry["cold_start"] = measure_cold_start(
                launchers, paths[0], complexity, args.cold_runs
            )
            if MEDIAPIPE in entry["cold_start"]:
                ref_cold = entry["cold_start"][MEDIAPIPE]["total_ms"]
                entry["cold_start_ratio"] = entry["cold_start"][OURS_POSE]["total_ms"] / ref_cold
        report["results"][str(complexity)] = entry


def run_video(args: argparse.Namespace, mediapipe: MediaPipeWorker | None) -> dict[str, Any]:
    """The video-mode section of the report (the ``"video"`` key)."""
    if not args.video.is_file():
        raise BenchError(f"video not found: {args.video}")
    max_frames = QUICK_FRAMES if args.quick else None
    log(f"decoding {args.video}" + (f" (first {max_frames} frames)" if max_frames else ""))
    frames = decode_video(args.video, max_frames)
    segmentation = VIDEO_SEGMENTATION[args.video_segmentation]
    notes: list[str] = []
    video: dict[str, Any] = {
        "video": _describe_path(args.video, args.data_dir),
        "frames": len(frames),
        "frame_size": list(frames[0].shape[:2]),
        "settings": {
            "repeats": args.repeats,
            "warmup_passes": 1,
            "complexities": args.complexity,
            "segmentation": list(segmentation),
            "static_image_mode": False,
            "fresh_pose_per_pass": True,
            "timestamps": "default (each process() call advances 33333 us)",
        },
        "inputs_identical": None,
        "labels": {OURS_POSE: OursVideoRunner.label},
        "results": {},
        "notes": notes,
    }
    if mediapipe is not None:
        ours_sha1 = [hashlib.sha1(f.tobytes()).hexdigest() for f in frames]
        theirs_sha1 = mediapipe.load_video(args.video, max_frames)
        same = theirs_sha1 == ours_sha1
        video["inputs_identical"] = same
        video["labels"][MEDIAPIPE] = MediaPipeVideoRunner.label
        if not same:
            notes.append(
                f"the reference environment decodes the video to {len(theirs_sha1)} frames, "
                f"{sum(a != b for a, b in zip(theirs_sha1, ours_sha1, strict=False))} of which "
                f"differ from ours ({len(frames)} frames); each side times its own frames."
            )
        if True in segmentation:
            notes.append(
                "with segmentation on, ours also smooths the mask over time "
                "(`smooth_segmentation=True`, the default), which MediaPipe 0.10.14's Python "
                "solution accepts but does not do (see `vitruvian.tracking`)."
            )
    for complexity in args.complexity:
        log(f"complexity {complexity}: video mode")
        video["results"][str(complexity)] = measure_video(
            frames, mediapipe, complexity, segmentation, args.repeats
        )
    return video


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement and return the report (see :func:`render_markdown`)."""
    static = args.mode in ("static", "all")
    video = args.mode in ("video", "all")
    notes: list[str] = []
    report: dict[str, Any] = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "mode": args.mode,
            "images": 0,
            "repeats": args.repeats,
            "warmup_passes": 1,
            "cold_runs": 0,
            "complexities": args.complexity,
            "quick": bool(args.quick),
            "static_image_mode": True,
            "pipeline_threads": args.pipeline_threads,
        },
        "images": [],
        "versions": {},
        "labels": {},
        "inputs_identical": None,
        "results": {},
        "video": None,
        "notes": notes,
    }
    mediapipe: MediaPipeWorker | None = None
    if args.reference_python:
        log(f"starting the MediaPipe worker with {args.reference_python}")
        mediapipe = MediaPipeWorker(args.reference_python)
        report["versions"][MEDIAPIPE] = mediapipe.versions
    else:
        notes.append(
            "MediaPipe columns skipped: no reference Python given. Pass "
            f"`--reference-python PATH/TO/python` or set {REFERENCE_ENV_VAR} to a Python "
            "with mediapipe 0.10.14 installed (with make: "
            f"`{REFERENCE_ENV_VAR}=PATH/TO/python make bench`)."
        )
    try:
        if static:
            run_static(args, report, mediapipe)
        if video:
            report["video"] = run_video(args, mediapipe)
    finally:
        if mediapipe is not None:
            mediapipe.shutdown()
    report["machine"]["load_average_after"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(argv)
    try:
        report = run_benchmark(args)
    except BenchError as exc:
        print(f"bench.py: error: {exc}", file=sys.stderr)
        return 2
    print(render_markdown(report), end="")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
