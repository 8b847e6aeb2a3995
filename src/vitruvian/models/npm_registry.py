"""The pinned npm tarball straight from the registry that the user's npm settings name.

For machines that have npm *settings* but no npm *client* (a Python-only image with an
``.npmrc``, or ``npm_config_registry`` set by CI): :func:`read_npm_settings` reads the registry
the way npm would, and :func:`download_tarball` fetches ``<package>-<version>.tgz`` over HTTP(S),
streamed, with its sha256 checked against the pin before anything uses it.

No registry is built in: when no setting names one, :func:`read_npm_settings` returns ``None``
and the caller says how to get the models another way.

What is read, from lowest to highest priority (the subset of npm's configuration that locating
and downloading one public tarball needs):

* the global ``npmrc`` (``$npm_config_globalconfig``, else ``<prefix>/etc/npmrc`` for
  ``$npm_config_prefix``, ``/usr/local``, ``/usr``, and ``/etc/npmrc``);
* the user's (``$npm_config_userconfig``, else ``~/.npmrc``);
* the project's ``.npmrc`` (in the nearest folder above the working directory holding a
  ``package.json``, else the working directory);
* ``npm_config_<key>`` environment variables (any case, ``_`` for ``-``).

Keys used: ``@<scope>:registry`` then ``registry``; ``cafile`` / ``ca``, ``strict-ssl``;
``https-proxy`` / ``proxy`` and ``noproxy`` (the ``HTTPS_PROXY`` / ``NO_PROXY`` environment
variables work as for any Python download); and credentials for the registry's URL
(``//host/path/:_authToken``, ``:_auth``, ``:username`` + ``:_password``), sent only to that
registry. Values may use ``${VAR}`` like npm's.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from vitruvian.models.assets.cache import file_sha256

__all__ = [
    "NpmSettings",
    "RegistryError",
    "configured_keys",
    "download_tarball",
    "read_npm_settings",
    "tarball_url",
]

_CHUNK = 1 << 20
#: Seconds without a byte from the registry before the download is given up.
READ_TIMEOUT_S = 30.0
_ENV_PREFIX = "npm_config_"
_VAR = re.compile(r"(\\*)\$\{([^}]+)\}")


class RegistryError(RuntimeError):
    """The tarball could not be downloaded or did not match its pin; the message is one
    sentence naming the cause (no network, proxy, TLS, HTTP status, checksum)."""


@dataclass(frozen=True)
class NpmSettings:
    """What npm's configuration says about fetching one scoped package.

    Attributes:
        registry: the registry's base URL, ending in ``/``.
        origin: where it was set (a file path or an environment variable), for messages.
        cafile: a CA bundle to trust instead of the system's, or ``None``.
        ca: PEM text of extra CA certificates (npm's ``ca``), or ``None``.
        strict_ssl: verify the server's certificate (npm's ``strict-ssl``, default true).
        proxy: the proxy URL for the registry's scheme, or ``None`` (then ``HTTPS_PROXY`` and
            friends apply).
        authorization: the ``Authorization`` header value for the registry, or ``None``.
    """

    registry: str
    origin: str
    cafile: str | None = None
    ca: str | None = None
    strict_ssl: bool = True
    proxy: str | None = None
    authorization: str | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# Reading the configuration
# --------------------------------------------------------------------------------------------


def _expand(value: str, environ: Mapping[str, str]) -> str:
    """npm's ``${VAR}`` substitution (``\\${VAR}`` stays literal)."""

    def replace(match: re.Match[str]) -> str:
        slashes, name = match.group(1), match.group(2)
        if len(slashes) % 2:
            return slashes[1:] + "${" + name + "}"
        return slashes + environ.get(name, "")

    return _VAR.sub(replace, value)


