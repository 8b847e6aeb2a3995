"""Smoke tests of ``scripts/bench.py``: it runs end to end and writes the expected JSON.

Only the shape of the report is checked, never the timings themselves. MediaPipe is left out
(the reference-Python environment variable is removed for the run) so the tests need nothing but
the project's own environment and the shared images and video.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".." / "shared" / "data"
BENCH_PY = REPO_ROOT / "scripts" / "bench.py"
VIDEO = DATA_DIR / "video" / "pose_squats.mp4"
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(),
    reason=f"test data not found: {DATA_DIR.resolve()} (expected ../shared/data)",
)


def _run_bench(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``bench.py ARGS --json OUT`` without MediaPipe; fail with its stderr if it fails."""
    env = {k: v for k, v in os.environ.items() if k != REFERENCE_ENV_VAR}
    proc = subprocess.run(
        [sys.executable, str(BENCH_PY), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_bench_quick_writes_report(tmp_path: Path) -> None:
    """``bench.py --quick --complexity 0 --json`` (both sections) succeeds and reports a
    positive median."""
    out = tmp_path / "bench.json"
    proc = _run_bench(out, "--quick", "--complexity", "0")
    assert "| c | implementation | median ms" in proc.stdout
    assert "MediaPipe columns skipped" in proc.stdout

    report = json.loads(out.read_text())
    assert report["settings"]["mode"] == "all"
    if VIDEO.is_file():
        assert "| c | segmentation | implementation | median ms/frame" in proc.stdout
        assert list(report["video"]["results"]) == ["0"]
    for key in ("command", "machine", "settings", "images", "versions", "results", "notes"):
        assert key in report, key
    for key in ("cpu", "cores", "python", "numpy", "opencv", "litert"):
        assert key in report["machine"], key
    assert report["settings"]["quick"] is True
    assert report["settings"]["repeats"] == 1
    assert report["settings"]["complexities"] == [0]
    assert len(report["images"]) == report["settings"]["images"] == 5
    assert list(report["results"]) == ["0"]

    entry = report["results"]["0"]
    assert set(entry["latency"]) == {"ours_pose", "ours_pipeline"}
    assert entry["ratio"] == {}
    for name in ("ours_pose", "ours_pipeline"):
        stats = entry["latency"][name]
        for key in (
            "median_ms",
            "p10_ms",
            "p90_ms",
            "cpu_ms_per_image",
            "images",
            "images_with_pose",
            "times_ms",
        ):
            assert key in stats, (name, key)
        assert stats["median_ms"] > 0
        assert stats["p10_ms"] <= stats["median_ms"] <= stats["p90_ms"]
        assert stats["images"] == 5
        assert 0 <= stats["images_with_pose"] <= 5
        assert len(stats["times_ms"]) == 1 and len(stats["times_ms"][0]) == 5

    cold = entry["cold_start"]["ours_pose"]
    for key in ("import_ms", "load_ms", "first_frame_ms", "total_ms", "wall_ms"):
        assert cold[key] > 0, key


@pytest.mark.skipif(not VIDEO.is_file(), reason=f"test video not found: {VIDEO.resolve()}")
def test_bench_video_quick_writes_report(tmp_path: Path) -> None:
    """``bench.py --mode video --quick --complexity 0 --json``: the video table and its JSON."""
    out = tmp_path / "bench.json"
    proc = _run_bench(out, "--mode", "video", "--quick", "--complexity", "0")
    assert "| c | segmentation | implementation | median ms/frame" in proc.stdout
    assert "| c | implementation | median ms |" not in proc.stdout  # no static table
    assert "MediaPipe columns skipped" in proc.stdout

    report = json.loads(out.read_text())
    assert report["settings"]["mode"] == "video"
    assert report["results"] == {}
    video = report["video"]
    for key in ("video", "frames", "frame_size", "settings", "labels", "results", "notes"):
        assert key in video, key
    assert video["frames"] == 10
    assert len(video["frame_size"]) == 2
    assert video["settings"]["repeats"] == 1
    assert video["settings"]["complexities"] == [0]
    assert video["settings"]["segmentation"] == [False, True]
    assert list(video["results"]) == ["0"]

    entry = video["results"]["0"]
    assert set(entry) == {"segmentation_off", "segmentation_on"}
    for group in entry.values():
        assert set(group["latency"]) == {"ours_pose"}
        assert group["ratio"] == {}
        stats = group["latency"]["ours_pose"]
        for key in (
            "median_ms",
            "mean_ms",
            "p10_ms",
            "p90_ms",
            "cpu_ms_per_frame",
            "frames",
            "frames_with_pose",
            "detector_runs_per_pass",
            "tracked_frames_per_pass",
            "times_ms",
        ):
            assert key in stats, key
        assert stats["median_ms"] > 0
        assert stats["mean_ms"] > 0
        assert stats["p10_ms"] <= stats["median_ms"] <= stats["p90_ms"]
        assert stats["frames"] == 10
        assert 0 <= stats["frames_with_pose"] <= 10
        assert len(stats["times_ms"]) == 1 and len(stats["times_ms"][0]) == 10
        (runs,) = stats["detector_runs_per_pass"]
        assert 1 <= runs <= 10
