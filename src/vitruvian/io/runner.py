"""The frame loop of ``vitruvian run``: sources in, pose rows and annotated frames out.

:func:`run_pose` reads each :class:`~vitruvian.io.sources.Source` lazily, runs
:class:`~vitruvian.solutions.pose.Pose` on every frame and hands the results to the writers.
It knows nothing about the command line: options come in a :class:`RunOptions`, errors and
progress go out through callbacks, and the counts come back in a :class:`RunSummary`.

Modes: with ``RunOptions.static_image_mode=None`` each source gets its natural mode, video
mode (tracking, smoothing) for video files and cameras and static mode for images; ``True`` or
``False`` forces one mode for all. One ``Pose`` is created per mode and reused; a video-mode
``Pose`` is :meth:`~vitruvian.solutions.pose.Pose.reset` at the start of every video file and
camera (also when a folder or glob gives several) and of every SOURCE argument, so each video
(or each folder of images run in video mode) is its own stream. In video mode
each frame's real time (``Frame.timestamp_s``, seconds) is passed to ``process()``, so the
smoothing filters follow the video's clock; images in video mode advance by MediaPipe's
default 1/30 s.

Decoding: the frames of a video FILE are decoded in a background thread, a few frames ahead
of inference (:func:`vitruvian.extract.prefetch`), so that decoding can overlap ``process()``
(what that gains depends on spare cores, see :mod:`vitruvian.extract`); the frames still come
in order, and a decoding failure is reported after the frames before it, as in a plain loop.
Images and cameras are read in the loop's own thread (a camera must not be read ahead: its
frames would be stale by the time they are processed).

Batches: with ``RunOptions.batch_size > 1`` the video files that run in video mode are
processed first, that many at a time, with their crops batched across videos
(:meth:`vitruvian.extract.PoseExtractor.extract_many`); each gets the rows it would get alone.

Errors: a source that cannot be read (:class:`~vitruvian.io.sources.SourceReadError`: corrupt
image, video that cannot be opened or stops decoding mid-way, camera that fails) is reported
through ``on_error`` and skipped, after its decoded frames have been processed and written;
the loop goes on with the next source and the failure is counted in the summary.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from vitruvian.io.records import make_row
from vitruvian.io.sources import Frame, Source, SourceReadError
from vitruvian.io.writers import PreviewWindow, RowWriter, annotate, annotate_people
from vitruvian.options import PoseOptions

if TYPE_CHECKING:
    from vitruvian.extract import FrameInfo

__all__ = [
    "FrameSink",
    "RunOptions",
    "RunSummary",
    "annotated_name",
    "annotated_name_pattern",
    "run_pose",
]


class FrameSink(Protocol):
    """Where annotated frames go (:class:`~vitruvian.io.writers.AnnotatedVideoWriter` or
    :class:`~vitruvian.io.writers.AnnotatedDirWriter`)."""

    def write(self, bgr: np.ndarray, name: str = ..., index: int | None = ...) -> None:
        """Store one annotated BGR frame; ``name`` is a file-name stem without extension,
        ``index`` the frame's index in its source."""


@dataclass(frozen=True)
class RunOptions:
    """The :class:`~vitruvian.solutions.pose.Pose` options and the frame limit of a run.

    Attributes:
        static_image_mode: ``True`` static mode for every source, ``False`` video mode for
            every source, ``None`` video mode for videos and cameras and static mode for
            images.
        model_complexity: 0 (lite), 1 (full) or 2 (heavy).
        smooth_landmarks: smooth landmarks across frames (video mode).
        enable_segmentation: predict the person mask (drawn on annotated frames).
        smooth_segmentation: smooth the mask across frames (video mode).
        min_detection_confidence: detector score threshold in [0, 1].
        min_tracking_confidence: pose-presence threshold in [0, 1].
        num_poses: up to this many people per frame, one row each (``person_id``).
        max_frames: process at most this many frames of each source (``None``: all).
        fail_fast: stop at the first input that fails (default: report it and go on).
        backend: the inference backend (``None``: ``$VITRUVIAN_BACKEND``, else ``"auto"``;
            see :mod:`vitruvian.models.backends`).
        batch_size: video files processed together in video mode, their crops batched
            (:meth:`vitruvian.extract.PoseExtractor.extract_many`); 1 processes one source
            after another. These videos then run first, before the other sources, and their
            rows interleave (each video's rows stay in order). Annotated output and the
            preview window need 1.
        workers: video files in video mode run in this many worker processes, one video per
            worker at a time (:mod:`vitruvian.parallel`), before the other sources; each
            video's rows are written, in the order of the sources, once it is done. 1 runs
            everything in this process.
    """

    static_image_mode: bool | None = None
    model_complexity: int = 1
    smooth_landmarks: bool = True
    enable_segmentation: bool = False
    smooth_segmentation: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    num_poses: int = 1
    max_frames: int | None = None
    fail_fast: bool = False
    backend: str | None = None
    batch_size: int = 1
    workers: int = 1

    @classmethod
    def from_pose_options(
        cls, pose: PoseOptions, static_image_mode: bool | None, **run: Any
    ) -> RunOptions:
        """The run of ``pose``'s options (its ``static_image_mode`` replaced by the tri-state
        ``static_image_mode``) and the run settings ``run`` (``max_frames=``, ...)."""
        values = pose.tracker_kwargs()
        return cls(static_image_mode=static_image_mode, **values, **run)

    def pose_options(self, static: bool) -> PoseOptions:
        """The Pose options of a source that runs in static mode (``static``) or video mode."""
        names = PoseOptions().tracker_kwargs()  # the option names besides static_image_mode
        return PoseOptions(static_image_mode=static, **{n: getattr(self, n) for n in names})


