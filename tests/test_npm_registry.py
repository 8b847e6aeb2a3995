"""The npm tarball without the npm client, and what fetch errors say.

* :func:`read_npm_settings` reads the registry, proxy, TLS and credentials the way npm would
  (files and environment variables, scoped registries, ``${VAR}``), from temporary files only.
* The real registry that this machine's npm configuration names serves the pinned tarball to
  :func:`download_tarball` with no npm client involved (sha256 checked against the pin).
* A registry on 127.0.0.1 serving that genuine tarball lets ``fetch_models`` install all four
  models with no ``npm`` on ``PATH``; the same registry serving a damaged, cut-off or missing
  tarball gives a one-sentence error naming the cause, and leaves nothing in the cache.
* The package clients' failure output becomes a short cause, and a slow client says what it
  is waiting for.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vitruvian.models import CACHE_ENV, MODEL_NAMES, ModelError, assets, fetch_models, model_status
from vitruvian.models.assets import fetch as assets_fetch
from vitruvian.models.npm_registry import (
    NpmSettings,
    RegistryError,
    download_tarball,
    read_npm_settings,
    tarball_url,
)

PACKAGE = "@mediapipe/pose"
VERSION = "0.5.1675469404"
_NPM = assets._manifest()["sources"]["npm"]
TARBALL_SHA256 = _NPM["tarball_sha256"]
TARBALL_SIZE = int(_NPM["tarball_size"])


def _isolated_npm_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """An environment with no npm configuration but ``settings`` (``npm_config_*`` names)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        npm_config_globalconfig=str(tmp_path / "no-global-npmrc"),
        npm_config_userconfig=str(home / ".npmrc"),
    )
    env.update(settings)
    return env


# --- reading npm's configuration ---------------------------------------------------------------


def test_no_registry_named_gives_none(tmp_path: Path) -> None:
    env = _isolated_npm_env(tmp_path)
    assert read_npm_settings("@mediapipe", environ=env, cwd=tmp_path, home=tmp_path) is None


def test_registry_from_environment(tmp_path: Path) -> None:
    env = _isolated_npm_env(tmp_path, NPM_CONFIG_REGISTRY="https://npm.example.test/sub")
    settings = read_npm_settings("@mediapipe", environ=env, cwd=tmp_path)
    assert settings is not None
    assert settings.registry == "https://npm.example.test/sub/"
    assert settings.origin == "NPM_CONFIG_REGISTRY"
    assert settings.strict_ssl and settings.proxy is None and settings.authorization is None
    assert tarball_url(settings.registry, PACKAGE, VERSION) == (
        "https://npm.example.test/sub/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
    )


def test_layers_scopes_variables_and_credentials(tmp_path: Path) -> None:
    env = _isolated_npm_env(tmp_path, MY_TOKEN="s3cret", npm_config_strict_ssl="false")
    user = Path(env["npm_config_userconfig"])
    user.write_text(
        "; user config\n"
        "registry=https://user.example.test/\n"
        "https-proxy=http://proxy.example.test:3128\n"
        "cafile=~/corp-ca.pem\n"
        "//scoped.example.test/npm/:_authToken=${MY_TOKEN}\n"
        "//user.example.test/:_authToken=not-for-the-scoped-registry\n",
        encoding="utf-8",
    )
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "package.json").write_text("{}", encoding="utf-8")
    (project / ".npmrc").write_text(
        '@mediapipe:registry = "https://scoped.example.test/npm"\n', encoding="utf-8"
    )
    settings = read_npm_settings(
        "@mediapipe", environ=env, cwd=project / "sub", home=Path(env["HOME"])
    )
    assert settings is not None
    assert settings.registry == "https://scoped.example.test/npm/"  # the scope wins
    assert settings.origin == str(project / ".npmrc")
    assert settings.authorization == "Bearer s3cret"  # ${VAR} expanded, matched to the URL
    assert settings.proxy == "http://proxy.example.test:3128"
    assert settings.cafile == str(Path("~/corp-ca.pem").expanduser())
    assert settings.strict_ssl is False  # the environment overrides the files
    # Another scope falls back to the plain registry, and its own credentials.
    other = read_npm_settings("@other", environ=env, cwd=project, home=Path(env["HOME"]))
    assert other is not None and other.registry == "https://user.example.test/"
    assert other.authorization == "Bearer not-for-the-scoped-registry"


