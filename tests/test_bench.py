"""Smoke tests of ``vitruvian bench``: every mode runs end to end with ``--quick`` and writes the
expected JSON and tables.

Only the shape of the report is checked, never the timings themselves. MediaPipe is left out
(the reference-Python environment variable is removed for the run) so the tests need nothing but
the project's own environment and the shared images and video.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vitruvian.benchmark.batch import pass_inputs
from vitruvian.benchmark.main import parse_backends, parse_batch_sizes
from vitruvian.cli import cli

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".." / "shared" / "data"
VIDEO = DATA_DIR / "video" / "pose_squats.mp4"
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(),
    reason=f"test data not found: {DATA_DIR.resolve()} (expected ../shared/data)",
)
needs_video = pytest.mark.skipif(
    not VIDEO.is_file(), reason=f"test video not found: {VIDEO.resolve()}"
)
needs_onnx = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("onnxruntime", "onnx", "ai_edge_litert")),
    reason="the backend comparison needs LiteRT, onnxruntime and onnx (the dev extra)",
)
#: The two CPU backends compared by the ``--backend`` tests.
BACKENDS = ("litert", "onnxruntime-cpu")
BACKEND_ARG = ",".join(BACKENDS)


def _run_bench(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run ``python -m vitruvian bench ARGS --json OUT`` without MediaPipe; fail with its stderr
    if it fails; return the process and the JSON report."""
    env = {k: v for k, v in os.environ.items() if k != REFERENCE_ENV_VAR}
    proc = subprocess.run(
        [sys.executable, "-m", "vitruvian", "bench", *args, "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def test_bench_quick_writes_report(tmp_path: Path) -> None:
    """``--quick --complexity 0`` (default mode: static, video and extract) succeeds and reports
    positive medians."""
    proc, report = _run_bench(tmp_path / "bench.json", "--quick", "--complexity", "0")
    assert "| c | implementation | median ms" in proc.stdout
    assert "MediaPipe columns skipped" in proc.stdout
    assert report["command"].startswith("vitruvian bench --quick")

    assert report["settings"]["mode"] == "all"
    assert report["settings"]["modes"] == ["static", "video", "extract"]
    assert report["soak"] is None and report["profile"] is None
    if VIDEO.is_file():
        assert "| c | segmentation | implementation | median ms/frame" in proc.stdout
        assert list(report["video"]["results"]) == ["0"]
        assert "### Offline extraction" in proc.stdout
        assert list(report["extract"]["results"]) == ["0"]
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
            "peak_rss_mb",
            "times_ms",
        ):
            assert key in stats, (name, key)
        assert stats["median_ms"] > 0
        assert stats["p10_ms"] <= stats["median_ms"] <= stats["p90_ms"]
        assert stats["images"] == 5
        assert 0 <= stats["images_with_pose"] <= 5
        assert stats["peak_rss_mb"] > 0
        assert len(stats["times_ms"]) == 1 and len(stats["times_ms"][0]) == 5

    cold = entry["cold_start"]["ours_pose"]
    for key in ("import_ms", "load_ms", "first_frame_ms", "total_ms", "wall_ms"):
        assert cold[key] > 0, key


@needs_video
def test_bench_video_quick_writes_report(tmp_path: Path) -> None:
    """``--mode video --quick --complexity 0``: the video table and its JSON."""
    proc, report = _run_bench(
        tmp_path / "bench.json", "--mode", "video", "--quick", "--complexity", "0"
    )
    assert "| c | segmentation | implementation | median ms/frame" in proc.stdout
    assert "| c | implementation | median ms |" not in proc.stdout  # no static table
    assert "MediaPipe columns skipped" in proc.stdout

    assert report["settings"]["mode"] == "video"
    assert report["results"] == {}
    assert report["extract"] is None
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
            "peak_rss_mb",
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


@needs_video
def test_bench_extract_quick_with_profile(tmp_path: Path) -> None:
    """``--mode extract --quick --complexity 0 --profile``: throughput of ours' batch extractor
    and frame loop on the clip and the looped clip, equal landmarks, and the profile table."""
    proc, report = _run_bench(
        tmp_path / "bench.json", "--mode", "extract", "--quick", "--complexity", "0", "--profile"
    )
    assert "### Offline extraction" in proc.stdout
    assert "| c | clip | implementation | frames/s" in proc.stdout
    assert "### Profile: ours, video mode, complexity 1" in proc.stdout
    assert report["results"] == {} and report["video"] is None

    extract = report["extract"]
    assert set(extract["clips"]) == {"short", "loop"}
    assert extract["clips"]["short"]["frames"] == 10
    assert extract["clips"]["loop"]["frames"] == 24
    assert extract["clips"]["loop"]["codec"] == "mp4v"
    assert list(extract["results"]) == ["0"]
    for clip, group in extract["results"]["0"].items():
        assert set(group["throughput"]) == {"ours_batch", "ours_loop"}
        assert group["ratio"] == {}
        assert group["batch_vs_loop_max_abs_diff"] is not None
        assert group["batch_vs_loop_max_abs_diff"] <= 1e-4
        for stats in group["throughput"].values():
            assert stats["fps"] > 0
            assert stats["fps_min"] <= stats["fps"] <= stats["fps_max"]
            assert stats["frames"] == extract["clips"][clip]["frames"]
            assert stats["load_ms"] > 0
            assert stats["peak_rss_mb"] > 0

    profile = report["profile"]
    assert profile["complexity"] == 1
    assert len(profile["top"]) == 20
    assert profile["ms_per_frame_unprofiled"] > 0
    own = [row["tottime_ms_per_frame"] for row in profile["top"]]
    assert own == sorted(own, reverse=True)
    assert "tottime" in profile["pstats"]


@needs_video
def test_bench_soak_quick(tmp_path: Path) -> None:
    """``--mode soak --quick``: 300 video-mode frames and 60 static calls at complexity 1, RSS
    sampled, growth reported."""
    proc, report = _run_bench(tmp_path / "soak.json", "--mode", "soak", "--quick")
    assert "### Soak (memory over a long run)" in proc.stdout
    assert "| c | phase | calls | ms/call" in proc.stdout
    assert "MediaPipe columns skipped" not in proc.stdout
    assert report["settings"]["mode"] == "soak"
    assert report["settings"]["complexities"] == [1]
    assert report["results"] == {} and report["extract"] is None

    soak = report["soak"]
    assert soak["settings"]["video_frames"] == 300
    assert soak["settings"]["static_images"] == 60
    phases = soak["results"]["1"]
    assert set(phases) == {"video", "static"}
    video, static = phases["video"], phases["static"]
    assert video["calls"] == 300 and static["calls"] == 60
    assert video["interval"] == 15 and len(video["samples"]) == 20
    assert video["baseline_calls"] == 30
    assert video["samples"][-1]["calls"] == 300
    assert video["growth_mb"] == pytest.approx(video["rss_end_mb"] - video["rss_baseline_mb"])
    assert isinstance(video["target_met"], bool)
    assert video["with_pose"] == 300
    assert video["detector_runs"] >= 1
    assert video["peak_rss_mb"] >= video["rss_end_mb"] > 0
    assert "target_met" not in static


@needs_video
def test_bench_extract_many_videos_quick(tmp_path: Path) -> None:
    """``--mode extract --quick --workers 2``: a set of videos on 1 and 2 processes (and Ray
    local when installed), every frame of every video processed, the MediaPipe rows skipped
    with a note when no reference Python is given."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        "--mode",
        "extract",
        "--quick",
        "--complexity",
        "0",
        "--extract-frames",
        "0",
        "--repeats",
        "1",
        "--workers",
        "2",
    )
    assert "### Many videos at once" in proc.stdout
    section = report["parallel"]
    results = section["results"]["0"]
    expected = {"vitruvian, 1 process", "vitruvian, 2 processes"}
    assert expected <= set(results)
    frames = section["videos"] * section["frames_per_video"]
    for entry in results.values():
        assert entry["frames"] == frames and entry["fps"] > 0
        assert entry["vs_mediapipe_same_processes"] is None
    assert any("MediaPipe rows skipped" in note for note in section["notes"])


@needs_video
def test_bench_people_quick(tmp_path: Path) -> None:
    """``--mode people --quick``: one row per configuration, every person tracked on every
    frame (copies side by side, each in full view), per-person cost and model runs counted."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        "--mode",
        "people",
        "--quick",
        "--complexity",
        "0",
        "--repeats",
        "1",
    )
    assert "### Several people" in proc.stdout
    results = report["people"]["results"]["c0"]
    assert list(results) == ["1 person", "2 people", "4 people", "1 person, num_poses=4"]
    for stats in results.values():
        assert stats["people_per_frame"] == stats["copies"]
        assert stats["landmark_runs_per_frame"] >= stats["copies"]
        assert 0 < stats["detector_runs_per_frame"] <= 1
        assert stats["ms_per_frame"] > 0 and stats["ms_per_person"] > 0


