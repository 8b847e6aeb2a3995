"""``vitruvian run``: the batch command line on real models and the shared data set.

What is checked:

* ``video/pose_squats.mp4`` (65 frames, 720 x 1280 portrait) to Parquet and CSV in one run:
  65 rows, the 7 meta columns then 33 x 5 landmark and 33 x 3 world columns, timestamps equal
  to ``CAP_PROP_POS_MSEC / 1000`` read independently, and every value within 1e-6 of
  ``Pose()`` (video mode, defaults) run here on the frames of
  :func:`vitruvian.testing_clips.read_video_rgb` with the same timestamps; the annotated MP4 of
  the same run reads back with 65 frames of 720 x 1280 carrying the drawn skeleton.
* the folder ``mmpose/`` (14 images) to JSON Lines: one row per image, static mode, values
  equal to ``Pose(static_image_mode=True)``; a glob source; annotated PNGs in a folder.
* errors, each with its exit code and one-line message: a missing file, a corrupt image (alone
  and among good ones), an unknown output extension, a truncated video (the first 30 % of the
  file's bytes, which OpenCV cannot open because the MP4 index is at the end; and the same
  video with the index moved to the front, which decodes part-way: the rows written equal the
  frames OpenCV decodes and the message names the frame where it stopped), a camera index that
  does not exist, ``.parquet`` without pyarrow; ``--debug`` shows a traceback.
* ``python -m vitruvian run --help``.

Timing-insensitive runs use ``--model-complexity 0``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from _video_helpers import count_decodable_frames, faststart
from click.testing import CliRunner, Result

from vitruvian.cli import cli
from vitruvian.io.records import (
    COLUMNS,
    LANDMARK_VALUE_COLUMNS,
    META_COLUMNS,
    WORLD_VALUE_COLUMNS,
)
from vitruvian.solutions.pose import Pose
from vitruvian.testing_clips import read_video_rgb

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
MMPOSE = DATA_DIR / "mmpose"
SQUATS_FRAMES = 65
SQUATS_SIZE = (720, 1280)  # width, height (portrait)
TOLERANCE = 1e-6

pytestmark = pytest.mark.skipif(
    not (SQUATS.is_file() and MMPOSE.is_dir()),
    reason=f"shared data set not found at {DATA_DIR} (needs video/pose_squats.mp4 and mmpose/)",
)


def invoke(*args: str | Path) -> Result:
    """Run ``vitruvian ARGS`` in-process; stdout and stderr are captured separately."""
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def pose_arrays(pose: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(33, 5)`` landmarks and ``(33, 3)`` world landmarks of a ``PoseResult`` (or NaNs)."""
    if pose is None:
        return np.full((33, 5), np.nan), np.full((33, 3), np.nan)
    return (
        np.asarray(pose.landmarks, dtype=np.float64)[:, :5],
        np.asarray(pose.world_landmarks, dtype=np.float64)[:, :3],
    )


