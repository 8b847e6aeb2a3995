"""The client side of the bridge to the reference MediaPipe: :class:`ReferencePython` starts
:mod:`vitruvian.reference.worker` in the reference interpreter and exchanges one JSON line per
request with it (the protocol is documented there).

The interpreter is found by :func:`resolve_reference_python`: an explicit path (a command's
``--reference-python``), else ``$VITRUVIAN_REFERENCE_PYTHON``. Errors are
:class:`ReferencePythonError`, or the caller's own exception class given as ``error=``, with a
one-line message that names the interpreter and the worker's error.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

#: Where the reference interpreter is named when no path is given.
REFERENCE_ENV_VAR = "VITRUVIAN_REFERENCE_PYTHON"
#: The worker, run by file path in the reference interpreter.
WORKER_PY = Path(__file__).resolve().parent / "worker.py"
#: Quiets the native logs of MediaPipe and TensorFlow Lite in the worker.
_QUIET_LOGS = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}


class ReferencePythonError(RuntimeError):
    """The reference MediaPipe could not be run; the message says why and what to do."""


def resolve_reference_python(
    candidate: str | os.PathLike[str] | None, error: type[Exception] = ReferencePythonError
) -> str:
    """The reference interpreter: ``candidate``, else ``$VITRUVIAN_REFERENCE_PYTHON``; its path.

    Raises:
        error: neither is set, or it is not found or not executable.
    """
    value = str(candidate) if candidate else os.environ.get(REFERENCE_ENV_VAR, "")
    if not value:
        raise error(
            "comparing with MediaPipe needs a Python with mediapipe installed "
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
        on_progress: called with ``(done, total)`` for the worker's ``progress`` lines.
    """

    def __init__(
        self,
        python: str,
        *,
        error: type[Exception] = ReferencePythonError,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.python = python
        self._error = error
        self._on_progress = on_progress
        self._tail: collections.deque[str] = collections.deque(maxlen=40)
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

    def stderr_tail(self) -> str:
        """The last lines the worker wrote on stderr (MediaPipe's logs, tracebacks)."""
        return "\n".join(self._tail)

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
            raise self._error(
                f"the MediaPipe worker in {self.python} exited with status "
                f"{self._proc.returncode}: {self._last_error()}"
            )
        reply = json.loads(line)
        if not reply.pop("ok", False):
            hint = " (is mediapipe installed there?)" if "mediapipe" in str(reply) else ""
            raise self._error(
                f"the MediaPipe worker in {self.python} failed on {request.get('cmd')!r}: "
                f"{reply.get('error')}{hint}"
            )
        return reply

    def _last_error(self) -> str:
        """The worker's last error line on stderr (one line, for one-line messages)."""
        lines = list(self._tail)
        found = next((line for line in reversed(lines) if "Error" in line), None)
        return (found or (lines[-1] if lines else "no error output")).strip()

    def shutdown(self) -> None:
        """End the worker process."""
        if self._proc.poll() is None:
            try:
                self.request({"cmd": "quit"})
                self._proc.wait(timeout=30)
            except (Exception, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
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
) -> dict[str, Any]:
    """Run one job of the worker (``"eval"``, ``"goldens_image"``, ``"goldens_video"``) on
    ``spec`` in a fresh worker; its result."""
    with ReferencePython(python, error=error, on_progress=on_progress) as worker:
        return worker.request({"cmd": job, "spec": spec})