def test_bench_usage_error_and_help() -> None:
    """Option errors exit with status 2; ``--help`` lists the modes."""
    runner = CliRunner()
    result = runner.invoke(cli, ["bench", "--repeats", "0"])
    assert result.exit_code == 2
    assert "--repeats must be >= 1" in result.output + (result.stderr or "")
    result = runner.invoke(cli, ["bench", "--help"])
    assert result.exit_code == 0
    assert "[static|video|extract|soak|models|batch|people|all]" in result.output  # click's
    assert "--backend" in result.output and "--batch-sizes" in result.output
    for bad, message in (
        (["--backend", "tpu"], "unknown backend 'tpu'"),
        (["--backend", ","], "--backend needs at least one backend"),
        (["--mode", "batch", "--batch-sizes", "0,2"], "--batch-sizes must be integers >= 1"),
        (["--mode", "batch", "--batch-sizes", "two"], "--batch-sizes must be integers"),
    ):
        result = runner.invoke(cli, ["bench", *bad])
        assert result.exit_code == 2, bad
        assert message in result.output + (result.stderr or ""), bad


def test_scripts_bench_wrapper_still_works() -> None:
    """``scripts/bench.py`` forwards to the same code."""
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--mode [static|video|extract|soak|models|batch|people|all]" in proc.stdout


