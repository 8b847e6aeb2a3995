"""The browser package as a site: the built ``web/dist`` plus the model files, served locally.

``vitruvian web`` (:mod:`vitruvian.cli`) is :func:`prepare_site` then :func:`serve`.

A *site* is a folder holding

* a copy of the built browser package (:func:`find_web_dist`: ``$VITRUVIAN_WEB_DIST``, else
  ``web/dist`` of the source checkout this package runs from), every file of it, recursively:
  ``vitruvian.mjs`` (and its ``.map``), ``vitruvian.js``, LiteRT.js's ``wasm/`` runtime, the
  HTML pages (``index.html``, ...);
* ``models/`` with the four model files under the names of the npm package
  ``@mediapipe/pose`` (the basename of each model's ``npm`` member in
  ``vitruvian/models/manifest.json``): ``pose_solution_packed_assets.data`` (the detector,
  ``pose_detection``), ``pose_landmark_lite.tflite``, ``pose_landmark_full.tflite`` and
  ``pose_landmark_heavy.tflite``, taken from the verified model cache (downloaded when missing,
  see :mod:`vitruvian.models.assets`) as hard links where the site is on the cache's file
  system, else as copies;
* ``.vitruvian-site.json``, the list of the package files copied, so that preparing the site
  again removes the files a newer build no longer has (and so that a folder that is not a site
  is never written into, see :func:`prepare_site`).

Every file is written under a temporary ``.<name>.<pid>.<random>.part`` name in its final
folder and renamed into place when complete, so an interrupted prepare never leaves a partial
file under a final name (the next prepare removes temporary files whose process is gone).

The server (:func:`serve`) is the standard library's threading HTTP server, on 127.0.0.1 by
default. It adds ``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Embedder-Policy:
require-corp`` and ``Cross-Origin-Resource-Policy: same-origin`` to every response, so pages are
cross-origin isolated (``SharedArrayBuffer``, wasm threads), and ``Cache-Control: no-cache``, so
a rebuilt package is picked up on reload. It serves nothing outside the site folder, no name
starting with a dot, and no folder listings.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import posixpath
import secrets
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from vitruvian._files import fsync_directory
from vitruvian.models.assets import (
    CACHE_ENV,
    MODEL_NAMES,
    ModelError,
    _manifest,
    checked_cache_dir,
    verified_model,
    verify,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MODELS_FOLDER",
    "SITE_MARKER",
    "WEB_DIST_ENV",
    "SiteRequestHandler",
    "WebError",
    "default_site_dir",
    "find_web_dist",
    "make_server",
    "prepare_site",
    "serve",
    "site_model_files",
    "site_url",
]

#: Environment variable naming the built browser package (a ``web/dist`` folder).
WEB_DIST_ENV = "VITRUVIAN_WEB_DIST"
#: The file every built browser package has.
ENTRY_FILE = "vitruvian.mjs"
#: The folder of the site that holds the model files.
MODELS_FOLDER = "models"
#: The file in a prepared site listing the package files copied into it.
SITE_MARKER = ".vitruvian-site.json"
#: Where :func:`serve` listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

_BUILD_HINT = "build it with `make web` (or `cd web && npm ci && npm run build`)"
_PART_SUFFIX = ".part"
#: ``web/dist`` of the source checkout, when this module runs from one (src/vitruvian/web.py).
_CHECKOUT_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


class WebError(RuntimeError):
    """The site cannot be prepared or served: the browser package is not built, the folder
    cannot be a site, the address cannot be listened on. The message says what to do (the CLI
    prints it as one ``Error: ...`` line, exit code 1)."""


# --------------------------------------------------------------------------------------------
# Where things are
# --------------------------------------------------------------------------------------------


def find_web_dist() -> Path:
    """Return the folder of the built browser package.

    ``$VITRUVIAN_WEB_DIST`` when set (and then only it), else ``web/dist`` of the source
    checkout this package runs from (``src/vitruvian/../../web/dist``).

    Raises:
        WebError: the folder holds no ``vitruvian.mjs`` (not built, or not a checkout); the
            message names the folder and how to build it.
    """
    override = os.environ.get(WEB_DIST_ENV)
    if override:
        dist = Path(override).expanduser().absolute()
        if (dist / ENTRY_FILE).is_file():
            return dist
        raise WebError(
            f"{WEB_DIST_ENV} names {dist}, which holds no {ENTRY_FILE} (not a built browser "
            f"package): point it at a built web/dist or unset it; to build the package in a "
            f"vitruvian checkout, {_BUILD_HINT}"
        )
    if (_CHECKOUT_DIST / ENTRY_FILE).is_file():
        return _CHECKOUT_DIST
    if _CHECKOUT_DIST.parent.is_dir():
        raise WebError(
            f"the browser package is not built (no {_CHECKOUT_DIST / ENTRY_FILE}): {_BUILD_HINT}"
        )
    raise WebError(
        f"no built browser package found: this vitruvian is not a source checkout and "
        f"{WEB_DIST_ENV} is not set; in a vitruvian checkout {_BUILD_HINT}, then set "
        f"{WEB_DIST_ENV} to its web/dist folder"
    )


def default_site_dir() -> Path:
    """The site folder ``vitruvian web`` uses without ``--dir``: ``web`` beside the model cache.

    That is ``<user cache>/vitruvian/web`` (``~/.cache/vitruvian/web`` on Linux, next to
    ``~/.cache/vitruvian/models``), or ``$VITRUVIAN_CACHE_DIR/web`` when that variable is set
    (inside the folder it names, never beside it). Either way the site is on the model cache's
    file system, so the model files are hard links, not copies.

    Raises:
        ModelError: the model cache directory cannot be a folder (see
            :func:`vitruvian.models.assets.checked_cache_dir`).
    """
    models = checked_cache_dir()
    if os.environ.get(CACHE_ENV):
        return models / "web"
    return models.parent / "web"


def site_model_files() -> dict[str, str]:
    """Model name -> its file name in the site's ``models/`` folder, as the npm package
    ``@mediapipe/pose`` names it (from the manifest), for each of :data:`MODEL_NAMES`."""
    files = {}
    for name in MODEL_NAMES:
        members = [e["member"] for e in _manifest()["models"][name] if e["source"] == "npm"]
        files[name] = posixpath.basename(members[0])
    return files


# --------------------------------------------------------------------------------------------
# Preparing a site
# --------------------------------------------------------------------------------------------


def prepare_site(dest: str | os.PathLike[str]) -> Path:
    """Make ``dest`` a site: the built browser package plus ``models/``; return its absolute path.

    ``dest`` is created if missing. A folder prepared before is updated: the package files are
    copied again (those a newer build no longer has are removed) and model files that are the
    pinned ones are kept; a model file that is not is replaced. Model files come from the
    verified model cache (fetched first when missing, which needs network); they are hard
    links to the cached files where possible, else copies, and are checked once more in place.

    Raises:
        WebError: no built browser package (:func:`find_web_dist`); ``dest`` is a file, is or
            lies inside the package folder (or holds it), or is a folder with other files that
            is not a site (it is never written into then); a file cannot be written (the
            message names it and the operating system's error).
        ModelError: a model is not cached and cannot be fetched, or the cache is unusable.
    """
    dist = find_web_dist().resolve()
    site = Path(dest).expanduser().absolute()
    _check_destination(site, dist)
    package_files = _package_files(dist)
    models = {name: verified_model(name) for name in MODEL_NAMES}  # fetched when missing
    try:
        site.mkdir(parents=True, exist_ok=True)
        _remove_dead_temporaries(site)
        previous = _read_marker(site)
        # Listed before copying: a prepare interrupted now still removes them next time.
        _write_marker(site, dist, sorted(set(previous) | set(package_files)))
        for rel in package_files:
            target = site.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(target, lambda tmp, src=dist / rel: shutil.copyfile(src, tmp))
        for rel in sorted(set(previous) - set(package_files)):
            _remove_stale(site, rel)
        folder = site / MODELS_FOLDER
        folder.mkdir(exist_ok=True)
        for name, file_name in site_model_files().items():
            source, _digest = models[name]
            _place_model(name, source, folder / file_name)
        _write_marker(site, dist, package_files)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise WebError(
            f"cannot prepare the site in {site}{where}: {exc.strerror or exc}; choose a "
            f"writable folder with --dir"
        ) from exc
    return site


def _check_destination(site: Path, dist: Path) -> None:
    """Refuse a site folder that would overwrite the package, or someone else's files."""
    if site.exists() and not site.is_dir():
        raise WebError(f"the site folder {site} is a file, not a folder: choose another --dir")
    resolved = site.resolve()
    if resolved == dist or dist in resolved.parents:
        where = "is" if resolved == dist else "lies inside"
        raise WebError(
            f"the site folder {site} {where} the built browser package {dist}: choose another --dir"
        )
    if resolved in dist.parents:
        raise WebError(
            f"the site folder {site} holds the built browser package {dist}: choose another "
            f"--dir (an empty or new folder)"
        )
    if site.is_dir() and not (site / SITE_MARKER).is_file():
        try:
            empty = not any(site.iterdir())
        except OSError as exc:
            raise WebError(
                f"cannot read the site folder {site} ({exc}): choose another --dir"
            ) from exc
        if not empty:
            raise WebError(
                f"{site} is not empty and is not a site prepared by `vitruvian web` (no "
                f"{SITE_MARKER}); nothing was written: choose an empty or new folder with --dir"
            )


def _package_files(dist: Path) -> list[str]:
    """Every file under ``dist`` (a link to a file counts as the file; linked folders are left
    out), as sorted POSIX paths relative to it; a :data:`SITE_MARKER` at its top is left out."""
    files = []
    for root, _dirs, names in os.walk(dist, followlinks=False):
        base = Path(root).relative_to(dist)
        for name in names:
            rel = (base / name).as_posix()
            if rel != SITE_MARKER and (Path(root) / name).is_file():
                files.append(rel)
    if ENTRY_FILE not in files:  # e.g. removed since find_web_dist looked
        raise WebError(f"{dist} holds no {ENTRY_FILE}: {_BUILD_HINT}")
    return sorted(files)


def _read_marker(site: Path) -> list[str]:
    """The package files a previous prepare copied into ``site`` (none when unreadable)."""
    try:
        data = json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, str) and _safe_relative(f)]


