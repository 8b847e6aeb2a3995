"""``vitruvian web``: the site folder (:func:`vitruvian.web.prepare_site`) and its server.

Everything runs on real files and a real server on 127.0.0.1: a stand-in for the built browser
package is written in ``tmp_path`` and named by ``$VITRUVIAN_WEB_DIST``; the model files come
from the real, verified model cache (the ``real_models`` fixture skips without them).

* Preparing copies the package tree and adds ``models/`` with the four model files under the
  npm package's names (derived here from ``manifest.json`` on its own), each one of the pinned
  files, hard-linked to the cache where the site is on its file system; preparing again
  refreshes the package files (removing those the new build lacks), keeps the pinned models
  and replaces a damaged one.
* No built package, or a folder that is not a site, is one clear error and nothing is written.
* The server (``python -m vitruvian web --port 0``, and :func:`vitruvian.web.serve` in a
  thread) prints one line with its URL, answers with the cross-origin isolation headers and the
  right content types, serves nothing outside the site, and exits 0 on SIGTERM or Ctrl-C; a
  port in use is a one-line error naming ``--port``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import posixpath
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from email.message import Message
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from _browser import SERVING, site_server
from click.testing import CliRunner

from vitruvian.cli import cli
from vitruvian.models import CACHE_ENV
from vitruvian.web import SITE_MARKER, WEB_DIST_ENV, WebError, default_site_dir, prepare_site

MANIFEST = Path(__file__).resolve().parents[1] / "src" / "vitruvian" / "models" / "manifest.json"
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
BUILD_FIX = "build it with `make web` (or `cd web && npm ci && npm run build`)"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _manifest_files() -> dict[str, tuple[str, set[str]]]:
    """Model name -> (its npm file name, its pinned sha256 digests), read from the manifest."""
    models = json.loads(MANIFEST.read_text(encoding="utf-8"))["models"]
    return {
        name: (
            posixpath.basename(next(e["member"] for e in entries if e["source"] == "npm")),
            {e["sha256"] for e in entries},
        )
        for name, entries in models.items()
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, bytes]:
    """Relative POSIX path -> bytes of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the built browser package, named by ``$VITRUVIAN_WEB_DIST``."""
    folder = tmp_path / "dist"
    files = {
        "vitruvian.mjs": b"export const version = '0.1.0';\n",
        "vitruvian.mjs.map": b'{"version": 3, "sources": [], "mappings": ""}\n',
        "vitruvian.js": b"var vitruvian = {};\n",
        "index.html": b"<!doctype html><title>vitruvian</title>\n",
        "test.html": b"<!doctype html><title>test</title>\n",
        "wasm/litert_wasm_internal.wasm": b"\0asm\x01\0\0\0" + bytes(range(256)) * 64,
        "wasm/litert_wasm_internal.js": b"// runtime\n",
        "assets/deeper/notes.txt": b"other files travel too\n",
    }
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    monkeypatch.setenv(WEB_DIST_ENV, str(folder))
    return folder


def _check_models(site: Path, real_models: dict[str, Path]) -> None:
    expected = _manifest_files()
    assert sorted(p.name for p in (site / "models").iterdir()) == sorted(
        file for file, _ in expected.values()
    )
    for name, (file, digests) in expected.items():
        path = site / "models" / file
        assert _sha256(path) in digests, name
        cached = real_models[name]
        same_device = path.stat().st_dev == cached.stat().st_dev
        # A hard link to the verified cached file on its file system, else a copy.
        assert os.path.samefile(path, cached) == same_device, name


def _no_temporaries(site: Path) -> None:
    assert [p for p in site.rglob("*.part")] == []


# --------------------------------------------------------------------------------------------
# Preparing
# --------------------------------------------------------------------------------------------


def test_prepare_site_copies_the_package_and_adds_the_models(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    site = prepare_site(tmp_path / "new" / "site")
    assert site == (tmp_path / "new" / "site").absolute()
    tree = _tree(site)
    models = {rel: data for rel, data in tree.items() if rel.startswith("models/")}
    package = {rel: data for rel, data in tree.items() if rel not in models and rel != SITE_MARKER}
    assert package == _tree(dist)
    assert len(models) == 4
    _check_models(site, real_models)
    _no_temporaries(site)
    for rel in package:  # copies, never links into the build output
        assert not os.path.samefile(site / rel, dist / rel)


def test_prepare_site_again_refreshes_the_package_and_keeps_the_models(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    site = prepare_site(tmp_path / "site")
    files = {name: file for name, (file, _) in _manifest_files().items()}
    kept = site / "models" / files["pose_landmark_heavy"]
    kept_inode = kept.stat().st_ino
    damaged = site / "models" / files["pose_landmark_lite"]
    damaged.unlink()  # never write into it: it may be a hard link to the cache
    damaged.write_bytes(b"not a model")
    # A new build: a file gone (and its folder), one changed, one added.
    (dist / "assets" / "deeper" / "notes.txt").unlink()
    (dist / "assets" / "deeper").rmdir()
    (dist / "assets").rmdir()
    (dist / "vitruvian.mjs").write_bytes(b"export const version = '0.2.0';\n")
    (dist / "wasm" / "litert_wasm_internal_threaded.wasm").write_bytes(b"\0asm\x01\0\0\0")

    assert prepare_site(site) == site
    package = {
        rel: data
        for rel, data in _tree(site).items()
        if not rel.startswith("models/") and rel != SITE_MARKER
    }
    assert package == _tree(dist)
    assert not (site / "assets").exists()
    assert kept.stat().st_ino == kept_inode  # a pinned model is kept, not rewritten
    _check_models(site, real_models)
    _no_temporaries(site)


def test_prepare_site_removes_temporaries_of_a_killed_prepare(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    site = prepare_site(tmp_path / "site")
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True)  # fmt: skip
    dead = int(proc.stdout)
    leftover = site / "models" / f".pose_landmark_full.tflite.{dead}.0123abcd.part"
    leftover.write_bytes(b"half a model")
    prepare_site(site)
    assert not leftover.exists()
    _check_models(site, real_models)


def test_missing_package_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "not-built"
    empty.mkdir()
    monkeypatch.setenv(WEB_DIST_ENV, str(empty))
    site = tmp_path / "site"
    with pytest.raises(WebError) as error:
        prepare_site(site)
    message = str(error.value)
    assert WEB_DIST_ENV in message and str(empty) in message and BUILD_FIX in message
    assert not site.exists()

    result = CliRunner().invoke(cli, ["web", "--dir", str(site), "--no-serve"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and BUILD_FIX in lines[0]
    assert not site.exists()


def test_a_folder_that_is_not_a_site_is_left_alone(dist: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "index.html").write_text("my own page")
    with pytest.raises(WebError, match="not empty and is not a site"):
        prepare_site(folder)
    assert _tree(folder) == {"index.html": b"my own page"}
    with pytest.raises(WebError, match="built browser package"):
        prepare_site(dist / "wasm")  # inside the package: would copy it into itself
    with pytest.raises(WebError, match="is a file"):
        prepare_site(folder / "index.html")


def test_no_serve_prints_the_folder(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["web", "--dir", str(site), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{site.absolute()}\n"
    _check_models(site, real_models)


def test_default_site_dir_is_beside_the_model_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert default_site_dir() == tmp_path / "cache" / "web"  # inside the folder named
    if sys.platform.startswith("linux"):
        monkeypatch.delenv(CACHE_ENV)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_site_dir() == tmp_path / "xdg" / "vitruvian" / "web"


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------


def _get(url: str) -> tuple[int, Message, bytes]:
    """GET ``url``: the status, the headers (looked up case-insensitively) and the body."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read()


