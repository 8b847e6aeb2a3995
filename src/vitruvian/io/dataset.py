"""A resumable Parquet dataset of many videos (``vitruvian run VIDEOS --out-dir DIR``).

Layout of ``DIR``::

    DIR/
      <stem>-<key>.parquet      one file per video, complete (:mod:`vitruvian.io.records` rows)
      _failed/<stem>-<key>.json one record per video that failed: source, error, when
      .partial/                 files being written (removed by the next run after a kill)
      .vitruvian.lock           held by the run writing the dataset

``<stem>`` is the video's file name without extension (characters other than letters, digits,
``-``, ``_`` and ``.`` replaced by ``_``) and ``<key>`` the first 12 hex digits of the SHA-256 of
its absolute path, so two ``clip.mp4`` in different folders never share a file.

Each video's file is written in ``.partial/`` (a folder that ``DIR/*.parquet`` does not reach,
and that ``pyarrow.dataset`` skips, as it skips ``_failed/``) and renamed into place only when
complete; a killed run leaves files there, never a truncated ``DIR/*.parquet``, and the next run
removes them. Every file records what produced it in its
Parquet schema metadata (key ``vitruvian``, JSON; :func:`read_provenance`): the source's path,
size and modification time, the options, ``max_frames`` and the vitruvian version; its row count
is the file's own (``pyarrow.parquet.read_metadata(path).num_rows``).

Resume rules (:func:`plan`): a video whose file exists with the same source (path, size,
modification time), options and ``max_frames`` is done and skipped; any other file of that
video (other options, a source changed since) is redone and replaced; a video without a file is
done now (including those that failed before: their failure record is removed when they
succeed). So ``kill -9`` at any moment followed by a rerun gives every video exactly once.

A video that cannot be read at all gets a failure record and no file. A damaged video that can
be read in part gets its file (every frame that could be decoded) *and* a failure record naming
the frames lost, so the run's exit code says something failed; being complete as far as it can
be, it is not redone.

Reading the dataset::

    import pyarrow.dataset as ds
    table = ds.dataset("poses/", format="parquet").to_table()   # every video
    # pandas: pd.read_parquet("poses/"); DuckDB:
    #   SELECT source, count(*) FROM 'poses/*.parquet' WHERE pose_present GROUP BY source
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitruvian.io.atomic import (
    OutputError,
    OutputLock,
    commit_file,
    os_error_text,
    partial_path,
    remove_quietly,
)

__all__ = [
    "FAILED_DIR",
    "METADATA_KEY",
    "PARTIAL_DIR",
    "DatasetPlan",
    "DatasetWriter",
    "Failure",
    "Provenance",
    "VideoTableWriter",
    "plan",
    "read_failures",
    "read_provenance",
    "table_name",
]

#: Failure records' folder inside the dataset (``_`` so that dataset readers skip it).
FAILED_DIR = "_failed"
#: Where files are written until complete (hidden, so that dataset readers skip it).
PARTIAL_DIR = ".partial"
#: The Parquet schema metadata key that holds a file's :class:`Provenance` (JSON).
METADATA_KEY = "vitruvian"
#: Rows per Parquet row group (a video's rows are streamed, memory stays flat).
ROW_GROUP_SIZE = 1024

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def table_name(source: str | os.PathLike[str]) -> str:
    """The dataset file name of a video: ``<stem>-<key>.parquet`` (see the module docstring)."""
    path = Path(source).absolute()
    key = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    stem = _UNSAFE.sub("_", path.stem)[:80] or "video"
    return f"{stem}-{key}.parquet"


@dataclass(frozen=True)
class Provenance:
    """What produced a video's file (stored in its Parquet metadata).

    Attributes:
        source: the video's absolute path.
        size: its size in bytes; mtime_ns: its modification time (ns since the epoch).
        options: the Pose options (:meth:`vitruvian.options.PoseOptions.as_kwargs`, video mode).
        max_frames: the frame limit per video (``None``: all).
        version: the vitruvian version that wrote it.
    """

    source: str
    size: int
    mtime_ns: int
    options: dict[str, Any]
    max_frames: int | None
    version: str

    @classmethod
    def of(
        cls, source: str | os.PathLike[str], options: Mapping[str, Any], max_frames: int | None
    ) -> Provenance:
        """The provenance of a run of ``source`` now.

        Raises:
            OSError: the source cannot be examined.
        """
        from vitruvian import __version__

        path = Path(source).absolute()
        stat = path.stat()
        return cls(
            str(path), stat.st_size, stat.st_mtime_ns, dict(options), max_frames, __version__
        )

    def same_work(self, other: Provenance) -> bool:
        """Whether ``other`` is the same video, unchanged, with the same options and limit."""
        return (self.source, self.size, self.mtime_ns, self.options, self.max_frames) == (
            other.source,
            other.size,
            other.mtime_ns,
            other.options,
            other.max_frames,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Provenance:
        data = json.loads(text)
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


def read_provenance(path: str | os.PathLike[str]) -> Provenance | None:
    """The provenance stored in a dataset file, or ``None`` when the file is missing, not
    Parquet, or has none."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        return Provenance.from_json(metadata[METADATA_KEY.encode()])
    except (OSError, KeyError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Failure:
    """A failure record: the video, what went wrong, when, and whether its file was written
    anyway (a damaged video read in part)."""

    source: str
    error: str
    time: str
    written: bool = False


def read_failures(out_dir: str | os.PathLike[str]) -> list[Failure]:
    """The dataset's failure records, by source path."""
    found = []
    folder = Path(out_dir) / FAILED_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(Failure(**{k: data[k] for k in Failure.__dataclass_fields__ if k in data}))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return sorted(found, key=lambda f: f.source)


@dataclass
class DatasetPlan:
    """Which videos a run must do (:func:`plan`).

    Attributes:
        todo: the videos to process now, in the order given.
        done: the videos whose file is complete and current (skipped).
        stale: the videos among ``todo`` whose existing file is replaced (other options, or
            the source changed).
    """

    todo: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def plan(
    out_dir: str | os.PathLike[str],
    sources: Iterable[str | os.PathLike[str]],
    options: Mapping[str, Any],
    max_frames: int | None,
) -> DatasetPlan:
    """Sort ``sources`` into the videos to do and those already done (resume rules in the
    module docstring). A source that cannot be examined is to do (its run reports why)."""
    result = DatasetPlan()
    for source in sources:
        name = str(source)
        existing = read_provenance(Path(out_dir) / table_name(source))
        try:
            wanted = Provenance.of(source, options, max_frames)
        except OSError:
            result.todo.append(name)
            continue
        if existing is not None and existing.same_work(wanted):
            result.done.append(name)
        else:
            result.todo.append(name)
            if existing is not None:
                result.stale.append(name)
    return result


class VideoTableWriter:
    """One video's Parquet file, streamed into a temporary file (its provenance in the schema
    metadata) and renamed into place by :meth:`commit`; :meth:`discard` (or leaving a ``with``
    block with an exception) removes the temporary file and leaves any previous file as it was.

    Raises:
        OutputError: pyarrow is missing, or the file cannot be written.
    """

    def __init__(self, out_dir: Path, provenance: Provenance) -> None:
        from vitruvian.io.writers import _arrow_schema, _require_pyarrow

        _require_pyarrow()
        import pyarrow.parquet as pq

        self.target = out_dir / table_name(provenance.source)
        self.provenance = provenance
        self._schema = _arrow_schema().with_metadata({METADATA_KEY: provenance.to_json()})
        folder = out_dir / PARTIAL_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {os_error_text(exc)}") from exc
        self._temporary = partial_path(folder / self.target.name, ".parquet")
        self._rows: list[dict[str, Any]] = []
        try:
            self._writer: Any = pq.ParquetWriter(self._temporary, self._schema)
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {os_error_text(exc)}") from exc

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add one frame's rows (:func:`vitruvian.io.records.make_row`)."""
        self._rows.extend(rows)
        if len(self._rows) >= ROW_GROUP_SIZE:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._rows:
            return
        batch = pa.RecordBatch.from_pylist(self._rows, schema=self._schema)
        self._rows = []
        try:
            self._writer.write_batch(batch)
        except OSError as exc:
            raise OutputError(f"cannot write {self.target}: {os_error_text(exc)}") from exc

    def commit(self) -> None:
        """Finish the file and rename it into place (replacing an older file of the video)."""
        try:
            self._flush()
            self._writer.close()
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.target}: {os_error_text(exc)}") from exc
        try:
            commit_file(self._temporary, self.target)
        except OutputError:
            remove_quietly(self._temporary)
            raise

    def discard(self) -> None:
        """Drop the temporary file (the video is not done)."""
        try:
            self._writer.close()
        except OSError:
            pass
        remove_quietly(self._temporary)

    def __enter__(self) -> VideoTableWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self.discard()


