"""An unusable model cache directory is an error that says what to do, through the real CLI.

* ``$VITRUVIAN_CACHE_DIR`` naming a file (or a path below a file): ``vitruvian models list``,
  ``fetch`` and ``import`` print one ``Error: ...`` line naming the variable, the path and the
  fix, and exit 1 (``list`` used to call every model "missing" and exit 0); the Python API
  (``model_status``, ``model_path``, ``fetch_models``, ``import_model_file``) raises the same
  :class:`ModelError`; the file is left alone.
* The default location (no variable) being a file names the variable as the way out.
* A cache folder that cannot be created (no write permission on its parent): ``vitruvian
  models fetch`` names the operating system's error and the variable, in a child process that
  has no way around file permissions (as root, its ``CAP_DAC_OVERRIDE`` is dropped first).

Nothing here downloads: every failure happens before a package client could start.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitruvian.cli import cli
from vitruvian.models import (
    CACHE_ENV,
    ModelError,
    fetch_models,
    import_model_file,
    model_path,
    model_status,
)

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
FIX = f"point {CACHE_ENV} at a folder or unset it"


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$VITRUVIAN_CACHE_DIR`` names a regular file (returned)."""
    path = tmp_path / "not-a-folder"
    path.write_bytes(b"some file\n")
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["models", "list"],
        ["models", "fetch"],
        ["models", "fetch", "--force", "pose_landmark_lite"],
        ["models", "import", "__FILE__"],
    ],
    ids=["list", "fetch", "fetch-force", "import"],
)
def test_cli_refuses_a_file_as_cache(cache_file: Path, tmp_path: Path, args: list[str]) -> None:
    some_model = tmp_path / "model.tflite"
    some_model.write_bytes(b"not really a model")
    args = [str(some_model) if arg == "__FILE__" else arg for arg in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    line = _one_error_line(result.output)
    assert line == (
        f"Error: the model cache {cache_file} (from {CACHE_ENV}) is a file, not a folder: {FIX}"
    )
    assert cache_file.read_bytes() == b"some file\n"  # untouched


def test_cli_refuses_a_path_below_a_file(cache_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    below = cache_file / "models"
    monkeypatch.setenv(CACHE_ENV, str(below))
    for args in (["models", "list"], ["models", "fetch", "pose_detection"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert _one_error_line(result.output) == (
            f"Error: the model cache {below} (from {CACHE_ENV}) cannot be created: "
            f"{cache_file} is a file, not a folder: {FIX}"
        )


def test_api_refuses_a_file_as_cache(cache_file: Path, tmp_path: Path) -> None:
    message = re.escape(f"{cache_file} (from {CACHE_ENV}) is a file, not a folder: {FIX}")
    with pytest.raises(ModelError, match=message):
        model_status("pose_detection")
    with pytest.raises(ModelError, match=message):
        model_path("pose_landmark_lite", download=False)
    with pytest.raises(ModelError, match=message):
        model_path("pose_landmark_lite")
    with pytest.raises(ModelError, match=message):
        fetch_models(["pose_landmark_full"], sources=("wheel",))
    source = tmp_path / "x.tflite"
    source.write_bytes(b"x")
    with pytest.raises(ModelError, match=message):
        import_model_file(source)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG_CACHE_HOME is Linux's")
def test_default_cache_location_being_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    blocker = tmp_path / "xdg" / "vitruvian"
    blocker.parent.mkdir()
    blocker.write_bytes(b"")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 1, result.output
    assert _one_error_line(result.output) == (
        f"Error: the model cache {blocker / 'models'} cannot be created: {blocker} is a file, "
        f"not a folder: move it away, or set {CACHE_ENV} to a folder"
    )


# --- a cache folder that cannot be created -------------------------------------------------------

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_permission_override() -> None:
    """In the child, before exec: root loses the capabilities that ignore file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_cache_that_cannot_be_created_names_the_os_error(tmp_path: Path) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    cache = parent / "cache"
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(
        {
            CACHE_ENV: str(cache),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_SRC), env.get("PYTHONPATH")])),
            # Belt and braces: no download could happen even if the check were missing.
            "PATH": str(tmp_path / "empty-bin"),
            "npm_config_offline": "true",
            "PIP_NO_INDEX": "1",
        }
    )
    preexec = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        if not sys.platform.startswith("linux"):
            pytest.skip("root ignores file permissions here")
        preexec = _drop_permission_override
    parent.chmod(0o555)
    try:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "vitruvian", "models", "fetch", "pose_landmark_lite"],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                preexec_fn=preexec,
                check=False,
            )
        except subprocess.SubprocessError as exc:  # the prctl in preexec_fn was refused
            pytest.skip(f"cannot drop root's permission override here: {exc}")
    finally:
        parent.chmod(0o755)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _one_error_line(proc.stderr) == (
        f"Error: cannot create the model cache {cache} (from {CACHE_ENV}) ([Errno 13] "
        f"Permission denied: '{cache}'); point {CACHE_ENV} at a writable folder or unset it"
    )
    assert not cache.exists()
