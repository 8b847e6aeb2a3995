"""Writers for ``vitruvian run``: landmark tables, annotated frames and a preview window.

Landmark tables (rows from :func:`vitruvian.io.records.make_row`, columns
:data:`~vitruvian.io.records.COLUMNS`), chosen by the output file's extension
(:func:`open_row_writer`):

* ``.parquet``: Apache Parquet through ``pyarrow`` (``pip install vitruvian[parquet]``), written
  row group by row group (:data:`PARQUET_ROW_GROUP_SIZE` rows) with ``pyarrow.parquet.
  ParquetWriter``, so memory stays flat however long the video;
* ``.csv``: comma-separated with a header line (Python's ``csv`` module); empty cells for
  missing values;
* ``.jsonl``: JSON Lines, one JSON object per row, ``null`` for missing values.

Annotated frames (:func:`open_annotated_writer`): an ``.mp4`` file (:class:`AnnotatedVideoWriter`,
H.264 when OpenCV's build can encode it, else MPEG-4 Part 2) or a folder of PNG files
(:class:`AnnotatedDirWriter`). :func:`annotate` draws one frame; :class:`PreviewWindow` shows
frames on screen.

Images here are OpenCV BGR ``uint8`` ``(H, W, 3)`` arrays.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

import cv2
import numpy as np

from vitruvian.io.records import COLUMN_TYPES, COLUMNS
from vitruvian.types import PoseResult

__all__ = [
    "ANNOTATED_VIDEO_EXTENSIONS",
    "OUTPUT_FORMATS",
    "PARQUET_INSTALL_HINT",
    "PARQUET_ROW_GROUP_SIZE",
    "AnnotatedDirWriter",
    "AnnotatedVideoWriter",
    "CsvRowWriter",
    "JsonlRowWriter",
    "OutputError",
    "ParquetRowWriter",
    "PreviewWindow",
    "RowWriter",
    "annotate",
    "check_annotated_path",
    "check_output_path",
    "check_row_writer_available",
    "display_problem",
    "open_annotated_writer",
    "open_row_writer",
]

#: Landmark table formats by file extension.
OUTPUT_FORMATS: dict[str, str] = {".parquet": "Parquet", ".csv": "CSV", ".jsonl": "JSON Lines"}

#: Extensions accepted for an annotated video (anything else names a folder of PNGs).
ANNOTATED_VIDEO_EXTENSIONS = (".mp4",)

#: Rows per Parquet row group (and per flush of the buffered columns).
PARQUET_ROW_GROUP_SIZE = 512

#: How to get pyarrow, for ``.parquet`` outputs.
PARQUET_INSTALL_HINT = "pip install 'vitruvian[parquet]'"

#: Frame rate of an annotated video whose source does not tell its own (cameras).
DEFAULT_ANNOTATED_FPS = 30.0

#: Segmentation overlay: BGR tint and its opacity where the mask is 1.
MASK_TINT_BGR = (255, 128, 0)
MASK_OPACITY = 0.45


class OutputError(OSError):
    """An output cannot be created or written (bad extension, missing pyarrow, I/O error)."""


class RowWriter(Protocol):
    """A landmark table being written: :meth:`write` rows, then :meth:`close`."""

    path: Path

    def write(self, row: dict[str, Any]) -> None:
        """Append one row (keys :data:`~vitruvian.io.records.COLUMNS`)."""

    def close(self) -> None:
        """Flush what is buffered and close the file (harmless when called again)."""


def check_output_path(path: Path) -> str:
    """The format of a landmark table path, from its extension (case-insensitive).

    Args:
        path: the ``--out`` path.

    Returns:
        The extension, one of :data:`OUTPUT_FORMATS`.

    Raises:
        OutputError: the extension is not ``.parquet``, ``.csv`` or ``.jsonl``.
    """
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise OutputError(
            f"unknown output format for {path} ({shown}): use .parquet, .csv or .jsonl"
        )
    return suffix


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise OutputError(
            f"writing .parquet needs pyarrow, which is not installed: {PARQUET_INSTALL_HINT} "
            "(or write .csv or .jsonl)"
        ) from None


def check_row_writer_available(path: Path) -> None:
    """Raise :class:`OutputError` now if ``path``'s format is unknown or cannot be written here
    (``.parquet`` without pyarrow), before any work is done."""
    if check_output_path(path) == ".parquet":
        _require_pyarrow()


def _prepare_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder for {path}: {exc.strerror or exc}") from exc


def _open_text(path: Path) -> IO[str]:
    _prepare_parent(path)
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


class ParquetRowWriter:
    """Parquet landmark table, written in row groups as rows arrive.

    Rows are buffered column by column and written as one row group every
    ``row_group_size`` rows (and at :meth:`close`), so at most that many rows are in memory.

    Args:
        path: the ``.parquet`` file (overwritten; parent folders are created).
        row_group_size: rows per row group.

    Raises:
        OutputError: pyarrow is missing, or the file cannot be created.
    """

    def __init__(self, path: Path, row_group_size: int = PARQUET_ROW_GROUP_SIZE) -> None:
        _require_pyarrow()
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = Path(path)
        self._pa = pa
        types = {
            "string": pa.string(),
            "int64": pa.int64(),
            "bool": pa.bool_(),
            "float64": pa.float64(),
            "float32": pa.float32(),
        }
        self._schema = pa.schema([(name, types[COLUMN_TYPES[name]]) for name in COLUMNS])
        self._row_group_size = max(1, int(row_group_size))
        self._columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self._buffered = 0
        _prepare_parent(self.path)
        try:
            self._writer: Any = pq.ParquetWriter(str(self.path), self._schema)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc

    def write(self, row: dict[str, Any]) -> None:
        """Append one row; a full row group goes to the file."""
        if self._writer is None:
            raise OutputError(f"{self.path} is already closed")
        for name in COLUMNS:
            self._columns[name].append(row[name])
        self._buffered += 1
        if self._buffered >= self._row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self._buffered == 0:
            return
        table = self._pa.Table.from_pydict(self._columns, schema=self._schema)
        try:
            self._writer.write_table(table)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc}") from exc
        self._columns = {name: [] for name in COLUMNS}
        self._buffered = 0

    def close(self) -> None:
        """Write the buffered rows and the file footer."""
        if self._writer is None:
            return
        try:
            self._flush()
        finally:
            writer, self._writer = self._writer, None
            writer.close()


class _TextRowWriter:
    """A landmark table in a text file, written line by line as rows come."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = _open_text(self.path)

    def _write_row(self, file: IO[str], row: dict[str, Any]) -> None:
        raise NotImplementedError

    def write(self, row: dict[str, Any]) -> None:
        """Append one row."""
        if self._file is None:
            raise OutputError(f"{self.path} is already closed")
        try:
            self._write_row(self._file, row)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()


