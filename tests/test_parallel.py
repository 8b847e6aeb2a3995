"""Many videos: worker processes, Ray, and the resumable Parquet dataset, on real models and
short real clips cut from ``video/pose_squats.mp4`` (written into ``tmp_path``, 360x640 at 5 fps).

* The same rows as one process: ``--workers 2`` and ``--engine ray`` give each video exactly the
  rows of the in-process engine run with the same number of inference threads (1), file by file;
  ``vitruvian run --out`` with workers writes the rows of a one-process run, in source order
  (compared with a tolerance: the one-process run uses another thread count).
* ``kill -9`` of a real ``vitruvian run --out-dir`` subprocess (its whole process group, workers
  included) as soon as its first video is written, then a rerun: every video present once,
  rows equal to an uninterrupted run of the same command, nothing unfinished ever read.
* A corrupt video among good ones: reported and recorded in ``_failed/``, the others written,
  exit code 1; a rerun skips the good ones and tries the bad one again.
* Changing an option (the model complexity) makes a rerun redo every video.

Ray starts once for this module (``ray_session``, 2 CPUs) and is skipped, saying so, where Ray
is not installed (``pip install 'vitruvian[ray]'``; the dev extra has it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from vitruvian.cli import cli
from vitruvian.io.dataset import read_failures, read_provenance, table_name
from vitruvian.options import PoseOptions
from vitruvian.parallel import extract_to_dataset
from vitruvian.testing_clips import read_video_rgb

pq = pytest.importorskip("pyarrow.parquet", reason="the dataset needs pyarrow (vitruvian[parquet])")
import pyarrow.dataset as ds  # noqa: E402

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
pytestmark = pytest.mark.skipif(
    not SQUATS.is_file(), reason=f"shared data missing: {DATA_DIR} (see its SOURCES.md)"
)


def _write_clips(folder: Path, count: int, frames: int) -> list[Path]:
    """``count`` clips of ``frames`` frames, clip ``k`` starting at frame ``7 k`` of the squats."""
    source = read_video_rgb(SQUATS)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"clip{k:02d}.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (360, 640))
        for i in range(frames):
            rgb = source[(7 * k + i) % len(source)]
            writer.write(cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (360, 640)))
        writer.release()
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _write_clips(tmp_path_factory.mktemp("clips"), 4, 12)


@pytest.fixture(scope="module")
def reference(clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dataset of the in-process engine, one inference thread."""
    out = tmp_path_factory.mktemp("reference")
    run = extract_to_dataset(clips, out, workers=1, threads=1)
    assert not run.failed and len(run.outcomes) == len(clips)
    return out


@pytest.fixture(scope="module")
def ray_session():
    """The one Ray of these tests (the only module that uses it), stopped after them."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'vitruvian[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


def _complete(out: Path) -> list[Path]:
    """The dataset's video files."""
    return sorted(out.glob("*.parquet"))


def _tables(out: Path) -> dict[str, object]:
    """Each video's table, by file name."""
    return {p.name: pq.read_table(p) for p in _complete(out)}


def _assert_same_dataset(out: Path, reference: Path) -> None:
    ours, theirs = _tables(out), _tables(reference)
    assert list(ours) == list(theirs)
    for name, table in ours.items():
        assert table.equals(theirs[name]), name  # schema, values and order, exactly


def test_process_pool_rows_equal_one_process(clips, reference, tmp_path):
    run = extract_to_dataset(clips, tmp_path / "pool", workers=2, threads=1)
    assert not run.failed and sorted(o.source for o in run.outcomes) == sorted(map(str, clips))
    _assert_same_dataset(tmp_path / "pool", reference)
    dataset = ds.dataset(tmp_path / "pool", format="parquet").to_table()
    assert dataset.num_rows == 4 * 12 and dataset.column_names[:3] == [
        "source",
        "frame",
        "person_id",
    ]
    provenance = read_provenance(tmp_path / "pool" / table_name(clips[0]))
    assert provenance is not None and provenance.source == str(clips[0].absolute())
    assert provenance.options == PoseOptions().as_kwargs()


def test_videos_batched_per_worker_give_the_same_rows(clips, reference, tmp_path):
    """``batch_size=2``: each worker runs two videos together, their crops batched across the
    videos (``PoseExtractor.extract_many``); on LiteRT the batch's items run one by one with
    the same arithmetic, so each video's rows are the one-process rows exactly."""
    run = extract_to_dataset(clips, tmp_path / "batched", workers=2, threads=1, batch_size=2)
    assert not run.failed and len(run.outcomes) == len(clips)
    _assert_same_dataset(tmp_path / "batched", reference)
    with pytest.raises(ValueError, match="num_poses=1"):
        extract_to_dataset(
            clips, tmp_path / "x", options=PoseOptions(num_poses=2), batch_size=2, workers=1
        )


def test_ray_rows_equal_one_process(clips, reference, tmp_path, ray_session):
    run = extract_to_dataset(clips, tmp_path / "ray", engine="ray", workers=2, threads=1)
    assert not run.failed and len(run.outcomes) == len(clips)
    _assert_same_dataset(tmp_path / "ray", reference)
    assert ray_session.is_initialized()  # the engine leaves a Ray it did not start running


