"""Writing into the cache: the inter-process lock, interruption-safe writes of verified files,
and installing from copied model files, npm tarballs and wheels (:func:`import_model_file`)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from vitruvian._files import fsync_directory
from vitruvian.models.assets.cache import (
    _CHUNK,
    CACHE_ENV,
    _cache_origin,
    checked_cache_dir,
    file_sha256,
)
from vitruvian.models.assets.manifest import (
    _IMPORT_HINT,
    MODEL_NAMES,
    ModelError,
    _name_for_digest,
    _npm_spec,
    _npm_tarball,
    _pinned_files,
    _wheel_spec,
)

#: The lock file inside the cache directory (see :func:`cache_lock`).
LOCK_NAME = ".lock"
#: A file being written into the cache: ``.incoming-<random>.part``.
_TEMP_PREFIX = ".incoming-"
_TEMP_SUFFIX = ".part"
#: A fetch's working folder in the cache directory: ``.tmp-<pid>-<kind>-<random>``.
_WORK_PREFIX = ".tmp-"
_WORK_NAME = re.compile(r"\.tmp-([0-9]+)-")

# --------------------------------------------------------------------------------------------
# Installing into the cache
# --------------------------------------------------------------------------------------------


def _info(message: str) -> None:
    print(f"vitruvian: {message}", file=sys.stderr, flush=True)


def _ensure_cache_dir() -> Path:
    directory = checked_cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fix = (
            f"point {CACHE_ENV} at a writable folder or unset it"
            if os.environ.get(CACHE_ENV)
            else f"make it writable, or set {CACHE_ENV} to a writable folder"
        )
        raise ModelError(f"cannot create {_cache_origin(directory)} ({exc}); {fix}") from exc
    return directory


# One lock per process guards the file lock: flock() locks held through two descriptors of the
# same file in one process would block each other, so nested and concurrent in-process users
# share the outermost holder's file lock (held cache directories are tracked here).
_PROCESS_LOCK = threading.RLock()
_HELD: set[str] = set()


def _try_lock(fd: int) -> bool:
    """Try to take the exclusive lock on ``fd`` without waiting."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_lock(fd: int) -> None:
    """Take the exclusive lock on ``fd``, waiting as long as needed."""
    if sys.platform == "win32":
        import msvcrt

        while True:  # LK_LOCK gives up after about 10 s; keep waiting, like flock does
            os.lseek(fd, 0, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock(fd: int) -> None:
    """Release the lock taken by :func:`_try_lock` or :func:`_wait_lock`."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete ``.incoming-*.part`` files and the ``.tmp-<pid>-*`` work folders of processes
    that are gone: with the lock held nobody else is writing, so they can only be left over
    from a process that was killed mid-write (the pid check is a second safeguard)."""
    for leftover in directory.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
        try:
            leftover.unlink()
        except OSError:
            pass  # another platform quirk (e.g. still open on Windows); it is never used
    for folder in directory.glob(f"{_WORK_PREFIX}*"):
        match = _WORK_NAME.match(folder.name)
        if match is None or not folder.is_dir() or folder.is_symlink():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or not _process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _remove_leftovers_if_idle() -> None:
    """:func:`_remove_stale_temporaries` if there is something to remove and the cache lock is
    free right now (no waiting): lets a fetch that finds every model present still clear what
    a killed fetch left behind."""
    try:
        directory = checked_cache_dir()
        if not any(directory.glob(f"{_WORK_PREFIX}*")) and not any(
            directory.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}")
        ):
            return
    except (ModelError, OSError):
        return
    if not _PROCESS_LOCK.acquire(blocking=False):
        return  # another thread here is writing; it cleans up itself
    try:
        if str(directory) in _HELD:
            return
        try:
            fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        try:
            if _try_lock(fd):
                try:
                    _remove_stale_temporaries(directory)
                finally:
                    _unlock(fd)
        finally:
            os.close(fd)
    finally:
        _PROCESS_LOCK.release()


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on Windows: assumed gone, the cache lock being held)."""
    if sys.platform == "win32":
        return False  # os.kill would terminate it; the lock already says nobody is writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


@contextmanager
def cache_lock() -> Iterator[Path]:
    """Hold the model cache's inter-process write lock; yields the (created) cache directory.

    Every write into the cache (:func:`fetch_models`, :func:`import_model_file`) runs inside
    it, so concurrent writers in different processes, or in threads of one process, take turns.
    It is re-entrant within a process. The lock is ``<cache>/.lock``, locked with
    ``fcntl.flock`` on POSIX or ``msvcrt.locking`` on Windows; the file stays (it is empty), and
    the operating system releases the lock if the process dies. Waiting for another process
    prints one line to stderr.

    Raises:
        ModelError: the cache directory or the lock file cannot be created.
    """
    directory = _ensure_cache_dir()
    key = str(directory)
    with _PROCESS_LOCK:
        if key in _HELD:  # nested in this thread (other threads wait on _PROCESS_LOCK)
            yield directory
            return
        path = directory / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ModelError(
                f"cannot create the cache lock {path} ({exc}); set {CACHE_ENV} to a writable "
                f"directory"
            ) from exc
        try:
            if not _try_lock(fd):
                _info(f"waiting for another process writing to the model cache {directory}...")
                _wait_lock(fd)
            _HELD.add(key)
            try:
                _remove_stale_temporaries(directory)
                yield directory
            finally:
                _HELD.discard(key)
                _unlock(fd)
        finally:
            os.close(fd)


class _SourceReadError(Exception):
    """Reading the bytes to install failed (a damaged archive, an I/O error on the source), as
    opposed to writing them into the cache."""


def _read_chunks(src: IO[bytes]) -> Iterator[bytes]:
    """Yield ``src``'s bytes in chunks; any failure to read becomes :class:`_SourceReadError`."""
    while True:
        try:
            chunk = src.read(_CHUNK)
        except Exception as exc:  # decoders of damaged archives raise many types
            raise _SourceReadError(f"{type(exc).__name__}: {exc}") from exc
        if not chunk:
            return
        yield chunk


def write_cache_file(directory: Path, target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` in the cache ``directory`` atomically (a temporary file,
    flushed to disk, then renamed over ``target``), as model files are installed. Call it while
    holding :func:`cache_lock`.

    Raises:
        OSError: the file cannot be written (the temporary file is removed).
    """
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(directory)


def _install_stream(src: IO[bytes]) -> tuple[str | None, str, int]:
    """Copy ``src`` into the cache if its sha256 is a pinned model (holding :func:`cache_lock`).

    The bytes go to a temporary file in the cache directory and are hashed on the way; a known
    file is then flushed to disk and renamed atomically to ``<name>.tflite`` (unless an
    identical verified copy is already there), anything else is deleted.

    Returns:
        ``(name or None, sha256, size)``.

    Raises:
        _SourceReadError: ``src`` could not be read to the end.
        ModelError: the cache could not be written.
    """
    with cache_lock() as directory:
        tmp: Path | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
            tmp = Path(tmp_name)
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in _read_chunks(src):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            hexdigest = digest.hexdigest()
            name = _name_for_digest(hexdigest)
            if name is None:
                return None, hexdigest, size
            target = directory / f"{name}.tflite"
            if target.is_file() and file_sha256(target)[0] == hexdigest:
                return name, hexdigest, size  # already there; the temporary file goes
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
            tmp = None
            fsync_directory(directory)
            return name, hexdigest, size
        except OSError as exc:
            raise ModelError(
                f"cannot write to the model cache {directory} ({exc}); free some space or set "
                f"{CACHE_ENV} to a writable directory"
            ) from exc
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)


_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar", ".whl", ".zip")
#: What a truncated or damaged archive raises while it is listed or read. (RuntimeError covers
#: an encrypted zip member; NotImplementedError an unknown compression method.)
_ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    _SourceReadError,
)


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def _archive_members(path: Path) -> Iterator[tuple[str, int, Callable[[], IO[bytes]]]]:
    """Yield ``(member name, size, opener)`` for the regular files in a tar or zip archive."""
    if path.name.lower().endswith((".whl", ".zip")):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, info.file_size, lambda info=info: zf.open(info)
        return
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            if member.isfile():

                def opener(member: tarfile.TarInfo = member) -> IO[bytes]:
                    fh = tf.extractfile(member)
                    assert fh is not None  # regular files always have data
                    return fh

                yield member.name, member.size, opener


def _install_from_archive(path: Path) -> tuple[list[str], list[str]]:
    """Install every pinned model found in an archive.

    Members are candidates when their path is one the manifest names or their size is that of
    a pinned file; each candidate is identified by its sha256.

    Returns:
        ``(installed model names in MODEL_NAMES order, checksum problems)``.
    """
    by_member = {f.member: f for f in _pinned_files()}
    sizes = {f.size for f in _pinned_files()}
    installed: set[str] = set()
    problems: list[str] = []
    try:
        for member, size, opener in _archive_members(path):
            expected = by_member.get(member)
            if expected is None and size not in sizes:
                continue
            with opener() as fh:
                name, digest, got_size = _install_stream(fh)
            if name is not None:
                installed.add(name)
            elif expected is not None:
                problems.append(
                    f"checksum mismatch for {expected.name} ({member} in {path.name}): "
                    f"expected sha256 {expected.sha256} ({expected.size} bytes), "
                    f"got {digest} ({got_size} bytes)"
                )
    except ModelError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise ModelError(
            f"cannot read archive {path} ({exc}); the download is probably incomplete or "
            f"damaged, fetch it again (`npm pack {_npm_spec()}`) and import it with "
            f"{_IMPORT_HINT}; models already verified from it were kept, nothing else"
        ) from exc
    return [n for n in MODEL_NAMES if n in installed], problems


def _ordered(names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [n for n in MODEL_NAMES if n in wanted]


def import_model_file(path: str | os.PathLike[str]) -> list[str]:
    """Install model files from a local copy into the cache.

    Args:
        path: a single model file (a ``.tflite``, or the npm ``.data`` detector file), identified
            by its sha256; the npm tarball (``.tgz``) of the pinned ``@mediapipe/pose``; or the
            pinned ``mediapipe`` wheel (``.whl``). Every pinned model found is installed.

    Returns:
        The names of the models installed, in :data:`MODEL_NAMES` order.

    Raises:
        ModelError: the cache directory is unusable (:func:`checked_cache_dir`); the file is
            missing, unreadable, not a pinned model, an archive that holds none, or an archive
            member that should be a model fails its checksum.
    """
    checked_cache_dir()  # a misconfigured cache is reported before the file is looked at
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(
            f"{path} is not a file; pass a .tflite/.data model file, the npm tarball "
            f"({_npm_tarball()}) or the {_wheel_spec()} wheel"
        )
    if _is_archive(path):
        with cache_lock():
            installed, problems = _install_from_archive(path)
        if problems:
            done = f" (imported anyway: {', '.join(installed)})" if installed else ""
            raise ModelError(
                "; ".join(problems)
                + f"{done}. Fix: the archive is damaged or not the pinned version; get "
                f"{_npm_tarball()} again with `npm pack {_npm_spec()}`"
            )
        if not installed:
            raise ModelError(
                f"{path} holds none of the pinned pose models; expected the npm tarball "
                f"{_npm_tarball()} (`npm pack {_npm_spec()}`) or the {_wheel_spec()} wheel"
            )
        return installed
    sizes = {f.size for f in _pinned_files()}
    try:
        if path.stat().st_size not in sizes:
            digest, size = file_sha256(path)
            name: str | None = None
        else:
            with open(path, "rb") as fh:
                name, digest, size = _install_stream(fh)
    except (OSError, _SourceReadError) as exc:
        raise ModelError(f"cannot read {path} ({exc}); check the path and permissions") from exc
    if name is None:
        raise ModelError(
            f"{path} (sha256 {digest}, {size} bytes) is not one of the pinned pose models "
            f"({', '.join(MODEL_NAMES)}); copy the .tflite files (the detector is "
            f"pose_solution_packed_assets.data) from {_npm_spec()}, or "
            f"pose_detection.tflite / pose_landmark_full.tflite from {_wheel_spec()}"
        )
    return [name]
