"""Using an object after ``close()``, with the real models.

:class:`~vitruvian.pipeline.PosePipeline`, :class:`~vitruvian.tracking.PoseTracker`,
:class:`~vitruvian.extract.PoseExtractor` and :class:`vitruvian.solutions.pose.Pose` all behave
the same way:

* ``close()`` may be called any number of times (a ``with`` block's exit included);
* afterwards every public method that would run a model (or start a stream) raises
  :class:`RuntimeError` saying ``<Class>.<method>() called after close()`` and to create a new
  object -- never an ``AttributeError`` about ``None``;
* ``closed`` says so; the counters (``stats``) stay readable;
* a tracker that shares a pipeline does not close it, but a tracker (or ``track_batch``) on a
  pipeline that its owner closed gets the pipeline's error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vitruvian.extract import PoseExtractor
from vitruvian.pipeline import PosePipeline
from vitruvian.solutions.pose import Pose
from vitruvian.tracking import PoseTracker, track_batch
from vitruvian.types import NormalizedRect

IMAGE = np.random.default_rng(0).integers(0, 256, (96, 64, 3), dtype=np.uint8)
ROI = NormalizedRect(x_center=0.5, y_center=0.5, width=0.5, height=0.5, rotation=0.0)


@pytest.fixture(autouse=True)
def _models(real_models: dict[str, Path]) -> None:
    """Every test here loads the real models (skipped when they cannot be had)."""


def _closed_message(cls: str, method: str) -> str:
    return re.escape(f"{cls}.{method}() called after close()") + r".*create a new " + cls


def _assert_closed_error(call: Callable[[], Any], cls: str, method: str) -> None:
    with pytest.raises(RuntimeError, match=_closed_message(cls, method)):
        call()


def test_pipeline_after_close() -> None:
    pipeline = PosePipeline(model_complexity=0)
    pipeline.process(IMAGE)
    runs = pipeline.stats.detector_runs
    assert not pipeline.closed
    pipeline.close()
    pipeline.close()  # idempotent
    assert pipeline.closed
    _assert_closed_error(lambda: pipeline.process(IMAGE), "PosePipeline", "process")
    _assert_closed_error(lambda: pipeline.process(IMAGE, [0, 0, 30, 60]), "PosePipeline", "process")
    _assert_closed_error(lambda: pipeline.detect(IMAGE), "PosePipeline", "detect")
    _assert_closed_error(
        lambda: pipeline.landmarks_from_roi(IMAGE, ROI), "PosePipeline", "landmarks_from_roi"
    )
    _assert_closed_error(lambda: pipeline.process_batch([IMAGE]), "PosePipeline", "process_batch")
    _assert_closed_error(lambda: pipeline.process_batch([]), "PosePipeline", "process_batch")
    assert pipeline.stats.detector_runs == runs  # still readable, unchanged


def test_pipeline_with_block_then_close_again() -> None:
    with PosePipeline(model_complexity=0) as pipeline:
        pipeline.detect(IMAGE)
    assert pipeline.closed
    pipeline.close()
    _assert_closed_error(lambda: pipeline.detect(IMAGE), "PosePipeline", "detect")


def test_tracker_after_close() -> None:
    tracker = PoseTracker(model_complexity=0)
    tracker.process(IMAGE)
    tracker.close()
    tracker.close()  # idempotent
    assert tracker.closed and tracker.pipeline.closed  # it owned its pipeline
    _assert_closed_error(lambda: tracker.process(IMAGE), "PoseTracker", "process")
    _assert_closed_error(lambda: tracker.process(IMAGE, 10**6), "PoseTracker", "process")
    _assert_closed_error(tracker.reset, "PoseTracker", "reset")
    assert tracker.stats.frames == 1  # readable, and the refused calls counted no frame
    with PoseTracker(model_complexity=0) as again:
        again.process(IMAGE, 0)  # a new tracker works
        assert again.stats.frames == 1


def test_tracker_with_shared_pipeline() -> None:
    with PosePipeline(model_complexity=0) as pipeline:
        first = PoseTracker(pipeline=pipeline)
        second = PoseTracker(pipeline=pipeline)
        first.close()
        first.close()
        assert first.closed and not pipeline.closed  # a given pipeline is not closed
        _assert_closed_error(lambda: first.process(IMAGE), "PoseTracker", "process")
        _assert_closed_error(
            lambda: track_batch([first, second], [IMAGE, IMAGE]), "PoseTracker", "process"
        )
        assert second.stats.frames == 0  # no clock advanced in track_batch before the error
        second.process(IMAGE)  # the other tracker still works
    # The owner closed the pipeline: the open tracker gets the pipeline's error.
    assert not second.closed
    _assert_closed_error(lambda: second.process(IMAGE), "PosePipeline", "process")
    _assert_closed_error(lambda: track_batch([second], [IMAGE]), "PosePipeline", "process_batch")
    assert second.stats.frames == 1
    second.reset()  # no model involved: still allowed on an open tracker
    second.close()


def test_extractor_after_close(tmp_path: Path) -> None:
    extractor = PoseExtractor(model_complexity=0)
    extractor.close()
    extractor.close()  # idempotent
    assert extractor.closed
    missing = tmp_path / "no-such-video.mp4"
    # Raised by the call itself, before the (missing) file is looked at.
    _assert_closed_error(lambda: extractor.extract(missing), "PoseExtractor", "extract")
    _assert_closed_error(lambda: extractor.extract_many([missing]), "PoseExtractor", "extract_many")
    with PoseExtractor(model_complexity=0) as other:
        assert not other.closed
    assert other.closed
    _assert_closed_error(lambda: other.extract(missing), "PoseExtractor", "extract")


@pytest.mark.parametrize("static_image_mode", [True, False])
def test_pose_after_close(static_image_mode: bool) -> None:
    pose = Pose(static_image_mode=static_image_mode, model_complexity=0)
    pose.process(IMAGE)
    pose.close()
    pose.close()  # idempotent
    assert pose.closed
    _assert_closed_error(lambda: pose.process(IMAGE), "Pose", "process")
    _assert_closed_error(lambda: pose.process_batch([IMAGE]), "Pose", "process_batch")
    _assert_closed_error(pose.reset, "Pose", "reset")
    assert pose.backend  # properties stay readable
    assert pose.stats.landmark_runs >= 0
    with Pose(static_image_mode=static_image_mode, model_complexity=0) as other:
        other.process(IMAGE)
    _assert_closed_error(lambda: other.process(IMAGE), "Pose", "process")
