"""Outputs that are complete or absent: temporary names, advisory locks, commit by rename.

Every file ``vitruvian run`` writes goes through this module:

* **Lock.** :class:`OutputLock` holds an advisory lock (``flock``) on a small file beside the
  destination, ``.<name>.lock``, for as long as the output is being written; a second process
  that wants the same destination gets :class:`OutputBusyError` at once. The kernel drops the
  lock when its process dies, however it dies; the lock file is removed on release (and a stale
  one left by a killed process is taken over and removed by the next run).
* **Temporary name.** Data is written to ``.<name>.<pid>-<token>.partial`` (a *journal*: the
  rows written so far, in a form that can be read back however the run ended) or to
  ``.<name>.<pid>-<token>.partial<ext>`` (an unfinished final file, e.g. an MP4 before its
  index is written), in the destination's own folder so that the final rename never crosses a
  file system (:func:`partial_path`).
* **Commit.** :func:`commit_file` flushes the temporary file to disk (``fsync``), renames it
  over the destination (``os.replace``: atomic on POSIX and Windows) and syncs the folder.
  Until then the destination keeps what it held before.
* **Leftovers.** A process killed with SIGKILL (or a power cut) leaves its temporary files.
  :func:`leftovers` finds them for a destination; journals can be turned back into a valid
  output (:func:`vitruvian.io.writers.recover_output`, ``vitruvian recover``), unfinished final
  files cannot and are removed.

Errors: every failure is an :class:`OutputError` naming the file and the operating system's
error (:func:`os_error_text`).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from vitruvian._files import fsync_directory, write_all

__all__ = [
    "FOLDER_LOCK_NAME",
    "LOCK_SUFFIX",
    "Leftover",
    "OutputBusyError",
    "OutputConflictError",
    "OutputError",
    "OutputLock",
    "commit_file",
    "fsync_directory",
    "leftovers",
    "os_error_text",
    "partial_files_in",
    "partial_path",
    "remove_quietly",
    "write_all",
]

#: Suffix of the lock file beside a destination (``.<name>.lock``).
LOCK_SUFFIX = ".lock"

#: The lock file inside a folder destination.
FOLDER_LOCK_NAME = ".vitruvian.lock"

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{6}\.partial(?P<ext>\.[^.]+)?$")


class OutputError(OSError):
    """An output cannot be created or written (bad extension, missing pyarrow, I/O error)."""


class OutputConflictError(OutputError):
    """An output cannot be started as asked: it exists (and ``--overwrite`` was not given),
    it would replace an input, or a killed run left rows for it. Raised before any work."""


class OutputBusyError(OutputConflictError):
    """Another process is writing the same output (its advisory lock is held)."""


def os_error_text(exc: BaseException) -> str:
    """The operating system's words for ``exc``: ``"No space left on device (errno 28)"``, or
    ``str(exc)`` for an error without an errno."""
    if isinstance(exc, OSError) and exc.errno is not None:
        reason = exc.strerror or os.strerror(exc.errno)
        name = errno.errorcode.get(exc.errno)
        return f"{reason} ({name})" if name else reason
    return str(exc) or type(exc).__name__


def partial_path(destination: Path, ext: str = "") -> Path:
    """A new temporary name beside ``destination``: ``.<name>.<pid>-<token>.partial<ext>``.

    Args:
        destination: the final path.
        ext: ``""`` for a journal (recoverable rows), else the extension of an unfinished final
            file (``".mp4"``, ``".parquet"``, ``".png"``), which some writers need to pick the
            format.
    """
    token = secrets.token_hex(3)
    return destination.parent / f".{destination.name}.{os.getpid()}-{token}.partial{ext}"


@dataclass(frozen=True)
class Leftover:
    """A temporary file left beside a destination by a run that did not finish.

    Attributes:
        path: the file.
        journal: ``True`` for a journal (rows that :func:`~vitruvian.io.writers.recover_output`
            turns into the output), ``False`` for an unfinished final file (unusable).
    """

    path: Path
    journal: bool


def _partials(folder: Path) -> list[tuple[os.DirEntry[str], re.Match[str]]]:
    """The temporary files of this module directly inside ``folder``, with their name parts."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [(entry, match) for entry in entries if (match := _PARTIAL.match(entry.name))]


