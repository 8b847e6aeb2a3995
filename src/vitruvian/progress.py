"""Progress bars for long work: on a terminal only, unless asked for.

Logs stay clean: when stderr is redirected to a file or a pipe, no bar is drawn (a bar redraws
itself with carriage returns), and the commands print their one summary line either way. A
command's ``--progress`` / ``--no-progress`` (or ``VITRUVIAN_PROGRESS=1|0``) overrides the
terminal check.

Output that cannot be written never stops the work: :class:`SafeStream` wraps stderr so that a
closed pipe (``vitruvian run ... 2>&1 | head``), a full disk or a closed terminal silences the
messages instead of raising in the middle of a run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["PROGRESS_ENV", "SafeStream", "progress_bar", "progress_enabled"]

#: Environment variable forcing bars on (``1``) or off (``0``) when no flag decides.
PROGRESS_ENV = "VITRUVIAN_PROGRESS"


def progress_enabled(requested: bool | None = None, stream: IO[str] | None = None) -> bool:
    """Whether to draw a bar: ``requested`` if given, else ``$VITRUVIAN_PROGRESS`` if set,
    else whether ``stream`` (default stderr) is a terminal."""
    if requested is not None:
        return requested
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or unusual streams
        return False


class SafeStream:
    """A text stream whose writes never raise.

    The first write or flush that fails (``BrokenPipeError`` when the reader of a pipe has gone,
    ``OSError`` for a full disk, ``ValueError`` for a closed stream) marks it broken; from then
    on writes are dropped, and the underlying file descriptor is pointed at the null device so
    that nothing else in the process (tracebacks, the interpreter's final flush) fails on it
    either. Other attributes come from the wrapped stream.

    Args:
        stream: the stream to wrap (usually ``sys.stderr``).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        """Write ``text`` (dropped once the stream is broken); returns its length."""
        if not self.broken:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._break()
        return len(text)

    def flush(self) -> None:
        """Flush (a failure marks the stream broken)."""
        if not self.broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._break()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal (``False`` once broken)."""
        try:
            return not self.broken and bool(self._stream.isatty())
        except (OSError, ValueError, AttributeError):
            return False

    def _break(self) -> None:
        self.broken = True
        try:
            fd = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, fd)
            finally:
                os.close(null)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Bar:
    """A tqdm bar, or nothing; ``enabled`` says which."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar
        self.enabled = bar is not None
        self.n = 0

    def update(self, count: int = 1) -> None:
        self.n += count
        if self._bar is not None:
            self._bar.update(count)


@contextmanager
def progress_bar(
    total: float | None = None,
    *,
    desc: str = "",
    unit: str = "it",
    unit_scale: bool = False,
    enabled: bool | None = None,
    **options: Any,
) -> Iterator[_Bar]:
    """A tqdm progress bar on stderr when :func:`progress_enabled` says so.

    Yields an object with ``update(n)``, ``n`` and ``enabled`` either way, so callers need no
    branches.
    """
    if not progress_enabled(enabled):
        yield _Bar(None)
        return
    from tqdm import tqdm

    with tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit_scale,
        file=sys.stderr,
        dynamic_ncols=True,
        **options,
    ) as bar:
        yield _Bar(bar)