def _safe_relative(rel: str) -> bool:
    """Whether ``rel`` is a plain relative POSIX path below the site (no ``..``, not absolute)."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _write_marker(site: Path, dist: Path, files: list[str]) -> None:
    text = json.dumps({"format": 1, "dist": str(dist), "files": files}, indent=1) + "\n"
    _atomic_write(site / SITE_MARKER, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _remove_stale(site: Path, rel: str) -> None:
    """Remove a package file an earlier build had, and the folders it leaves empty."""
    target = site.joinpath(*rel.split("/"))
    if rel.split("/")[0] == MODELS_FOLDER or not target.is_file():
        return
    target.unlink()
    folder = target.parent
    while folder != site:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
        folder = folder.parent


def _place_model(name: str, source: Path, target: Path) -> None:
    """Put the verified cached ``source`` at ``target`` unless a pinned copy is there already."""
    if target.is_file() and not target.is_symlink():
        try:
            if os.path.samefile(source, target):
                return
            verify(target, name)
            return  # a pinned file already: kept
        except (ModelError, OSError):
            pass  # damaged or another file: replaced below

    def link_or_copy(tmp: Path) -> None:
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or no hard links here
            shutil.copyfile(source, tmp)
        verify(tmp, name)  # the cache may have changed since it was checked

    _atomic_write(target, link_or_copy)


def _atomic_write(target: Path, write: Callable[[Path], Any]) -> None:
    """Have ``write`` create a temporary file beside ``target``, then rename it to ``target``
    (replacing it); the temporary file is removed if anything fails."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{_PART_SUFFIX}")
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def _remove_dead_temporaries(site: Path) -> None:
    """Remove the ``.<name>.<pid>.<random>.part`` files of prepares that were killed."""
    for path in _walk_files(site):
        parts = path.name.split(".")
        if not (path.name.startswith(".") and path.name.endswith(_PART_SUFFIX)) or len(parts) < 5:
            continue
        pid = parts[-3]
        if pid.isdigit() and _process_gone(int(pid)):
            path.unlink(missing_ok=True)