def test_bench_option_parsers() -> None:
    """``--backend`` and ``--batch-sizes`` lists: normalised, deduplicated, checked; a pass of
    the batch mode is the images cycled to a multiple of the largest batch size."""
    assert parse_backends(" LiteRT, onnxruntime-cpu,litert ") == ["litert", "onnxruntime-cpu"]
    with pytest.raises(ValueError, match="unknown backend"):
        parse_backends("litert,cuda")
    assert parse_batch_sizes("1,2,4,2,16") == [1, 2, 4, 16]
    with pytest.raises(ValueError):
        parse_batch_sizes("")
    images = [object()] * 5
    assert len(pass_inputs(images, [1, 2, 4])) == 8  # type: ignore[arg-type]
    assert len(pass_inputs(images, [1])) == 5  # type: ignore[arg-type]
    assert len(pass_inputs(images, [16, 3])) == 16  # type: ignore[arg-type]


@needs_onnx
def test_bench_static_two_backends(tmp_path: Path) -> None:
    """``--mode static --backend litert,onnxruntime-cpu``: ``Pose`` and ``PosePipeline`` on both
    backends in one run, on the same images, with the backend in each row's label, and a cold
    start per backend."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        *("--mode", "static", "--quick", "--complexity", "0", "--backend", BACKEND_ARG),
    )
    assert report["settings"]["backends"] == list(BACKENDS)
    assert report["settings"]["backends_requested"] == list(BACKENDS)
    assert "- backends: litert, onnxruntime-cpu" in proc.stdout
    assert "onnxruntime " in proc.stdout.splitlines()[3]  # the version, in the header
    entry = report["results"]["0"]
    names = {f"{impl}@{b}" for impl in ("ours_pose", "ours_pipeline") for b in BACKENDS}
    assert set(entry["latency"]) == names
    assert set(report["labels"]) == names
    for name, stats in entry["latency"].items():
        backend = name.split("@")[1]
        assert report["labels"][name].endswith(f"({backend})")
        assert f"| 0 | {report['labels'][name]} | " in proc.stdout
        assert stats["median_ms"] > 0 and stats["p10_ms"] <= stats["median_ms"]
        assert stats["images"] == 5 and 0 <= stats["images_with_pose"] <= 5
        assert len(stats["times_ms"][0]) == 5
    assert set(entry["cold_start"]) == {f"ours_pose@{b}" for b in BACKENDS}
    for cold in entry["cold_start"].values():
        assert cold["total_ms"] > 0 and cold["load_ms"] > 0


@needs_onnx
@needs_video
def test_bench_video_two_backends(tmp_path: Path) -> None:
    """``--mode video --backend litert,onnxruntime-cpu``: one video ``Pose`` per backend, both
    in the table."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        *("--mode", "video", "--quick", "--complexity", "0", "--video-segmentation", "off"),
        *("--backend", BACKEND_ARG),
    )
    video = report["video"]
    names = [f"ours_pose@{b}" for b in BACKENDS]
    assert list(video["labels"]) == names
    group = video["results"]["0"]["segmentation_off"]
    assert list(group["latency"]) == names
    for name in names:
        stats = group["latency"][name]
        assert f"| {video['labels'][name]} |" in proc.stdout
        assert stats["median_ms"] > 0 and stats["mean_ms"] > 0
        assert stats["frames"] == 10 and 0 <= stats["frames_with_pose"] <= 10
        (runs,) = stats["detector_runs_per_pass"]
        assert 1 <= runs <= 10