class DatasetWriter:
    """A dataset folder held by this run: the lock, leftovers of killed runs removed, and the
    failure records.

    Args:
        out_dir: the dataset folder (created).

    Raises:
        OutputBusyError: another run holds the folder.
        OutputError: it cannot be created or locked.
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self._lock = OutputLock(self.out_dir.resolve(), self.out_dir, folder=True)
        for leftover in (self.out_dir / PARTIAL_DIR).glob("*"):
            remove_quietly(leftover)  # a killed run's: never complete

    def failed(self, source: str, error: str, written: bool = False) -> None:
        """Record that ``source`` failed (replacing an earlier record)."""
        folder = self.out_dir / FAILED_DIR
        folder.mkdir(exist_ok=True)
        record = Failure(
            str(Path(source).absolute()),
            error,
            _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            written,
        )
        target = folder / table_name(source).replace(".parquet", ".json")
        temporary = partial_path(target)
        temporary.write_text(json.dumps(record.__dict__, indent=1) + "\n", encoding="utf-8")
        commit_file(temporary, target)

    def succeeded(self, source: str) -> None:
        """Remove ``source``'s failure record, if any."""
        remove_quietly(self.out_dir / FAILED_DIR / table_name(source).replace(".parquet", ".json"))

    def close(self) -> None:
        """Release the folder."""
        self._lock.release()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