def row_arrays(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The same two arrays from an output row (empty cells become NaN)."""

    def number(value: Any) -> float:
        return math.nan if value is None or value == "" else float(value)

    landmarks = np.array([number(row[c]) for c in LANDMARK_VALUE_COLUMNS]).reshape(33, 5)
    world = np.array([number(row[c]) for c in WORLD_VALUE_COLUMNS]).reshape(33, 3)
    return landmarks, world


def assert_rows_match(rows: list[dict[str, Any]], expected: list[Any]) -> None:
    assert len(rows) == len(expected)
    for index, (row, pose) in enumerate(zip(rows, expected, strict=True)):
        got_lm, got_world = row_arrays(row)
        want_lm, want_world = pose_arrays(pose)
        np.testing.assert_allclose(got_lm, want_lm, atol=TOLERANCE, rtol=0, err_msg=f"row {index}")
        np.testing.assert_allclose(
            got_world, want_world, atol=TOLERANCE, rtol=0, err_msg=f"row {index}"
        )
        if pose is not None:
            assert abs(float(row["presence_score"]) - pose.presence_score) <= TOLERANCE


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def capture_timestamps(path: Path) -> list[float]:
    """``CAP_PROP_POS_MSEC / 1000`` after each decoded frame, read with plain OpenCV."""
    capture = cv2.VideoCapture(str(path))
    stamps = []
    try:
        while True:
            ok, _ = capture.read()
            if not ok:
                break
            stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    finally:
        capture.release()
    return stamps


# --------------------------------------------------------------------------- the video run


@pytest.fixture(scope="module")
def squats_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One CLI run on the squats clip: Parquet, CSV and annotated MP4 (complexity 1)."""
    out = tmp_path_factory.mktemp("squats")
    result = invoke(
        "run",
        SQUATS,
        "--out",
        out / "squats.parquet",
        "--out",
        out / "squats.csv",
        "--annotated",
        out / "squats.mp4",
    )
    return {"result": result, "dir": out}


@pytest.fixture(scope="module")
def squats_reference() -> dict[str, Any]:
    """``Pose()`` with defaults on the clip's frames, with the container's timestamps."""
    frames = read_video_rgb(SQUATS)
    stamps = capture_timestamps(SQUATS)
    assert len(frames) == len(stamps) == SQUATS_FRAMES
    with Pose() as pose:
        results = [
            pose.process(rgb, timestamp=t).pose for rgb, t in zip(frames, stamps, strict=True)
        ]
    return {"frames": frames, "timestamps": stamps, "poses": results}


def test_video_run_exits_cleanly_with_summary(squats_run: dict[str, Any]) -> None:
    result = squats_run["result"]
    assert result.exit_code == 0, result.output
    assert f"Done: {SQUATS_FRAMES} frames, {SQUATS_FRAMES} with a pose" in result.stderr
    assert "ms/frame" in result.stderr
    assert str(squats_run["dir"] / "squats.parquet") in result.stderr


def test_columns() -> None:
    assert len(META_COLUMNS) == 8
    assert len(COLUMNS) == 8 + 33 * (5 + 3)
    assert COLUMNS[:9] == (*META_COLUMNS, "nose_x")
    assert COLUMNS[:3] == ("source", "frame", "person_id")
    assert COLUMNS[8:13] == ("nose_x", "nose_y", "nose_z", "nose_visibility", "nose_presence")
    assert COLUMNS[13] == "left_eye_inner_x"
    assert COLUMNS[172] == "right_foot_index_presence"
    assert COLUMNS[173:176] == ("nose_world_x", "nose_world_y", "nose_world_z")
    assert COLUMNS[-1] == "right_foot_index_world_z"
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_video_parquet_matches_pose(
    squats_run: dict[str, Any], squats_reference: dict[str, Any]
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(squats_run["dir"] / "squats.parquet")
    assert table.num_rows == SQUATS_FRAMES
    assert tuple(table.column_names) == COLUMNS
    assert str(table.schema.field("nose_x").type) == "float"
    rows = table.to_pylist()
    assert [row["frame"] for row in rows] == list(range(SQUATS_FRAMES))
    assert {row["source"] for row in rows} == {str(SQUATS)}
    assert [row["timestamp_s"] for row in rows] == squats_reference["timestamps"]
    assert {(row["image_width"], row["image_height"]) for row in rows} == {SQUATS_SIZE}
    assert all(row["pose_present"] for row in rows)
    assert_rows_match(rows, squats_reference["poses"])


def test_video_csv_matches_pose(
    squats_run: dict[str, Any], squats_reference: dict[str, Any]
) -> None:
    header, rows = read_csv(squats_run["dir"] / "squats.csv")
    assert tuple(header) == COLUMNS
    assert len(rows) == SQUATS_FRAMES
    assert [int(row["frame"]) for row in rows] == list(range(SQUATS_FRAMES))
    stamps = [float(row["timestamp_s"]) for row in rows]
    assert stamps == squats_reference["timestamps"]
    assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False))
    assert {row["pose_present"] for row in rows} == {"True"}
    assert_rows_match(rows, squats_reference["poses"])


def test_annotated_video(squats_run: dict[str, Any], squats_reference: dict[str, Any]) -> None:
    path = squats_run["dir"] / "squats.mp4"
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(5.0)
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(bgr)
    capture.release()
    assert len(frames) == SQUATS_FRAMES
    for index, (annotated, rgb) in enumerate(zip(frames, squats_reference["frames"], strict=True)):
        assert annotated.shape == (SQUATS_SIZE[1], SQUATS_SIZE[0], 3)
        original = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.int16)
        strongly_changed = np.abs(annotated.astype(np.int16) - original).max(axis=2) > 80
        # The skeleton's lines and dots, not compression noise.
        assert strongly_changed.sum() > 2000, f"frame {index} looks unannotated"


