"""Benchmark static-image pose latency: vitruvian against MediaPipe 0.10.14, side by side.

What is measured, for each selected model complexity (0 lite, 1 full, 2 heavy):

* **Latency**: the per-image time of ``process(rgb)`` in static-image mode on the shared images
  (``../shared/data/coco/images/*.jpg`` and ``../shared/data/mmpose/*.jpg``, decoded once up
  front with ``cv2.imread`` + BGR to RGB, outside the timing), for

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

* **Cold start**: a fresh interpreter (``python -c``) that imports the library, loads the models
  and processes one image (the image's decoding is excluded); median of ``--cold-runs`` (default
  3) launches, ours and MediaPipe alternating. The operating system's file cache is warm (the
  models have just been read), as on any repeated launch. The launch's wall time as seen from
  the parent (interpreter start-up and shutdown included) is recorded too.

Results are printed as Markdown tables on stdout (progress goes to stderr); ``--json PATH`` also
writes everything, per-call times included.

Usage::

    python scripts/bench.py                                   # ours only
    python scripts/bench.py --reference-python PATH/TO/mediapipe-env/bin/python --json out.json
    python scripts/bench.py --quick --complexity 0            # 5 images, 1 repeat (smoke test)
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


class Runner(Protocol):
    """One implementation under test, driven pass by pass."""

    name: str
    label: str

    def open(self, complexity: int) -> None:
        """Create the pose object for one model complexity."""

    def run_pass(self) -> PassResult:
        """Process every image once."""

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


class BenchError(RuntimeError):
    """The benchmark cannot go on (bad reference Python, worker failure, ...)."""


class MediaPipeRunner:
    """MediaPipe's ``Pose`` in ``_bench_mediapipe_worker.py``, run by the reference Python.

    Args:
        python: the reference interpreter (with ``mediapipe`` installed).
        paths: the image files; the worker decodes them itself, once.
    """

    name = MEDIAPIPE
    label = "MediaPipe `Pose`"

    def __init__(self, python: str, paths: Sequence[Path]) -> None:
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
            loaded = self._request({"cmd": "load", "images": [str(p) for p in paths]})
        except BenchError:
            self.shutdown()
            raise
        self.versions: dict[str, Any] = loaded["versions"]
        self.sha1: list[str] = loaded["sha1"]

    def _stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def _request(self, request: dict[str, Any]) -> dict[str, Any]:
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

    def open(self, complexity: int) -> None:
        self._request({"cmd": "open", "complexity": complexity})

    def run_pass(self) -> PassResult:
        reply = self._request({"cmd": "pass"})
        return PassResult(
            [float(t) for t in reply["times_s"]],
            [bool(p) for p in reply["pose"]],
            float(reply["cpu_s"]),
        )

    def close(self) -> None:
        self._request({"cmd": "close"})

    def shutdown(self) -> None:
        """End the worker process."""
        if self._proc.poll() is None:
            try:
                self._request({"cmd": "quit"})
                self._proc.wait(timeout=30)
            except (BenchError, subprocess.TimeoutExpired, ValueError):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


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


def measure_latency(
    runners: Sequence[Runner], complexity: int, repeats: int
) -> dict[str, dict[str, Any]]:
    """Warm up every runner, then ``repeats`` interleaved timed passes (rotating the order).

    Returns, per runner name, the summary of all timed calls plus the raw per-pass times.
    """
    for runner in runners:
        runner.open(complexity)
    try:
        for runner in runners:
            log(f"  c{complexity} warm-up  {runner.name}")
            runner.run_pass()
        passes: dict[str, list[PassResult]] = {r.name: [] for r in runners}
        for rep in range(repeats):
            shift = rep % len(runners)
            for runner in [*runners[shift:], *runners[:shift]]:
                result = runner.run_pass()
                passes[runner.name].append(result)
                log(
                    f"  c{complexity} pass {rep + 1}/{repeats} {runner.name}: "
                    f"median {np.median(result.times_s) * 1e3:.1f} ms"
                )
    finally:
        for runner in runners:
            runner.close()
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


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: machine, latency table, cold-start table, notes."""
    machine = report["machine"]
    mp_versions = report["versions"].get(MEDIAPIPE)
    lines = [
        "## Static-image pose latency: vitruvian vs MediaPipe",
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
    settings = report["settings"]
    lines += [
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
    notes = list(report["notes"])
    busy = {
        name: "/".join(
            f"{entry['latency'][name]['cpu_per_wall']:.1f}" for entry in report["results"].values()
        )
        for name in labels
    }
    if report["results"]:
        keys = "/".join(f"c{key}" for key in report["results"])
        notes.append(
            f"cores kept busy during `process()` (CPU time / wall time), {keys}: "
            + "; ".join(f"{labels[name]} {value}" for name, value in busy.items())
            + "."
        )
    if notes:
        lines += ["", *[f"Note: {note}" for note in notes]]
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Median static-image latency of vitruvian vs MediaPipe Pose.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--reference-python",
        default=os.environ.get(REFERENCE_ENV_VAR) or None,
        help=f"Python with mediapipe installed (default: ${REFERENCE_ENV_VAR}); "
        "without it the MediaPipe columns are skipped",
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
        "--repeats", type=int, default=DEFAULT_REPEATS, help="timed passes over the images"
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
        help=f"{QUICK_IMAGES} images, 1 timed pass, 1 cold start (smoke test)",
    )
    parser.add_argument(
        "--pipeline-threads",
        type=int,
        default=None,
        help="also time PosePipeline(c, num_threads=N) (e.g. 1, to match MediaPipe's "
        "single-threaded CPU inference)",
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
    args.complexity = list(dict.fromkeys(args.complexity))
    return args


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement and return the report (see :func:`render_markdown`)."""
    paths = list_images(args.data_dir)
    if not paths:
        raise BenchError(f"no images under {args.data_dir} ({', '.join(IMAGE_FOLDERS)})")
    if args.quick:
        paths = paths[:QUICK_IMAGES]
    log(f"decoding {len(paths)} images")
    images = decode_images(paths)
    notes: list[str] = []
    report: dict[str, Any] = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "images": len(paths),
            "repeats": args.repeats,
            "warmup_passes": 1,
            "cold_runs": args.cold_runs,
            "complexities": args.complexity,
            "quick": bool(args.quick),
            "static_image_mode": True,
            "pipeline_threads": args.pipeline_threads,
        },
        "images": [str(p.relative_to(args.data_dir)) for p in paths],
        "versions": {},
        "labels": {},
        "results": {},
        "notes": notes,
    }
    ours_sha1 = [hashlib.sha1(img.tobytes()).hexdigest() for img in images]
    runners: list[Runner] = [OursPoseRunner(images), OursPipelineRunner(images)]
    if args.pipeline_threads is not None:
        runners.append(OursPipelineRunner(images, args.pipeline_threads))
    launchers: dict[str, tuple[str, str]] = {OURS_POSE: (sys.executable, OURS_COLD_CODE)}
    mediapipe: MediaPipeRunner | None = None
    if args.reference_python:
        log(f"starting the MediaPipe worker with {args.reference_python}")
        mediapipe = MediaPipeRunner(args.reference_python, paths)
        runners.append(mediapipe)
        launchers[MEDIAPIPE] = (args.reference_python, MEDIAPIPE_COLD_CODE)
        report["versions"][MEDIAPIPE] = mediapipe.versions
        same = mediapipe.sha1 == ours_sha1
        report["inputs_identical"] = same
        if not same:
            differ = sum(a != b for a, b in zip(mediapipe.sha1, ours_sha1, strict=True))
            notes.append(
                f"{differ} of {len(paths)} images decode to different RGB bytes in the reference "
                "environment (another OpenCV/libjpeg build); each side times its own decoding."
            )
    else:
        report["inputs_identical"] = None
        notes.append(
            "MediaPipe columns skipped: no reference Python given. Pass "
            f"`--reference-python PATH/TO/python` or set {REFERENCE_ENV_VAR} to a Python "
            "with mediapipe 0.10.14 installed (with make: "
            f"`{REFERENCE_ENV_VAR}=PATH/TO/python make bench`)."
        )
    report["labels"] = {r.name: r.label for r in runners}
    try:
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
                    for a, b in zip(
                        latency[OURS_POSE]["pose"], latency[MEDIAPIPE]["pose"], strict=True
                    )
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
                    entry["cold_start_ratio"] = (
                        entry["cold_start"][OURS_POSE]["total_ms"] / ref_cold
                    )
            report["results"][str(complexity)] = entry
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
