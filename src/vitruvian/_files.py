"""Small file-system helpers shared by the model cache and the run outputs (no dependencies)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["fsync_directory", "write_all"]


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename inside it survives a power cut (a no-op
    where folders cannot be opened, e.g. Windows)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