def test_static_flag_on_video_and_max_frames(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    result = invoke(
        "run", SQUATS, "--static", "--max-frames", "3", "--model-complexity", "0", "--out", out
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["frame"] for row in rows] == [0, 1, 2]
    frames = read_video_rgb(SQUATS, max_frames=3)
    with Pose(static_image_mode=True, model_complexity=0) as pose:
        assert_rows_match(rows, [pose.process(rgb).pose for rgb in frames])


# --------------------------------------------------------------------------- images


def test_folder_to_jsonl_static_mode(tmp_path: Path) -> None:
    out = tmp_path / "mmpose.jsonl"
    result = invoke("run", MMPOSE, "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    images = sorted(MMPOSE.glob("*.jpg"))
    assert len(images) == 14
    assert len(lines) == 14
    rows = [json.loads(line) for line in lines]
    assert all(list(row) == list(COLUMNS) for row in rows)
    assert [row["source"] for row in rows] == [str(p) for p in images]
    assert {row["frame"] for row in rows} == {0}
    assert {row["timestamp_s"] for row in rows} == {None}
    expected = []
    with Pose(static_image_mode=True) as pose:
        for path, row in zip(images, rows, strict=True):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            assert (row["image_width"], row["image_height"]) == (bgr.shape[1], bgr.shape[0])
            expected.append(pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).pose)
    assert [row["pose_present"] for row in rows] == [p is not None for p in expected]
    for row in rows:
        if not row["pose_present"]:
            assert row["presence_score"] is None and row["nose_x"] is None
    assert_rows_match(rows, expected)


def test_glob_source_and_annotated_folder(tmp_path: Path) -> None:
    pattern = str(MMPOSE / "00*.jpg")
    matches = sorted(MMPOSE.glob("00*.jpg"))
    assert 1 < len(matches) < 14
    out, pngs = tmp_path / "glob.csv", tmp_path / "annotated"
    result = invoke("run", pattern, "--model-complexity", "0", "--out", out, "--annotated", pngs)
    assert result.exit_code == 0, result.output
    _, rows = read_csv(out)
    assert [row["source"] for row in rows] == [str(p) for p in matches]
    assert sorted(p.name for p in pngs.iterdir()) == sorted(f"{p.stem}.png" for p in matches)
    first = cv2.imread(str(pngs / f"{matches[0].stem}.png"))
    assert first.shape == cv2.imread(str(matches[0])).shape


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "nope.mp4", "--out", tmp_path / "x.csv")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: no such file or folder: {tmp_path / 'nope.mp4'}"
    assert not (tmp_path / "x.csv").exists()


def test_unknown_output_extension(tmp_path: Path) -> None:
    result = invoke("run", SQUATS, "--out", tmp_path / "rows.xlsx")
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith("Error: unknown output format") and "\n" not in message
    assert ".parquet, .csv or .jsonl" in message and "'.xlsx'" in message
    assert not (tmp_path / "rows.xlsx").exists()


def test_corrupt_image(tmp_path: Path) -> None:
    bad = tmp_path / "x.jpg"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    out = tmp_path / "rows.csv"
    result = invoke("run", bad, "--out", out, "--quiet", "--model-complexity", "0")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {bad}: cannot decode the image (corrupt or unsupported format)"
    )
    header, rows = read_csv(out)
    assert tuple(header) == COLUMNS and rows == []


def test_corrupt_image_in_folder_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    good = sorted(MMPOSE.glob("*.jpg"))[0]
    (folder / "a_good.jpg").write_bytes(good.read_bytes())
    (folder / "b_bad.jpg").write_bytes(b"not a jpeg at all")
    (folder / "c_good.jpg").write_bytes(good.read_bytes())
    out = tmp_path / "rows.jsonl"
    result = invoke("run", folder, "--out", out, "--model-complexity", "0")
    assert result.exit_code == 1
    assert f"Error: {folder / 'b_bad.jpg'}: cannot decode the image" in result.stderr
    assert "Done: 2 frames" in result.stderr and "1 of 3 inputs failed" in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(row["source"]).name for row in rows] == ["a_good.jpg", "c_good.jpg"]


