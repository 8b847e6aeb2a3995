"""Checks on a run's outputs before any work: inputs are never overwritten, outputs only when
asked.

:func:`check_outputs` compares the outputs of ``vitruvian run`` (``--out`` tables, the
``--annotated`` video or folder) with its inputs, with symlinks followed:

* an output that is an input file, or that lies in an input folder (a folder SOURCE, or a
  folder in which a glob matched files), is refused, ``--overwrite`` or not;
* an annotated folder in which the run would write a PNG over an input file is refused;
* the same output named twice is refused;
* an annotated folder that already holds PNGs of the names this run writes is refused unless
  ``overwrite`` (a table or video that exists is refused by its writer, see
  :mod:`vitruvian.io.writers`).

Every refusal is an :class:`~vitruvian.io.atomic.OutputConflictError` (exit code 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from vitruvian.io.atomic import OutputConflictError
from vitruvian.io.runner import annotated_name_pattern
from vitruvian.io.sources import Source, display_name

__all__ = ["check_outputs", "input_locations"]

_GLOB_CHARS = frozenset("*?[")


def _real(path: Path | str) -> str:
    return os.path.realpath(path)


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both resolved)."""
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False


def input_locations(
    specs: Sequence[str], sources: Sequence[Source]
) -> tuple[dict[str, str], dict[str, str]]:
    """The input files and input folders of a run, resolved.

    Args:
        specs: the SOURCE arguments.
        sources: what :func:`~vitruvian.io.sources.resolve_sources` made of them.

    Returns:
        ``(files, folders)``: each maps a resolved path to the name to show (as given).
        Folders are the folder SOURCEs and the folders in which a glob matched files.
    """
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for source in sources:
        if source.path is None:
            continue
        files.setdefault(_real(source.path), source.name)
        spec = specs[source.group] if source.group < len(specs) else ""
        if Path(spec).is_dir():
            folders.setdefault(_real(spec), display_name(spec))
        elif _GLOB_CHARS.intersection(spec) and not Path(spec).exists():
            parent = source.path.parent
            folders.setdefault(_real(parent), display_name(parent))
    return files, folders


def check_outputs(
    specs: Sequence[str],
    sources: Sequence[Source],
    tables: Sequence[Path],
    annotated: Path | None,
    annotated_kind: str | None,
    *,
    overwrite: bool,
) -> None:
    """Refuse outputs that would destroy an input or replace files unasked (see the module
    docstring).

    Args:
        specs: the SOURCE arguments.
        sources: the resolved sources.
        tables: the ``--out`` paths.
        annotated: the ``--annotated`` path, if any.
        annotated_kind: ``"video"`` or ``"dir"`` (from
            :func:`~vitruvian.io.writers.check_annotated_path`).
        overwrite: whether ``--overwrite`` was given.

    Raises:
        OutputConflictError: the first problem found, in one line that names the fix.
    """
    files, folders = input_locations(specs, sources)
    outputs = [(path, "file") for path in tables]
    if annotated is not None:
        outputs.append((annotated, "dir" if annotated_kind == "dir" else "file"))
    seen: dict[str, Path] = {}
    for path, kind in outputs:
        real = _real(path)
        if real in seen:
            raise OutputConflictError(f"{path} is named twice as an output ({seen[real]})")
        seen[real] = path
        if real in files:
            raise OutputConflictError(
                f"the output {path} is the input {files[real]}: writing it would destroy the "
                "input; choose another output"
            )
        for folder, shown in folders.items():
            if _inside(real, folder):
                raise OutputConflictError(
                    f"the output {path} is inside the input folder {shown}: choose an output "
                    "outside it"
                )
        if kind == "dir":
            _check_annotated_folder(path, real, sources, files, overwrite)


def _check_annotated_folder(
    path: Path, real: str, sources: Sequence[Source], files: dict[str, str], overwrite: bool
) -> None:
    if not os.path.isdir(real):
        return
    patterns = [annotated_name_pattern(source) for source in sources]
    combined = re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) if patterns else None
    existing: list[str] = []
    try:
        entries = sorted(os.scandir(real), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if combined is None or not combined.fullmatch(entry.name):
            continue
        entry_real = _real(entry.path)
        if entry_real in files:
            raise OutputConflictError(
                f"--annotated {path} would write {entry.name} over the input "
                f"{files[entry_real]}: choose another folder"
            )
        existing.append(entry.name)
    if existing and not overwrite:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise OutputConflictError(
            f"--annotated {path} already holds {existing[0]}{more} of the names this run "
            "writes: pass --overwrite to replace them, or choose another folder"
        )
