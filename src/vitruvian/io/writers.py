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

What is on disk, whatever happens (see :mod:`vitruvian.io.atomic` for the mechanics):

* Every output is written under a temporary name beside its destination and renamed into place
  when complete, while an advisory lock keeps a second run off the same destination. An
  existing destination is replaced only with ``overwrite=True``.
* A table that is closed (normally, after an error, or after a signal the caller turned into a
  stop) is a valid file under its final name with every row written; a table with no row never
  replaces an existing one.
* A killed process (SIGKILL) leaves the destination as it was; the rows written so far (all but
  at most :data:`JOURNAL_FLUSH_SECONDS` seconds' worth) are in a journal beside it, which
  :func:`recover_output` (``vitruvian recover OUT``) turns into the table.
* A write error (no space, quota, I/O, permission) is an :class:`OutputError` naming the file
  and the operating system's error; the annotated video is checked after it is closed.

Images here are OpenCV BGR ``uint8`` ``(H, W, 3)`` arrays.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from vitruvian.io.atomic import (
    OutputBusyError,
    OutputConflictError,
    OutputError,
    OutputLock,
    commit_file,
    leftovers,
    os_error_text,
    partial_files_in,
    partial_path,
    remove_quietly,
    write_all,
)
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
    "JOURNAL_FLUSH_SECONDS",
    "JsonlRowWriter",
    "OutputBusyError",
    "OutputConflictError",
    "OutputError",
    "ParquetRowWriter",
    "PreviewWindow",
    "Recovered",
    "RowWriter",
    "annotate",
    "check_annotated_path",
    "check_output_path",
    "check_row_writer_available",
    "display_problem",
    "open_annotated_writer",
    "count_journal_rows",
    "open_row_writer",
    "recover_output",
]

#: Landmark table formats by file extension.
OUTPUT_FORMATS: dict[str, str] = {".parquet": "Parquet", ".csv": "CSV", ".jsonl": "JSON Lines"}

#: Extensions accepted for an annotated video (anything else names a folder of PNGs).
ANNOTATED_VIDEO_EXTENSIONS = (".mp4",)

#: Rows per Parquet row group, and rows buffered at most before they go to a table's journal.
PARQUET_ROW_GROUP_SIZE = 512

#: Seconds a finished row waits at most before it is written to its table's journal (what a
#: SIGKILL can lose).
JOURNAL_FLUSH_SECONDS = 1.0

#: How to get pyarrow, for ``.parquet`` outputs.
PARQUET_INSTALL_HINT = "pip install 'vitruvian[parquet]'"

#: Frame rate of an annotated video whose source does not tell its own (cameras).
DEFAULT_ANNOTATED_FPS = 30.0

#: Segmentation overlay: BGR tint and its opacity where the mask is 1.
MASK_TINT_BGR = (255, 128, 0)
MASK_OPACITY = 0.45


class RowWriter(Protocol):
    """A landmark table being written: :meth:`write` rows, then :meth:`close`."""

    path: Path

    def write(self, row: dict[str, Any]) -> None:
        """Append one row (keys :data:`~vitruvian.io.records.COLUMNS`)."""

    def close(self) -> None:
        """Finish the table (harmless when called again)."""


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


def _resolved(path: Path) -> Path:
    """``path`` with symlinks followed (a symlinked output is written through to its target)."""
    return Path(os.path.realpath(path))