@dataclass
class RunSummary:
    """What a run did.

    Attributes:
        frames: frames (and images) processed.
        frames_with_pose: those in which a pose was found.
        process_seconds: total wall time spent in ``Pose.process()``, seconds.
        failed: the sources that could not be read (fully or in part), in order.
        stopped: ``None`` when every source was read to its end; ``"window"`` when the user
            closed the preview (Esc or ``q``); ``"interrupt"`` on Ctrl+C; ``"error"`` when
            an input failed and ``fail_fast`` was set.
    """

    frames: int = 0
    frames_with_pose: int = 0
    process_seconds: float = 0.0
    failed: list[SourceReadError] = field(default_factory=list)
    stopped: str | None = None

    @property
    def mean_process_ms(self) -> float | None:
        """Mean ``process()`` time per frame in milliseconds (``None`` without frames)."""
        return 1000.0 * self.process_seconds / self.frames if self.frames else None


def annotated_name(source: Source, frame: Frame) -> str:
    """File-name stem for an annotated frame: ``<image stem>`` for an image,
    ``<video stem>_<frame:06d>`` for a video frame, ``camera<N>_<frame:06d>`` for a camera."""
    if source.kind == "camera":
        return f"camera{source.camera}_{frame.index:06d}"
    stem = Path(source.name).stem if source.path is None else source.path.stem
    if source.kind == "image":
        return stem
    return f"{stem}_{frame.index:06d}"


def annotated_name_pattern(source: Source) -> re.Pattern[str]:
    """The PNG file names :func:`annotated_name` gives ``source``'s frames in a folder
    (``-2``, ``-3``, ... included), as a pattern for whole names."""
    if source.kind == "camera":
        stem, frames = f"camera{source.camera}", True
    else:
        stem = Path(source.name).stem if source.path is None else source.path.stem
        frames = source.kind != "image"
    index = r"_\d{6,}" if frames else ""
    return re.compile(rf"{re.escape(stem)}{index}(?:-\d+)?\.png")


