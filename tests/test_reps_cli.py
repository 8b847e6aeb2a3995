"""``vitruvian reps`` and ``vitruvian samples``, run in-process (click's ``CliRunner``) on real
models and real data.

* ``reps`` on ``video/pose_squats.mp4`` in video mode: the angle counter (default) and the k-NN
  counter on ML Kit's samples each print 2 squats, counted within a few frames of the moments
  she is up again (frames 17 and 41); the per-frame table (angle, votes, count) and the events
  table are written (CSV, JSON Lines, Parquet); push-ups count 0 with both counters;
  ``--annotated`` (an .mp4 or a folder) holds every frame with the counter panel drawn; bad
  arguments exit with 2 and write nothing.
* ``samples build`` on a folder of class folders (photos, a video, a photo without a person,
  a stray text file) writes ML Kit's CSV with the pipeline's landmarks in pixels, one sample
  every ``--every`` frames of the video, and lists the photo without a pose; ``samples check``
  reports leave-one-out accuracy per class and the outliers (a planted mislabelled sample),
  and writes the set without them.

Data comes from ``../shared/data`` beside the checkout; every test here needs it and skips,
saying so, when that folder is missing.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vitruvian.cli import cli

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLES = DATA_DIR / "classification" / "fitness_pose_samples.csv"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason=f"test data folder not found: {DATA_DIR}"
)

#: The frames by which she is up again after each completed squat (by eye), and the slack.
SQUAT_UP_AGAIN = (17, 41)
SLACK_FRAMES = 3


def _invoke(*args: str) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _near_up_again(ends: list[int]) -> bool:
    return len(ends) == 2 and all(
        abs(end - want) <= SLACK_FRAMES for end, want in zip(ends, SQUAT_UP_AGAIN, strict=True)
    )


def test_reps_angle_counter(tmp_path: Path) -> None:
    frames = tmp_path / "frames.csv"
    result = _invoke("reps", SQUATS, "--out", frames)
    assert result.exit_code == 0, result.output
    assert "squats: 2 repetitions (65 frames, 65 with a pose; counting " in result.output
    assert result.output.count("repetition 1: frames ") == 1
    rows = _csv_rows(frames)
    assert list(rows[0]) == [
        "source",
        "frame",
        "person_id",
        "timestamp_s",
        "pose_present",
        "angle_deg",
        "count",
        "entered",
        "rep",
    ]
    assert len(rows) == 65 and rows[-1]["count"] == "2"
    assert 150 < float(rows[0]["angle_deg"]) < 180  # standing: knees almost straight
    counted = [int(row["frame"]) for row in rows if row["rep"]]
    events = _csv_rows(tmp_path / "frames.reps.csv")  # the events beside --out
    assert [int(e["end_frame"]) for e in events] == counted
    assert _near_up_again(counted), counted
    for event in events:
        assert int(event["start_frame"]) < int(event["bottom_frame"]) < int(event["end_frame"])
        assert float(event["duration_s"]) > 0 and float(event["range_of_motion_deg"]) > 50
        assert event["track_id"] == ""


def test_reps_counts_each_person(tmp_path: Path) -> None:
    """``--num-poses 2`` on two copies of the clip side by side: one counter per person, each
    with her 2 squats at the single-person frames, rows and events tagged with the person."""
    import cv2

    from vitruvian.testing_clips import Layer, people_clip, read_video_rgb

    frames = read_video_rgb(SQUATS)
    count, width = len(frames), frames[0].shape[1]
    layers = [
        Layer(frames, range(count), [0] * count),
        Layer(frames, range(count), [width] * count),
    ]
    video = tmp_path / "two.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (2 * width, 1280))
    for frame in people_clip(2 * width, layers):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    out = tmp_path / "frames.csv"
    result = _invoke("reps", video, "--num-poses", "2", "--out", out)
    assert result.exit_code == 0, result.output
    assert "person 0: 2 repetitions, person 1: 2 repetitions" in result.output
    events = _csv_rows(tmp_path / "frames.reps.csv")
    for person in ("0", "1"):
        ends = [int(e["end_frame"]) for e in events if e["track_id"] == person]
        assert _near_up_again(ends), ends
    rows = _csv_rows(out)
    assert len(rows) == 2 * count
    assert {r["person_id"] for r in rows} == {"0", "1"}


def test_reps_knn_counter(tmp_path: Path) -> None:
    frames = tmp_path / "frames.jsonl"
    events = tmp_path / "reps.parquet"
    result = _invoke("reps", SQUATS, "--samples", SAMPLES, "--out", frames, "--events", events)
    assert result.exit_code == 0, result.output
    assert "squats_down: 2 repetitions (65 frames" in result.output
    rows = [json.loads(line) for line in frames.read_text().splitlines()]
    assert len(rows) == 65
    assert all(sum(row[f"votes_{c}"] for c in ("squats_down", "squats_up")) == 10 for row in rows)
    assert rows[0]["votes_squats_up"] == 10 and rows[0]["smoothed_squats_up"] == 10.0
    assert max(row["smoothed_squats_down"] for row in rows) > 6
    counted = [row["frame"] for row in rows if row["rep"] is not None]
    assert _near_up_again(counted), counted
    import pyarrow.parquet as pq

    table = pq.read_table(events).to_pylist()
    assert [e["end_frame"] for e in table] == counted
    assert [e["index"] for e in table] == [1, 2]


@pytest.mark.parametrize("knn", [False, True])
def test_reps_no_pushups_in_squats(knn: bool) -> None:
    args = ["--samples", SAMPLES] if knn else []
    result = _invoke("reps", SQUATS, "--exercise", "pushups", *args)
    assert result.exit_code == 0, result.output
    assert ("pushups_down" if knn else "pushups") + ": 0 repetitions (65 frames" in result.output


def test_reps_annotated_video(tmp_path: Path) -> None:
    import cv2

    out = tmp_path / "reps.mp4"
    result = _invoke("reps", SQUATS, "--annotated", out, "--max-frames", "20")
    assert result.exit_code == 0, result.output
    assert "squats: 1 repetition (20 frames" in result.output
    capture = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == 20 and frames[0].shape == (1280, 720, 3)
    panel = frames[-1][2:6, 2:6].astype(int)
    assert np.abs(panel - (40, 40, 40)).max() < 30  # the counter's dark panel, top left
    # The count's green digit is in the panel of the last frame (one squat counted).
    green = (frames[-1][:100, :60, 1].astype(int) - frames[-1][:100, :60, 2]) > 80
    assert green.sum() > 50


def test_reps_annotated_folder(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    result = _invoke("reps", SQUATS, "--annotated", folder, "--max-frames", "3")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.glob("*.png")) == [
        f"pose_squats_{i:06d}.png" for i in range(3)
    ]


def test_reps_usage_errors(tmp_path: Path) -> None:
    existing = tmp_path / "frames.csv"
    existing.write_text("keep me")
    cases = [
        (["--class", "squats_down"], "--class needs --samples"),
        (["--samples", SAMPLES, "--class", "jumps"], "not among the samples' classes"),
        (["--samples", tmp_path / "none.csv"], "cannot read the samples file"),
        (["--out", existing], "already exists"),
        (["--out", tmp_path / "frames.txt"], "unknown output format"),
        (["--out", tmp_path / "a.csv", "--events", tmp_path / "a.csv"], "the same file"),
    ]
    for args, message in cases:
        result = _invoke("reps", SQUATS, *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert existing.read_text() == "keep me"
    result = _invoke("reps", tmp_path / "nope.mp4")
    assert result.exit_code == 2 and "no such file" in result.output
    result = _invoke("reps", DATA_DIR / "tfjs" / "pose.jpg")
    assert result.exit_code == 2 and "is an image" in result.output


def test_samples_build(tmp_path: Path) -> None:
    import cv2

    from vitruvian.classify import load_samples, to_pixels
    from vitruvian.pipeline import PosePipeline

    folder = tmp_path / "poses"
    for name in ("lunge", "standing", "squat"):
        (folder / name).mkdir(parents=True)
    shutil.copy(DATA_DIR / "tfjs" / "pose.jpg", folder / "lunge" / "pose.jpg")
    for photo in sorted((DATA_DIR / "mmpose").glob("*.jpg"))[:2]:
        shutil.copy(photo, folder / "standing" / photo.name)
    shutil.copy(SQUATS, folder / "squat" / "clip.mp4")
    (folder / "standing" / "notes.txt").write_text("not a photo")
    cv2.imwrite(str(folder / "standing" / "wall.png"), np.full((240, 320, 3), 128, np.uint8))
    out = tmp_path / "samples.csv"
    result = _invoke("samples", "build", folder, "--out", out, "--every", "20")
    assert result.exit_code == 0, result.output
    assert "wrote 7 samples of 3 classes" in result.output
    assert "no pose (left out): " in result.output and "wall.png" in result.output
    samples = load_samples(out)
    assert [s.name for s in samples if s.class_name == "squat"] == [
        f"clip.mp4#{i}" for i in (0, 20, 40, 60)
    ]
    assert {s.class_name for s in samples} == {"lunge", "standing", "squat"}
    lunge = next(s for s in samples if s.name == "pose.jpg")
    bgr = cv2.imread(str(folder / "lunge" / "pose.jpg"))
    with PosePipeline() as graph:
        expected = graph.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert expected is not None
    height, width = bgr.shape[:2]
    assert np.allclose(lunge.landmarks, to_pixels(expected.landmarks, width, height), atol=1e-3)

    result = _invoke("samples", "build", folder, "--out", out)
    assert result.exit_code == 2 and "already exists" in result.output
    result = _invoke("samples", "build", tmp_path / "poses" / "lunge", "--out", tmp_path / "x.csv")
    assert result.exit_code == 2 and "no class folders" in result.output


def test_samples_check(tmp_path: Path) -> None:
    result = _invoke("samples", "check", SAMPLES)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "leave-one-out accuracy" in line]
    accuracy = {line.split()[0]: float(line.split()[-1]) for line in lines}
    assert set(accuracy) == {"pushups_down", "pushups_up", "squats_down", "squats_up"}
    assert min(accuracy.values()) >= 0.98, accuracy
    assert "0 outliers among 812 samples (whole set)" in result.output

    # One squats_up sample relabelled squats_down: found, and left out by --without-outliers.
    text = SAMPLES.read_text().splitlines()
    planted = text[300].split(",")
    assert planted[1] == "squats_up"
    planted[1] = "squats_down"
    text[300] = ",".join(planted)
    mislabelled = tmp_path / "mislabelled.csv"
    mislabelled.write_text("\n".join(text) + "\n")
    clean = tmp_path / "clean.csv"
    result = _invoke("samples", "check", mislabelled, "--without-outliers", clean)
    assert result.exit_code == 0, result.output
    assert f"outlier: {planted[0]} (squats_down): top squats_up;" in result.output
    assert "1 outliers among 812 samples (whole set)" in result.output
    assert len(clean.read_text().splitlines()) == 811
    result = _invoke("samples", "check", tmp_path / "nope.csv")
    assert result.exit_code == 2 and "cannot read the samples file" in result.output