def _open_exclusive(path: Path, shown: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {os_error_text(exc)}") from exc


_O_BINARY = getattr(os, "O_BINARY", 0)


class _Output:
    """What every output shares: the destination's lock, the existing-file and leftover rules.

    Args:
        path: the destination as given (messages name it).
        overwrite: replace an existing destination (else :class:`OutputConflictError`) and
            discard what a killed run left for it.
        folder: the destination is a folder (created here, and locked from inside).
    """

    def __init__(self, path: Path, overwrite: bool, *, folder: bool = False) -> None:
        self.path = Path(path)
        self.target = _resolved(self.path)
        #: Whether this run's output was renamed into place (set by ``close``).
        self.committed = False
        if folder and self.target.exists() and not self.target.is_dir():
            raise OutputConflictError(f"{self.path} is a file, not a folder: give a folder")
        self._lock = OutputLock(self.target, shown=self.path, folder=folder)
        try:
            self._check_existing(overwrite, folder)
        except BaseException:
            self._lock.release()
            raise

    def _check_existing(self, overwrite: bool, folder: bool) -> None:
        if not folder and self.target.is_dir():
            raise OutputConflictError(f"{self.path} is a folder: give a file name")
        for leftover in leftovers(self.target):
            if leftover.journal and not overwrite:
                rows = count_journal_rows(leftover.path, self.path)
                raise OutputConflictError(
                    f"a vitruvian run writing {self.path} was killed and left {rows} finished "
                    f"row{'' if rows == 1 else 's'} in {leftover.path}: get them back with "
                    f"`vitruvian recover {self.path}`, or pass --overwrite to discard them"
                )
        if not folder and self.target.exists() and not overwrite:
            raise OutputConflictError(
                f"{self.path} already exists: pass --overwrite to replace it, or choose "
                "another output"
            )
        for leftover in leftovers(self.target):  # unusable, or discarded by --overwrite
            remove_quietly(leftover.path)

    def _release(self) -> None:
        self._lock.release()


class _TableWriter(_Output):
    """A landmark table written through a journal and committed when closed.

    Rows are buffered and appended to the journal (a temporary file beside the destination,
    :func:`~vitruvian.io.atomic.partial_path`) every ``flush_rows`` rows or ``flush_seconds``
    seconds, whichever comes first, each time in one piece, so the journal always ends on a
    row boundary (or, after a failed write, on a torn row that recovery drops). :meth:`close`
    turns the journal into the destination and renames it into place; until then the
    destination is untouched.

    * No row written: an existing destination is kept as it was; a new one gets the empty
      table (header and schema only).
    * A write error (disk full, I/O): :class:`OutputError` naming the file and the operating
      system's error; the rows written before are kept in the journal for
      :func:`recover_output`, and the destination is untouched.
    * Killed (SIGKILL): the journal stays; :func:`recover_output` (``vitruvian recover``)
      makes the destination from it. A later run to the same destination refuses to start
      until it is recovered or ``--overwrite`` discards it.

    Args:
        path: the destination (parent folders are created).
        overwrite: replace an existing destination.
        flush_rows: rows buffered at most before they go to the journal.
        flush_seconds: seconds a row waits at most before it goes to the journal (checked when
            the next row comes).
    """

    def __init__(
        self,
        path: Path,
        *,
        overwrite: bool = False,
        flush_rows: int = PARQUET_ROW_GROUP_SIZE,
        flush_seconds: float = JOURNAL_FLUSH_SECONDS,
    ) -> None:
        super().__init__(path, overwrite)
        self.rows = 0
        self.journal = partial_path(self.target)
        self.failed: OutputError | None = None
        self._flush_rows = max(1, int(flush_rows))
        self._flush_seconds = float(flush_seconds)
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._closed = False
        try:
            self._fd: int | None = _open_exclusive(self.journal, self.path)
            self._start(self._fd)
        except BaseException:
            self._fd = None
            remove_quietly(self.journal)
            self._release()
            raise

    # -- format-specific parts
    def _start(self, fd: int) -> None:
        """Write what the journal begins with (a header)."""

    def _append(self, fd: int, rows: list[dict[str, Any]]) -> None:
        """Append ``rows`` to the journal."""
        raise NotImplementedError

    def _end_journal(self, fd: int) -> None:
        """Write what the journal ends with, before it is closed."""

    def _finish(self) -> Path:
        """The finished file to rename over the destination (the journal or a conversion)."""
        return self.journal

    # -- shared
    def write(self, row: dict[str, Any]) -> None:
        """Append one row; buffered rows go to the journal every ``flush_rows`` rows or
        ``flush_seconds`` seconds.

        Raises:
            OutputError: the journal cannot be written (the writer is then failed: later
                writes raise again and :meth:`close` keeps the journal).
        """
        if self._closed:
            raise OutputError(f"{self.path} is already closed")
        if self.failed is not None:
            raise self.failed
        self._buffer.append(row)
        if (
            len(self._buffer) >= self._flush_rows
            or time.monotonic() - self._last_flush >= self._flush_seconds
        ):
            self.flush()

    @property
    def rows_received(self) -> int:
        """Rows handed to :meth:`write`: in the journal or still buffered."""
        return self.rows + len(self._buffer)

    def flush(self) -> None:
        """Append the buffered rows to the journal now."""
        if not self._buffer or self._fd is None:
            return
        rows = self._buffer
        try:
            self._append(self._fd, rows)
        except OSError as exc:
            self.failed = OutputError(f"cannot write {self.path}: {os_error_text(exc)}")
            raise self.failed from exc
        self._buffer = []
        self.rows += len(rows)
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Finish the table: flush, commit to the destination, release the lock.

        Harmless when called again. With no row written nothing is committed.

        Raises:
            OutputError: the table cannot be finished (the journal is then kept, and the
                message says where and how to recover it).
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self.failed is None:
                try:
                    self.flush()
                    if self._fd is not None:
                        self._end_journal(self._fd)
                except OutputError:
                    pass  # self.failed is set
                except OSError as exc:
                    self.failed = OutputError(f"cannot write {self.path}: {os_error_text(exc)}")
            self._close_fd()
            if self.failed is not None:
                self._keep_journal()
                raise self.failed
            if self.rows == 0 and os.path.lexists(self.target):
                remove_quietly(self.journal)  # a run without rows never replaces a table
                return
            try:
                finished = self._finish()
            except OutputError as exc:
                self.failed = exc
                self._keep_journal()
                raise self.failed from exc
            try:
                commit_file(finished, self.target, shown=self.path)
            except OutputError as exc:
                if finished != self.journal:
                    remove_quietly(finished)
                self.failed = exc
                self._keep_journal()
                raise
            self.committed = True
            if finished != self.journal:
                remove_quietly(self.journal)
        finally:
            self._release()

    def abort(self) -> None:
        """Drop what was written (the destination is untouched) and release the lock."""
        self._closed = True
        self._close_fd()
        remove_quietly(self.journal)
        self._release()

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as exc:
                if self.failed is None:
                    self.failed = OutputError(f"cannot write {self.path}: {os_error_text(exc)}")

    def _keep_journal(self) -> None:
        assert self.failed is not None
        rows = count_journal_rows(self.journal, self.path) if self.journal.exists() else 0
        if rows == 0:
            remove_quietly(self.journal)
            return
        self.failed = OutputError(
            f"{self.failed}; the {rows} row{'' if rows == 1 else 's'} written before are kept "
            f"in {self.journal}: free the space (or fix the error) and run "
            f"`vitruvian recover {self.path}`"
        )


class CsvRowWriter(_TableWriter):
    """CSV landmark table: a header line with :data:`~vitruvian.io.records.COLUMNS`, then one
    line per row; ``None`` becomes an empty field, booleans ``True``/``False``, floats the
    shortest text that reads back to the same value. UTF-8, ``\\r\\n`` line ends (Python's
    ``csv`` module). Written through a journal (see :class:`_TableWriter`).
    """

    def _start(self, fd: int) -> None:
        write_all(fd, _csv_text([list(COLUMNS)]))

    def _append(self, fd: int, rows: list[dict[str, Any]]) -> None:
        write_all(fd, _csv_text([[row[name] for name in COLUMNS] for row in rows]))


def _csv_text(lines: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue().encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonlRowWriter(_TableWriter):
    """JSON Lines landmark table: one JSON object per row, keys in column order, ``null`` for
    missing values (and for non-finite floats, which JSON cannot hold). UTF-8. Written through
    a journal (see :class:`_TableWriter`).
    """

    def _append(self, fd: int, rows: list[dict[str, Any]]) -> None:
        text = "".join(
            json.dumps({name: _json_value(row[name]) for name in COLUMNS}, allow_nan=False) + "\n"
            for row in rows
        )
        write_all(fd, text.encode("utf-8"))


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "float64": pa.float64(),
        "float32": pa.float32(),
    }
    return pa.schema([(name, types[COLUMN_TYPES[name]]) for name in COLUMNS])


class _FdSink:
    """A write-only file object over a descriptor, for pyarrow's stream writer (every write
    goes to the operating system at once, and its errors come back as ``OSError``)."""

    closed = False

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        write_all(self._fd, view)
        return len(view)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """The descriptor is the writer's to close."""

    def writable(self) -> bool:
        return True


class ParquetRowWriter(_TableWriter):
    """Parquet landmark table (``pyarrow``), row group by row group.

    The journal is an Arrow IPC stream (one record batch per flush), which can be read back up
    to the last complete batch however the run ended; :meth:`close` converts it into the
    Parquet file in row groups of ``row_group_size`` rows, streaming, so memory stays flat
    however long the video. See :class:`_TableWriter` for the rest.

    Args:
        path: the ``.parquet`` file (parent folders are created).
        row_group_size: rows per Parquet row group (and rows buffered at most).
        overwrite: replace an existing destination.
        flush_seconds: seconds a row waits at most before it goes to the journal.

    Raises:
        OutputError: pyarrow is missing, or the file cannot be created.
    """

    def __init__(
        self,
        path: Path,
        row_group_size: int = PARQUET_ROW_GROUP_SIZE,
        *,
        overwrite: bool = False,
        flush_seconds: float = JOURNAL_FLUSH_SECONDS,
    ) -> None:
        _require_pyarrow()
        self._schema = _arrow_schema()
        self._row_group_size = max(1, int(row_group_size))
        self._stream: Any = None
        super().__init__(
            path, overwrite=overwrite, flush_rows=self._row_group_size, flush_seconds=flush_seconds
        )

    def _start(self, fd: int) -> None:
        import pyarrow as pa

        self._stream = pa.ipc.new_stream(_FdSink(fd), self._schema)

    def _append(self, fd: int, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        self._stream.write_batch(pa.RecordBatch.from_pylist(rows, schema=self._schema))

    def _end_journal(self, fd: int) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    def _finish(self) -> Path:
        converted = partial_path(self.target, ".parquet")
        try:
            _journal_to_parquet(self.journal, converted, self._row_group_size, tolerant=False)
        except OSError as exc:
            remove_quietly(converted)
            raise OutputError(f"cannot write {self.path}: {os_error_text(exc)}") from exc
        return converted


def _read_journal_batches(journal: Path, tolerant: bool) -> Iterator[Any]:
    """The record batches of an Arrow IPC stream journal; with ``tolerant``, stop quietly at a
    torn or missing end (a killed run) instead of raising."""
    import pyarrow as pa

    with pa.OSFile(str(journal), "rb") as source:
        try:
            reader = pa.ipc.open_stream(source)
        except (pa.ArrowInvalid, OSError):
            if tolerant:
                return
            raise
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError):
                if tolerant:
                    return
                raise
            yield batch


def _journal_to_parquet(journal: Path, out: Path, row_group_size: int, tolerant: bool) -> int:
    """Write the rows of a journal to a new Parquet file; returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema()
    rows = 0
    pending: list[Any] = []
    pending_rows = 0
    with pq.ParquetWriter(str(out), schema) as writer:
        for batch in _read_journal_batches(journal, tolerant):
            pending.append(batch)
            pending_rows += batch.num_rows
            while pending_rows >= row_group_size:
                table = pa.Table.from_batches(pending, schema=schema)
                writer.write_table(table.slice(0, row_group_size))
                rest = table.slice(row_group_size)
                pending, pending_rows = rest.to_batches(), rest.num_rows
                rows += row_group_size
        if pending_rows:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
            rows += pending_rows
    return rows


def _complete_lines(journal: Path) -> Iterator[str]:
    """The lines of a text journal that end with a line break (a write torn by a kill leaves
    at most one unfinished line, at the end, which is dropped), decoded as UTF-8."""
    with open(journal, "rb") as file:
        for line in file:
            if not line.endswith(b"\n"):
                return
            yield line.decode("utf-8", errors="replace")


def _text_journal_rows(journal: Path, suffix: str) -> Iterator[list[Any] | dict[str, Any]]:
    """The complete rows of a CSV (lists of fields, header excluded) or JSON Lines journal
    (dicts), in order, read as a stream, stopping at the first incomplete or damaged one."""
    if suffix == ".csv":
        reader = csv.reader(_complete_lines(journal))
        try:
            if next(reader, None) != list(COLUMNS):
                return
            for fields in reader:
                if len(fields) != len(COLUMNS):
                    return
                yield fields
        except csv.Error:
            return
    else:
        for line in _complete_lines(journal):
            try:
                record = json.loads(line)
            except ValueError:
                return
            if not isinstance(record, dict) or list(record) != list(COLUMNS):
                return
            yield record


def count_journal_rows(journal: Path, destination: Path) -> int:
    """How many complete rows a journal of ``destination``'s format holds (0 if unreadable)."""
    suffix = destination.suffix.lower()
    try:
        if suffix == ".parquet":
            return sum(batch.num_rows for batch in _read_journal_batches(journal, tolerant=True))
        return sum(1 for _ in _text_journal_rows(journal, suffix))
    except (OSError, ImportError):
        return 0


@dataclass(frozen=True)
class Recovered:
    """What :func:`recover_output` did.

    Attributes:
        path: the destination written.
        rows: rows recovered into it.
        journal: the journal they came from.
        removed: unfinished files that could not be used and were removed.
    """

    path: Path
    rows: int
    journal: Path | None
    removed: tuple[Path, ...]


def recover_output(path: Path, *, overwrite: bool = False) -> Recovered:
    """Make ``path`` from the journal a killed ``vitruvian run`` left beside it.

    Reads the journal up to its last complete row (a write torn by the kill is dropped), writes
    the destination under a temporary name and renames it into place, then removes the journal.
    Unfinished final files of the same destination (an MP4 without its index, a Parquet file
    being converted) cannot be used and are removed.

    Args:
        path: the ``--out`` path of the killed run (``.parquet``, ``.csv`` or ``.jsonl``; an
            ``.mp4`` only gets its unusable leftovers removed).
        overwrite: replace ``path`` if it exists.

    Returns:
        A :class:`Recovered` (``rows == 0`` and ``journal is None`` when there was nothing to
        recover).

    Raises:
        OutputBusyError: a run is writing ``path`` now.
        OutputConflictError: ``path`` exists and ``overwrite`` is false, or several journals
            were left (they are listed).
        OutputError: the file cannot be written.
    """
    path = Path(path)
    target = _resolved(path)
    suffix = path.suffix.lower()
    lock = OutputLock(target, shown=path)
    try:
        found = leftovers(target)
        removed = tuple(left.path for left in found if not left.journal)
        journals = [left.path for left in found if left.journal]
        if suffix not in OUTPUT_FORMATS:
            for leftover in removed:
                remove_quietly(leftover)
            return Recovered(path, 0, None, removed)
        if len(journals) > 1:
            listed = ", ".join(str(journal) for journal in journals)
            raise OutputConflictError(
                f"several killed runs left rows for {path} ({listed}): recover one at a time by "
                "moving the others away"
            )
        if journals and target.exists() and not overwrite:
            raise OutputConflictError(
                f"{path} already exists: pass --overwrite to replace it with the recovered rows"
            )
        for leftover in removed:
            remove_quietly(leftover)
        if not journals:
            return Recovered(path, 0, None, removed)
        journal = journals[0]
        out = partial_path(target, suffix)
        try:
            if suffix == ".parquet":
                _require_pyarrow()
                rows = _journal_to_parquet(journal, out, PARQUET_ROW_GROUP_SIZE, tolerant=True)
            else:
                rows = _write_text_recovery(journal, out, suffix)
            if rows == 0:
                remove_quietly(out)
            else:
                commit_file(out, target, shown=path)
        except OSError as exc:
            remove_quietly(out)
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"cannot write {path}: {os_error_text(exc)}") from exc
        remove_quietly(journal)
        return Recovered(path, rows, journal, removed)
    finally:
        lock.release()