def test_noproxy_and_bad_registry(tmp_path: Path) -> None:
    env = _isolated_npm_env(
        tmp_path,
        npm_config_registry="https://npm.corp.test/",
        npm_config_https_proxy="http://proxy.test:8080",
        npm_config_noproxy="localhost,.corp.test",
    )
    settings = read_npm_settings("@mediapipe", environ=env, cwd=tmp_path)
    assert settings is not None and settings.proxy is None
    env["npm_config_registry"] = "registry.without.scheme"
    with pytest.raises(RegistryError, match="not an http"):
        read_npm_settings("@mediapipe", environ=env, cwd=tmp_path)


# --- the real registry, no client --------------------------------------------------------------


def _real_registry_settings(tmp_path: Path) -> NpmSettings | None:
    """This machine's npm settings, or the registry its npm client reports."""
    settings = read_npm_settings("@mediapipe")
    if settings is not None:
        return settings
    npm = shutil.which("npm")
    if npm is None:
        return None
    proc = subprocess.run(
        [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=60, check=False
    )
    registry = proc.stdout.strip()
    if proc.returncode != 0 or not registry.startswith("http"):
        return None
    env = _isolated_npm_env(tmp_path, npm_config_registry=registry)
    return read_npm_settings("@mediapipe", environ=env, cwd=tmp_path)


@pytest.fixture(scope="module")
def genuine_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned tarball, downloaded by :func:`download_tarball` from the real registry."""
    directory = tmp_path_factory.mktemp("registry-download")
    settings = _real_registry_settings(directory)
    if settings is None:
        pytest.skip("no npm registry configured on this machine (no npm setting, no npm client)")
    try:
        path = download_tarball(
            settings, PACKAGE, VERSION, directory, sha256=TARBALL_SHA256, size=TARBALL_SIZE
        )
    except RegistryError as exc:
        pytest.skip(f"the configured npm registry cannot be reached: {exc}")
    return path


def test_real_registry_serves_the_pinned_tarball(genuine_tarball: Path) -> None:
    assert genuine_tarball.name == "mediapipe-pose-0.5.1675469404.tgz"
    assert hashlib.sha256(genuine_tarball.read_bytes()).hexdigest() == TARBALL_SHA256
    assert not list(genuine_tarball.parent.glob("*.part"))  # the temporary file is gone


# --- a registry on 127.0.0.1 -------------------------------------------------------------------


class _Registry:
    """What the local registry serves: ``body`` at the tarball's path, cut after ``cut``."""

    def __init__(self) -> None:
        self.body = b""
        self.cut: int | None = None
        self.missing = False
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def registry(genuine_tarball: Path) -> Iterator[tuple[str, _Registry]]:
    state = _Registry()
    state.body = genuine_tarball.read_bytes()
    path = "/@mediapipe/pose/-/pose-0.5.1675469404.tgz"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.headers.append(dict(self.headers))
            if self.path != path or state.missing:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            body = state.body if state.cut is None else state.body[: state.cut]
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_npm_config: None) -> Path:
    """No npm on PATH, no npm configuration, an empty model cache (returned)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    return cache


def _leftovers(cache: Path) -> list[str]:
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir() if p.name != assets.LOCK_NAME)


def test_fetch_without_npm_client_from_configured_registry(
    registry: tuple[str, _Registry], no_client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = registry
    monkeypatch.setenv("npm_config_registry", url)
    Path(os.environ["npm_config_userconfig"]).write_text(
        f"//127.0.0.1:{url.rsplit(':', 1)[1].rstrip('/')}/:_authToken=tok\n", encoding="utf-8"
    )
    paths = fetch_models(["pose_landmark_lite"], sources=("npm",))
    assert paths == {"pose_landmark_lite": no_client / "pose_landmark_lite.tflite"}
    # The tarball holds all four, and every one is verified against its pinned sha256.
    assert all(model_status(name).state == "present" for name in MODEL_NAMES)
    assert _leftovers(no_client) == sorted(f"{name}.tflite" for name in MODEL_NAMES)
    assert state.headers[-1].get("Authorization") == "Bearer tok"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip", "checksum mismatch"),
        ("cut", "cut off after"),
        ("missing", "HTTP 404"),
    ],
)
def test_bad_download_installs_nothing(
    registry: tuple[str, _Registry],
    no_client: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
    message: str,
) -> None:
    url, state = registry
    if damage == "flip":
        body = bytearray(state.body)
        body[len(body) // 2] ^= 0xFF
        state.body = bytes(body)
    elif damage == "cut":
        state.cut = len(state.body) // 3
    else:
        state.missing = True
    monkeypatch.setenv("npm_config_registry", url)
    with pytest.raises(ModelError) as info:
        fetch_models(["pose_landmark_heavy"], sources=("npm",))
    text = str(info.value)
    assert message in text
    assert "Fix:" in text and "vitruvian models import" in text
    assert _leftovers(no_client) == []  # no model, no partial file


def test_unreachable_registry_says_no_network(
    no_client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket_closed_port() as port:
        monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{port}/")
        with pytest.raises(ModelError, match="no network: 127.0.0.1:[0-9]+ refused"):
            fetch_models(["pose_landmark_lite"], sources=("npm",))
    assert _leftovers(no_client) == []


def test_neither_client_nor_registry_names_both_fixes(no_client: Path) -> None:
    with pytest.raises(ModelError) as info:
        fetch_models(["pose_landmark_lite"], sources=("npm",))
    text = str(info.value)
    assert "npm is not installed and no npm setting names a registry" in text
    assert "Node.js" in text and "npm_config_registry" in text and "~/.npmrc" in text
    assert "vitruvian models import" in text and "--source wheel" in text


class socket_closed_port:  # noqa: N801 (used as a context manager)
    """A local TCP port with nothing listening on it (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


# --- what client failures say --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "cause"),
    [
        (
            "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, "
            "status=None)) after connection broken by 'NewConnectionError('<pip._vendor."
            "urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
            "connection: [Errno -3] Temporary failure in name resolution')': /simple/"
            "mediapipe/\nERROR: Could not find a version that satisfies the requirement "
            "mediapipe==0.10.14",
            "no network",
        ),
        ("npm error code ENOTFOUND\nnpm error request to https://r.test/x failed", "no network"),
        (
            "ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 407'))",
            "proxy",
        ),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "TLS certificate"),
        (
            "npm error code E404\nnpm error 404 Not Found - GET https://r.test/@x%2fy",
            "does not have",
        ),
        ("npm error code ETIMEDOUT", "in time"),
    ],
)
def test_client_failures_get_a_short_cause(output: str, cause: str) -> None:
    found = assets_fetch._cause(output)
    assert found is not None and cause in found
    assert len(found) < 120