class CsvRowWriter(_TextRowWriter):
    """CSV landmark table: a header line with :data:`~vitruvian.io.records.COLUMNS`, then one
    line per row; ``None`` becomes an empty field, booleans ``True``/``False``, floats the
    shortest text that reads back to the same value.

    Args:
        path: the ``.csv`` file (overwritten; parent folders are created).
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        assert self._file is not None
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)

    def _write_row(self, file: IO[str], row: dict[str, Any]) -> None:
        self._writer.writerow([row[name] for name in COLUMNS])


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonlRowWriter(_TextRowWriter):
    """JSON Lines landmark table: one JSON object per row, keys in column order, ``null`` for
    missing values (and for non-finite floats, which JSON cannot hold).

    Args:
        path: the ``.jsonl`` file (overwritten; parent folders are created).
    """

    def _write_row(self, file: IO[str], row: dict[str, Any]) -> None:
        record = {name: _json_value(row[name]) for name in COLUMNS}
        file.write(json.dumps(record, allow_nan=False) + "\n")


def open_row_writer(path: Path) -> RowWriter:
    """Open the landmark table writer for ``path``'s extension.

    Args:
        path: a ``.parquet``, ``.csv`` or ``.jsonl`` file (overwritten if it exists).

    Returns:
        A :class:`RowWriter`.

    Raises:
        OutputError: unknown extension, pyarrow missing, or the file cannot be created.
    """
    suffix = check_output_path(Path(path))
    if suffix == ".parquet":
        return ParquetRowWriter(Path(path))
    if suffix == ".csv":
        return CsvRowWriter(Path(path))
    return JsonlRowWriter(Path(path))


def annotate(
    bgr: np.ndarray,
    pose: PoseResult | None,
    segmentation_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Draw a pose onto a copy of a BGR frame.

    The mask, if given, is blended first as a tint (:data:`MASK_TINT_BGR`, opacity
    :data:`MASK_OPACITY` times the mask value); then the skeleton is drawn with
    ``drawing_styles.get_default_pose_landmarks_style()`` and ``POSE_CONNECTIONS``, as
    MediaPipe's examples do.

    Args:
        bgr: ``(H, W, 3)`` uint8 BGR frame (not modified).
        pose: the pose found in the frame (normalised landmarks), or ``None``.
        segmentation_mask: ``(H, W)`` float mask in [0, 1] at the frame's size, or ``None``.

    Returns:
        The annotated ``(H, W, 3)`` uint8 BGR image.
    """
    from vitruvian.solutions import drawing_styles, drawing_utils
    from vitruvian.solutions.pose import POSE_CONNECTIONS

    if segmentation_mask is not None and segmentation_mask.shape[:2] == bgr.shape[:2]:
        alpha = np.clip(segmentation_mask.astype(np.float32), 0.0, 1.0)[..., None] * MASK_OPACITY
        tint = np.asarray(MASK_TINT_BGR, dtype=np.float32)
        blended = bgr.astype(np.float32) * (1.0 - alpha) + tint * alpha
        image = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    else:
        image = np.array(bgr, dtype=np.uint8, copy=True, order="C")
    if pose is not None:
        drawing_utils.draw_landmarks(
            image,
            pose.landmarks,
            POSE_CONNECTIONS,
            landmark_drawing_spec=drawing_styles.get_default_pose_landmarks_style(),
        )
    return image