def test_run_with_workers_writes_the_rows_of_one_process(clips, tmp_path):
    folder = clips[0].parent
    outs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"rows{workers}.csv"
        result = CliRunner().invoke(
            cli, ["run", str(folder), "--out", str(out), "--workers", workers]
        )
        assert result.exit_code == 0, result.output
        outs[workers] = np.genfromtxt(out, delimiter=",", names=True, dtype=None, encoding="utf-8")
    one, two = outs["1"], outs["2"]
    assert list(one["source"]) == list(two["source"])  # the order of a one-process run
    assert list(one["frame"]) == list(two["frame"])
    for name in ("nose_x", "left_ankle_y", "right_wrist_world_z"):
        np.testing.assert_allclose(one[name], two[name], atol=1e-5)


def _run_dataset(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vitruvian", "run", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_kill_9_then_rerun_gives_every_video_once(tmp_path):
    clips = _write_clips(tmp_path / "clips", 12, 20)
    args = [str(tmp_path / "clips"), "--workers", "2"]
    complete = tmp_path / "complete"
    assert _run_dataset(*args, "--out-dir", str(complete)).returncode == 0

    out = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "vitruvian", "run", *args, "--out-dir", str(out), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the workers die with it
    )
    deadline = time.monotonic() + 300
    while not _complete(out) and process.poll() is None:
        assert time.monotonic() < deadline, "no video written in 5 minutes"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = _complete(out)
    assert 1 <= len(written) < len(clips)  # killed mid-run
    for path in written:  # what a reader sees is complete: each file whole, as in the full run
        assert pq.read_table(path).equals(pq.read_table(complete / path.name))

    rerun = _run_dataset(*args, "--out-dir", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(written)} already done" in rerun.stderr
    _assert_same_dataset(out, complete)
    assert not list((out / ".partial").iterdir())  # the killed run's unfinished files: gone
    table = ds.dataset(out, format="parquet").to_table(columns=["source", "frame"])
    pairs = list(zip(table["source"].to_pylist(), table["frame"].to_pylist(), strict=True))
    assert len(pairs) == len(set(pairs)) == 12 * 20  # every frame of every video, once


def test_corrupt_video_is_reported_and_the_others_written(clips, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for clip in clips[:2]:
        (folder / clip.name).write_bytes(clip.read_bytes())
    (folder / "broken.mp4").write_bytes(os.urandom(4096))
    out = tmp_path / "out"
    first = _run_dataset(str(folder), "--out-dir", str(out), "--workers", "2")
    assert first.returncode == 1
    assert "broken.mp4" in first.stderr and "Error:" in first.stderr
    assert len(_complete(out)) == 2
    (failure,) = read_failures(out)
    assert failure.source == str((folder / "broken.mp4").absolute()) and not failure.written
    record = json.loads(next((out / "_failed").glob("*.json")).read_text())
    assert record["error"] == failure.error
    again = _run_dataset(str(folder), "--out-dir", str(out), "--workers", "2")
    assert again.returncode == 1 and "2 already done" in again.stderr


def test_changed_option_redoes_the_videos(clips, tmp_path):
    out = tmp_path / "out"
    folder = str(clips[0].parent)
    assert _run_dataset(folder, "--out-dir", str(out), "--max-frames", "3").returncode == 0
    same = _run_dataset(folder, "--out-dir", str(out), "--max-frames", "3")
    assert same.returncode == 0 and f"{len(clips)} already done" in same.stderr
    other = _run_dataset(
        folder, "--out-dir", str(out), "--max-frames", "3", "--model-complexity", "0"
    )
    assert other.returncode == 0 and f"{len(clips)} redone" in other.stderr
    for clip in clips:
        provenance = read_provenance(out / table_name(clip))
        assert provenance is not None and provenance.options["model_complexity"] == 0
        assert provenance.max_frames == 3


def test_the_dataset_opens_with_pandas_and_duckdb(clips, reference, tmp_path):
    """What the README and docs/cluster.md show: ``pandas.read_parquet(DIR)`` and DuckDB's
    ``'DIR/*.parquet'`` read every video's rows, and nothing else (the failure records and the
    unfinished files are out of their reach)."""
    pd = pytest.importorskip("pandas", reason="pandas is in the dev extra")
    duckdb = pytest.importorskip("duckdb", reason="duckdb is in the dev extra")
    reference = Path(shutil.copytree(reference, tmp_path / "poses"))
    (reference / "_failed").mkdir(exist_ok=True)
    (reference / "_failed" / "x.json").write_text("{}")
    (reference / ".partial").mkdir(exist_ok=True)
    (reference / ".partial" / "clip99-0.parquet.1-abc.partial.parquet").write_bytes(b"PAR1")
    frame = pd.read_parquet(reference)
    assert len(frame) == 4 * 12 and sorted(set(frame["source"])) == sorted(map(str, clips))
    counts = duckdb.sql(
        f"SELECT source, count(*) FROM '{reference}/*.parquet' WHERE pose_present GROUP BY source"
    ).fetchall()
    assert sorted(counts) == sorted((str(c), 12) for c in clips)


def test_usage_errors(clips, tmp_path):
    runner = CliRunner()
    image = tmp_path / "photo.jpg"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    cases = [
        (["run", str(image), "--out-dir", str(tmp_path / "o")], "video files only"),
        (["run", str(clips[0]), "--engine", "ray"], "--engine ray needs --out-dir"),
        (
            ["run", str(clips[0]), "--out-dir", str(tmp_path / "o"), "--out", "x.csv"],
            "cannot be combined with --out",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and message in result.output, result.output
    result = runner.invoke(
        cli,
        ["run", str(clips[0]), "--out-dir", str(tmp_path / "o")],
        env={"VITRUVIAN_BACKEND": "tpu"},
    )
    assert result.exit_code == 2 and "VITRUVIAN_BACKEND='tpu' is not a backend" in result.output
    assert not (tmp_path / "o").exists()  # refused before any work
