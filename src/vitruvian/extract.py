"""Batch pose extraction from video files, with decoding overlapped with inference.

:func:`extract_video` (or :class:`PoseExtractor`, to reuse the loaded models across videos) runs
video-mode BlazePose (:class:`~vitruvian.tracking.PoseTracker`: tracking and smoothing) over
every frame of a video file and yields one ``(FrameInfo, PoseResult | None)`` pair per frame,
in order::

    from vitruvian.extract import extract_video

    rows = []
    for info, pose in extract_video("squats.mp4", model_complexity=1):
        if pose is not None:
            rows.append((info.index, info.timestamp_s, pose.landmarks))

Design. With tracking, the region the landmark model looks at in frame ``t + 1`` comes from the
landmarks of frame ``t``, so neither the crop nor the inference of the next frame can start
before the current one is done: the per-frame work is one sequential chain. What does not
depend on it is *decoding*: ``cv2.VideoCapture.read`` and the BGR to RGB conversion (about 2 ms
per 720p H.264 frame, against 8 ms for the rest of a full-model frame on two cores). So one
background thread decodes (:func:`prefetch`) into a bounded queue (:data:`DEFAULT_QUEUE_SIZE`
frames, so memory stays bounded however long the video), and the caller's thread takes the
frames in order and runs the models. OpenCV and LiteRT release the GIL while they work, so the
two threads run in parallel; the models' own XNNPACK threads are unchanged.

What it buys depends on spare cores. Measured on two cores (``vitruvian bench --mode
extract``), where the models' two XNNPACK threads already keep both cores busy during
inference, it is about even with the plain loop (within +-5 %, the sign varying from run to
run): decoding then competes with inference for the same cores, and the crop (``cv2.remap``) of
a frame converted on the other core reads colder memory (0.75-0.85 ms instead of 0.40-0.45 ms
per frame). With a core to spare (one inference thread on two cores) it gains 2-6 %. Larger
queues do not help: decoding is faster than inference, so the queue is always full.

The results are those of the frame loop that ``vitruvian run`` uses: the same frames (decoded by
:class:`vitruvian.io.sources.Source`, orientation metadata applied), the same timestamps (the
container's presentation times, made strictly increasing, see :mod:`vitruvian.io.sources`)
given to the tracker in microseconds exactly as ``Pose.process(rgb, timestamp=seconds)`` does.

Errors: a file that cannot be opened, or whose decoding stops before the frame count its
container announces, raises :class:`~vitruvian.io.sources.SourceReadError` (naming the frame
index) in the consumer, after every frame decoded before the failure has been yielded. The
decoding thread is always stopped and joined: when the video ends, when it fails, and when the
consumer stops early (``break`` out of the loop, an exception, or ``close()`` on the generator;
a generator that is merely dropped is closed when it is garbage-collected).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar, cast

from vitruvian.io.sources import (
    IMAGE_EXTENSIONS,
    Frame,
    Source,
    SourceReadError,
    display_name,
    probe_video,
)
from vitruvian.tracking import PoseTracker, seconds_to_us, track_batch
from vitruvian.types import PoseResult

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "FrameInfo",
    "PoseExtractor",
    "extract_video",
    "extract_videos",
    "prefetch",
    "video_source",
]

#: Decoded frames the background thread may hold ahead of the consumer (about 2.8 MB each at
#: 720p). Decoding is several times faster than inference, so the queue stays full and a few
#: frames are enough to absorb the jitter of either side (8 measured no faster than 4).
DEFAULT_QUEUE_SIZE = 4

#: How long the decoding thread waits on a full queue before checking whether to stop, seconds.
_PUT_POLL_S = 0.05

T = TypeVar("T")


@dataclass(frozen=True)
class FrameInfo:
    """Where a result comes from (the pixels themselves are not kept).

    Attributes:
        source: the video's path, as given.
        index: 0-based index of the frame in the video.
        timestamp_s: the frame's presentation time in seconds (strictly increasing; see
            :mod:`vitruvian.io.sources`).
        width: the frame's width in pixels (upright, orientation metadata applied).
        height: the frame's height in pixels.
    """

    source: str
    index: int
    timestamp_s: float
    width: int
    height: int


class _Failure:
    """An exception raised by the producer, carried through the queue to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def prefetch(
    items: Iterable[T], maxsize: int = DEFAULT_QUEUE_SIZE, *, name: str = "vitruvian-decode"
) -> Generator[T, None, None]:
    """Iterate over ``items`` in a background thread, up to ``maxsize`` items ahead.

    The items come out in their original order. ``items`` is iterated (and, when it is a
    generator, closed) only by the background thread, so a generator such as
    :meth:`vitruvian.io.sources.Source.frames` does all its work, opening the file included,
    there.

    Args:
        items: what to iterate over, e.g. ``source.frames()``.
        maxsize: the queue's bound (>= 1): at most this many items wait for the consumer.
        name: the thread's name (shown by debuggers and ``threading.enumerate()``).

    Yields:
        The items of ``items``, in order.

    Raises:
        BaseException: whatever iterating over ``items`` raised, re-raised here after every
            item produced before it has been yielded (with its original traceback).

    The thread is stopped and joined when this generator finishes, raises or is closed early
    (use ``contextlib.closing`` or ``break`` out of a ``for`` loop; a dropped generator is
    closed by the garbage collector). Stopping waits for the item being produced, e.g. one
    frame's decoding.
    """
    if maxsize < 1:
        raise ValueError(f"maxsize must be >= 1, got {maxsize}")
    buffer: queue.Queue[object] = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Queue ``item``; ``False`` when the consumer has stopped meanwhile."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=_PUT_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, who re-raises it
            put(_Failure(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)
    finally:
        stop.set()
        while thread.is_alive():
            # Make room for a producer blocked on a full queue, then wait for it to notice.
            try:
                while True:
                    buffer.get_nowait()
            except queue.Empty:
                pass
            thread.join(_PUT_POLL_S)


def video_source(path: str | os.PathLike[str]) -> Source:
    """A :class:`~vitruvian.io.sources.Source` for one video file, with the frame count and
    frame rate its container announces (so that a truncated file is reported as such).

    Raises:
        SourceReadError: ``path`` is not a file, or is an image.
    """
    name = os.fspath(path)
    file = Path(name)
    if not file.is_file():
        raise SourceReadError(name, "no such file")
    if file.suffix.lower() in IMAGE_EXTENSIONS:
        raise SourceReadError(
            name, "this is an image, not a video (use Pose(static_image_mode=True))"
        )
    # A file that cannot be opened is reported by Source.frames() (in the decoding thread).
    count, fps = probe_video(file)
    return Source("video", display_name(name), 0, path=file, frame_count=count, fps=fps)


class PoseExtractor:
    """Video-mode pose extraction over whole video files, models loaded once.

    Args:
        model_complexity: 0 (lite), 1 (full) or 2 (heavy) landmark model.
        enable_segmentation: also predict the person mask (``PoseResult.segmentation_mask``,
            one full-size float32 array per frame: mind the memory when keeping them).
        smooth_landmarks: filter landmarks across frames.
        smooth_segmentation: blend each mask with the previous one.
        min_detection_confidence: minimum person-detector score, in [0, 1].
        min_tracking_confidence: minimum pose-presence score to keep tracking, in [0, 1].
        num_threads: CPU threads for the models (``None``: up to 4).
        queue_size: decoded frames held ahead of inference (>= 1), per video.
        backend: the inference backend (see :class:`~vitruvian.pipeline.PosePipeline`).
        num_poses: people tracked per video (:class:`~vitruvian.tracking.PoseTracker`'s;
            :meth:`extract_people` gives them all, :meth:`extract` the first).

    The options mean what they mean for :class:`vitruvian.solutions.pose.Pose` in video mode.
    Each :meth:`extract` call is a new stream (tracking and filters start afresh). Not
    thread-safe: one extraction at a time per extractor. After :meth:`close` (which may be
    called again harmlessly) :meth:`extract` and :meth:`extract_many` raise
    :class:`RuntimeError` at once, before any file is opened.
    """

    def __init__(
        self,
        *,
        model_complexity: int = 1,
        enable_segmentation: bool = False,
        smooth_landmarks: bool = True,
        smooth_segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        num_threads: int | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        backend: str | None = None,
        num_poses: int = 1,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.queue_size = int(queue_size)
        self.tracker = PoseTracker(
            model_complexity=model_complexity,
            enable_segmentation=enable_segmentation,
            smooth_landmarks=smooth_landmarks,
            smooth_segmentation=smooth_segmentation,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            num_threads=num_threads,
            backend=backend,
            num_poses=num_poses,
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (the models are then released)."""
        return self.tracker.closed

    def _check_open(self, method: str) -> None:
        """Raise the after-close error for ``method`` once the models are released."""
        if self.tracker.closed:
            raise RuntimeError(
                f"PoseExtractor.{method}() called after close(); create a new PoseExtractor"
            )

    def extract(
        self, path: str | os.PathLike[str], *, max_frames: int | None = None
    ) -> Iterator[tuple[FrameInfo, PoseResult | None]]:
        """Run the pose tracker over a video file's frames, decoding them in the background.

        Args:
            path: the video file.
            max_frames: stop after this many frames (``None``: all).

        Yields:
            ``(FrameInfo, PoseResult | None)`` per frame, in order; ``None`` when no person was
            found in the frame.

        Raises:
            RuntimeError: the extractor has been closed (raised by this call, not on iteration).
            SourceReadError: the file does not exist, is an image, cannot be opened, or stops
                decoding before its announced frame count (after the frames before are
                yielded); ``error.frame`` is the index of the frame that could not be read.
        """
        self._check_open("extract")
        return self._extract(video_source(path), max_frames)

    def extract_people(
        self, path: str | os.PathLike[str], *, max_frames: int | None = None
    ) -> Iterator[tuple[FrameInfo, list[PoseResult]]]:
        """:meth:`extract` with every person tracked (up to ``num_poses``): yields
        ``(FrameInfo, people)`` per frame, ``people`` ordered by ``person_id`` (empty when
        nobody was found). Raises what :meth:`extract` raises."""
        self._check_open("extract_people")
        return self._extract_people(video_source(path), max_frames)

    def _extract(
        self, source: Source, max_frames: int | None
    ) -> Iterator[tuple[FrameInfo, PoseResult | None]]:
        for info, people in self._extract_people(source, max_frames):
            yield info, people[0] if people else None

    def _extract_people(
        self, source: Source, max_frames: int | None, skip_undecodable: bool = True
    ) -> Iterator[tuple[FrameInfo, list[PoseResult]]]:
        tracker = self.tracker
        tracker.reset()
        frames = prefetch(
            source.frames(max_frames, skip_undecodable=skip_undecodable), self.queue_size
        )
        try:
            for frame in frames:
                info = _frame_info(frame)
                people = tracker.process_all(frame.rgb, seconds_to_us(frame.timestamp_s))
                del frame  # do not hold the pixels while the consumer works
                yield info, people
        finally:
            frames.close()

    def extract_many(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        batch_size: int = 8,
        max_frames: int | None = None,
    ) -> Iterator[tuple[FrameInfo, PoseResult | None]]:
        """Video-mode pose over many videos, ``batch_size`` at a time, crops batched.

        Tracking makes the frames of one video a sequential chain, so batching happens across
        videos: up to ``batch_size`` videos are open at once (each decoded by its own
        background thread, tracked by its own tracker), and each step runs their next frames
        together with :func:`~vitruvian.tracking.track_batch`: one landmark-model call for all
        the tracked frames, one detector call for those that need it. When a video ends, the
        next one takes its place. Each video's results are those :meth:`extract` gives it.

        Args:
            paths: the video files (checked before anything is decoded).
            batch_size: videos processed together (>= 1); on a GPU, larger is faster up to its
                memory; on the CPU, LiteRT gains nothing from it (its items run one by one).
            max_frames: at most this many frames per video.

        Yields:
            ``(FrameInfo, PoseResult | None)`` per frame. Each video's frames come in order;
            videos are interleaved (``FrameInfo.source`` says which is which).

        Raises:
            RuntimeError: the extractor has been closed (raised by this call, not on iteration).
            SourceReadError: as for :meth:`extract`; a video that fails stops the whole run
                after the results produced before the failure have been yielded.
        """
        self._check_open("extract_many")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        return self._extract_many([video_source(path) for path in paths], batch_size, max_frames)

    def _extract_many(
        self,
        sources: list[Source],
        batch_size: int,
        max_frames: int | None,
        on_error: Callable[[SourceReadError], None] | None = None,
        skip_undecodable: bool = True,
    ) -> Generator[tuple[FrameInfo, PoseResult | None], None, None]:
        """:meth:`extract_many` on resolved sources. With ``on_error``, a video that fails is
        handed to it and dropped, and the others go on; without, the error is raised.
        ``skip_undecodable`` is :meth:`~vitruvian.io.sources.Source.frames`'s."""
        pending = list(reversed(sources))  # pop() takes them in the order given
        slots: list[tuple[PoseTracker, Generator[Frame, None, None]]] = []

        def open_next() -> None:
            while pending and len(slots) < batch_size:
                frames = pending.pop().frames(max_frames, skip_undecodable=skip_undecodable)
                slots.append((self.tracker.sibling(), prefetch(frames, self.queue_size)))

        def next_frame(slot: tuple[PoseTracker, Generator[Frame, None, None]]) -> Frame | None:
            try:
                return next(slot[1], None)
            except SourceReadError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                return None

        try:
            open_next()
            while slots:
                step: list[tuple[PoseTracker, Frame]] = []
                for slot in list(slots):
                    frame = next_frame(slot)
                    if frame is None:
                        slots.remove(slot)
                        slot[1].close()
                    else:
                        step.append((slot[0], frame))
                open_next()
                if not step:
                    continue
                infos = [_frame_info(frame) for _, frame in step]
                poses = track_batch(
                    [tracker for tracker, _ in step],
                    [frame.rgb for _, frame in step],
                    [seconds_to_us(frame.timestamp_s) for _, frame in step],
                )
                del step  # do not hold the pixels while the consumer works
                yield from zip(infos, poses, strict=True)
        finally:
            for _, frames in slots:
                frames.close()

    def close(self) -> None:
        """Release the models. Calling it again is harmless."""
        self.tracker.close()

    def __enter__(self) -> PoseExtractor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _frame_info(frame: Frame) -> FrameInfo:
    assert frame.timestamp_s is not None  # always set for video files
    height, width = frame.rgb.shape[:2]
    return FrameInfo(frame.source, frame.index, frame.timestamp_s, width, height)


def extract_video(
    path: str | os.PathLike[str],
    *,
    model_complexity: int = 1,
    enable_segmentation: bool = False,
    smooth_landmarks: bool = True,
    smooth_segmentation: bool = True,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    num_threads: int | None = None,
    max_frames: int | None = None,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    backend: str | None = None,
) -> Iterator[tuple[FrameInfo, PoseResult | None]]:
    """Video-mode pose of every frame of a video file (see the module docstring).

    A one-shot :class:`PoseExtractor`: the models load when iteration starts and are released
    when it ends (or the generator is closed). Arguments as for :class:`PoseExtractor` and
    :meth:`PoseExtractor.extract`.

    Yields:
        ``(FrameInfo, PoseResult | None)`` per frame, in order.

    Raises:
        SourceReadError: see :meth:`PoseExtractor.extract` (a missing file or an image is
            reported before the models are loaded).
    """
    source = video_source(path)
    with PoseExtractor(
        model_complexity=model_complexity,
        enable_segmentation=enable_segmentation,
        smooth_landmarks=smooth_landmarks,
        smooth_segmentation=smooth_segmentation,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        num_threads=num_threads,
        queue_size=queue_size,
        backend=backend,
    ) as extractor:
        results = extractor._extract(source, max_frames)
        try:
            yield from results
        finally:
            results.close()


def extract_videos(
    paths: Iterable[str | os.PathLike[str]],
    *,
    batch_size: int = 8,
    model_complexity: int = 1,
    enable_segmentation: bool = False,
    smooth_landmarks: bool = True,
    smooth_segmentation: bool = True,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
    num_threads: int | None = None,
    max_frames: int | None = None,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    backend: str | None = None,
) -> Iterator[tuple[FrameInfo, PoseResult | None]]:
    """Video-mode pose of every frame of many videos, ``batch_size`` videos at a time with
    their crops batched (see :meth:`PoseExtractor.extract_many`).

    A one-shot :class:`PoseExtractor`; arguments as for it and
    :meth:`PoseExtractor.extract_many`. With ``backend="onnxruntime-cuda"`` this is the fast
    way through a large collection of videos on a GPU.

    Yields:
        ``(FrameInfo, PoseResult | None)`` per frame; each video's frames in order, videos
        interleaved.
    """
    paths = list(paths)
    for path in paths:
        video_source(path)  # a missing file or an image is reported before the models load
    with PoseExtractor(
        model_complexity=model_complexity,
        enable_segmentation=enable_segmentation,
        smooth_landmarks=smooth_landmarks,
        smooth_segmentation=smooth_segmentation,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        num_threads=num_threads,
        queue_size=queue_size,
        backend=backend,
    ) as extractor:
        results = extractor.extract_many(paths, batch_size=batch_size, max_frames=max_frames)
        try:
            yield from results
        finally:
            results.close()