@needs_onnx
def test_bench_models_two_backends(tmp_path: Path) -> None:
    """``--mode models``: the detector and the selected landmark model alone, per backend."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        *("--mode", "models", "--quick", "--complexity", "0", "--backend", BACKEND_ARG),
    )
    assert "### Model-only latency" in proc.stdout
    assert "| model | litert | onnxruntime-cpu |" in proc.stdout
    assert report["results"] == {} and report["video"] is None and report["batch"] is None
    models = report["models"]
    assert models["settings"]["backends"] == list(BACKENDS)
    assert list(models["results"]) == ["pose_detection", "pose_landmark_lite"]
    for name, per_backend in models["results"].items():
        assert list(per_backend) == list(BACKENDS)
        assert per_backend["litert"]["ratio_to_first"] == 1
        for stats in per_backend.values():
            assert stats["calls"] == 5
            assert 0 < stats["p10_ms"] <= stats["median_ms"] <= stats["p90_ms"]
            assert stats["load_ms"] > 0 and stats["ratio_to_first"] > 0
            size = 224 if name == "pose_detection" else 256
            assert stats["input_shape"] == [1, size, size, 3]


@needs_onnx
def test_bench_batch_two_backends(tmp_path: Path) -> None:
    """``--mode batch``: the ``process`` loop and ``process_batch`` at each batch size, per
    backend; every pass returns one result per input, as the loop does."""
    proc, report = _run_bench(
        tmp_path / "bench.json",
        *("--mode", "batch", "--quick", "--complexity", "0", "--batch-sizes", "1,2,4"),
        *("--backend", BACKEND_ARG),
    )
    assert "### Batch throughput (`PosePipeline.process_batch`)" in proc.stdout
    assert "on LiteRT `process_batch` runs the items one after another" in proc.stdout
    batch = report["batch"]
    assert batch["settings"]["batch_sizes"] == [1, 2, 4]
    assert batch["settings"]["complexities"] == [0]
    assert len(batch["images"]) == 5 and batch["inputs_per_pass"] == 8
    per_backend = batch["results"]["0"]
    assert list(per_backend) == list(BACKENDS)
    for entry in per_backend.values():
        loop = entry["loop"]
        assert loop["results"] == 8 and loop["images_per_s"] > 0
        assert list(entry["batches"]) == ["1", "2", "4"]
        for size, stats in entry["batches"].items():
            assert stats["batch_size"] == int(size)
            assert stats["batches_per_pass"] == 8 // int(size)
            assert stats["results"] == 8
            assert stats["images_with_pose"] == loop["images_with_pose"]
            assert stats["images_per_s_min"] <= stats["images_per_s"] <= stats["images_per_s_max"]
            assert stats["ms_per_image"] > 0 and stats["speedup_vs_loop"] > 0
            assert stats["max_abs_diff_vs_loop"] is not None
            assert stats["max_abs_diff_vs_loop"] <= 1e-3


def test_bench_without_data_says_where_to_point_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From an installed wheel, outside any checkout: no data found is a clear usage error."""
    from vitruvian.benchmark import common

    main = importlib.import_module("vitruvian.benchmark.main")  # the package exports main()
    monkeypatch.setattr(main, "DEFAULT_DATA_DIR", None)
    with pytest.raises(SystemExit) as info:
        main.parse_args(["--mode", "static"], "vitruvian bench")
    assert info.value.code == 2
    # The models mode needs no data and still runs.
    assert main.parse_args(["--mode", "models"], "vitruvian bench").mode == "models"
    # Where the default comes from: the variable, else shared/data in or above the cwd.
    monkeypatch.setenv(common.DATA_DIR_ENV, str(tmp_path / "mine"))
    assert common.find_data_dir(tmp_path) == tmp_path / "mine"
    monkeypatch.delenv(common.DATA_DIR_ENV)
    (tmp_path / "shared" / "data" / "mmpose").mkdir(parents=True)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    found = common.find_data_dir(deep)
    assert found is not None and found.name == "data"


def test_bench_missing_data_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module("vitruvian.benchmark.main")
    monkeypatch.setattr(main, "DEFAULT_DATA_DIR", None)
    with pytest.raises(SystemExit):
        main.parse_args([], "vitruvian bench")
    err = capsys.readouterr().err
    assert "cannot find the benchmark data" in err and "--data-dir DIR" in err
    assert "VITRUVIAN_DATA_DIR" in err
    with pytest.raises(SystemExit):
        main.parse_args(["--data-dir", str(tmp_path / "nope")], "vitruvian bench")
    assert "no such folder" in capsys.readouterr().err