def _write_text_recovery(journal: Path, out: Path, suffix: str) -> int:
    rows = 0
    fd = _open_exclusive(out, out)
    try:
        chunk: list[Any] = []
        if suffix == ".csv":
            write_all(fd, _csv_text([list(COLUMNS)]))
        for record in _text_journal_rows(journal, suffix):
            chunk.append(record)
            if len(chunk) >= PARQUET_ROW_GROUP_SIZE:
                write_all(fd, _text_chunk(chunk, suffix))
                rows += len(chunk)
                chunk = []
        if chunk:
            write_all(fd, _text_chunk(chunk, suffix))
            rows += len(chunk)
    finally:
        os.close(fd)
    return rows


def _text_chunk(records: list[Any], suffix: str) -> bytes:
    if suffix == ".csv":
        return _csv_text(records)
    return "".join(json.dumps(record) + "\n" for record in records).encode("utf-8")


def open_row_writer(path: Path, *, overwrite: bool = False) -> RowWriter:
    """Open the landmark table writer for ``path``'s extension (see :class:`_TableWriter` for
    what is guaranteed on disk).

    Args:
        path: a ``.parquet``, ``.csv`` or ``.jsonl`` file.
        overwrite: replace ``path`` if it exists (else :class:`OutputConflictError`).

    Returns:
        A :class:`RowWriter`.

    Raises:
        OutputError: unknown extension, pyarrow missing, or the file cannot be created.
        OutputConflictError: ``path`` exists, is being written by another run, or holds the
            journal of a killed run.
    """
    suffix = check_output_path(Path(path))
    if suffix == ".parquet":
        return ParquetRowWriter(Path(path), overwrite=overwrite)
    if suffix == ".csv":
        return CsvRowWriter(Path(path), overwrite=overwrite)
    return JsonlRowWriter(Path(path), overwrite=overwrite)


