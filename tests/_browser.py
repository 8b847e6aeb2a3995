"""Headless Chromium for the browser package's tests and benchmark (``tests/test_web_browser.py``,
``scripts/bench_web.py``, which puts the ``tests`` folder on ``sys.path``).

:func:`served_site` runs ``vitruvian web`` on a free port of 127.0.0.1; :class:`Browser` opens
one of its pages in Debian's ``chromium`` through ``web/test/browser/driver.mjs`` (npm's
``playwright-core``, which downloads no browser) and evaluates scripts in it. Requests for
``/__file__/<absolute path>`` are answered from this machine's disk by the driver, so a page can
read the files a test wrote.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Longest a script may run in the page, in seconds, before the page counts as hung (the
#: longest test, the squat clip in video mode, takes about 20 s on 2 busy cores).
SCRIPT_TIMEOUT_S = 600.0


def missing_tools() -> str | None:
    """What the browser runs lack (with the fix), or ``None``."""
    missing = []
    if not (WEB / "dist" / "vitruvian.mjs").is_file():
        missing.append("the built browser package web/dist (run `make web`)")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        missing.append("web/node_modules (run `make web`, which runs npm ci)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs npm)")
    if not Path(CHROMIUM).is_file():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)")
    return "the browser runs need " + "; ".join(missing) if missing else None


#: ``vitruvian web``'s one line on stdout: the site folder and its URL.
SERVING = re.compile(r"^serving (.+) at (http://127\.0\.0\.1:(\d+)/)$")


@contextmanager
def site_server(folder: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m vitruvian web --dir folder --port 0 ARGS`` while the block runs; yields the
    process and the URL from its first stdout line (stopped, killed if need be, at the end)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "vitruvian", "web", "--dir", str(folder), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = SERVING.match(line.rstrip("\n"))
        if match is None:
            proc.kill()
            raise RuntimeError(f"vitruvian web did not start: {line!r} {proc.communicate()}")
        if Path(match.group(1)) != folder.absolute():
            raise RuntimeError(f"vitruvian web serves {match.group(1)}, not {folder}")
        yield proc, match.group(2)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.communicate()


@contextmanager
def served_site(folder: Path) -> Iterator[str]:
    """A fresh site in ``folder`` served by ``vitruvian web`` while the block runs; its URL."""
    with site_server(folder) as (_, url):
        yield url


class BrowserError(Exception):
    """A script failed in the page; the message is the page's error."""


class Browser:
    """One headless Chromium page at ``url``; :meth:`run` evaluates a script in it."""

    def __init__(self, url: str, chromium_args: Sequence[str] = ()) -> None:
        """Open ``url``; ``chromium_args`` are extra Chromium flags (e.g. a fake camera)."""
        self.proc = subprocess.Popen(
            ["node", str(WEB / "test" / "browser" / "driver.mjs"), url],
            cwd=WEB,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "CHROMIUM": CHROMIUM,
                "CHROMIUM_ARGS": json.dumps(list(chromium_args)),
            },
        )
        #: What the driver and the page wrote to stderr (console messages, page errors).
        self.log: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._collect, daemon=True).start()
        self._next = 0
        first = self._read(SCRIPT_TIMEOUT_S)
        if not first.get("ready"):
            raise RuntimeError(f"the browser did not start: {first}")
        #: Whether the page is cross-origin isolated (wasm threads available).
        self.cross_origin_isolated = bool(first.get("crossOriginIsolated"))

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output: the driver exited

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise BrowserError(
                f"the page did not answer within {timeout:.0f} s (hung?); its last messages:\n"
                + "\n".join(self.log[-30:])
            ) from None
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(
                f"the browser driver exited ({self.proc.returncode}):\n" + "\n".join(self.log[-30:])
            )
        return json.loads(line)

    def _request(self, request: dict[str, Any], timeout: float) -> Any:
        assert self.proc.stdin is not None
        self._next += 1
        self.proc.stdin.write(json.dumps({"id": self._next, **request}) + "\n")
        self.proc.stdin.flush()
        answer = self._read(timeout)
        assert answer["id"] == self._next
        if "error" in answer:
            raise BrowserError(answer["error"])
        return answer["value"]

    def run(self, script: str, arg: Any = None, timeout: float = SCRIPT_TIMEOUT_S) -> Any:
        """Evaluate ``script`` (an async function's source, taking ``arg``) in the page.

        Raises:
            BrowserError: the script threw or its promise rejected, or it ran past ``timeout``
                seconds (the browser is then closed).
        """
        return self._request({"script": script, "arg": arg}, timeout)

    def goto(self, url: str, init_script: str | None = None) -> None:
        """Load ``url`` in the page (waits for its load event). ``init_script`` (JavaScript)
        runs in this and every later page before the page's own scripts."""
        self._request({"goto": url, "initScript": init_script}, SCRIPT_TIMEOUT_S)

    def screenshot(self, path: Path, selector: str | None = None) -> Path:
        """A PNG of the page (or of the first element matching ``selector``) at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._request({"screenshot": str(path), "selector": selector}, SCRIPT_TIMEOUT_S)
        return path

    def call(
        self, module: Path, function: str, arg: Any = None, timeout: float = SCRIPT_TIMEOUT_S
    ) -> Any:
        """Call ``function(arg)`` exported by the page-side ES module file ``module``."""
        script = "async ([module, fn, arg]) => (await import(`/__file__${module}`))[fn](arg)"
        return self.run(script, [str(module), function, arg], timeout)

    def close(self) -> None:
        """Close the browser (and its temporary profile)."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
