"""Input sources for ``vitruvian run``: images, folders, globs, video files and cameras.

A SOURCE argument is resolved by :func:`resolve_sources` into one or more :class:`Source`
objects, whose :meth:`Source.frames` yields :class:`Frame` objects lazily, one decoded frame at
a time: a long video is never held in memory.

How a SOURCE string is read, in this order:

* all digits (``0``, ``1``): a camera index, opened with ``cv2.VideoCapture(index)``; to read a
  file named ``0``, write ``./0``;
* an existing folder: the files a glob ``FOLDER/*`` takes (below): every image and video file
  directly inside it, by extension; not recursive; hidden files (name starting with ``.``)
  left out; sorted by name; each video its own source;
* an existing file: an image if its extension is in :data:`IMAGE_EXTENSIONS`, else a video;
* a string with ``*``, ``?`` or ``[``: a glob, with the rules of Python's ``glob`` module
  (``**`` as a whole path segment matches zero or more folders; ``*``, ``?`` and ``[...]`` do
  not match a leading ``.`` unless the pattern's segment starts with ``.``; case-sensitive),
  sorted; matching images and videos (by extension, :data:`IMAGE_EXTENSIONS` and
  :data:`VIDEO_EXTENSIONS`) are used, other files ignored;
* anything else is an error (:class:`SourceSpecError`).

Each real file is used once per SOURCE argument and each real folder is searched once (depth
first, in name order): a file reached under several names (symbolic links, hard links) keeps
the first name found, and a symbolic link back to a folder above it (``loop -> ..``) does not
make ``**`` walk forever. Folders and globs are walked by this module's own code
(``os.scandir``), so the results do not depend on the Python version.

Names: :attr:`Source.name` (the ``source`` column, and the name in messages) is always valid
text. A path whose bytes are not valid UTF-8 (Python holds them as surrogate escapes) is shown
with the bad bytes written as ``\\xNN`` (``caf\\xe9.jpg``); :attr:`Source.path` keeps the real
path, and such files are read like any other (see Decoding).

Decoding:

* Images are read with ``np.fromfile`` and decoded with ``cv2.imdecode(buffer,
  cv2.IMREAD_COLOR)`` (Python opens the file, so any file name works; ``cv2.imread`` crashes on
  a name that is not valid UTF-8): 8-bit, 3 channels, and OpenCV applies the EXIF orientation
  tag, so the frame is upright as a viewer shows it. An empty file, a file that cannot be read
  (no permission) or a folder named like an image raise :class:`SourceReadError` naming the
  operating system's error.
* Videos and cameras are read with ``cv2.VideoCapture``. OpenCV takes a file name as UTF-8
  text; for a video whose path is not valid UTF-8, this module opens the file itself and hands
  OpenCV ``/proc/self/fd/N`` on Linux (the descriptor stays open until the capture is
  released); on other systems such a video raises :class:`SourceReadError` asking to rename
  it. Rotation metadata of video files
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

Frame indices (``Frame.index``, 0-based) are the frames' real positions in the video: they
count up by one, except after frames that could not be decoded (below), which leave a gap.

Undecodable frames and the end of a video: OpenCV reports a frame it cannot decode and the end
of the file the same way, a failed ``read()``. A damaged video file (some bytes in the middle
overwritten or lost) gives a few failed reads and then decodes again, resuming some frames
later. So :meth:`Source.frames` (with ``skip_undecodable=True``, the default) does not stop at
the first failed read of a video file: it keeps reading through up to 2 seconds' worth of
failed reads in a row (2 x fps, at least 32), and, for a container with an exact frame count
(MP4/MOV/M4V/3GP and AVI, see :data:`EXACT_COUNT_EXTENSIONS`), up to as many as there are
frames not yet read (at most 10,000; a failed read at the end of a file takes about 50
microseconds). The first frame decoded after failed reads gets its real index from its
presentation time: the previous frame's index plus the time between the two in frame
intervals (``round(dt x fps)``); OpenCV's own frame counter (``CAP_PROP_POS_FRAMES``) counts
only the frames decoded and would give the wrong index. After the last frame,
:class:`SourceReadError` is raised:

* when frames were skipped: ``N frames could not be decoded and were skipped (frames a-b,
  c-d); the other M were processed``, with ``frame`` the first skipped index;
* when a file with an exact frame count ends before that count (truncated): ``decoding
  stopped at frame K of N``, with ``frame`` = K (combined with the above when both happen).

Other containers only carry an estimated count (duration x fps), so there the failed reads
after the last frame are taken as the end of the file, not reported. With
``skip_undecodable=False`` the first failed read ends the video (the rest is not read), and a
file with an exact count that ends before it is reported as stopped at that frame. Cameras
always stop at the first failed read.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import cv2
import numpy as np

from vitruvian.io.atomic import os_error_text

__all__ = [
    "EXACT_COUNT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Frame",
    "Source",
    "SourceError",
    "SourceReadError",
    "SourceSpecError",
    "display_name",
    "open_capture",
    "open_video_file",
    "probe_video",
    "quiet_opencv_logs",
    "resolve_sources",
    "total_frames",
]

#: File extensions read as still images (lower case), the formats ``cv2.imdecode`` decodes.
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

#: File extensions a folder or a glob picks up as videos (a file named directly is tried as a
#: video whatever its extension, unless it is an image). An animated GIF is read as a video.
VIDEO_EXTENSIONS = frozenset(
    {
        ".3g2",
        ".3gp",
        ".avi",
        ".flv",
        ".gif",
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

# Failed reads in a row that a video file is read past before it is taken as ended (see the
# module docstring): at least _MIN_READ_RETRIES and _READ_RETRY_S seconds of frames; for an
# exact-count container, as many as the frames not yet read, up to _MAX_READ_RETRIES.
_MIN_READ_RETRIES = 32
_READ_RETRY_S = 2.0
_MAX_READ_RETRIES = 10_000

# Where Linux names a process's open files; a video whose path is not UTF-8 is handed to OpenCV
# as a name in here.
_PROC_FD = "/proc/self/fd"


class SourceError(Exception):
    """Base class of the errors raised for input sources."""


class SourceSpecError(SourceError, ValueError):
    """A SOURCE argument names nothing usable (missing file, empty folder, glob without match).

    Raised by :func:`resolve_sources` before any frame is read.
    """


class SourceReadError(SourceError, OSError):
    """A source could not be read: an unreadable or corrupt image, a video or camera that cannot
    be opened, a video whose decoding stopped early, or one with frames that could not be
    decoded (raised after the frames that could).

    Attributes:
        source: the source's name (the ``source`` column: a path or ``camera:N``).
        frame: the 0-based index of the (first) frame that could not be read (``None`` when the
            source could not be opened at all).
    """

    def __init__(self, source: str, message: str, frame: int | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.frame = frame


@dataclass(frozen=True)
class Frame:
    """One decoded image or video frame.

    Attributes:
        source: the source's name (:attr:`Source.name`): the file path as given on the command
            line (for a folder, the folder joined with the file name; always valid text, see
            :func:`display_name`) or ``camera:N``.
        index: 0-based index of the frame within its source (0 for an image): its real
            position in the video, so the indices jump over frames that could not be decoded.
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
            name), as valid text (:func:`display_name`), or ``camera:N``.
        group: index of the SOURCE argument this came from (a folder or glob gives several
            sources with one group; a video-mode stream is restarted when the group changes).
        path: the file (the real path, whatever bytes it holds), or ``None`` for a camera.
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

    def frames(
        self, max_frames: int | None = None, *, skip_undecodable: bool = True
    ) -> Iterator[Frame]:
        """Decode the source's frames lazily, in order.

        Args:
            max_frames: stop after this many frames have been yielded (``None``: all; a camera
                then runs until it fails or the caller stops iterating).
            skip_undecodable: for a video file, read on past frames that cannot be decoded
                (a damaged file) and report them at the end (see the module docstring);
                ``False`` stops at the first frame that cannot be decoded. Images and cameras
                are not affected.

        Yields:
            One :class:`Frame` at a time; ``Frame.index`` is the frame's real position in the
            video (a gap where frames were skipped).

        Raises:
            SourceReadError: the source cannot be opened or decoded, or some of its frames
                could not be decoded (raised after every frame that could be decoded has been
                yielded).
        """
        if max_frames is not None and max_frames <= 0:
            return
        if self.kind == "image":
            yield self._read_image()
        else:
            yield from self._read_capture(max_frames, skip_undecodable)

    def _read_image(self) -> Frame:
        assert self.path is not None
        bgr = _decode_image(self.path, self.name)
        return Frame(self.name, 0, None, _to_rgb(bgr))

    def _open(self) -> tuple[cv2.VideoCapture, int | None]:
        """The capture of this video or camera, and the file descriptor to close after it."""
        if self.kind == "camera":
            assert self.camera is not None
            return open_capture(self.camera), None
        assert self.path is not None
        if not self.path.is_file():
            raise SourceReadError(self.name, "no such file")
        return open_video_file(self.path, self.name)

    def _read_capture(self, max_frames: int | None, skip_undecodable: bool) -> Iterator[Frame]:
        what = "camera" if self.kind == "camera" else "video"
        capture, fd = self._open()
        try:
            if not capture.isOpened():
                reason = (
                    "cannot open the camera (no such device, busy, or no permission)"
                    if self.kind == "camera"
                    else "cannot open the video (not a video, or a truncated or corrupt file)"
                )
                raise SourceReadError(self.name, reason)
            reader = _FrameReader(self, capture, skip_undecodable and self.kind == "video")
            yield from reader.frames(max_frames)
        finally:
            capture.release()
            if fd is not None:
                os.close(fd)
        if max_frames is not None and reader.yielded >= max_frames and not reader.skipped:
            return
        if self.kind == "camera":
            raise SourceReadError(
                self.name,
                f"the camera stopped delivering frames at frame {reader.yielded}",
                frame=reader.yielded,
            )
        if reader.yielded == 0:
            raise SourceReadError(self.name, f"no frame could be decoded from the {what}", frame=0)
        reader.raise_if_incomplete(stopped=max_frames is None or reader.yielded < max_frames)