def _tint(image: np.ndarray, mask: np.ndarray, color: Sequence[int]) -> np.ndarray:
    """``image`` (float32 BGR) with ``color`` blended in where ``mask`` (``(H, W)`` in [0, 1])
    is, at opacity :data:`MASK_OPACITY` times the mask value."""
    alpha = np.clip(mask.astype(np.float32), 0.0, 1.0)[..., None] * MASK_OPACITY
    return image * (1.0 - alpha) + np.asarray(color, np.float32) * alpha


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
        blended = _tint(bgr.astype(np.float32), segmentation_mask, MASK_TINT_BGR)
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


#: Colours (BGR) of the people in :func:`annotate_people`, by ``person_id`` modulo their count:
#: Okabe and Ito's colour-blind-safe palette.
PERSON_COLORS_BGR: tuple[tuple[int, int, int], ...] = (
    (0, 159, 230),  # orange
    (233, 180, 86),  # sky blue
    (115, 158, 0),  # bluish green
    (66, 228, 240),  # yellow
    (178, 114, 0),  # blue
    (0, 94, 213),  # vermillion
    (167, 121, 204),  # reddish purple
)


def person_color(person_id: int) -> tuple[int, int, int]:
    """The BGR colour person ``person_id`` is drawn in (the same in every frame)."""
    return PERSON_COLORS_BGR[person_id % len(PERSON_COLORS_BGR)]


