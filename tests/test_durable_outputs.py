"""What ``vitruvian run`` leaves on disk when things go wrong: real CLI subprocesses, real signals.

Each test runs ``python -m vitruvian run`` on real video (the squats clip, or a longer clip made
from its frames) and asserts what is on disk afterwards: files readable, row counts, frame
indices contiguous from 0, inputs unchanged (by hash), exit codes and one-line messages.

* Signals at varying moments (SIGINT, SIGTERM, SIGHUP; twice Ctrl+C): the tables are valid
  under their final names with exactly the rows the summary line counts; exit 128 + N.
* SIGKILL: the destination is as it was (absent, or the earlier file unchanged), the rows are
  in a journal beside it, ``vitruvian recover`` turns them into a valid table, a new run to the
  same output refuses to start until then.
* Outputs equal to inputs or inside an input folder, existing outputs without ``--overwrite``,
  two runs on one output, a run that produces no row, a full disk (``RLIMIT_FSIZE``), a folder
  the output cannot go into, a permission error, stderr to a closed pipe.

Timing only decides *when* a signal lands, never what is asserted: every assertion holds
wherever the signal lands.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import pytest

from vitruvian.io.records import COLUMNS

pq = pytest.importorskip("pyarrow.parquet")

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
SQUATS_FRAMES = 65
LONG_REPEATS = 8  # the long clip: the squats clip 8 times over, at half size (520 frames)

pytestmark = pytest.mark.skipif(
    not SQUATS.is_file(), reason=f"shared data set not found at {DATA_DIR} (needs video/)"
)


# ---------------------------------------------------------------------------------- helpers


def vitruvian(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "vitruvian", *(str(arg) for arg in args)]


def run_cli(*args: str | Path, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        vitruvian(*args), capture_output=True, text=True, timeout=timeout, **kwargs
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Temporary and lock files of ours in a folder."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.endswith((".lock", ".partial")) or ".partial." in p.name
    )


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a table written by ``vitruvian run`` (a torn file fails here)."""
    suffix = path.suffix
    if suffix == ".parquet":
        table = pq.read_table(path)
        assert table.column_names == list(COLUMNS)
        return table.to_pylist()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            assert reader.fieldnames == list(COLUMNS)
            rows = list(reader)
        for row in rows:
            assert None not in row.values() and len(row) == len(COLUMNS)
        return rows
    with open(path, encoding="utf-8") as file:
        rows = [json.loads(line) for line in file]
    for row in rows:
        assert list(row) == list(COLUMNS)
    return rows


def frame_indices(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["frame"]) for row in rows]


