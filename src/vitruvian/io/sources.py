"""Input sources for ``vitruvian run``: images, folders, globs, video files and cameras.

A SOURCE argument is resolved by :func:`resolve_sources` into one or more :class:`Source`
objects, whose :meth:`Source.frames` yields :class:`Frame` objects lazily, one decoded frame at
a time: a long video is never held in memory.

How a SOURCE string is read, in this order:

* all digits (``0``, ``1``): a camera index, opened with ``cv2.VideoCapture(index)``; to read a
  file named ``0``, write ``./0``;
* an existing folder: every image file directly inside it (by extension, see
  :data:`IMAGE_EXTENSIONS`; not recursive; sorted by name);
* an existing file: an image if its extension is in :data:`IMAGE_EXTENSIONS`, else a video;
* a string with ``*``, ``?`` or ``[``: a glob (``**`` recurses), sorted; matching images and
  videos (by extension, :data:`VIDEO_EXTENSIONS`) are used, other files ignored;
* anything else is an error (:class:`SourceSpecError`).

Decoding:

* Images are read with ``cv2.imread(path, cv2.IMREAD_COLOR)``: 8-bit, 3 channels, and OpenCV
  applies the EXIF orientation tag, so the frame is upright as a viewer shows it.
* Videos and cameras are read with ``cv2.VideoCapture``. Rotation metadata of video files
  (e.g. phone videos stored sideways with a "rotate 90" tag) is applied by OpenCV when
  ``CAP_PROP_ORIENTATION_AUTO`` is on; it is OpenCV's default for the FFmpeg backend, and
  :func:`open_capture` sets it explicitly, so frames (and ``image_width``/``image_height``) are
  upright as a player shows them.
* Frames are converted from OpenCV's BGR to RGB (``Frame.rgb``).

Timestamps (``Frame.timestamp_s``, seconds):

* video files: the frame's presentation time from the container,
  ``CAP_PROP_POS_MSEC / 1000`` read after decoding the frame (0.0 for the first frame of most
  files). Times are made strictly increasing, as video-mode tracking needs: a frame whose time
  is missing, negative or not after the previous one gets the previous time plus one frame
  interval (``1 / fps``, or 1/30 s when the frame rate is unknown).
* cameras: seconds on the monotonic clock since the first frame was read.
* images: ``None``.

End of a video: OpenCV reports a decoding failure and the end of the file the same way. When
a file whose container stores an exact frame count (MP4/MOV/M4V/3GP and AVI, see
:data:`EXACT_COUNT_EXTENSIONS`) ends before that count, :meth:`Source.frames` raises
:class:`SourceReadError` naming the frame index where decoding stopped, after yielding every
frame it could decode. Other containers only carry an estimated count (duration x fps), so a
short read there is taken as the end of the file.
"""

from __future__ import annotations

import glob
import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "EXACT_COUNT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Frame",
    "Source",
    "SourceError",
    "SourceReadError",
    "SourceSpecError",
    "open_capture",
    "quiet_opencv_logs",
    "resolve_sources",
    "total_frames",
]

#: File extensions read as still images (lower case), the formats ``cv2.imread`` decodes.
IMAGE_EXTENSIONS = frozenset(
    {
        ".avif",
        ".bmp",
        ".dib",
        ".exr",
        ".hdr",
        ".jp2",
        ".jpe",
        ".jpeg",
        ".jpg",
        ".pbm",
        ".pfm",
        ".pgm",
        ".pic",
        ".png",
        ".pnm",
        ".ppm",
        ".pxm",
        ".ras",
        ".sr",
        ".tif",
        ".tiff",
        ".webp",
    }
)

#: File extensions a glob picks up as videos (a file named directly is tried as a video
#: whatever its extension, unless it is an image).
VIDEO_EXTENSIONS = frozenset(
    {
        ".3g2",
        ".3gp",
        ".avi",
        ".flv",
        ".m2ts",
        ".m4v",
        ".mkv",
        ".mov",
        ".mp4",
        ".mpeg",
        ".mpg",
        ".mts",
        ".ogv",
        ".ts",
        ".webm",
        ".wmv",
    }
)

#: Containers whose frame count OpenCV reads from the file's index rather than estimating it
#: from duration x fps: a video of this kind that ends early is reported as truncated.
EXACT_COUNT_EXTENSIONS = frozenset({".3g2", ".3gp", ".avi", ".m4v", ".mov", ".mp4"})

_GLOB_CHARS = frozenset("*?[")
_DEFAULT_FPS = 30.0


class SourceError(Exception):
    """Base class of the errors raised for input sources."""


class SourceSpecError(SourceError, ValueError):
    """A SOURCE argument names nothing usable (missing file, empty folder, glob without match).

    Raised by :func:`resolve_sources` before any frame is read.
    """