class _FrameReader:
    """The frame loop of a video file or camera: real indices, increasing times, gaps.

    Args:
        source: the video or camera.
        capture: its opened capture (released by the caller).
        retry: read on past failed reads (video files with ``skip_undecodable``).
    """

    def __init__(self, source: Source, capture: cv2.VideoCapture, retry: bool) -> None:
        self.source = source
        self.capture = capture
        self.retry = retry
        self.fps = _positive(capture.get(cv2.CAP_PROP_FPS)) or source.fps or _DEFAULT_FPS
        path = source.path
        self.exact_count = (
            source.frame_count
            if path is not None and path.suffix.lower() in EXACT_COUNT_EXTENSIONS
            else None
        )
        self.yielded = 0  # frames yielded
        self.last_index: int | None = None  # real index of the last frame yielded
        self.skipped: list[tuple[int, int]] = []  # first and last index of each gap

    def _retry_limit(self, next_index: int) -> int:
        """Failed reads in a row after which the video is taken as ended."""
        limit = max(_MIN_READ_RETRIES, math.ceil(_READ_RETRY_S * self.fps))
        if self.exact_count is not None:
            limit = max(limit, min(self.exact_count - next_index, _MAX_READ_RETRIES))
        return limit

    def frames(self, max_frames: int | None) -> Iterator[Frame]:
        """Yield frames until the end, a failure, or ``max_frames`` frames."""
        capture, name = self.capture, self.source.name
        camera = self.source.kind == "camera"
        step = 1.0 / self.fps
        failures = 0  # failed reads since the last decoded frame
        last_raw: float | None = None  # container time of the last frame, seconds
        previous: float | None = None  # timestamp given to the last frame, seconds
        first_read: float | None = None
        while max_frames is None or self.yielded < max_frames:
            ok, bgr = capture.read()
            next_index = 0 if self.last_index is None else self.last_index + 1
            if not ok or bgr is None:
                failures += 1
                if not self.retry or failures > self._retry_limit(next_index):
                    return
                continue
            if camera:
                now = time.monotonic()
                first_read = now if first_read is None else first_read
                raw = now - first_read
            else:
                raw = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            index = next_index
            if failures and math.isfinite(raw) and raw >= 0.0:
                # Frames were lost: place this one by its presentation time.
                since = raw if last_raw is None else raw - last_raw
                base = 0 if self.last_index is None else self.last_index
                index = max(next_index, base + round(since * self.fps))
                if index > next_index:
                    self.skipped.append((next_index, index - 1))
            failures = 0
            last_raw = raw if math.isfinite(raw) else last_raw
            stamp = _monotonic_time(raw, previous, step)
            previous = stamp
            self.last_index = index
            self.yielded += 1
            yield Frame(name, index, stamp, _to_rgb(bgr))

    def raise_if_incomplete(self, stopped: bool) -> None:
        """Raise :class:`SourceReadError` for skipped frames, or a video that ended before its
        exact frame count (``stopped``: the video was read to its end, not cut by
        ``max_frames``)."""
        assert self.last_index is not None
        end = self.last_index + 1  # where decoding stopped
        expected = self.exact_count
        truncated = stopped and expected is not None and end < expected
        if self.skipped:
            count = sum(last - first + 1 for first, last in self.skipped)
            ranges = ", ".join(
                str(first) if first == last else f"{first}-{last}" for first, last in self.skipped
            )
            noun = "frames" if count > 1 else "frame"
            verb = "were" if count > 1 else "was"
            message = (
                f"{count} {noun} could not be decoded and {verb} skipped "
                f"({'frames' if len(self.skipped) > 1 or count > 1 else 'frame'} {ranges})"
            )
            if truncated:
                message += (
                    f"; decoding stopped at frame {end} of {expected} (truncated or corrupt "
                    f"video); {self.yielded} frames were processed"
                )
            else:
                message += f"; the other {self.yielded} were processed"
            raise SourceReadError(self.source.name, message, frame=self.skipped[0][0])
        if truncated:
            raise SourceReadError(
                self.source.name,
                f"decoding stopped at frame {end} of {expected} (truncated or corrupt video); "
                f"frames 0-{end - 1} were processed",
                frame=end,
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


def display_name(path: str | os.PathLike[str]) -> str:
    """``path`` as valid text, for the ``source`` column and messages.

    A path that is valid UTF-8 is returned unchanged. Python holds the bytes of a file name
    that are not valid UTF-8 as surrogate escapes (``"caf\\udce9.jpg"``), which cannot be
    written as UTF-8 text; they are shown as ``\\xNN`` instead (``"caf\\\\xe9.jpg"``, i.e.
    ``caf\\xe9.jpg`` when printed).
    """
    text = os.fspath(path)
    if _is_utf8(text):
        return text
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _is_utf8(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8 (no surrogate escapes of undecodable bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decode_image(path: Path, name: str) -> np.ndarray:
    """Read and decode an image file to BGR ``(H, W, 3)`` uint8, EXIF orientation applied.

    Raises:
        SourceReadError: the file is missing, not a regular file, unreadable, empty or not a
            decodable image; the message names the operating system's error.
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(info.st_mode):
            # A pipe or device: reading could block forever or never end.
            raise SourceReadError(name, "not a regular file (a pipe, socket or device)", frame=0)
        buffer = np.fromfile(path, np.uint8)
    except FileNotFoundError:
        raise SourceReadError(name, "no such file", frame=0) from None
    except OSError as exc:
        if isinstance(exc, SourceReadError):
            raise
        raise SourceReadError(name, f"cannot read the file: {os_error_text(exc)}", frame=0) from exc
    if buffer.size == 0:
        raise SourceReadError(name, "the file is empty (0 bytes)", frame=0)
    try:
        bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    except cv2.error:
        bgr = None
    if bgr is None or bgr.size == 0:
        raise SourceReadError(
            name, "cannot decode the image (corrupt or unsupported format)", frame=0
        )
    return bgr


def open_capture(target: str | int) -> cv2.VideoCapture:
    """Open a video file (path) or a camera (index) with OpenCV, orientation metadata applied.

    Sets ``CAP_PROP_ORIENTATION_AUTO`` so that frames of files with a rotation tag come out
    upright (already OpenCV's default for the FFmpeg backend; a backend without the property
    ignores it). The caller checks ``isOpened()`` and calls ``release()``.

    A path that is not valid UTF-8 (see :func:`display_name`) would crash OpenCV, so it is not
    handed over: the capture returned is then not opened. :meth:`Source.frames` reads such
    files (through ``/proc/self/fd`` on Linux).

    Args:
        target: a file path, or a camera index.

    Returns:
        The ``cv2.VideoCapture``.
    """
    if isinstance(target, str) and not _is_utf8(target):
        return cv2.VideoCapture()
    capture = cv2.VideoCapture(target)
    if capture.isOpened() and hasattr(cv2, "CAP_PROP_ORIENTATION_AUTO"):
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def open_video_file(path: Path, name: str) -> tuple[cv2.VideoCapture, int | None]:
    """Open a video file, whatever bytes its path holds.

    Returns:
        The capture (the caller checks ``isOpened()``), and the file descriptor to close after
        ``release()`` (``None`` when OpenCV opened the path itself).

    Raises:
        SourceReadError: the path is not valid UTF-8 and this is not Linux (nor another system
            with ``/proc/self/fd``), or the file cannot be opened.
    """
    target = os.fspath(path)
    utf8 = _is_utf8(target)
    if not utf8 and not os.path.isdir(_PROC_FD):
        raise SourceReadError(
            name,
            "OpenCV cannot open a video whose file name is not valid UTF-8 on this system; "
            "rename the file",
        )
    # Opened here first, so that an unreadable file is reported with the system's reason.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SourceReadError(name, f"cannot open the video: {os_error_text(exc)}") from exc
    if utf8:
        os.close(fd)
        return open_capture(target), None
    # OpenCV takes file names as UTF-8 text: give it the descriptor's name in /proc, which is
    # plain ASCII. The descriptor stays open while the capture lives.
    try:
        return open_capture(f"{_PROC_FD}/{fd}"), fd
    except BaseException:
        os.close(fd)
        raise


def probe_video(path: Path) -> tuple[int | None, float | None]:
    """The frame count and frame rate the container announces, or ``None`` when unknown."""
    try:
        capture, fd = open_video_file(path, display_name(path))
    except SourceReadError:
        return None, None  # reported when the video is read
    try:
        if not capture.isOpened():
            return None, None
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        fps = _positive(capture.get(cv2.CAP_PROP_FPS))
        return (int(count) if math.isfinite(count) and count > 0 else None), fps
    finally:
        capture.release()
        if fd is not None:
            os.close(fd)


def _file_source(path: Path, name: str, group: int) -> Source:
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return Source("image", name, group, path=path, frame_count=1)
    count, fps = probe_video(path)
    return Source("video", name, group, path=path, frame_count=count, fps=fps)


def resolve_sources(specs: Sequence[str]) -> list[Source]:
    """Turn SOURCE arguments into :class:`Source` objects (see the module docstring).

    Videos are opened briefly to read their frame count and frame rate; nothing is decoded.
    A video that cannot be opened is still returned (its error comes when it is read).

    Args:
        specs: the SOURCE strings: file paths, folders, globs or camera indices.

    Returns:
        The sources in argument order (folders and globs expanded in sorted order, each real
        file once per argument).

    Raises:
        SourceSpecError: a SOURCE is no camera index, existing file, folder or matching glob,
            or a folder holds no image or video.
    """
    sources: list[Source] = []
    for group, spec in enumerate(specs):
        path = Path(spec)
        shown = display_name(spec)
        if spec.isdigit():
            index = int(spec)
            sources.append(Source("camera", f"camera:{index}", group, camera=index))
        elif path.is_dir():
            files = _unique_files(str(p) for p in _folder_entries(path))
            if not files:
                raise SourceSpecError(
                    f"no image or video files in the folder {shown} (looked for "
                    f"{', '.join(sorted(IMAGE_EXTENSIONS | VIDEO_EXTENSIONS))})"
                )
            sources.extend(_file_source(Path(p), display_name(p), group) for p in files)
        elif path.is_file():
            sources.append(_file_source(path, shown, group))
        elif _GLOB_CHARS.intersection(spec):
            matches = _unique_files(_glob(spec))
            if not matches:
                raise SourceSpecError(f"no image or video file matches {shown}")
            sources.extend(_file_source(Path(p), display_name(p), group) for p in matches)
        else:
            raise SourceSpecError(f"no such file or folder: {shown}")
    return sources


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _folder_entries(folder: Path) -> list[Path]:
    """The non-hidden entries directly in ``folder`` (what the glob ``folder/*`` lists)."""
    try:
        return [p for p in folder.iterdir() if not _is_hidden(p.name)]
    except OSError:
        return []


def _unique_files(paths: Iterable[str]) -> list[str]:
    """The image and video files among ``paths``, sorted, each real file once.

    A file reached under several names (symbolic or hard links) keeps the first in sorted
    order. Paths that are not regular files (after following links) are left out.
    """
    chosen: list[str] = []
    seen: set[tuple[int, int]] = set()
    for text in sorted(set(paths)):
        path = Path(text)
        if not (_is_image(path) or _is_video(path)):
            continue
        try:
            info = os.stat(text)
        except OSError:
            continue  # a dangling link, or no permission to look
        if not stat.S_ISREG(info.st_mode):
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            continue
        seen.add(key)
        chosen.append(text)
    return chosen


def _has_magic(segment: str) -> bool:
    return bool(_GLOB_CHARS.intersection(segment))


def _glob(pattern: str) -> list[str]:
    """The paths matching the glob ``pattern``, in no particular order, duplicates possible.

    The rules of Python's ``glob.glob(pattern, recursive=True)`` (see the module docstring),
    with each real folder searched once for each remaining part of the pattern: a symbolic
    link to a folder above it is followed once, not forever.
    """
    separators = os.sep + (os.altsep or "")
    if pattern.endswith(tuple(separators)):
        return []  # matches folders only
    drive, rest = os.path.splitdrive(pattern)
    root = drive + (os.sep if rest[:1] in tuple(separators) else "")
    parts = [part for part in _split(rest, separators) if part]
    while parts and not _has_magic(parts[0]):
        root = os.path.join(root, parts.pop(0))
    if not parts:
        return [root] if os.path.lexists(root) else []
    found: list[str] = []
    done: set[tuple[int, int, int]] = set()  # (device, inode, part) already searched
    pending: list[tuple[str, int]] = [(root, 0)]  # (folder, index of the next part)
    while pending:
        folder, at = pending.pop()
        try:
            info = os.stat(folder or os.curdir)
        except OSError:
            continue
        key = (info.st_dev, info.st_ino, at)
        if key in done or not stat.S_ISDIR(info.st_mode):
            continue
        done.add(key)
        part, last = parts[at], at == len(parts) - 1
        following: list[tuple[str, int]] = []  # searched next, in this order (depth first)
        if part == "**":
            if not last:
                following.append((folder, at + 1))  # ** matching no folder
            for entry, is_dir in _list(folder):
                if _is_hidden(entry):
                    continue
                child = os.path.join(folder, entry)
                if last:
                    found.append(child)
                if is_dir:
                    following.append((child, at))
        elif _has_magic(part):
            for entry, is_dir in _list(folder):
                if _is_hidden(entry) and not _is_hidden(part):
                    continue
                if not fnmatchcase(entry, part):
                    continue
                child = os.path.join(folder, entry)
                if last:
                    found.append(child)
                elif is_dir:
                    following.append((child, at + 1))
        else:
            child = os.path.join(folder, part)
            if last:
                if os.path.lexists(child):
                    found.append(child)
            elif os.path.isdir(child):
                following.append((child, at + 1))
        pending.extend(reversed(following))
    return found


def _split(text: str, separators: str) -> list[str]:
    """``text`` split at any of ``separators``."""
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return text.split(separators[0])


def _list(folder: str) -> list[tuple[str, bool]]:
    """``(name, is a folder)`` for each entry of ``folder`` (``""``: the current folder),
    sorted by name; links are followed; ``[]`` when it cannot be listed."""
    try:
        with os.scandir(folder or os.curdir) as entries:
            listed = []
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                listed.append((entry.name, is_dir))
    except OSError:
        return []
    return sorted(listed)


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