def test_failed_client_message_is_short(tmp_path: Path) -> None:
    noisy = "x" * 5000 + " Temporary failure in name resolution " + "y" * 5000
    script = f"import sys; sys.stderr.write({noisy!r}); sys.exit(1)"
    with pytest.raises(ModelError) as info:
        assets_fetch._run_client(
            [sys.executable, "-c", script], cwd=tmp_path, what="`fake client`", manual="do X"
        )
    text = str(info.value)
    assert text.startswith("`fake client` failed: no network")
    assert text.endswith("Fix: do X") and len(text) < 200


def test_slow_client_says_what_it_waits_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(assets_fetch, "_HEARTBEAT_S", 0.2)
    assets_fetch._run_client(
        [sys.executable, "-c", "import time; time.sleep(1.0)"],
        cwd=tmp_path,
        what="`slow client`",
        manual="-",
    )
    err = capfd.readouterr().err
    assert "still waiting for `slow client`" in err


# --- no network at all -----------------------------------------------------------------------


def _can_unshare_network() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        proc = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@pytest.mark.skipif(
    not _can_unshare_network(),
    reason="needs `unshare -n` (util-linux, run as root) to cut this process off the network",
)
def test_no_network_errors_are_short_and_name_the_cause(tmp_path: Path) -> None:
    # In a network namespace of its own nothing can be reached: the client-less npm download
    # and pip both fail, and each says so in one short line, without pip's traceback.
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {k: v for k, v in _isolated_npm_env(tmp_path).items() if not k.startswith("PIP_")}
    env.update(
        PATH=str(empty),
        npm_config_registry="https://npm.registry.test/",
        PIP_CONFIG_FILE=os.devnull,
        PIP_RETRIES="2",  # pip names the network failure only in its retry warnings
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VITRUVIAN_CACHE_DIR=str(tmp_path / "cache"),
    )
    proc = subprocess.run(
        [shutil.which("unshare") or "unshare", "-n", sys.executable, "-m", "vitruvian"]
        + ["models", "fetch", "pose_detection"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    error = "\n".join(lines[lines.index(next(x for x in lines if x.startswith("Error:"))) :])
    assert "no network: cannot resolve npm.registry.test" in error
    assert "`pip download mediapipe==0.10.14` failed: no network" in error
    assert "Traceback" not in proc.stderr and "urllib3" not in proc.stderr
    assert all(len(line) < 400 for line in error.splitlines()), error
    assert _leftovers(tmp_path / "cache") == []