def leftovers(destination: Path) -> list[Leftover]:
    """The temporary files of ``destination`` in its folder (oldest first).

    Call it while holding the destination's :class:`OutputLock`: every temporary file found
    then belongs to a run that is over.
    """
    found = []
    for entry, match in _partials(destination.parent):
        if match["name"] != destination.name:
            continue
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        found.append((mtime, entry.name, Leftover(Path(entry.path), match["ext"] is None)))
    return [leftover for _, _, leftover in sorted(found)]


def partial_files_in(folder: Path, ext: str) -> list[Path]:
    """The unfinished final files with extension ``ext`` (``".png"``) directly inside
    ``folder``, whatever their destination."""
    return sorted(Path(entry.path) for entry, match in _partials(folder) if match["ext"] == ext)


def remove_quietly(path: Path) -> None:
    """Remove a file if it is there; errors are ignored (clean-up only)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def commit_file(temporary: Path, destination: Path, *, shown: Path | None = None) -> None:
    """Move a finished temporary file over ``destination`` atomically.

    Syncs the file to disk first (a disk-full error surfaces here rather than after the
    rename), then ``os.replace``, then syncs the folder.

    Raises:
        OutputError: naming ``shown`` (default ``destination``) and the operating system's error;
            the temporary file is left in place for the caller to keep or remove.
    """
    shown = destination if shown is None else shown
    try:
        fd = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, destination)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {os_error_text(exc)}") from exc
    fsync_directory(destination.parent)


class OutputLock:
    """An exclusive advisory lock on a destination path, held while it is written.

    The lock is a ``flock`` on ``.<name>.lock`` beside the destination (``msvcrt.locking`` on
    Windows). It is taken without waiting: if another process holds it, :class:`OutputBusyError`
    says so. Creating the parent folder is part of taking the lock.

    A folder destination is locked by ``.vitruvian.lock`` inside it instead (the folder is
    created), so that its parent need not be writable.

    Args:
        destination: the output path (resolved: a symlink's target is locked).
        shown: the path to name in messages (as the user gave it).
        folder: the destination is a folder.

    Raises:
        OutputBusyError: another process is writing this destination.
        OutputError: the folder or the lock file cannot be created.
    """

    def __init__(
        self, destination: Path, shown: Path | None = None, *, folder: bool = False
    ) -> None:
        self.destination = destination
        if folder:
            self.path = destination / FOLDER_LOCK_NAME
        else:
            self.path = destination.parent / f".{destination.name}{LOCK_SUFFIX}"
        shown = destination if shown is None else shown
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if isinstance(exc, FileExistsError):  # a file stands where a folder is needed
                exc = NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
            raise OutputError(
                f"cannot create the folder for {shown}: {os_error_text(exc)}"
            ) from exc
        self._fd: int | None = None
        # A lock file can be unlinked by its holder between our open and our lock: then we
        # locked an orphan inode, so check that the name still points at what we locked.
        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(f"cannot write {shown}: {os_error_text(exc)}") from exc
            try:
                _lock_fd(fd)
            except BlockingIOError:
                os.close(fd)
                raise OutputBusyError(
                    f"{shown} is being written by another vitruvian run right now (lock "
                    f"{self.path}): wait for it to finish or choose another output"
                ) from None
            except OSError as exc:
                os.close(fd)
                raise OutputError(f"cannot lock {shown}: {os_error_text(exc)}") from exc
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                try:
                    os.ftruncate(fd, 0)
                    write_all(fd, f"{os.getpid()}\n".encode())
                except OSError:
                    pass  # the pid is informative only
                return
            os.close(fd)
        raise OutputError(f"cannot lock {shown}: the lock file {self.path} keeps changing")

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file and drop the lock (harmless when called again)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        remove_quietly(self.path)  # unlink first, then unlock: see the check in __init__
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(exc.errno, exc.strerror) from exc

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