def _folder_with_bad_files(tmp_path: Path) -> Path:
    """Good images around a zero-byte file, a text file named .jpg and a truncated JPEG/PNG."""
    folder = tmp_path / "images"
    folder.mkdir()
    good = sorted(MMPOSE.glob("*.jpg"))[0].read_bytes()
    png = cv2.imencode(".png", cv2.imread(str(sorted(MMPOSE.glob("*.jpg"))[0])))[1].tobytes()
    (folder / "a_good.jpg").write_bytes(good)
    (folder / "b_empty.jpg").write_bytes(b"")
    (folder / "c_text.jpg").write_text("this is a text file, not an image\n")
    (folder / "d_truncated.png").write_bytes(png[: len(png) // 3])
    (folder / "e_good.jpg").write_bytes(good)
    return folder


def test_bad_files_are_reported_and_the_rest_processed(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    out = tmp_path / "rows.jsonl"
    result = invoke("run", folder, "--out", out, "--model-complexity", "0")
    assert result.exit_code == 1
    for name in ("b_empty.jpg", "c_text.jpg", "d_truncated.png"):
        assert f"Error: {folder / name}:" in result.stderr, result.stderr
    assert "3 of 5 inputs failed" in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(row["source"]).name for row in rows] == ["a_good.jpg", "e_good.jpg"]


def test_fail_fast_stops_at_the_first_bad_file_and_keeps_the_rows(tmp_path: Path) -> None:
    folder = _folder_with_bad_files(tmp_path)
    out = tmp_path / "rows.csv"
    result = invoke("run", folder, "--out", out, "--model-complexity", "0", "--fail-fast")
    assert result.exit_code == 1
    assert f"Error: {folder / 'b_empty.jpg'}:" in result.stderr
    assert "c_text.jpg" not in result.stderr
    assert "stopped at the first failure (--fail-fast)" in result.stderr
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Path(row["source"]).name for row in rows] == ["a_good.jpg"]


def test_truncated_video_first_30_percent(tmp_path: Path) -> None:
    """The first 30 % of the original file: its index (``moov``) is at the end, so OpenCV
    cannot open it at all; no row, one line naming the file."""
    data = SQUATS.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: int(len(data) * 0.3)])
    assert count_decodable_frames(truncated) == 0
    out = tmp_path / "rows.csv"
    result = invoke("run", truncated, "--out", out, "--quiet", "--model-complexity", "0")
    assert result.exit_code == 1
    assert f"Error: {truncated}: cannot open the video" in result.stderr
    assert read_csv(out)[1] == []


def test_truncated_video_fails_mid_way(tmp_path: Path) -> None:
    """The same video with its index first, cut at 30 %: OpenCV decodes the frames whose data
    is there, then stops; the rows of those frames are written and flushed, and the message
    names the frame where decoding stopped."""
    data = faststart(SQUATS.read_bytes())
    whole = tmp_path / "faststart.mp4"
    whole.write_bytes(data)
    assert count_decodable_frames(whole) == SQUATS_FRAMES
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(data[: int(len(data) * 0.3)])
    decoded = count_decodable_frames(truncated)
    assert 0 < decoded < SQUATS_FRAMES
    out = tmp_path / "rows.parquet"
    result = invoke("run", truncated, "--out", out, "--model-complexity", "0")
    assert result.exit_code == 1
    assert (
        f"Error: {truncated}: decoding stopped at frame {decoded} of {SQUATS_FRAMES}"
        in result.stderr
    )
    assert f"Done: {decoded} frames" in result.stderr
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out)
    assert table.num_rows == decoded
    assert table.column("frame").to_pylist() == list(range(decoded))


def test_bad_camera_index(tmp_path: Path) -> None:
    result = invoke("run", "99", "--quiet", "--model-complexity", "0")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: camera:99: cannot open the camera " + (
        "(no such device, busy, or no permission)"
    )


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = invoke("run", SQUATS, "--out", tmp_path / "rows.parquet")
    assert result.exit_code == 1
    assert "pip install 'vitruvian[parquet]'" in result.stderr
    assert not (tmp_path / "rows.parquet").exists()


def test_debug_shows_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"\x00garbage" * 50)
    result = invoke("--debug", "run", bad, "--quiet", "--model-complexity", "0")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "SourceReadError" in result.stderr
    quiet = invoke("run", bad, "--quiet", "--model-complexity", "0")
    assert "Traceback" not in quiet.stderr