def run_pose(
    sources: Sequence[Source],
    options: RunOptions,
    *,
    rows: Sequence[RowWriter] = (),
    annotated: FrameSink | None = None,
    window: PreviewWindow | None = None,
    on_error: Callable[[SourceReadError], None] | None = None,
    on_frame: Callable[[Frame | FrameInfo], None] | None = None,
    summary: RunSummary | None = None,
    on_wait: Callable[[], None] | None = None,
) -> RunSummary:
    """Run pose estimation over ``sources`` and write every frame's row and annotated image.

    Args:
        sources: the inputs, in order (from :func:`~vitruvian.io.sources.resolve_sources`).
        options: the ``Pose`` options and frame limit.
        rows: landmark-table writers; each gets one row per frame
            (:func:`~vitruvian.io.records.make_row`). The caller closes them.
        annotated: receives each annotated frame (BGR), if given. The caller closes it.
        window: shows each annotated frame, if given; Esc or ``q`` there stops the run.
        on_error: called with each source that fails (the run goes on with the next one).
        on_frame: called after each frame is processed and written (progress display), with
            the frame (or, for videos batched with ``options.batch_size`` or run by
            ``options.workers``, its :class:`~vitruvian.extract.FrameInfo`).
        on_wait: with ``options.workers > 1``, called a few times a second while waiting for
            the workers (it may raise ``KeyboardInterrupt`` to stop the run).
        summary: a :class:`RunSummary` to fill in as the run goes (a new one by default), so
            that the caller has the counts even when an exception (a write error) ends the run.

    Returns:
        The :class:`RunSummary`; its ``frames`` are those whose rows were handed to every
        writer. Ctrl+C (``KeyboardInterrupt``) ends the run early with
        ``stopped="interrupt"`` instead of propagating, so the caller can still close (and so
        flush) its writers.
    """
    from vitruvian.extract import prefetch
    from vitruvian.solutions.pose import Pose

    summary = RunSummary() if summary is None else summary
    poses: dict[bool, Pose] = {}
    stream_key: dict[bool, tuple[int, str | None]] = {}
    draw = annotated is not None or window is not None

    def is_static(source: Source) -> bool:
        if options.static_image_mode is not None:
            return options.static_image_mode
        return not source.is_stream

    def pose_for(source: Source) -> tuple[Pose, bool]:
        static = is_static(source)
        if static not in poses:
            poses[static] = Pose(
                **options.pose_options(static).as_kwargs(), backend=options.backend
            )
        pose = poses[static]
        # Each video or camera is a stream of its own; images of one SOURCE (a folder of
        # frames) in video mode make one stream.
        key = (source.group, source.name if source.is_stream else None)
        if not static and stream_key.get(static) != key:
            pose.reset()
            stream_key[static] = key
        return pose, static

    def handle(source: Source, frame: Frame, pose: Pose, static: bool) -> bool:
        """Process and write one frame; ``False`` when the user asked to stop."""
        timestamp = None if static else frame.timestamp_s
        started = time.perf_counter()
        try:
            results = pose.process(frame.rgb, timestamp)
        except (TypeError, ValueError) as exc:  # e.g. an image too large for OpenCV's warps
            raise SourceReadError(frame.source, f"frame {frame.index}: {exc}", frame.index) from exc
        summary.process_seconds += time.perf_counter() - started
        height, width = frame.rgb.shape[:2]
        people = results.poses or [None]
        for person in people:
            row = make_row(frame.source, frame.index, frame.timestamp_s, width, height, person)
            for writer in rows:
                writer.write(row)
        summary.frames += 1
        summary.frames_with_pose += results.pose is not None
        keep_going = True
        if draw:
            bgr = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR)
            if options.num_poses > 1:
                image = annotate_people(bgr, results.poses or [], results.multi_segmentation_masks)
            else:
                image = annotate(bgr, results.pose, results.segmentation_mask)
            if annotated is not None:
                annotated.write(image, annotated_name(source, frame), frame.index)
            if window is not None:
                keep_going = window.show(image)
        if on_frame is not None:
            on_frame(frame)
        return keep_going

    def frames_of(source: Source) -> Generator[Frame, None, None]:
        # --fail-fast stops at a video's first undecodable frame; otherwise it is skipped.
        frames = source.frames(options.max_frames, skip_undecodable=not options.fail_fast)
        return prefetch(frames) if source.kind == "video" else frames

    def split_videos() -> tuple[list[Source], list[Source]]:
        """The video files that run in video mode, and the other sources."""
        videos = [s for s in sources if s.kind == "video" and not is_static(s)]
        return videos, [s for s in sources if not (s.kind == "video" and not is_static(s))]

    if options.workers > 1:
        if draw:
            raise ValueError("workers > 1 cannot be combined with annotated output or a window")
        parallel, sources = split_videos()
        if parallel:
            try:
                if not _run_parallel(parallel, options, rows, summary, on_error, on_frame, on_wait):
                    return summary
            except KeyboardInterrupt:
                summary.stopped = "interrupt"
                return summary

    if options.batch_size > 1:
        if options.num_poses > 1:
            raise ValueError("batch_size > 1 follows one person per video: use num_poses=1")
        if draw:
            raise ValueError("batch_size > 1 cannot be combined with annotated output or a window")
        batched, sources = split_videos()
        if batched:
            try:
                if not _run_batched(batched, options, rows, summary, on_error, on_frame):
                    return summary
            except KeyboardInterrupt:
                summary.stopped = "interrupt"
                return summary

    try:
        for source in sources:
            pose, static = pose_for(source)
            try:
                with closing(frames_of(source)) as frames:
                    for frame in frames:
                        if not handle(source, frame, pose, static):
                            summary.stopped = "window"
                            return summary
            except SourceReadError as exc:
                summary.failed.append(exc)
                if on_error is not None:
                    on_error(exc)
                if options.fail_fast:
                    summary.stopped = "error"
                    return summary
    except KeyboardInterrupt:
        summary.stopped = "interrupt"
    finally:
        for pose in poses.values():
            pose.close()
    return summary