def _parse_npmrc(text: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``key=value`` lines of an ``.npmrc`` (``;``/``#`` comments, quotes, ``${VAR}``)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in ";#" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = _expand(key.strip(), environ), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = _expand(value, environ)
    return values


def _project_root(cwd: Path) -> Path:
    for folder in (cwd, *cwd.parents):
        if (folder / "package.json").is_file():
            return folder
    return cwd


def _config_files(environ: Mapping[str, str], cwd: Path, home: Path) -> list[Path]:
    """npmrc files, lowest priority first."""
    files: list[Path] = []
    if environ.get("npm_config_globalconfig") or environ.get("NPM_CONFIG_GLOBALCONFIG"):
        files.append(
            Path(environ.get("npm_config_globalconfig") or environ["NPM_CONFIG_GLOBALCONFIG"])
        )
    else:
        prefixes = [environ.get("npm_config_prefix") or environ.get("NPM_CONFIG_PREFIX") or ""]
        prefixes += ["/usr/local", "/usr"]
        files.extend(Path(p) / "etc" / "npmrc" for p in prefixes if p)
        files.append(Path("/etc/npmrc"))
    user = environ.get("npm_config_userconfig") or environ.get("NPM_CONFIG_USERCONFIG")
    files.append(Path(user).expanduser() if user else home / ".npmrc")
    files.append(_project_root(cwd) / ".npmrc")
    return files


def _merged_config(environ: Mapping[str, str], cwd: Path, home: Path) -> dict[str, tuple[str, str]]:
    """key -> (value, origin), later layers overriding earlier ones."""
    merged: dict[str, tuple[str, str]] = {}
    seen: set[Path] = set()
    for path in _config_files(environ, cwd, home):
        try:
            resolved = path.resolve()
            if resolved in seen or not path.is_file():
                continue
            seen.add(resolved)
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # an unreadable config is skipped, as npm does
        for key, value in _parse_npmrc(text, environ).items():
            merged[key] = (value, str(path))
    for name, value in environ.items():
        if name.lower().startswith(_ENV_PREFIX) and len(name) > len(_ENV_PREFIX):
            key = name[len(_ENV_PREFIX) :].lower().replace("_", "-")
            if key.startswith("-"):  # npm_config__authToken and the like
                key = "_" + key[1:]
            merged[key] = (value, name)
    return merged


def configured_keys(
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> set[str]:
    """The npm configuration keys that the user's files or environment set (lower case)."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    return {key.lower() for key in _merged_config(environ, cwd, home)}


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("false", "0", "no", "")


def _nerf_dart(url: str) -> str:
    """``https://host:port/path/`` -> ``//host:port/path/`` (npm's key for per-registry auth)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"//{parts.netloc}{path}"


def _authorization(config: Mapping[str, tuple[str, str]], registry: str) -> str | None:
    """The credentials npm would send to ``registry`` (longest matching ``//host/path/:`` key)."""
    target = _nerf_dart(registry)
    best: tuple[int, str] | None = None
    for key, (value, _) in config.items():
        if not key.startswith("//") or ":" not in key[2:]:
            continue
        prefix, _, name = key.rpartition(":")
        if not target.startswith(prefix if prefix.endswith("/") else prefix + "/"):
            continue
        header = None
        if name == "_authToken":
            header = f"Bearer {value}"
        elif name == "_auth":
            header = f"Basic {value}"
        elif name == "username":
            password = config.get(f"{prefix}:_password", ("", ""))[0]
            if password:
                try:
                    secret = base64.b64decode(password).decode("utf-8", "replace")
                except ValueError:  # not base64, as npm requires; send nothing rather than junk
                    continue
                token = base64.b64encode(f"{value}:{secret}".encode()).decode("ascii")
                header = f"Basic {token}"
        if header is not None and (best is None or len(prefix) > best[0]):
            best = (len(prefix), header)
    return best[1] if best else None


def _bypasses_proxy(noproxy: str, host: str) -> bool:
    for entry in re.split(r"[,\s]+", noproxy.strip()):
        entry = entry.strip().lstrip(".").lower()
        if entry and (entry == "*" or host == entry or host.endswith("." + entry)):
            return True
    return False


def read_npm_settings(
    scope: str,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> NpmSettings | None:
    """The registry and connection settings npm would use for packages of ``scope``.

    Args:
        scope: the package's scope, e.g. ``"@mediapipe"`` (``@scope:registry`` wins over
            ``registry``).
        environ, cwd, home: for tests; default to the process's.

    Returns:
        The settings, or ``None`` when no configuration names a registry.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    config = _merged_config(environ, cwd, home)
    entry = config.get(f"{scope}:registry") or config.get("registry")
    if entry is None or not entry[0].strip():
        return None
    registry, origin = entry[0].strip(), entry[1]
    parts = urllib.parse.urlsplit(registry)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryError(
            f"the npm registry {registry!r} (set in {origin}) is not an http(s) URL; fix that "
            f"setting"
        )
    if not registry.endswith("/"):
        registry += "/"
    proxy = None
    key = "https-proxy" if parts.scheme == "https" else "proxy"
    configured = config.get(key) or config.get("proxy")
    noproxy = config.get("noproxy", ("", ""))[0]
    if configured and configured[0] and not _bypasses_proxy(noproxy, parts.hostname or ""):
        proxy = configured[0]
    cafile = config.get("cafile", ("", ""))[0] or None
    ca = config.get("ca", ("", ""))[0] or None
    return NpmSettings(
        registry=registry,
        origin=origin,
        cafile=str(Path(cafile).expanduser()) if cafile else None,
        ca=ca.replace("\\n", "\n") if ca else None,
        strict_ssl=_truthy(config.get("strict-ssl", ("true", ""))[0]),
        proxy=proxy,
        authorization=_authorization(config, registry),
    )


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def tarball_url(registry: str, package: str, version: str) -> str:
    """The registry's conventional tarball URL: ``<registry><@scope/name>/-/<name>-<v>.tgz``."""
    basename = package.rsplit("/", 1)[-1]
    return f"{registry.rstrip('/')}/{package}/-/{basename}-{version}.tgz"


def _opener(settings: NpmSettings) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=settings.cafile)
    if settings.ca:
        context.load_verify_locations(cadata=settings.ca)
    if not settings.strict_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
    if settings.proxy:
        handlers.append(
            urllib.request.ProxyHandler({"http": settings.proxy, "https": settings.proxy})
        )
    return urllib.request.build_opener(*handlers)


def _describe(exc: BaseException, url: str, settings: NpmSettings) -> str:
    """A short cause for a failed request, naming the fix's direction."""
    host = urllib.parse.urlsplit(url).netloc
    where = f"the npm registry {settings.registry} (from {settings.origin})"
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return f"{where} has no {url.rsplit('/', 1)[-1]} (HTTP 404)"
        if exc.code in (401, 403):
            return (
                f"{where} refused the download (HTTP {exc.code}); check the credentials "
                f"for it in your .npmrc"
            )
        if exc.code == 407:
            return "the proxy asks for credentials (HTTP 407); put them in the proxy URL"
        return f"{where} answered HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ssl.SSLError):
        detail = getattr(reason, "verify_message", None) or reason
        return (
            f"TLS verification of {host} failed ({detail}); point npm's cafile setting (or "
            f"SSL_CERT_FILE) at your CA bundle"
        )
    if isinstance(reason, socket.gaierror):
        return f"no network: cannot resolve {host} ({reason.strerror or reason})"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer from {host} within {READ_TIMEOUT_S:.0f} s (no network, or a proxy?)"
    if isinstance(reason, ConnectionRefusedError):
        return f"no network: {host} refused the connection"
    if isinstance(reason, OSError) and "Tunnel connection failed" in str(reason):
        return f"the proxy refused to connect to {host} ({reason})"
    if isinstance(reason, OSError):
        return f"no network: cannot connect to {host} ({reason.strerror or reason})"
    return f"cannot download from {host} ({reason})"


def download_tarball(
    settings: NpmSettings,
    package: str,
    version: str,
    dest_dir: Path,
    *,
    sha256: str,
    size: int,
    progress: bool | None = None,
) -> Path:
    """Download ``package@version``'s tarball into ``dest_dir`` and check it against the pin.

    The bytes are streamed into a temporary ``.part`` file in ``dest_dir`` and hashed on the
    way; the file gets its final name (``<scope>-<name>-<version>.tgz``, as ``npm pack`` names
    it) only when its size and sha256 are the pinned ones, so an interrupted or wrong download
    never looks like a good one.

    Args:
        settings: from :func:`read_npm_settings`.
        dest_dir: an existing folder (e.g. a temporary one).
        sha256, size: the pinned tarball.
        progress: show a progress bar on stderr; ``None`` = only when stderr is a terminal.
            Without one, a line when the download starts and one when it ends.

    Raises:
        RegistryError: a network, proxy, TLS or HTTP failure, a cut-off download, or a
            checksum mismatch (the message names which).
    """
    url = tarball_url(settings.registry, package, version)
    headers = {
        "User-Agent": "vitruvian (npm tarball download)",
        "Accept": "application/octet-stream",
    }
    if settings.authorization:
        headers["Authorization"] = settings.authorization
    request = urllib.request.Request(url, headers=headers)
    target = dest_dir / f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".incoming-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(request, settings, out, url, size, progress)
        digest, got = file_sha256(tmp)
        if (digest, got) != (sha256, size):
            raise RegistryError(
                f"checksum mismatch for {url}: expected sha256 {sha256} ({size} bytes), got "
                f"{digest} ({got} bytes); the registry or a proxy served another file, nothing "
                f"was installed"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _stream(
    request: urllib.request.Request,
    settings: NpmSettings,
    out: IO[bytes],
    url: str,
    size: int,
    progress: bool | None,
) -> None:
    from vitruvian.progress import progress_bar

    write = out.write
    done = 0
    started = time.monotonic()
    try:
        response = _opener(settings).open(request, timeout=READ_TIMEOUT_S)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise RegistryError(_describe(exc, url, settings)) from exc
    with (
        response,
        progress_bar(
            total=size, unit="B", unit_scale=True, desc=f"{Path(url).name}", enabled=progress
        ) as bar,
    ):
        announce = not bar.enabled
        if announce:
            print(
                f"vitruvian: downloading {url} ({size / 1e6:.0f} MB)...",
                file=sys.stderr,
                flush=True,
            )
        try:
            while chunk := response.read(_CHUNK):
                write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
        except http.client.IncompleteRead as exc:
            raise RegistryError(
                f"the download of {url} was cut off after {done + len(exc.partial)} of "
                f"{size} bytes; try again"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise RegistryError(
                f"the download of {url} stopped after {done} of {size} bytes: "
                f"{_describe(exc, url, settings)}"
            ) from exc
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and done < int(length):
            raise RegistryError(
                f"the download of {url} was cut off after {done} of {length} bytes; try again"
            )
        if announce:
            seconds = time.monotonic() - started
            print(f"vitruvian: downloaded {done / 1e6:.1f} MB in {seconds:.1f} s", file=sys.stderr)