def test_parquet_written_in_row_groups(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from vitruvian.io.records import make_row
    from vitruvian.io.writers import ParquetRowWriter

    writer = ParquetRowWriter(tmp_path / "groups.parquet", row_group_size=16)
    for index in range(40):
        writer.write(make_row("x", index, index / 10, 4, 3, None))
    writer.close()
    meta = pq.ParquetFile(tmp_path / "groups.parquet").metadata
    assert (meta.num_rows, meta.num_row_groups) == (40, 3)


def test_show_without_display_warns_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vitruvian.io.writers import PreviewWindow, display_problem

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    image = sorted(MMPOSE.glob("*.jpg"))[0]
    out = tmp_path / "rows.csv"
    result = invoke("run", image, "--show", "--quiet", "--model-complexity", "0", "--out", out)
    assert result.exit_code == 0
    if sys.platform.startswith("linux"):
        assert result.stderr.startswith("Warning: --show: no display")
        assert "continuing without a window" in result.stderr
    assert len(read_csv(out)[1]) == 1
    monkeypatch.setenv("DISPLAY", ":0")
    if display_problem() is not None:  # headless OpenCV: a window that fails warns once
        warnings: list[str] = []
        window = PreviewWindow(warn=warnings.append)
        frame = np.zeros((4, 4, 3), np.uint8)
        assert window.show(frame) and window.show(frame)
        window.close()
        assert len(warnings) == 1 and "continuing without" in warnings[0]


def test_ctrl_c_ends_the_run_with_rows_written(tmp_path: Path) -> None:
    from vitruvian.io.runner import RunOptions, run_pose
    from vitruvian.io.sources import resolve_sources
    from vitruvian.io.writers import CsvRowWriter

    seen = []

    def on_frame(frame: Any) -> None:
        seen.append(frame.index)
        if len(seen) == 3:
            raise KeyboardInterrupt

    writer = CsvRowWriter(tmp_path / "rows.csv")
    summary = run_pose(
        resolve_sources([str(SQUATS)]),
        RunOptions(model_complexity=0),
        rows=[writer],
        on_frame=on_frame,
    )
    writer.close()
    assert summary.stopped == "interrupt" and summary.frames == 3
    assert [int(row["frame"]) for row in read_csv(tmp_path / "rows.csv")[1]] == [0, 1, 2]


def test_video_orientation_metadata_is_applied() -> None:
    from vitruvian.io.sources import open_capture, resolve_sources

    capture = open_capture(str(SQUATS))
    try:
        assert capture.get(cv2.CAP_PROP_ORIENTATION_AUTO) == 1
    finally:
        capture.release()
    (source,) = resolve_sources([str(SQUATS)])
    assert (source.kind, source.frame_count, source.fps) == ("video", SQUATS_FRAMES, 5.0)


def test_python_m_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "vitruvian", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for flag in (
        "--out",
        "--annotated",
        "--show",
        "--model-complexity",
        "--static / --video",
        "--no-smooth",
        "--no-smooth-segmentation",
        "--segmentation",
        "--min-detection-confidence",
        "--min-tracking-confidence",
        "--quiet",
    ):
        assert flag in completed.stdout


def test_image_the_pipeline_rejects_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    wide = tmp_path / "wide.png"
    assert cv2.imwrite(str(wide), np.zeros((2, 40000, 3), np.uint8))
    good = sorted(MMPOSE.glob("*.jpg"))[0]
    out = tmp_path / "rows.jsonl"
    result = invoke("run", wide, good, "--out", out, "--model-complexity", "0")
    assert result.exit_code == 1
    assert f"Error: {wide}: frame 0: image is 40000 x 2 pixels" in result.stderr
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(row["source"]).name for row in rows] == [good.name]


@pytest.mark.skipif(not SQUATS.is_file(), reason=f"shared test clip not found: {SQUATS}")
@pytest.mark.parametrize("flag", [None, "--progress"])
def test_progress_bar_only_on_a_terminal_or_when_asked(
    real_models: dict[str, Path], tmp_path: Path, flag: str | None
) -> None:
    # stderr is a log file here, as under CI or `2> run.log`: no bar (a bar redraws itself with
    # carriage returns) unless --progress asks for one; the summary line comes either way.
    log = tmp_path / "stderr.log"
    args = [sys.executable, "-m", "vitruvian", "run", str(SQUATS), "--max-frames", "12"]
    args += ["--model-complexity", "0", "--out", str(tmp_path / "rows.csv")]
    args += [flag] if flag else []
    env = {k: v for k, v in os.environ.items() if k != "VITRUVIAN_PROGRESS"}
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.run(args, stderr=err, stdout=subprocess.PIPE, env=env, timeout=300)
    text = log.read_bytes().decode("utf-8")  # bytes: keep the carriage returns
    assert proc.returncode == 0, text
    assert ("\r" in text) == (flag == "--progress"), repr(text)
    summary = [line for line in text.replace("\r", "\n").splitlines() if "12 frames" in line]
    assert len(summary) == 1, text
