"""The manifest of the pinned model files (``manifest.json`` in :mod:`vitruvian.models`): the
model names, the accepted sha256 of each, and the npm and wheel packages that hold them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

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
    text = resources.files("vitruvian.models").joinpath("manifest.json").read_text(encoding="utf-8")
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
