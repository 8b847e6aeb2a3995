"""Several people: ``PosePipeline.process_all`` on real photos and ``PoseTracker(num_poses=N)``
on clips built from ``video/pose_squats.mp4`` where each person's truth is known by construction.

Clips (:func:`vitruvian.testing_clips.people_clip`, 5 fps as the source): copies of the squat
clip pasted side by side on a black canvas twice the clip's width.

* ``side_by_side``: two copies, the right one 20 frames ahead.
* ``sliding``: the right copy slides over the left one and back (its left edge from 720 px to
  180 px and back, pasted through its own segmentation mask, so it passes in front), the two
  people's boxes overlapping up to half of the narrower one.
* ``entering``: the second copy slides in from the right edge over 15 frames, stays, and slides
  out again.

Each person's ground truth is the one-person tracker (``num_poses=1``) on the same canvas with
only that copy pasted (``people_clip(..., only=k)``): the same pixels of that person at the same
place, so any difference comes from the other person. Asserted: as many people per frame as the
ground truths have, no ID switch (each person one ID, each ID one person), landmark error per
person within MediaPipe's own 15 px tolerance for single images (95th percentile) and a few
pixels on average. Two exceptions, measured and bounded: in ``entering`` the frames where the
person is cut by the canvas edge (the one-person tracker loses them a frame or two earlier),
and in ``sliding`` the frames where the boxes overlap more than 15 %: there the landmark
model's crop of the person behind shows the person in front, the tracker may lose the one
behind for a few frames (at most 4; they get their ID back within the grace period), and the
poses there and in the next 3 frames (fresh filters settling) are not held to the tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from vitruvian.calculators.person_boxes import box_overlap_of_smaller, landmark_box
from vitruvian.pipeline import PosePipeline
from vitruvian.testing_clips import Layer, people_clip, read_video_rgb
from vitruvian.tracking import PoseTracker, track_batch
from vitruvian.types import PoseResult

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS_PATH = DATA_DIR / "video" / "pose_squats.mp4"
MMPOSE_DIR = DATA_DIR / "mmpose"

pytestmark = pytest.mark.skipif(
    not SQUATS_PATH.is_file(), reason=f"shared data missing: {DATA_DIR} (see its SOURCES.md)"
)

#: The source clip's frame interval (5 fps), microseconds.
STEP_US = 200_000
#: MediaPipe's ``pose_test.py`` tolerance for one image, pixels: 95th percentile of the error.
P95_PX = 15.0
#: Mean error per person, pixels (measured 1.1 to 5.2 px).
MEAN_PX = 8.0
#: ``sliding``: frames where the two people's boxes overlap more than this (share of the
#: narrower box) may miss the person behind; at most MAX_MISSED such frames in the clip.
CLOSE_OVERLAP = 0.15
MAX_MISSED = 4
#: ...and the poses of the next frames are not held to the tolerance either: a person found
#: again starts fresh filters, which need a few frames to agree with the ground truth's.
SETTLE_FRAMES = 3
#: People found in the 14 mmpose photos, checked by eye once: 26 boxes, all of them people (one
#: is a player mostly hidden behind another), where the detector's first pass gives 15. The
#: test asks at least 20, and at most 30 (false positives bounded) and 5 in any one photo.
MIN_MMPOSE_PEOPLE = 20
MAX_MMPOSE_PEOPLE = 30


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return read_video_rgb(SQUATS_PATH)


@pytest.fixture(scope="module")
def pipeline() -> PosePipeline:
    with PosePipeline(model_complexity=1) as pipe:
        yield pipe


@pytest.fixture(scope="module")
def masks(frames: list[np.ndarray], pipeline: PosePipeline) -> list[np.ndarray]:
    """The person's segmentation mask in each frame of the squat clip (for ``sliding``)."""
    with PoseTracker(enable_segmentation=True) as tracker:
        out = []
        for i, frame in enumerate(frames):
            result = tracker.process(frame, i * STEP_US)
            assert result is not None and result.segmentation_mask is not None
            out.append(result.segmentation_mask)
    return out


def _track(clip: Sequence[np.ndarray], pipeline: PosePipeline, num_poses: int):
    tracker = PoseTracker(pipeline=pipeline, num_poses=num_poses)
    people = [tracker.process_all(frame, i * STEP_US) for i, frame in enumerate(clip)]
    return people, tracker.stats