class SourceReadError(SourceError, OSError):
    """A source could not be read: a corrupt image, a video or camera that cannot be opened, or
    a video whose decoding stopped early.

    Attributes:
        source: the source's name (the ``source`` column: a path or ``camera:N``).
        frame: the 0-based index of the frame that could not be read (``None`` when the source
            could not be opened at all).
    """

    def __init__(self, source: str, message: str, frame: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.frame = frame


@dataclass(frozen=True)
class Frame:
    """One decoded image or video frame.

    Attributes:
        source: the source's name: the file path as given on the command line (for a folder,
            the folder joined with the file name) or ``camera:N``.
        index: 0-based index of the frame within its source (0 for an image).
        timestamp_s: the frame's time in seconds (see the module docstring), ``None`` for an
            image.
        rgb: ``(H, W, 3)`` uint8 RGB pixels, C-contiguous, upright (orientation metadata
            applied).
    """

    source: str
    index: int
    timestamp_s: float | None
    rgb: np.ndarray


@dataclass(frozen=True)
class Source:
    """One input: an image file, a video file or a camera.

    Attributes:
        kind: ``"image"``, ``"video"`` or ``"camera"``.
        name: the ``source`` column value: the path as given (folders joined with the file
            name) or ``camera:N``.
        group: index of the SOURCE argument this came from (a folder or glob gives several
            sources with one group; a video-mode stream is restarted when the group changes).
        path: the file, or ``None`` for a camera.
        camera: the camera index, or ``None``.
        frame_count: number of frames when known beforehand (1 for an image, the container's
            count for a video), else ``None`` (cameras, unreadable videos).
        fps: the video's frame rate in frames per second when known, else ``None``.
    """

    kind: str
    name: str
    group: int
    path: Path | None = None
    camera: int | None = None
    frame_count: int | None = None
    fps: float | None = None

    @property
    def is_stream(self) -> bool:
        """Whether this is a video file or a camera (video mode by default)."""
        return self.kind in ("video", "camera")

    def frames(self, max_frames: int | None = None) -> Iterator[Frame]:
        """Decode the source's frames lazily, in order.

        Args:
            max_frames: stop after this many frames (``None``: all; a camera then runs until
                it fails or the caller stops iterating).

        Yields:
            One :class:`Frame` at a time.

        Raises:
            SourceReadError: the source cannot be opened or decoded (raised after every frame
                that could be decoded has been yielded).
        """
        if max_frames is not None and max_frames <= 0:
            return
        if self.kind == "image":
            yield self._read_image()
        else:
            yield from self._read_capture(max_frames)

    def _read_image(self) -> Frame:
        assert self.path is not None
        if not self.path.is_file():
            raise SourceReadError(self.name, "no such file", frame=0)
        bgr = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if bgr is None or bgr.size == 0:
            raise SourceReadError(
                self.name, "cannot decode the image (corrupt or unsupported format)", frame=0
            )
        return Frame(self.name, 0, None, _to_rgb(bgr))

    def _read_capture(self, max_frames: int | None) -> Iterator[Frame]:
        what = "camera" if self.kind == "camera" else "video"
        if self.kind == "video":
            assert self.path is not None
            if not self.path.is_file():
                raise SourceReadError(self.name, "no such file")
            capture = open_capture(str(self.path))
        else:
            assert self.camera is not None
            capture = open_capture(self.camera)
        if not capture.isOpened():
            capture.release()
            reason = (
                "cannot open the camera (no such device, busy, or no permission)"
                if self.kind == "camera"
                else "cannot open the video (not a video, or a truncated or corrupt file)"
            )
            raise SourceReadError(self.name, reason)
        fps = _positive(capture.get(cv2.CAP_PROP_FPS)) or self.fps or _DEFAULT_FPS
        expected = self.frame_count
        index = 0
        previous: float | None = None
        first_read: float | None = None
        try:
            while max_frames is None or index < max_frames:
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    break
                if self.kind == "camera":
                    now = time.monotonic()
                    first_read = now if first_read is None else first_read
                    stamp = now - first_read
                else:
                    stamp = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                stamp = _monotonic_time(stamp, previous, 1.0 / fps)
                previous = stamp
                yield Frame(self.name, index, stamp, _to_rgb(bgr))
                index += 1
        finally:
            capture.release()
        if max_frames is not None and index >= max_frames:
            return
        if self.kind == "camera":
            raise SourceReadError(
                self.name, f"the camera stopped delivering frames at frame {index}", frame=index
            )
        if index == 0:
            raise SourceReadError(self.name, f"no frame could be decoded from the {what}", frame=0)
        exact = self.path is not None and self.path.suffix.lower() in EXACT_COUNT_EXTENSIONS
        if exact and expected is not None and index < expected:
            raise SourceReadError(
                self.name,
                f"decoding stopped at frame {index} of {expected} (truncated or corrupt video); "
                f"frames 0-{index - 1} were processed",
                frame=index,
            )


def _to_rgb(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _positive(value: float) -> float | None:
    return float(value) if math.isfinite(value) and value > 0 else None


def _monotonic_time(stamp: float, previous: float | None, step: float) -> float:
    """``stamp`` (seconds), replaced by ``previous + step`` unless finite, >= 0 and increasing."""
    valid = math.isfinite(stamp) and stamp >= 0.0
    if previous is None:
        return stamp if valid else 0.0
    # Compare in whole microseconds, the resolution of the tracker's clock.
    if valid and round(stamp * 1e6) > round(previous * 1e6):
        return stamp
    return previous + step


def open_capture(target: str | int) -> cv2.VideoCapture:
    """Open a video file (path) or a camera (index) with OpenCV, orientation metadata applied.

    Sets ``CAP_PROP_ORIENTATION_AUTO`` so that frames of files with a rotation tag come out
    upright (already OpenCV's default for the FFmpeg backend; a backend without the property
    ignores it). The caller checks ``isOpened()`` and calls ``release()``.

    Args:
        target: a file path, or a camera index.

    Returns:
        The ``cv2.VideoCapture``.
    """
    capture = cv2.VideoCapture(target)
    if capture.isOpened() and hasattr(cv2, "CAP_PROP_ORIENTATION_AUTO"):
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _probe_video(path: Path) -> tuple[int | None, float | None]:
    """The frame count and frame rate the container announces, or ``None`` when unknown."""
    capture = open_capture(str(path))
    try:
        if not capture.isOpened():
            return None, None
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = _positive(capture.get(cv2.CAP_PROP_FPS))
        return (int(count) if math.isfinite(count) and count > 0 else None), fps
    finally:
        capture.release()


def _file_source(path: Path, name: str, group: int) -> Source:
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return Source("image", name, group, path=path, frame_count=1)
    count, fps = _probe_video(path)
    return Source("video", name, group, path=path, frame_count=count, fps=fps)


def resolve_sources(specs: Sequence[str]) -> list[Source]:
    """Turn SOURCE arguments into :class:`Source` objects (see the module docstring).

    Videos are opened briefly to read their frame count and frame rate; nothing is decoded.
    A video that cannot be opened is still returned (its error comes when it is read).

    Args:
        specs: the SOURCE strings: file paths, folders, globs or camera indices.

    Returns:
        The sources in argument order (folders and globs expanded in sorted order).

    Raises:
        SourceSpecError: a SOURCE is no camera index, existing file, folder or matching glob,
            or a folder holds no image.
    """
    sources: list[Source] = []
    for group, spec in enumerate(specs):
        path = Path(spec)
        if spec.isdigit():
            index = int(spec)
            sources.append(Source("camera", f"camera:{index}", group, camera=index))
        elif path.is_dir():
            images = sorted(
                (p for p in path.iterdir() if p.is_file() and _is_image(p)), key=lambda p: p.name
            )
            if not images:
                raise SourceSpecError(
                    f"no image files in the folder {spec} (looked for "
                    f"{', '.join(sorted(IMAGE_EXTENSIONS))})"
                )
            sources.extend(Source("image", str(p), group, path=p, frame_count=1) for p in images)
        elif path.is_file():
            sources.append(_file_source(path, spec, group))
        elif _GLOB_CHARS.intersection(spec):
            matches = [
                Path(m)
                for m in sorted(glob.glob(spec, recursive=True))
                if os.path.isfile(m) and (_is_image(Path(m)) or _is_video(Path(m)))
            ]
            if not matches:
                raise SourceSpecError(f"no image or video file matches {spec}")
            sources.extend(_file_source(p, str(p), group) for p in matches)
        else:
            raise SourceSpecError(f"no such file or folder: {spec}")
    return sources


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def total_frames(sources: Sequence[Source], max_frames: int | None = None) -> int | None:
    """The number of frames all ``sources`` will give, or ``None`` when any count is unknown.

    Args:
        sources: the resolved sources.
        max_frames: the per-source limit, if any.
    """
    total = 0
    for source in sources:
        count = source.frame_count
        if max_frames is not None:
            count = max_frames if count is None else min(count, max_frames)
        if count is None:
            return None
        total += count
    return total


@contextmanager
def quiet_opencv_logs() -> Iterator[None]:
    """Silence OpenCV's and FFmpeg's own log lines on stderr for the duration of the block.

    OpenCV prints warnings (a camera index that does not exist, a codec it cannot open) and
    FFmpeg prints decoder complaints (``Invalid NAL unit size``) straight to stderr; the
    ``run`` command reports such failures itself, in one line. Sets OpenCV's log level to
    silent and ``OPENCV_FFMPEG_LOGLEVEL`` to quiet, and restores both afterwards.

    OpenCV hands ``OPENCV_FFMPEG_LOGLEVEL`` to FFmpeg only once per process, the first time it
    opens a file or camera through FFmpeg: enter this block before that for FFmpeg to be
    silenced, and FFmpeg then stays quiet for the rest of the process.
    """
    variable = "OPENCV_FFMPEG_LOGLEVEL"
    saved_env = os.environ.get(variable)
    os.environ[variable] = "-8"  # AV_LOG_QUIET
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    saved_level = None
    if logging is not None:
        saved_level = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        if logging is not None and saved_level is not None:
            logging.setLogLevel(saved_level)
        if saved_env is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = saved_env