def _walk_files(folder: Path) -> Iterator[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            yield Path(root) / name


def _process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (on Windows: never assumed, the file is left)."""
    if pid == os.getpid() or sys.platform == "win32":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, but belongs to someone else
    return False


# --------------------------------------------------------------------------------------------
# Serving a site
# --------------------------------------------------------------------------------------------


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Serves a site folder (``directory=``) with the cross-origin isolation headers.

    Every response (errors included) gets ``Cross-Origin-Opener-Policy: same-origin``,
    ``Cross-Origin-Embedder-Policy: require-corp``, ``Cross-Origin-Resource-Policy:
    same-origin`` and ``Cache-Control: no-cache``. Paths with a component starting with a dot
    (``..`` included) and folder listings are answered 404. Requests are logged to stderr only
    when :attr:`verbose` is set.
    """

    #: Log each request to stderr (``vitruvian web --verbose``).
    verbose = False
    #: Seconds a connection may stay silent before it is closed.
    timeout = 60
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".tflite": "application/octet-stream",
        ".data": "application/octet-stream",
        ".binarypb": "application/octet-stream",
        ".map": "application/json",
    }
    #: The headers added to every response.
    extra_headers: tuple[tuple[str, str], ...] = (
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Embedder-Policy", "require-corp"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Cache-Control", "no-cache"),
    )

    def end_headers(self) -> None:
        for key, value in self.extra_headers:
            self.send_header(key, value)
        super().end_headers()

    def send_head(self) -> Any:
        path = unquote(urlsplit(self.path).path)
        if any(part.startswith(".") for part in path.replace("\\", "/").split("/")):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