def _clips(frames: list[np.ndarray], masks: list[np.ndarray], name: str):
    height, width = frames[0].shape[:2]
    count = len(frames)
    if name == "side_by_side":
        ahead = 20
        n = count - ahead
        return 2 * width, [
            Layer(frames, list(range(n)), [0] * n),
            Layer(frames, list(range(ahead, count)), [width] * n),
        ]
    if name == "sliding":
        nearest = 0.25 * width  # the sliding copy's left edge at its nearest
        dx = [
            round(width - (width - nearest) * min(t, count - 1 - t) / (count / 2))
            for t in range(count)
        ]
        return 2 * width, [
            Layer(frames, list(range(count)), [0] * count),
            Layer(frames, list(range(count)), dx, masks),
        ]
    assert name == "entering"
    ramp = 15
    dx = [round(2 * width - width * min(1, t / ramp, (count - 1 - t) / ramp)) for t in range(count)]
    return 2 * width, [
        Layer(frames, list(range(count)), [0] * count),
        Layer(frames, [None if x >= 2 * width else t for t, x in enumerate(dx)], dx),
    ]


def _match(
    people: list[PoseResult], truths: list[PoseResult], size: tuple[int, int]
) -> list[tuple[PoseResult, int, float]]:
    """Each found person with the ground truth (index) nearest to it and the mean error (px)."""
    out = []
    for person in people:
        errors = [
            float(
                np.linalg.norm(
                    (person.landmarks[:, :2] - truth.landmarks[:, :2]) * size, axis=1
                ).mean()
            )
            for truth in truths
        ]
        best = int(np.argmin(errors))
        out.append((person, best, errors[best]))
    return out


@pytest.mark.parametrize("name", ["side_by_side", "sliding", "entering"])
def test_people_keep_their_ids(name, frames, masks, pipeline):
    width, layers = _clips(frames, masks, name)
    clip = people_clip(width, layers)
    height = clip[0].shape[0]
    found, stats = _track(clip, pipeline, num_poses=2)
    truths = []
    for k in range(len(layers)):
        alone, _ = _track(people_clip(width, layers, only=k), pipeline, num_poses=1)
        truths.append([a[0] if a else None for a in alone])

    overlaps = [0.0] * len(clip)
    if name == "sliding":  # the construction: boxes overlap, up to a third of the narrower one
        overlaps = [
            box_overlap_of_smaller(
                landmark_box(truths[0][t].landmarks, width, height),
                landmark_box(truths[1][t].landmarks, width, height),
            ).item()
            for t in range(len(clip))
        ]
        assert 0.2 < max(overlaps) <= 0.35, overlaps
    missed = 0

    ids_of: dict[int, set[int]] = {k: set() for k in range(len(layers))}
    errors: dict[int, list[float]] = {k: [] for k in range(len(layers))}
    for t, people in enumerate(found):
        present = [k for k in range(len(layers)) if truths[k][t] is not None]
        edge = name == "entering" and layers[1].dx[t] > width - frames[0].shape[1] // 2
        if overlaps[t] > CLOSE_OVERLAP:
            # The person behind, partly hidden, may be lost here (and get the ID back later).
            assert 1 <= len(people) <= len(present), f"frame {t}: {len(people)} people"
            missed += len(present) - len(people)
        elif not edge:
            assert len(people) == len(present), f"frame {t}: {len(people)} people, {present}"
        ids = [p.person_id for p in people]
        assert len(set(ids)) == len(ids), f"frame {t}: IDs {ids} repeat"
        if not people or not present:
            continue
        for person, k, error in _match(people, [truths[k][t] for k in present], (width, height)):
            if edge and error > 100:
                continue  # a person cut by the edge, which the ground truth has already lost
            ids_of[present[k]].add(person.person_id)
            if max(overlaps[max(t - SETTLE_FRAMES, 0) : t + 1]) <= CLOSE_OVERLAP:
                errors[present[k]].append(error)

    print(f"\n{name}: ids {ids_of}, stats {stats}, missed {missed}")
    print("  overlaps", [round(o, 2) for o in overlaps])
    assert missed <= MAX_MISSED
    for k, errs in errors.items():
        print(f"  person {k}: mean {np.mean(errs):.2f} px, p95 {np.percentile(errs, 95):.2f} px")
        assert np.mean(errs) <= MEAN_PX and np.percentile(errs, 95) <= P95_PX
    # 0 ID switches: each person one ID, and no ID on two people.
    assert all(len(ids) == 1 for ids in ids_of.values()), ids_of
    assert len(set.union(*ids_of.values())) == len(layers), ids_of
    if name == "entering":
        # The person there from the start keeps ID 0; the one who walks in gets a new one.
        assert ids_of == {0: {0}, 1: {1}}
    if name == "side_by_side":
        # Both found on the first frame; after that the detector never runs again.
        assert stats.detector_runs == 1