def summary_frames(stderr: str) -> int:
    """The frame count of the ``Done: N frames`` line."""
    (line,) = [line for line in stderr.splitlines() if line.startswith("Done: ")]
    return int(line.split()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def journal_of(destination: Path) -> list[Path]:
    return sorted(destination.parent.glob(f".{destination.name}.*.partial"))


def wait_for_rows(destination: Path, timeout: float = 120) -> None:
    """Wait until the running process has flushed rows to its journal: the journal has grown
    after it was first seen (a header or schema alone does not count)."""
    first: list[int] = []

    def grown() -> bool:
        sizes = [path.stat().st_size for path in journal_of(destination)]
        if not sizes or not sizes[0]:
            return False
        if not first:
            first.append(sizes[0])
            return False
        return sizes[0] > first[0]

    wait_for(grown, timeout, f"rows in the journal of {destination}")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The squats clip LONG_REPEATS times over at half size: long enough to signal mid-run."""
    capture = cv2.VideoCapture(str(SQUATS))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2)))
    capture.release()
    assert len(frames) == SQUATS_FRAMES
    path = tmp_path_factory.mktemp("clip") / "long.mp4"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
    for _ in range(LONG_REPEATS):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return path


def start(*args: str | Path, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(
        vitruvian(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


# ---------------------------------------------------------------------------------- signals

SIGNAL_CASES = [
    (signal.SIGINT, 130),
    (signal.SIGTERM, 143),
    (signal.SIGHUP, 129),
]


@pytest.mark.parametrize(("signum", "code"), SIGNAL_CASES, ids=lambda v: str(v))
def test_a_signal_finishes_every_table_with_the_rows_so_far(
    long_clip: Path, tmp_path: Path, signum: int, code: int
) -> None:
    rng = random.Random(int(signum))
    for attempt in range(2):
        out = tmp_path / f"run{attempt}"
        tables = [out / "rows.parquet", out / "rows.csv", out / "rows.jsonl"]
        args = [arg for table in tables for arg in ("--out", table)]
        process = start("run", long_clip, *args, "--model-complexity", "0")
        wait_for_rows(tables[0])
        time.sleep(rng.uniform(0.0, 0.6))  # a moment that varies from run to run
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == code, stderr
        assert f"stopped by {signal.Signals(signum).name}" in stderr
        frames = summary_frames(stderr)
        assert 0 < frames < SQUATS_FRAMES * LONG_REPEATS
        for table in tables:
            assert frame_indices(read_rows(table)) == list(range(frames)), table
        assert leftovers(out) == []


def test_a_second_ctrl_c_stops_at_once_and_still_finishes_the_tables(
    long_clip: Path, tmp_path: Path
) -> None:
    tables = [tmp_path / "rows.parquet", tmp_path / "rows.csv"]
    process = start(
        "run", long_clip, "--out", tables[0], "--out", tables[1], "--model-complexity", "0"
    )
    wait_for_rows(tables[0])
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    frames = summary_frames(stderr)
    for table in tables:
        assert frame_indices(read_rows(table)) == list(range(frames))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("attempt", [0, 1])
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_sigkill_leaves_the_destination_as_it_was_and_the_rows_recoverable(
    long_clip: Path, tmp_path: Path, suffix: str, attempt: int
) -> None:
    rng = random.Random(f"{suffix}{attempt}")
    out = tmp_path / f"rows{suffix}"
    earlier = run_cli("run", SQUATS, "--out", out, "--model-complexity", "0", "--max-frames", "5")
    assert earlier.returncode == 0, earlier.stderr
    before = sha256(out)

    process = start("run", long_clip, "--out", out, "--overwrite", "--model-complexity", "0")
    wait_for_rows(out)
    time.sleep(rng.uniform(0.0, 1.5))
    process.kill()
    process.communicate(timeout=60)
    assert sha256(out) == before  # never a torn file under the final name
    (journal,) = journal_of(out)

    refused = run_cli("run", SQUATS, "--out", out, "--model-complexity", "0")
    assert refused.returncode == 2
    assert "killed" in refused.stderr and f"vitruvian recover {out}" in refused.stderr
    assert sha256(out) == before

    not_asked = run_cli("recover", out)
    assert not_asked.returncode == 2 and "--overwrite" in not_asked.stderr
    recovered = run_cli("recover", out, "--overwrite")
    assert recovered.returncode == 0, recovered.stderr
    rows = read_rows(out)
    assert len(rows) > 0 and frame_indices(rows) == list(range(len(rows)))
    assert f"recovered {len(rows)} rows" in recovered.stdout
    assert not journal.exists() and leftovers(tmp_path) == []


def test_sigkill_of_an_annotated_video_leaves_nothing_behind_after_the_next_run(
    long_clip: Path, tmp_path: Path
) -> None:
    video = tmp_path / "annotated.mp4"
    process = start("run", long_clip, "--annotated", video, "--model-complexity", "0")
    wait_for(lambda: any(tmp_path.glob(".annotated.mp4.*.partial.mp4")), 120, "the video")
    time.sleep(0.5)
    process.kill()
    process.communicate(timeout=60)
    assert not video.exists()
    again = run_cli("run", SQUATS, "--annotated", video, "--model-complexity", "0")
    assert again.returncode == 0, again.stderr
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == SQUATS_FRAMES
    capture.release()
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------- existing outputs


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    shutil.copy(SQUATS, video)
    digest = sha256(video)
    result = run_cli("run", video, "--annotated", video, "--overwrite")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: the output {video} is the input {video}: writing it would destroy the input; "
        "choose another output"
    )
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    result = run_cli("run", link, "--annotated", video, "--overwrite")
    assert result.returncode == 2 and "is the input" in result.stderr
    assert sha256(video) == digest


def test_an_annotated_folder_that_is_the_input_folder_is_refused(tmp_path: Path) -> None:
    frames = tmp_path / "pngs"
    frames.mkdir()
    capture = cv2.VideoCapture(str(SQUATS))
    for index in range(3):
        ok, frame = capture.read()
        assert ok
        cv2.imwrite(str(frames / f"f{index}.png"), frame)
    capture.release()
    digests = {p.name: sha256(p) for p in frames.iterdir()}
    for args in (
        [frames, "--annotated", frames],
        [frames, "--annotated", frames / "sub"],
        [frames, "--out", frames / "rows.csv"],
        [str(frames / "*.png"), "--annotated", frames, "--overwrite"],
        [frames / "f0.png", "--annotated", frames, "--overwrite"],
    ):
        result = run_cli("run", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert {p.name: sha256(p) for p in frames.iterdir()} == digests


def test_an_existing_output_is_replaced_only_with_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("keep me\n")
    result = run_cli("run", SQUATS, "--out", out, "--model-complexity", "0", "--max-frames", "3")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {out} already exists: pass --overwrite to replace it, or choose another output"
    )
    assert out.read_text() == "keep me\n"
    result = run_cli(
        "run", SQUATS, "--out", out, "--model-complexity", "0", "--max-frames", "3", "--overwrite"
    )
    assert result.returncode == 0, result.stderr
    assert frame_indices(read_rows(out)) == [0, 1, 2]

    folder = tmp_path / "annotated"
    args = ["run", SQUATS, "--annotated", folder, "--model-complexity", "0", "--max-frames", "2"]
    assert run_cli(*args).returncode == 0
    again = run_cli(*args)
    assert again.returncode == 2 and "already holds pose_squats_000000.png" in again.stderr
    assert run_cli(*args, "--overwrite").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "pose_squats_000000.png",
        "pose_squats_000001.png",
    ]


@pytest.mark.parametrize(
    ("make_input", "env"),
    [
        (lambda tmp: tmp / "empty.mp4", {}),  # a video with no decodable frame
        (lambda tmp: SQUATS, {"VITRUVIAN_BACKEND": "bogus"}),
        (lambda tmp: SQUATS, {"VITRUVIAN_CACHE_DIR": "{tmp}/damaged-cache"}),
    ],
    ids=["zero-frame-video", "bogus-backend", "corrupt-model"],
)
def test_a_run_without_rows_never_replaces_an_output(
    tmp_path: Path, make_input: Callable[[Path], Path], env: dict[str, str]
) -> None:
    out = tmp_path / "rows.parquet"
    first = run_cli("run", SQUATS, "--out", out, "--model-complexity", "0", "--max-frames", "4")
    assert first.returncode == 0, first.stderr
    before = sha256(out)
    (tmp_path / "empty.mp4").write_bytes(b"\x00" * 4096)
    cache = tmp_path / "damaged-cache"
    cache.mkdir()
    shutil.copy(
        Path(run_cli("models", "path").stdout.strip()) / "pose_detection.tflite",
        cache / "pose_detection.tflite",
    )
    (cache / "pose_landmark_lite.tflite").write_bytes(b"not a model")
    environment = {**os.environ, **{k: v.format(tmp=tmp_path) for k, v in env.items()}}
    result = run_cli(
        "run",
        make_input(tmp_path),
        "--out",
        out,
        "--overwrite",
        "--model-complexity",
        "0",
        env=environment,
    )
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert sha256(out) == before
    assert leftovers(tmp_path) == []


def test_two_runs_on_one_output(long_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    first = start("run", long_clip, "--out", out, "--model-complexity", "0", "--max-frames", "200")
    wait_for(lambda: (tmp_path / ".rows.csv.lock").exists(), 120, "the first run's lock")
    second = run_cli("run", SQUATS, "--out", out, "--overwrite", "--model-complexity", "0")
    assert second.returncode == 2
    assert "is being written by another vitruvian run right now" in second.stderr
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert frame_indices(read_rows(out)) == list(range(200))
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- write errors


def limit_file_size(limit: int) -> Callable[[], None]:
    """A ``preexec_fn`` capping the size of every file the child writes (a full disk)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


#: File size limits below each table's size for the long clip (520 rows): CSV rows are about
#: 5 KB, JSON Lines rows 12 KB; a Parquet journal's record batches (one a second, about 1 KB a
#: row) are kept whole or not at all, so its limit leaves room for several.
FULL_DISK_LIMITS = {".csv": 256 * 1024, ".jsonl": 512 * 1024, ".parquet": 400 * 1024}


@pytest.mark.parametrize("suffix", list(FULL_DISK_LIMITS))
def test_a_full_disk_fails_the_run_and_keeps_the_rows_written(
    long_clip: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"rows{suffix}"
    result = run_cli(
        "run",
        long_clip,
        "--out",
        out,
        "--model-complexity",
        "0",
        preexec_fn=limit_file_size(FULL_DISK_LIMITS[suffix]),
    )
    assert result.returncode == 1, result.stderr
    assert f"Error: cannot write {out}: File too large (EFBIG)" in result.stderr
    assert not out.exists()
    (journal,) = journal_of(out)
    assert "vitruvian recover" in result.stderr and str(journal) in result.stderr
    recovered = run_cli("recover", out)
    assert recovered.returncode == 0, recovered.stderr
    rows = read_rows(out)
    assert 0 < len(rows) < SQUATS_FRAMES * LONG_REPEATS
    assert frame_indices(rows) == list(range(len(rows)))


def test_a_full_disk_fails_the_annotated_video(tmp_path: Path) -> None:
    video = tmp_path / "annotated.mp4"
    table = tmp_path / "rows.csv"
    result = run_cli(
        "run",
        SQUATS,
        "--annotated",
        video,
        "--out",
        table,
        "--model-complexity",
        "0",
        preexec_fn=limit_file_size(400 * 1024),
    )
    assert result.returncode == 1, result.stderr
    assert f"Error: cannot write {video}: File too large (EFBIG)" in result.stderr
    assert not video.exists()
    assert frame_indices(read_rows(table)) == list(range(SQUATS_FRAMES))
    assert leftovers(tmp_path) == []


def test_an_output_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = run_cli("run", SQUATS, "--out", tmp_path / "file" / "rows.csv", "--max-frames", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: cannot create the folder for {tmp_path / 'file' / 'rows.csv'}: "
        "Not a directory (ENOTDIR)"
    )


def test_a_permission_error_names_the_file_and_the_reason(tmp_path: Path) -> None:
    """As an unprivileged user (root drops to nobody in the child), a read-only folder."""
    base = Path(tempfile.mkdtemp())  # pytest's tmp_path sits in a folder only root can enter
    base.chmod(0o755)
    folder = base / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    script = (  # everything is imported before root drops to nobody
        "import os, sys, numpy as np\n"
        "from pathlib import Path\n"
        "from vitruvian.io.writers import AnnotatedVideoWriter, OutputError\n"
        "if os.geteuid() == 0:\n"
        "    os.setgid(65534); os.setuid(65534)\n"
        "try:\n"
        "    writer = AnnotatedVideoWriter(Path(sys.argv[1]), 30.0)\n"
        "    writer.write(np.zeros((64, 64, 3), np.uint8))\n"
        "except OutputError as exc:\n"
        "    print(exc)\n"
    )
    target = folder / "out.mp4"
    try:
        result = subprocess.run(
            [sys.executable, "-c", script, str(target)], capture_output=True, text=True, timeout=60
        )
    finally:
        shutil.rmtree(base)
    assert result.stdout.strip() == f"cannot write {target}: Permission denied (EACCES)", (
        result.stdout + result.stderr
    )


def test_progress_to_a_closed_pipe_never_stops_the_run(tmp_path: Path) -> None:
    out = tmp_path / "rows.parquet"
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads stderr: every write to it fails with EPIPE
    try:
        process = subprocess.run(
            vitruvian("run", SQUATS, "--out", out, "--model-complexity", "0", "--progress"),
            stdout=subprocess.DEVNULL,
            stderr=write_end,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert process.returncode == 0
    assert frame_indices(read_rows(out)) == list(range(SQUATS_FRAMES))


def test_ctrl_c_while_the_models_load_exits_130(tmp_path: Path) -> None:
    """Ctrl+C once the outputs are open but before the first frame: 130, a valid table."""
    out = tmp_path / "rows.csv"
    process = start("run", SQUATS, "--out", out, "--model-complexity", "0")
    wait_for(lambda: (tmp_path / ".rows.csv.lock").exists(), 120, "the outputs")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert frame_indices(read_rows(out)) == list(range(summary_frames(stderr)))
