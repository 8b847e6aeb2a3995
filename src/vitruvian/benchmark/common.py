"""What every benchmark section shares: inputs, machine description, memory probes, timing
summaries and the MediaPipe worker process."""

from __future__ import annotations

import ctypes
import gc
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import cv2
import numpy as np

from vitruvian.reference.client import ReferencePython
from vitruvian.testing_clips import read_video_rgb

#: Environment variable naming the benchmark data folder (``--data-dir`` overrides it).
DATA_DIR_ENV = "VITRUVIAN_DATA_DIR"


def _looks_like_data(folder: Path) -> bool:
    return (folder / "mmpose").is_dir() or (folder / "video").is_dir()


def find_data_dir(cwd: Path | None = None) -> Path | None:
    """The benchmark data: ``$VITRUVIAN_DATA_DIR``, else ``shared/data`` beside the source
    checkout this module runs from, else ``shared/data`` in or above the working directory;
    ``None`` when none holds the data (photos in ``mmpose/`` or ``coco/images/``, the clip in
    ``video/``)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    candidates = []
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file():  # a source checkout, not site-packages
        candidates.append(checkout.parent / "shared" / "data")
    cwd = Path.cwd() if cwd is None else cwd
    candidates += [folder / "shared" / "data" for folder in (cwd, *cwd.parents)]
    return next((c for c in candidates if _looks_like_data(c)), None)


#: The shared data set, where it can be found (``--data-dir`` overrides it).
DEFAULT_DATA_DIR = find_data_dir()
#: Image folders (relative to the data directory) whose ``*.jpg`` files are benchmarked.
IMAGE_FOLDERS = ("coco/images", "mmpose")
#: The video benchmarked in video, extraction and soak modes, relative to the data directory.
DEFAULT_VIDEO = Path("video") / "pose_squats.mp4"

#: Names of the implementations, as used in the JSON.
OURS_POSE = "ours_pose"
OURS_PIPELINE = "ours_pipeline"
MEDIAPIPE = "mediapipe"


def backend_key(name: str, backend: str | None) -> str:
    """The JSON name of an implementation on a backend chosen with ``--backend``:
    ``"ours_pipeline@litert"``; ``name`` itself for the default backend (``None``)."""
    return name if backend is None else f"{name}@{backend}"


def backend_label(label: str, backend: str | None) -> str:
    """A row label with the backend appended: ``"vitruvian `PosePipeline` (litert)"``;
    ``label`` itself for the default backend (``None``)."""
    return label if backend is None else f"{label} ({backend})"


def onnxruntime_version() -> str | None:
    """The installed ONNX Runtime's version (the CPU or the GPU distribution), or ``None``."""
    return package_version("onnxruntime") or package_version("onnxruntime-gpu")


def log(message: str) -> None:
    """Progress message on stderr (stdout carries only the report)."""
    print(message, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """The benchmark cannot go on (bad reference Python, worker failure, missing data...)."""


# -- inputs -------------------------------------------------------------------------------------


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
            raise BenchError(f"cannot decode {path}")
        images.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return images


def decode_video(path: Path, max_frames: int | None = None) -> list[np.ndarray]:
    """Decode a video's frames (all, or the first ``max_frames``) as contiguous RGB uint8."""
    try:
        return read_video_rgb(path, max_frames)
    except OSError as exc:  # FileNotFoundError included
        raise BenchError(f"cannot decode the video {path}: {exc}") from exc


def describe_path(path: Path, data_dir: Path) -> str:
    """``path`` relative to the data directory where it lies inside it, else as given."""
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


# -- machine ------------------------------------------------------------------------------------


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


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or ``None``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (``None`` where the platform has none)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


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
        "litert": package_version("ai-edge-litert"),
        "onnxruntime": onnxruntime_version(),
        "vitruvian": package_version("vitruvian"),
        "vitruvian_threads": default_num_threads(),
        "load_average": load_average(),
    }


# -- memory -------------------------------------------------------------------------------------


def release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc's
    ``malloc_trim``), so that RSS counts live memory rather than what earlier sections freed."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (e.g. musl): RSS then keeps freed pages
        pass


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS counter (``VmHWM``) to its current RSS, after
    :func:`release_free_memory`.

    Linux only (writing ``5`` to ``/proc/self/clear_refs``); returns ``False`` where it is not
    possible, and :func:`peak_rss_mb` then reports the peak since the process started.
    """
    release_free_memory()
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``None`` where unavailable)."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB: ``VmHWM`` (since the last
    :func:`reset_peak_rss`), else ``ru_maxrss`` (since the process started)."""
    peak_kb = _status_kb("VmHWM")
    if peak_kb is not None:
        return peak_kb / 1024.0
    import resource  # POSIX only, like the benchmark's subprocess plumbing

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def current_rss_mb() -> float | None:
    """This process's resident memory now, in MiB (``VmRSS``; ``None`` without ``/proc``)."""
    rss_kb = _status_kb("VmRSS")
    return None if rss_kb is None else rss_kb / 1024.0


# -- timing -------------------------------------------------------------------------------------


class PassResult(NamedTuple):
    """One timed pass over the images (or video frames)."""

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
    #: Peak resident memory of the implementation's process during the pass, MiB.
    peak_rss_mb: float | None = None


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


def max_or_none(values: Sequence[float | None]) -> float | None:
    """The largest of the values that are not ``None`` (``None`` when there are none)."""
    present = [v for v in values if v is not None]
    return max(present) if present else None


# -- the MediaPipe worker -----------------------------------------------------------------------


class MediaPipeWorker(ReferencePython):
    """MediaPipe's ``Pose`` in the reference Python, timed: one long-lived worker
    (:mod:`vitruvian.reference.worker`) serves every section and decodes the images and the
    video itself, once. Errors are :class:`BenchError`, ending with the worker's stderr.

    Args:
        python: the reference interpreter (with ``mediapipe`` installed).
    """

    def __init__(self, python: str) -> None:
        super().__init__(python, error=BenchError, stderr_in_errors=True)

    def load_images(self, paths: Sequence[Path]) -> list[str]:
        """Have the worker decode the images; returns the SHA-1 of each one's RGB bytes."""
        return list(self.request({"cmd": "load", "images": [str(p) for p in paths]})["sha1"])

    def load_video(self, path: Path, max_frames: int | None) -> list[str]:
        """Have the worker decode the video's frames; returns the SHA-1 of each frame's RGB."""
        reply = self.request({"cmd": "load_video", "path": str(path), "max_frames": max_frames})
        return list(reply["sha1"])

    def unload(self) -> None:
        """Have the worker drop its decoded images and frames."""
        self.request({"cmd": "unload"})


def pass_from_reply(reply: dict[str, Any]) -> PassResult:
    """A worker's ``pass`` / ``video_pass`` reply as a :class:`PassResult`."""
    peak = reply.get("peak_rss_mb")
    return PassResult(
        [float(t) for t in reply["times_s"]],
        [bool(p) for p in reply["pose"]],
        float(reply["cpu_s"]),
        peak_rss_mb=None if peak is None else float(peak),
    )