def test_num_poses_1_is_the_single_person_tracker(frames, pipeline):
    """``num_poses=1`` keeps today's path: the same arrays as ``process()``, bit for bit (the
    same code on the same models in one process), and IDs from 0."""
    one = PoseTracker(pipeline=pipeline)
    also = PoseTracker(pipeline=pipeline, num_poses=1)
    for i, frame in enumerate(frames[:12]):
        a = one.process(frame, i * STEP_US)
        (b,) = also.process_all(frame, i * STEP_US)
        assert a is not None and b.person_id == a.person_id == 0
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.world_landmarks, b.world_landmarks)


def test_tracker_state(frames, masks, pipeline):
    """IDs are never reused, a lost person gets their ID back within the grace period and a new
    one after it, and reset() starts from ID 0 again."""
    width = frames[0].shape[1]
    tracker = PoseTracker(pipeline=pipeline, num_poses=2, grace_period=1.0)
    blank = np.zeros_like(frames[0])
    now = 0

    def step(frame: np.ndarray) -> list[int | None]:
        nonlocal now
        now += STEP_US
        return [p.person_id for p in tracker.process_all(frame, now)]

    assert step(frames[0]) == [0]
    assert step(blank) == []  # lost at 0.4 s
    assert step(frames[1]) == [0]  # found again where lost, 0.2 s later: the same ID
    for _ in range(6):  # 1.2 s without anyone: past the grace period
        assert step(blank) == []
    assert step(frames[2]) == [1]  # a new ID, 0 is never reused
    tracker.reset()
    now = 0
    assert step(frames[3]) == [0]
    with pytest.raises(ValueError, match="num_poses"):
        PoseTracker(pipeline=pipeline, num_poses=0)
    with pytest.raises(ValueError, match="grace_period"):
        PoseTracker(pipeline=pipeline, num_poses=2, grace_period=-1)
    with pytest.raises(ValueError, match="process_all"):
        track_batch([tracker, tracker.sibling()], [frames[0], frames[1]])
    with pytest.raises(ValueError, match="roi= tracks one person"):
        tracker.process(frames[4], now + STEP_US, roi=[0, 0, 100, 100])
    assert width  # the canvas helpers above use it