def annotate_people(
    bgr: np.ndarray,
    people: Sequence[PoseResult],
    masks: Sequence[np.ndarray | None] | None = None,
    labels: Mapping[int | None, str] | None = None,
) -> np.ndarray:
    """Draw several people onto a copy of a BGR frame, each in the colour of their
    ``person_id`` (:func:`person_color`), with the ID written above their head.

    Args:
        bgr: ``(H, W, 3)`` uint8 BGR frame (not modified).
        people: the poses found in the frame (normalised landmarks, ``person_id`` set).
        masks: each person's mask (``(H, W)`` in [0, 1]), tinted in their colour, or ``None``.
        labels: the text above each person, by ``person_id`` (default ``#<person_id>``).

    Returns:
        The annotated ``(H, W, 3)`` uint8 BGR image.
    """
    from vitruvian.solutions import drawing_utils
    from vitruvian.solutions.pose import POSE_CONNECTIONS

    height, width = bgr.shape[:2]
    image = np.array(bgr, dtype=np.float32, copy=True)
    for person, mask in zip(people, masks or [None] * len(people), strict=False):
        if mask is not None and mask.shape[:2] == (height, width):
            image = _tint(image, mask, person_color(person.person_id or 0))
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    thickness = max(2, round(min(height, width) / 300))
    for person in people:
        color = person_color(person.person_id or 0)
        drawing_utils.draw_landmarks(
            image,
            person.landmarks,
            POSE_CONNECTIONS,
            landmark_drawing_spec=drawing_utils.DrawingSpec(color, thickness, thickness + 1),
            connection_drawing_spec=drawing_utils.DrawingSpec(color, thickness),
        )
        xy = person.landmarks[:, :2] * (width, height)
        finite = xy[np.isfinite(xy).all(axis=1)]
        if not len(finite):
            continue
        label = (labels or {}).get(person.person_id) or f"#{person.person_id}"
        scale = max(0.6, min(height, width) / 600)
        (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x = int(np.clip(finite[:, 0].mean() - text_w / 2, 0, max(width - text_w, 0)))
        y = int(np.clip(finite[:, 1].min() - 2 * thickness, text_h, height))
        cv2.rectangle(image, (x - 4, y - text_h - 4), (x + text_w + 4, y + 6), (0, 0, 0), -1)
        cv2.putText(image, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness)
    return image


class AnnotatedVideoWriter(_Output):
    """An annotated ``.mp4``, opened on the first frame with that frame's size.

    Tries H.264 (``avc1``) first; when this OpenCV build cannot encode it (the pip wheels of
    ``opencv-python`` ship no H.264 encoder), falls back to MPEG-4 Part 2 (``mp4v``), which
    every OpenCV build writes and most players read, and reports it once through ``warn``.

    The video is written under a temporary name beside the destination and, when closed,
    checked (it opens and holds every frame written) before it is renamed into place; a video
    that fails the check (disk full, file size limit) is an :class:`OutputError` and the
    destination is untouched. With no frame written nothing is created.

    Args:
        path: the ``.mp4`` file (parent folders are created).
        fps: frame rate to record, frames per second (the input's; ``None`` or <= 0 gives
            :data:`DEFAULT_ANNOTATED_FPS`).
        warn: called with a one-line message for the codec fallback.
        overwrite: replace an existing destination (else :class:`OutputConflictError`).
    """

    def __init__(
        self,
        path: Path,
        fps: float | None,
        warn: Callable[[str], None] | None = None,
        *,
        overwrite: bool = False,
    ) -> None:
        super().__init__(path, overwrite)
        self.fps = float(fps) if fps is not None and fps > 0 else DEFAULT_ANNOTATED_FPS
        self.codec: str | None = None
        self.frames = 0
        self.temporary = partial_path(self.target, ".mp4")
        if _opencv_path(Path(self.temporary.name)) is None:  # OpenCV takes UTF-8 names only
            self.temporary = partial_path(self.target.with_name("annotated.mp4"), ".mp4")
        self._warn = warn
        self._writer: cv2.VideoWriter | None = None
        self._folder_fd: int | None = None
        self._size: tuple[int, int] | None = None
        self._previous: np.ndarray | None = None
        self._next_index = 0
        self._closed = False

    def _open(self, width: int, height: int) -> None:
        # Reserve the name (an OS error here names the real cause, e.g. permission denied).
        os.close(_open_exclusive(self.temporary, self.path))
        name = _opencv_path(self.temporary)
        if name is None:  # a folder name OpenCV cannot take: go through the folder's descriptor
            self._folder_fd = os.open(self.temporary.parent, os.O_RDONLY)
            name = f"/proc/self/fd/{self._folder_fd}/{self.temporary.name}"
        for codec in ("avc1", "mp4v"):
            writer = cv2.VideoWriter(
                name, cv2.VideoWriter_fourcc(*codec), self.fps, (width, height)
            )
            if writer.isOpened():
                self._writer, self.codec = writer, codec
                break
            writer.release()
        if self._writer is None:
            raise OutputError(
                f"OpenCV cannot encode the video {self.path} (neither avc1 nor mp4v is available "
                "in this OpenCV build)"
            )
        if self.codec != "avc1" and self._warn is not None:
            self._warn(
                f"this OpenCV build cannot encode H.264; writing {self.path} as MPEG-4 Part 2 "
                "(mp4v) instead"
            )
        self._size = (width, height)

    def write(self, bgr: np.ndarray, name: str = "", index: int | None = None) -> None:
        """Append a frame (all frames must have the first one's size; ``name`` is unused).

        Args:
            bgr: the annotated frame.
            name: unused (the folder writer's file name).
            index: the frame's index in its video, if known. Frames skipped before it (a
                damaged video read past its undecodable frames) are filled with the previous
                frame, so that the video keeps its length and stays in step with the source.
        """
        if self._closed:
            raise OutputError(f"{self.path} is already closed")
        if index is not None and self._previous is not None:
            for _ in range(index - self._next_index):
                self._writer.write(self._previous)  # type: ignore[union-attr]
                self.frames += 1
        if index is not None:
            self._next_index = index + 1
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
        self._previous = bgr
        self.frames += 1

    def close(self) -> None:
        """Finish, check and commit the video (harmless when called again).

        Raises:
            OutputError: the encoder could not finish the file (the reason, e.g. no space
                left, is named); the destination is untouched.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.release()
            if self.frames == 0:
                remove_quietly(self.temporary)
                return
            readable = _count_video_frames(self.temporary)
            if readable != self.frames:
                reason = _write_failure_reason(self.temporary)
                remove_quietly(self.temporary)
                found = "cannot be opened" if readable is None else f"holds {readable}"
                raise OutputError(
                    f"cannot write {self.path}: {reason} (the finished video {found} of the "
                    f"{self.frames} frames written)"
                )
            try:
                commit_file(self.temporary, self.target, shown=self.path)
            except OutputError:
                remove_quietly(self.temporary)
                raise
            self.committed = True
        finally:
            if self._folder_fd is not None:
                os.close(self._folder_fd)
                self._folder_fd = None
            self._release()

    def abort(self) -> None:
        """Drop the video (the destination is untouched) and release the lock."""
        self._closed = True
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.release()
        remove_quietly(self.temporary)
        if self._folder_fd is not None:
            os.close(self._folder_fd)
            self._folder_fd = None
        self._release()


def _opencv_path(path: Path) -> str | None:
    """``path`` as OpenCV can take it (UTF-8 text), or ``None`` when its bytes are not UTF-8."""
    try:
        text = str(path)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def _count_video_frames(path: Path) -> int | None:
    """Frames a finished MP4 announces in its index, or ``None`` if it cannot be opened."""
    from vitruvian.io.sources import SourceReadError, open_video_file

    try:
        capture, fd = open_video_file(path, str(path))
    except SourceReadError:
        return None
    try:
        if not capture.isOpened():
            return None
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
        if fd is not None:
            os.close(fd)


def _write_failure_reason(path: Path) -> str:
    """Why an encoder (which reports no errors of its own) could not finish ``path``: the
    operating system's words for a full disk or a file size limit, when either is the case."""
    try:
        size = path.stat().st_size
        usage = shutil.disk_usage(path.parent)
    except OSError as exc:
        return os_error_text(exc)
    if usage.free < 1 << 20:
        return os_error_text(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        limit = -1
    if limit >= 0 and limit != getattr(resource, "RLIM_INFINITY", -1) and size >= limit - 4096:
        text = os_error_text(OSError(errno.EFBIG, os.strerror(errno.EFBIG)))
        return f"{text}: the file size limit (ulimit -f) is {limit} bytes"
    return "the video encoder could not finish the file"


class AnnotatedDirWriter(_Output):
    """A folder of annotated PNG files, one per image or frame.

    Names: ``<image file stem>.png`` for an image, ``<video file stem>_<frame:06d>.png`` for a
    video frame, ``camera<N>_<frame:06d>.png`` for a camera frame; a name already used in this
    run gets ``-2``, ``-3``, ... before ``.png``. Each PNG is encoded in memory, written under a
    temporary name and renamed into place, so a file of that name is always a whole image.

    Args:
        path: the folder (created if missing).
        overwrite: replace files of the same names (the caller checks beforehand which names
            exist, see :func:`vitruvian.io.preflight.check_outputs`).
    """

    def __init__(self, path: Path, *, overwrite: bool = False) -> None:
        super().__init__(path, overwrite, folder=True)  # creates the folder
        # Unfinished PNGs left by a killed run (a live one would hold the folder's lock).
        for leftover in partial_files_in(self.target, ".png"):
            remove_quietly(leftover)
        self.frames = 0
        self._used: set[str] = set()

    def write(self, bgr: np.ndarray, name: str = "frame", index: int | None = None) -> None:
        """Write one annotated image as ``<name>.png`` (deduplicated; ``index`` is unused:
        the name carries the frame's index)."""
        candidate, counter = name, 1
        while candidate in self._used:
            counter += 1
            candidate = f"{name}-{counter}"
        self._used.add(candidate)
        target = self.target / f"{candidate}.png"
        shown = self.path / f"{candidate}.png"
        ok, encoded = cv2.imencode(".png", bgr)
        if not ok:
            raise OutputError(f"cannot encode {shown} as PNG")
        temporary = partial_path(target, ".png")
        fd = _open_exclusive(temporary, shown)
        try:
            try:
                write_all(fd, encoded.data)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except OSError as exc:
            remove_quietly(temporary)
            raise OutputError(f"cannot write {shown}: {os_error_text(exc)}") from exc
        self.frames += 1
        self.committed = True

    def close(self) -> None:
        """Release the folder (each PNG is complete when written)."""
        self._release()

    def abort(self) -> None:
        """Release the folder; the PNGs already written stay."""
        self._release()


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
    path: Path,
    fps: float | None,
    warn: Callable[[str], None] | None = None,
    *,
    overwrite: bool = False,
) -> AnnotatedVideoWriter | AnnotatedDirWriter:
    """Open the annotated-output writer for ``path`` (see :func:`check_annotated_path`).

    Args:
        path: an ``.mp4`` file or a folder.
        fps: frame rate for a video file, frames per second (``None``: 30).
        warn: receives one-line warnings (the H.264 fallback).
        overwrite: replace an existing video, or files of the same names in the folder.
    """
    if check_annotated_path(Path(path)) == "video":
        return AnnotatedVideoWriter(Path(path), fps, warn, overwrite=overwrite)
    return AnnotatedDirWriter(Path(path), overwrite=overwrite)


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