def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``)."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _check_isolation(headers: Message) -> None:
    for key, value in ISOLATION_HEADERS.items():
        assert headers.get(key) == value, (key, headers)


@posix_only
def test_served_site_answers_with_isolation_headers_then_stops_on_sigterm(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    site = tmp_path / "sites" / "site"
    secret = tmp_path / "sites" / "secret"
    secret.parent.mkdir()
    secret.write_text("do not serve me")
    detector = _manifest_files()["pose_detection"][0]
    with site_server(site) as (proc, url):
        wanted = {
            "index.html": "text/html",
            "vitruvian.mjs": "text/javascript",
            "vitruvian.js": "text/javascript",
            "vitruvian.mjs.map": "application/json",
            "wasm/litert_wasm_internal.wasm": "application/wasm",
            f"models/{detector}": "application/octet-stream",
            "models/pose_landmark_full.tflite": "application/octet-stream",
        }
        for rel, content_type in wanted.items():
            status, headers, body = _get(url + rel)
            assert status == 200, rel
            assert headers["Content-Type"].split(";")[0] == content_type, rel
            _check_isolation(headers)
            assert body == (site / rel).read_bytes(), rel
        status, headers, body = _get(url)  # the folder's index.html
        assert body == (dist / "index.html").read_bytes()
        _check_isolation(headers)
        for path in ("/../secret", "/%2e%2e/secret", "/models/../../secret", "/" + SITE_MARKER):
            status, body = _raw_get(url, path)
            assert status == 404, path
            assert b"do not serve me" not in body
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(url + "models/")  # no folder listings
        assert missing.value.code == 404
        _check_isolation(missing.value.headers)

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < 10
    assert out == ""  # the URL line was the only one
    assert "Traceback" not in err
    assert "GET" not in err  # requests are not logged without --verbose


@posix_only
def test_ctrl_c_stops_the_server_cleanly(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    with site_server(tmp_path / "site", "--verbose") as (proc, url):
        assert _get(url + "index.html")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "GET /index.html" in err  # --verbose logs requests


def test_serve_in_a_thread(
    dist: Path, tmp_path: Path, real_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from vitruvian.web import serve

    site = prepare_site(tmp_path / "site")
    servers: queue.Queue[ThreadingHTTPServer] = queue.Queue()
    thread = threading.Thread(
        target=serve, args=(site, "127.0.0.1", 0), kwargs={"ready": servers.put}
    )
    thread.start()
    server = servers.get(timeout=30)
    try:
        match = SERVING.match(capsys.readouterr().out.rstrip("\n"))
        assert match is not None
        status, headers, body = _get(match.group(2) + "wasm/litert_wasm_internal.wasm")
        assert status == 200 and headers["Content-Type"] == "application/wasm"
        _check_isolation(headers)
    finally:
        server.shutdown()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_port_in_use_is_a_clear_error(
    dist: Path, tmp_path: Path, real_models: dict[str, Path]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "vitruvian", "web", "--dir", str(tmp_path / "site")]
            + ["--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]