class _SiteServer(ThreadingHTTPServer):
    """A threading HTTP server that never shares its port (no ``SO_REUSEPORT``) and reports
    dropped connections only when verbose."""

    allow_reuse_address = sys.platform != "win32"  # on Windows it would allow port stealing
    allow_reuse_port = False
    verbose = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.verbose and isinstance(sys.exc_info()[1], ConnectionError):
            return  # the browser went away mid-response: nothing to report
        super().handle_error(request, client_address)


class _SiteServer6(_SiteServer):
    address_family = socket.AF_INET6


def _is_loopback(address: str) -> bool:
    """Whether the IP address ``address`` (as a bound socket reports it) is a loopback one."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def make_server(
    site: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    verbose: bool = False,
) -> ThreadingHTTPServer:
    """A listening (not yet serving) HTTP server for the site folder ``site``.

    Args:
        site: the folder to serve (see :func:`prepare_site`).
        host: the address to listen on (an IPv6 address works too).
        port: the port; 0 picks a free one (:func:`site_url` says which).
        verbose: log each request (and dropped connections) to stderr.

    Raises:
        WebError: ``site`` is not a folder; the port is in use or not allowed; the host is not
            an address of this machine. The message names ``--port`` or ``--host``.
    """
    folder = Path(site).absolute()
    if not folder.is_dir():
        raise WebError(f"the site folder {folder} does not exist: prepare it first")
    bare = host.strip("[]")
    server_class = _SiteServer6 if ":" in bare else _SiteServer
    handler = type("_Handler", (SiteRequestHandler,), {"verbose": verbose})

    def make_handler(*args: Any) -> SiteRequestHandler:
        return handler(*args, directory=str(folder))

    try:
        server = server_class((bare, port), make_handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise WebError(
                f"port {port} on {host} is already in use: choose another with --port N "
                f"(--port 0 picks a free one)"
            ) from exc
        if exc.errno == errno.EACCES:
            raise WebError(
                f"not allowed to listen on port {port} of {host} ({exc.strerror}): choose a "
                f"port above 1023 with --port N (--port 0 picks a free one)"
            ) from exc
        raise WebError(
            f"cannot listen on {host} port {port} ({exc.strerror or exc}): check --host (an "
            f"address of this machine, e.g. 127.0.0.1) and --port"
        ) from exc
    server.verbose = verbose
    return server


def site_url(server: ThreadingHTTPServer) -> str:
    """The ``http://HOST:PORT/`` URL of a server from :func:`make_server`."""
    host, port = server.server_address[:2]
    host = str(host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class _Stop(BaseException):
    """Raised by the SIGTERM/SIGHUP handler of :func:`serve` to leave the serving loop."""


def serve(
    site: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    verbose: bool = False,
    ready: Callable[[ThreadingHTTPServer], None] | None = None,
) -> None:
    """Serve the site folder ``site`` over HTTP until stopped; return normally when stopped.

    Once listening, prints one line to stdout, ``serving SITE at http://HOST:PORT/``, and
    flushes it (HOST the address listened on, PORT the actual port when ``port`` is 0). When
    that address is not a loopback one, a warning goes to stderr first: every machine that can
    reach it can load the site.

    Stopping: Ctrl-C (``KeyboardInterrupt``), SIGTERM or SIGHUP (these two only when called in
    the main thread and their handler is the default one; the previous handlers are restored on
    return), or ``server.shutdown()`` from another thread, given the server by ``ready``.

    Args:
        site: the folder to serve (see :func:`prepare_site`).
        host: the address to listen on.
        port: the port; 0 picks a free one.
        verbose: log each request to stderr.
        ready: called with the server once it listens and the line is printed.

    Raises:
        WebError: as :func:`make_server`.
    """
    server = make_server(site, host, port, verbose=verbose)
    address = str(server.server_address[0])
    if not _is_loopback(address):
        where = host if host.strip("[]") == address else f"{host} ({address})"
        print(
            f"vitruvian: warning: listening on {where}, not a loopback address: other "
            f"machines that can reach it can load the site",
            file=sys.stderr,
            flush=True,
        )
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(signum)
            raise _Stop(signum)

    previous: dict[int, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGTERM", "SIGHUP"):
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
                    previous[sig] = signal.signal(sig, stop)
        print(f"serving {Path(site).absolute()} at {site_url(server)}", flush=True)
        if ready is not None:
            ready(server)
        server.serve_forever()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        stopping.append(0)  # a signal from now on is ignored until the handlers are restored
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
