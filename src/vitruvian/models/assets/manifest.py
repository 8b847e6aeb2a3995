"""The manifest of the pinned model files (``manifest.json`` in :mod:`vitruvian.models`): the
model names, the accepted sha256 of each, and the npm and wheel packages that hold them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

#: The models this package knows, in a stable order.
MODEL_NAMES: tuple[str, ...] = (
    "pose_detection",
    "pose_landmark_lite",
    "pose_landmark_full",
    "pose_landmark_heavy",
)

#: Download sources, in the order :func:`fetch_models` tries them.
SOURCES: tuple[str, ...] = ("npm", "wheel")

_COMPLEXITY_MODELS = ("pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy")
#: How messages tell the user to install a copied file.
_IMPORT_HINT = "`vitruvian models import FILE`"


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