class AnnotatedVideoWriter:
    """An annotated ``.mp4``, opened on the first frame with that frame's size.

    Tries H.264 (``avc1``) first; when this OpenCV build cannot encode it (the pip wheels of
    ``opencv-python`` ship no H.264 encoder), falls back to MPEG-4 Part 2 (``mp4v``), which
    every OpenCV build writes and most players read, and reports it once through ``warn``.

    Args:
        path: the ``.mp4`` file (overwritten; parent folders are created).
        fps: frame rate to record, frames per second (the input's; ``None`` or <= 0 gives
            :data:`DEFAULT_ANNOTATED_FPS`).
        warn: called with a one-line message for the codec fallback.
    """

    def __init__(
        self, path: Path, fps: float | None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps) if fps is not None and fps > 0 else DEFAULT_ANNOTATED_FPS
        self.codec: str | None = None
        self._warn = warn
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._closed = False

    def _open(self, width: int, height: int) -> None:
        _prepare_parent(self.path)
        for codec in ("avc1", "mp4v"):
            writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, (width, height)
            )
            if writer.isOpened():
                self._writer, self.codec = writer, codec
                break
            writer.release()
        if self._writer is None:
            raise OutputError(f"OpenCV cannot write the video {self.path} (avc1 and mp4v failed)")
        if self.codec != "avc1" and self._warn is not None:
            self._warn(
                f"this OpenCV build cannot encode H.264; writing {self.path} as MPEG-4 Part 2 "
                "(mp4v) instead"
            )
        self._size = (width, height)

    def write(self, bgr: np.ndarray, name: str = "") -> None:
        """Append a frame (all frames must have the first one's size; ``name`` is unused)."""
        if self._closed:
            raise OutputError(f"{self.path} is already closed")
        height, width = bgr.shape[:2]
        if self._writer is None:
            self._open(width, height)
        assert self._writer is not None and self._size is not None
        if self._size != (width, height):
            raise OutputError(
                f"{self.path}: frame size {width}x{height} differs from the video's "
                f"{self._size[0]}x{self._size[1]}; write frames of mixed sizes to a folder"
            )
        self._writer.write(bgr)

    def close(self) -> None:
        """Finish the file (harmless when called again or when no frame was written)."""
        self._closed = True
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.release()