class _StopRun(Exception):
    """Raised through the batched extraction when ``fail_fast`` stops the run."""


def _run_parallel(
    sources: Sequence[Source],
    options: RunOptions,
    rows: Sequence[RowWriter],
    summary: RunSummary,
    on_error: Callable[[SourceReadError], None] | None,
    on_frame: Callable[[Frame | FrameInfo], None] | None,
    on_wait: Callable[[], None] | None,
) -> bool:
    """Video files in video mode on ``options.workers`` processes; their rows are written in
    the order of ``sources`` as the videos are done. ``False`` if stopped (``--fail-fast``)."""
    from vitruvian.extract import FrameInfo
    from vitruvian.parallel import VideoJob, make_engine

    pose = options.pose_options(False).as_kwargs()
    jobs = [
        VideoJob(s.name, options.max_frames, None, pose, None if s.path is None else str(s.path))
        for s in sources
    ]
    done: dict[int, Any] = {}
    positions: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):  # a video given twice is two streams with the same rows
        positions.setdefault(job.source, []).append(i)
    written = 0
    engine = make_engine("local", options.workers, pose, backend=options.backend)
    try:
        for outcome in engine.run(jobs, on_wait=on_wait):
            done[positions[outcome.source].pop(0)] = outcome
            while written in done:  # the next video in order is ready: write it
                outcome = done.pop(written)
                written += 1
                previous = None
                for row in outcome.rows or []:  # a frame's rows (one per person) are together
                    for writer in rows:
                        writer.write(row)
                    if on_frame is not None and row["frame"] != previous:
                        previous = row["frame"]
                        on_frame(
                            FrameInfo(
                                row["source"],
                                row["frame"],
                                row["timestamp_s"],
                                row["image_width"],
                                row["image_height"],
                            )
                        )
                summary.frames += outcome.frames
                summary.frames_with_pose += outcome.frames_with_pose
                summary.process_seconds += outcome.seconds
                if outcome.error is not None:
                    prefix = f"{outcome.source}: "
                    message = outcome.error.removeprefix(prefix)
                    exc = SourceReadError(outcome.source, message)
                    summary.failed.append(exc)
                    if on_error is not None:
                        on_error(exc)
                    if options.fail_fast:
                        summary.stopped = "error"
                        return False
    finally:
        engine.close()
    return True


def _run_batched(
    sources: Sequence[Source],
    options: RunOptions,
    rows: Sequence[RowWriter],
    summary: RunSummary,
    on_error: Callable[[SourceReadError], None] | None,
    on_frame: Callable[[Frame | FrameInfo], None] | None,
) -> bool:
    """Video files in video mode, ``options.batch_size`` at a time; ``False`` if stopped."""
    from vitruvian.extract import PoseExtractor

    def failed(exc: SourceReadError) -> None:
        summary.failed.append(exc)
        if on_error is not None:
            on_error(exc)
        if options.fail_fast:
            raise _StopRun

    kwargs = options.pose_options(False).tracker_kwargs()
    del kwargs["num_poses"]  # one person per video (checked by run_pose)
    with PoseExtractor(**kwargs, backend=options.backend) as extractor:
        results = extractor._extract_many(
            list(sources),
            options.batch_size,
            options.max_frames,
            on_error=failed,
            skip_undecodable=not options.fail_fast,
        )
        try:
            started = time.perf_counter()
            for info, pose in results:
                summary.process_seconds += time.perf_counter() - started
                row = make_row(
                    info.source, info.index, info.timestamp_s, info.width, info.height, pose
                )
                for writer in rows:
                    writer.write(row)
                summary.frames += 1
                summary.frames_with_pose += pose is not None
                if on_frame is not None:
                    on_frame(info)
                started = time.perf_counter()
        except _StopRun:
            summary.stopped = "error"
            return False
        finally:
            results.close()
    return True