def test_process_all_on_group_photos(pipeline):
    """The 14 mmpose photos (most show 2 to 4 people): people found, no two results on one
    person; the first is ``process()``'s pose, with ``max_poses=1`` too."""
    if not MMPOSE_DIR.is_dir():
        pytest.skip(f"shared data missing: {MMPOSE_DIR}")
    total = 0
    for path in sorted(MMPOSE_DIR.glob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        people = pipeline.process_all(rgb, max_poses=10)
        boxes = [landmark_box(p.landmarks, width, height) for p in people]
        for i in range(len(boxes)):
            for j in range(i):
                assert box_overlap_of_smaller(boxes[i], boxes[j]).item() <= 0.6
        assert len(people) <= 5, path.name  # no photo shows more than 5 people
        total += len(people)
        single = pipeline.process(rgb)
        (first,) = pipeline.process_all(rgb, max_poses=1)
        np.testing.assert_array_equal(single.landmarks, first.landmarks)
        np.testing.assert_array_equal(single.landmarks, people[0].landmarks)
    print(f"\nmmpose: {total} people found")
    assert MIN_MMPOSE_PEOPLE <= total <= MAX_MMPOSE_PEOPLE


def test_rois_and_external_detector(frames, pipeline):
    """People from given boxes and from a person detector callable; a duplicate box is
    dropped; bad detector output names the fix."""
    width = frames[0].shape[1]
    canvas = people_clip(2 * width, [Layer(frames, [0], [0]), Layer(frames, [30], [width])])[0]
    found = pipeline.process_all(canvas, 5)
    assert len(found) == 2
    boxes = [landmark_box(p.landmarks, 2 * width, canvas.shape[0]) for p in found]
    by_roi = pipeline.process_all(canvas, 5, rois=[boxes[0], boxes[1], boxes[1] + 3])
    assert len(by_roi) == 2  # the third box is the second person again

    def detector(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert rgb.shape == canvas.shape
        return np.array(boxes), np.array([0.3, 0.9])

    external = pipeline.process_all(canvas, 5, person_detector=detector)
    assert [p.detection.score for p in external] == [0.9, 0.3]
    assert external[0].detection.keypoints.shape == (0, 2)
    with pytest.raises(ValueError, match="2 boxes but 1 scores"):
        pipeline.process_all(canvas, 5, person_detector=lambda rgb: (boxes, [0.5]))
    with pytest.raises(ValueError, match="max_poses"):
        pipeline.process_all(canvas, 0)


def test_pose_api_with_several_people(frames):
    """``Pose(num_poses=N)`` in MediaPipe's multi-object style: ``multi_*`` lists and
    ``pose_ids`` in the same order, ``pose_landmarks`` the first person; video-mode IDs stay;
    ``num_poses=1`` fills the lists with the one pose."""
    import vitruvian as mp

    width = frames[0].shape[1]
    layers = [
        Layer(frames, list(range(6)), [0] * 6),
        Layer(frames, list(range(20, 26)), [width] * 6),
    ]
    clip = people_clip(2 * width, layers)
    with mp.solutions.pose.Pose(num_poses=3, enable_segmentation=True) as pose:
        assert pose.num_poses == 3
        sides = None
        for frame in clip:
            results = pose.process(frame)
            assert results.pose_ids == [0, 1]
            assert len(results.multi_pose_landmarks) == len(results.multi_pose_world_landmarks) == 2
            assert len(results.multi_segmentation_masks) == 2
            assert results.pose_landmarks is results.multi_pose_landmarks[0]
            assert results.segmentation_mask is results.multi_segmentation_masks[0]
            xs = [lm.landmark[0].x for lm in results.multi_pose_landmarks]
            assert (xs[0] < 0.5) != (xs[1] < 0.5)  # one person on each side...
            sides = sides or [x < 0.5 for x in xs]
            assert [x < 0.5 for x in xs] == sides  # ...and each ID stays on its side
            for mask, landmarks in zip(
                results.multi_segmentation_masks, results.multi_pose_landmarks, strict=True
            ):
                nose = landmarks.landmark[0]
                row, col = int(nose.y * mask.shape[0]), int(nose.x * mask.shape[1])
                assert mask[row, col] > 0.5  # each mask is that person's
        assert pose.process(np.zeros_like(clip[0])).multi_pose_landmarks is None
    with mp.solutions.pose.Pose(static_image_mode=True, num_poses=2) as pose:
        results = pose.process(clip[0])
        assert results.pose_ids == [0, 1] and len(results.poses) == 2
        (batched,) = pose.process_batch([clip[0]])
        assert batched.pose_ids == [0, 1]
        for a, b in zip(batched.poses, results.poses, strict=True):
            np.testing.assert_array_equal(a.landmarks, b.landmarks)
    with mp.solutions.pose.Pose(static_image_mode=True) as pose:
        results = pose.process(frames[0])
        assert results.multi_pose_landmarks == [results.pose_landmarks]
        assert results.pose_ids == [0]
    with pytest.raises(ValueError, match="num_poses"):
        mp.solutions.pose.Pose(num_poses=0)


def test_run_writes_one_row_per_person(frames, tmp_path):
    """``vitruvian run --num-poses 2``: a person_id column, one row per person per frame, IDs
    kept across the video; the annotated video has each person in their colour."""
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from vitruvian.cli import cli
    from vitruvian.io.writers import person_color

    width = frames[0].shape[1]
    count = 8
    layers = [
        Layer(frames, list(range(count)), [0] * count),
        Layer(frames, list(range(20, 20 + count)), [width] * count),
    ]
    video = tmp_path / "two.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (2 * width, 1280))
    for frame in people_clip(2 * width, layers):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    out = tmp_path / "poses.parquet"
    annotated = tmp_path / "annotated"
    result = CliRunner().invoke(
        cli,
        ["run", str(video), "--num-poses", "2", "--out", str(out), "--annotated", str(annotated)],
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 2 * count
    assert list(rows[0])[:3] == ["source", "frame", "person_id"]
    sides = None
    for index in range(count):
        people = {r["person_id"]: r["nose_x"] < 0.5 for r in rows if r["frame"] == index}
        assert sorted(people) == [0, 1] and people[0] != people[1]
        sides = sides or people
        assert people == sides  # each ID stays with its person
    first = cv2.imread(str(next(annotated.glob("*.png")))) if annotated.is_dir() else None
    if first is None:  # an annotated .mp4 path was not given: frames as PNGs in the folder
        pytest.fail(f"no annotated frames in {annotated}")
    for person_id in (0, 1):
        color = np.array(person_color(person_id))
        assert (np.abs(first.astype(int) - color).sum(axis=2) < 10).sum() > 50