class AnnotatedDirWriter:
    """A folder of annotated PNG files, one per image or frame.

    Names: ``<image file stem>.png`` for an image, ``<video file stem>_<frame:06d>.png`` for a
    video frame, ``camera<N>_<frame:06d>.png`` for a camera frame; a name already used in this
    run gets ``-2``, ``-3``, ... before ``.png``.

    Args:
        path: the folder (created if missing; existing files with the same names are
            overwritten).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {self.path}: {exc.strerror}") from exc
        self._used: set[str] = set()

    def write(self, bgr: np.ndarray, name: str = "frame") -> None:
        """Write one annotated image as ``<name>.png`` (deduplicated)."""
        candidate, counter = name, 1
        while candidate in self._used:
            counter += 1
            candidate = f"{name}-{counter}"
        self._used.add(candidate)
        target = self.path / f"{candidate}.png"
        if not cv2.imwrite(str(target), bgr):
            raise OutputError(f"cannot write {target}")

    def close(self) -> None:
        """Nothing to flush (each PNG is complete when written)."""


def check_annotated_path(path: Path) -> str:
    """Whether ``--annotated PATH`` is a video file or a folder.

    Args:
        path: the path.

    Returns:
        ``"video"`` for an ``.mp4`` file, ``"dir"`` for an existing folder or a path without
        an extension.

    Raises:
        OutputError: any other extension.
    """
    if path.is_dir():
        return "dir"
    suffix = path.suffix.lower()
    if suffix in ANNOTATED_VIDEO_EXTENSIONS:
        return "video"
    if suffix:
        raise OutputError(
            f"unknown annotated output {path}: give an .mp4 file or a folder (no extension)"
        )
    return "dir"


def open_annotated_writer(
    path: Path, fps: float | None, warn: Callable[[str], None] | None = None
) -> AnnotatedVideoWriter | AnnotatedDirWriter:
    """Open the annotated-output writer for ``path`` (see :func:`check_annotated_path`).

    Args:
        path: an ``.mp4`` file or a folder.
        fps: frame rate for a video file, frames per second (``None``: 30).
        warn: receives one-line warnings (the H.264 fallback).
    """
    if check_annotated_path(Path(path)) == "video":
        return AnnotatedVideoWriter(Path(path), fps, warn)
    return AnnotatedDirWriter(Path(path))


def display_problem() -> str | None:
    """Why no window can be shown here, or ``None`` when one can.

    Checks for a display (``DISPLAY`` or ``WAYLAND_DISPLAY`` on Linux and other Unix systems;
    Windows and macOS always have one) and for an OpenCV build with GUI support (the
    ``-headless`` wheels have none).
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    gui = [
        line.split(":", 1)[1].strip()
        for line in cv2.getBuildInformation().splitlines()
        if line.strip().startswith("GUI:")
    ]
    if gui and gui[0].upper() == "NONE":
        return (
            "this OpenCV build has no GUI support (opencv-python-headless); "
            "install opencv-python instead to use --show"
        )
    return None


class PreviewWindow:
    """An OpenCV window showing annotated frames; Esc or ``q`` in it asks to stop.

    If OpenCV cannot show the window after all (no GUI backend, lost display), ``warn`` gets
    one line and the window is switched off; the run goes on.

    Args:
        title: the window title.
        warn: receives that one-line warning.
    """

    def __init__(self, title: str = "vitruvian", warn: Callable[[str], None] | None = None) -> None:
        self.title = title
        self._warn = warn
        self._open = False
        self._disabled = False

    def show(self, bgr: np.ndarray) -> bool:
        """Show a frame; returns ``False`` when the user pressed Esc or ``q`` (stop)."""
        if self._disabled:
            return True
        try:
            cv2.imshow(self.title, bgr)
            self._open = True
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as exc:
            self._disabled = True
            if self._warn is not None:
                reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown"
                self._warn(f"--show: OpenCV cannot open a window ({reason}); continuing without")
            return True
        return key not in (27, ord("q"))

    def close(self) -> None:
        """Close the window."""
        if self._open:
            self._open = False
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass
