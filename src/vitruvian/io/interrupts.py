"""Signals as a request to stop a run between two frames, so that its outputs are finished.

Python's default for SIGINT (Ctrl+C) raises ``KeyboardInterrupt`` wherever the program is,
and SIGTERM and SIGHUP kill it outright: either can leave a table without its end. Inside
:class:`StopSignals` the three signals are recorded instead:

* the first one asks the run to stop after the frame in progress (:meth:`StopSignals.check`,
  called between frames, raises ``KeyboardInterrupt`` there, which
  :func:`vitruvian.io.runner.run_pose` turns into a clean stop);
* a second one stops at once, with ``KeyboardInterrupt``, except inside
  :meth:`StopSignals.shield` (one frame's writes), where it waits for the block's end;
* once :meth:`StopSignals.finishing` is called (outputs being closed), further signals are
  only counted, so that closing is never cut short.

The exit status is the shell's convention for the first signal: ``128 + signal number``
(130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP; :meth:`StopSignals.exit_code`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

__all__ = ["STOP_SIGNALS", "StopSignals", "signal_name"]

#: The signals turned into a stop request (those this platform has).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for 15, and so on (``"signal N"`` when unknown)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopSignals:
    """Record SIGINT, SIGTERM and SIGHUP while the ``with`` block runs (main thread only;
    elsewhere the handlers stay as they are and nothing is recorded).

    Attributes:
        received: the signal numbers received, in order.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._shield_depth = 0
        self._pending = False
        self._finishing = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) < 2 or self._finishing:
            return
        if self._shield_depth:
            self._pending = True
            return
        raise KeyboardInterrupt

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return bool(self.received)

    @property
    def first(self) -> int | None:
        """The first signal received, or ``None``."""
        return self.received[0] if self.received else None

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a stop was asked for (call between frames)."""
        if self.received:
            raise KeyboardInterrupt

    @contextmanager
    def shield(self) -> Iterator[None]:
        """A block that a second signal does not cut (it takes effect at the block's end)."""
        self._shield_depth += 1
        try:
            yield
        finally:
            self._shield_depth -= 1
        if self._pending and not self._shield_depth and not self._finishing:
            self._pending = False
            raise KeyboardInterrupt

    def finishing(self) -> None:
        """From now on signals are only counted (the outputs are being closed)."""
        self._finishing = True

    def exit_code(self) -> int | None:
        """``128 + `` the first signal's number, or ``None`` without a signal."""
        return None if self.first is None else 128 + int(self.first)
