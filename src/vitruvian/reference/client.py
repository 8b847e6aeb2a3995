"""The client side of the bridge to the reference MediaPipe: :class:`ReferencePython` starts
:mod:`vitruvian.reference.worker` in the reference interpreter and exchanges one JSON line per
request with it (the protocol is documented there).

The interpreter is found by :func:`resolve_reference_python`: an explicit path (a command's
``--reference-python``), else ``$VITRUVIAN_REFERENCE_PYTHON``. Errors are
:class:`ReferencePythonError`, or the caller's own exception class given as ``error=``, with a
message that names the interpreter and the worker's error on one line (the worker's missing
``mediapipe``, its error reply, or its exit status and last error line when it crashed), followed
by the end of its stderr where the caller asks for it (``stderr_in_errors=True``).

This module needs only the standard library, so that ``scripts/make_goldens.py`` can load it by
file path without the package's dependencies.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

#: Where the reference interpreter is named when no path is given.
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"
#: The worker, run by file path in the reference interpreter.
WORKER_PY = Path(__file__).resolve().parent / "worker.py"
#: How much of the worker's stderr is kept for the error messages (lines, then characters).
_TAIL_LINES = 40
_TAIL_CHARS = 2000
#: Quiets the native logs of MediaPipe and TensorFlow Lite in the worker.
_QUIET_LOGS = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}


class ReferencePythonError(RuntimeError):
    """The reference MediaPipe could not be run; the message says why and what to do."""


def resolve_reference_python(
    candidate: str | os.PathLike[str] | None,
    error: type[Exception] = ReferencePythonError,
    *,
    needed_by: str = "comparing with MediaPipe",
) -> str:
    """The reference interpreter: ``candidate``, else ``$VITRUVIAN_REFERENCE_PYTHON``; its path.

    Args:
        candidate: an explicit interpreter (a command's ``--reference-python``), or ``None``.
        error: the exception class raised.
        needed_by: what needs it, for the message when none is given (e.g. the option,
            ``"--compare mediapipe"``).

    Raises:
        error: neither is set, or it is not found or not executable.
    """
    value = str(candidate) if candidate else os.environ.get(REFERENCE_ENV_VAR, "")
    if not value:
        raise error(
            f"{needed_by} needs a Python with mediapipe installed "
            f"(mediapipe==0.10.14): pass --reference-python PATH/TO/python or set "
            f"{REFERENCE_ENV_VAR}"
        )
    resolved = shutil.which(value)
    if resolved is None:
        raise error(f"reference Python {value!r} not found or not executable")
    return resolved


class ReferencePython:
    """The worker running in the reference interpreter ``python``, until :meth:`shutdown`.

    Args:
        python: the reference interpreter (with ``mediapipe`` installed).
        error: the exception class raised on failure (a subclass of :class:`ReferencePythonError` or
            any exception taking a message), so each application reports its own error type.
        on_progress: called with ``(done, total)`` for the worker's ``progress`` lines (from a
            thread that reads the worker's stderr).
        echo_stderr: also copy the worker's other stderr lines (MediaPipe's logs, the jobs' own
            lines) to this process's stderr as they come; they are kept for the error messages
            either way.
        stderr_in_errors: end the error messages with the last lines of the worker's stderr
            (else they hold its last error line only, on one line).
    """

    def __init__(
        self,
        python: str,
        *,
        error: type[Exception] = ReferencePythonError,
        on_progress: Callable[[int, int], None] | None = None,
        echo_stderr: bool = False,
        stderr_in_errors: bool = False,
    ) -> None:
        self.python = python
        self._error = error
        self._on_progress = on_progress
        self._echo_stderr = echo_stderr
        self._stderr_in_errors = stderr_in_errors
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        try:
            self._proc = subprocess.Popen(
                [python, str(WORKER_PY)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                bufsize=1,
                env={**os.environ, **_QUIET_LOGS},
            )
        except OSError as exc:
            raise error(f"cannot run the reference Python {python!r}: {exc}") from exc
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        try:
            self.versions: dict[str, Any] = self.request({"cmd": "versions"})["versions"]
        except Exception:
            self.shutdown()
            raise

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "progress" and parts[1].isdigit():
                if self._on_progress is not None:
                    self._on_progress(int(parts[1]), int(parts[2]))
            elif line.strip():
                self._tail.append(line.rstrip())
                if self._echo_stderr:
                    sys.stderr.write(line)
                    sys.stderr.flush()

    def stderr_tail(self) -> str:
        """The last lines the worker wrote on stderr (MediaPipe's logs, tracebacks)."""
        return "\n".join(self._tail)[-_TAIL_CHARS:]

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one command (``{"cmd": ..., ...}``), wait for its reply (without ``ok``)."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self._proc.wait(timeout=30)
            self._stderr_reader.join(timeout=5)
            last = self._last_error()
            raise self._error(
                f"the MediaPipe worker in {self.python} exited with status "
                f"{self._proc.returncode}: {last}{_hint(last)}{self._stderr_suffix()}"
            )
        reply = json.loads(line)
        if not reply.pop("ok", False):
            error = str(reply.get("error"))
            raise self._error(
                f"the MediaPipe worker in {self.python} failed on {request.get('cmd')!r}: "
                f"{error}{_hint(error)}{self._stderr_suffix()}"
            )
        return reply

    def _stderr_suffix(self) -> str:
        """The end of the worker's stderr for an error message, where asked for."""
        tail = self.stderr_tail() if self._stderr_in_errors else ""
        return f"\nIts stderr ends with:\n{tail}" if tail else ""

    def _last_error(self) -> str:
        """The worker's last error line on stderr (one line, for one-line messages)."""
        lines = list(self._tail)
        found = next((line for line in reversed(lines) if "Error" in line), None)
        return (found or (lines[-1] if lines else "no error output")).strip()

    def shutdown(self) -> None:
        """End the worker process (asked to quit; killed if it does not within 30 s)."""
        if self._proc.poll() is None:
            try:
                self.request({"cmd": "quit"})
                self._proc.wait(timeout=30)
            except (Exception, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a request left unsent in the pipe to a worker that exited
                    pass
        self._stderr_reader.join(timeout=5)

    def __enter__(self) -> ReferencePython:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()


def run_job(
    python: str,
    job: str,
    spec: dict[str, Any],
    *,
    error: type[Exception] = ReferencePythonError,
    on_progress: Callable[[int, int], None] | None = None,
    echo_stderr: bool = False,
) -> dict[str, Any]:
    """Run one job of the worker (``"eval"``, ``"goldens_image"``, ``"goldens_video"``) on
    ``spec`` in a fresh worker; its result. The keywords are those of :class:`ReferencePython`.
    """
    with ReferencePython(
        python, error=error, on_progress=on_progress, echo_stderr=echo_stderr
    ) as worker:
        return worker.request({"cmd": job, "spec": spec})


def _hint(error: str) -> str:
    """What to check when the worker's error is a module missing in the reference Python."""
    missing = "No module named" in error or "ImportError" in error
    return " (is mediapipe installed there?)" if missing else ""
