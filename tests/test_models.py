"""Model assets: cache, verification, import, fetch errors and the ``vitruvian`` CLI.

The only network use is the one real fetch into the default cache (``real_models``), which
``make models`` has normally done already; everything else runs against a temporary cache set
through ``$VITRUVIAN_CACHE_DIR``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitruvian.cli import cli
from vitruvian.models import (
    CACHE_ENV,
    MODEL_NAMES,
    ModelError,
    cache_dir,
    fetch_models,
    import_model_file,
    model_name_for_complexity,
    model_path,
    model_status,
    verify,
)

NPM_MEMBERS = {
    "pose_detection": "package/pose_solution_packed_assets.data",
    "pose_landmark_lite": "package/pose_landmark_lite.tflite",
    "pose_landmark_full": "package/pose_landmark_full.tflite",
    "pose_landmark_heavy": "package/pose_landmark_heavy.tflite",
}
WHEEL_FULL_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"


@pytest.fixture(scope="session")
def real_models() -> dict[str, Path]:
    """The verified models in the real cache (fetched once if missing; skip when impossible)."""
    paths = {}
    for name in MODEL_NAMES:
        try:
            paths[name] = model_path(name)
        except ModelError as exc:
            pytest.skip(f"real models unavailable (run `make models`): {exc}")
    return paths


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model cache for one test."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(directory))
    return directory


@pytest.fixture
def no_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with nothing on it, so npm cannot be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- names and locations ---------------------------------------------------------------------


def test_model_name_for_complexity() -> None:
    assert model_name_for_complexity(0) == "pose_landmark_lite"
    assert model_name_for_complexity(1) == "pose_landmark_full"
    assert model_name_for_complexity(2) == "pose_landmark_heavy"
    for bad in (3, -1, True, 1.0, "1"):
        with pytest.raises(ValueError, match="0, 1 or 2"):
            model_name_for_complexity(bad)  # type: ignore[arg-type]


def test_cache_dir_env_override(tmp_cache: Path) -> None:
    assert cache_dir() == tmp_cache


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout is Linux-only")
def test_cache_dir_default_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "vitruvian" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "vitruvian" / "models"


def test_unknown_model_name(tmp_cache: Path) -> None:
    with pytest.raises(ModelError, match="known models are"):
        model_path("pose_landmark_giant")


# --- verification ----------------------------------------------------------------------------


def test_missing_without_download_says_how_to_fetch(tmp_cache: Path) -> None:
    with pytest.raises(ModelError, match="vitruvian models") as info:
        model_path("pose_detection", download=False)
    assert "vitruvian models fetch pose_detection" in str(info.value)
    assert "vitruvian models import" in str(info.value)
    assert not tmp_cache.exists() or not any(tmp_cache.iterdir())


def test_garbage_in_cache_is_refused(tmp_cache: Path) -> None:
    tmp_cache.mkdir(parents=True)
    bad = tmp_cache / "pose_landmark_lite.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="checksum mismatch") as info:
        model_path("pose_landmark_lite")
    message = str(info.value)
    assert hashlib.sha256(b"not a model").hexdigest() in message
    assert "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61" in message
    assert str(bad) in message and "delete it" in message
    assert bad.read_bytes() == b"not a model"  # refused, not silently replaced
    assert model_status("pose_landmark_lite").state == "corrupt"


def test_corrupted_copy_is_refused(real_models: dict[str, Path], tmp_cache: Path) -> None:
    data = bytearray(real_models["pose_landmark_lite"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    tmp_cache.mkdir(parents=True)
    (tmp_cache / "pose_landmark_lite.tflite").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch for pose_landmark_lite"):
        model_path("pose_landmark_lite", download=False)
    with pytest.raises(ModelError, match="checksum mismatch"):
        verify(tmp_cache / "pose_landmark_lite.tflite", "pose_landmark_lite")


def test_verify_real_files(real_models: dict[str, Path]) -> None:
    for name, path in real_models.items():
        assert verify(path, name) == _sha256(path)
        assert model_status(name).state == "present"
    with pytest.raises(ModelError, match="checksum mismatch for pose_landmark_heavy"):
        verify(real_models["pose_landmark_lite"], "pose_landmark_heavy")


# --- import ----------------------------------------------------------------------------------


def test_import_single_tflite(
    real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "somewhere" / "downloaded.tflite"
    copy.parent.mkdir()
    copy.write_bytes(real_models["pose_landmark_lite"].read_bytes())
    assert import_model_file(copy) == ["pose_landmark_lite"]
    installed = model_path("pose_landmark_lite", download=False)
    assert installed == tmp_cache / "pose_landmark_lite.tflite"
    assert _sha256(installed) == _sha256(real_models["pose_landmark_lite"])
    assert [p.name for p in tmp_cache.iterdir()] == ["pose_landmark_lite.tflite"]


def test_import_npm_tarball(real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path) -> None:
    tarball = tmp_path / "mediapipe-pose-0.5.1675469404.tgz"
    with tarfile.open(tarball, "w:gz", compresslevel=1) as tf:
        readme = tarfile.TarInfo("package/README.md")
        readme.size = 5
        tf.addfile(readme, io.BytesIO(b"hello"))
        for name in ("pose_detection", "pose_landmark_lite"):
            tf.add(real_models[name], arcname=NPM_MEMBERS[name])
    assert import_model_file(tarball) == ["pose_detection", "pose_landmark_lite"]
    for name in ("pose_detection", "pose_landmark_lite"):
        assert _sha256(model_path(name, download=False)) == _sha256(real_models[name])
    assert model_status("pose_landmark_full").state == "missing"


def test_import_wheel(real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "")
        zf.write(real_models["pose_landmark_full"], WHEEL_FULL_MEMBER)
    assert import_model_file(wheel) == ["pose_landmark_full"]
    assert model_status("pose_landmark_full").state == "present"


def test_import_tarball_with_damaged_member(
    real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path
) -> None:
    data = bytearray(real_models["pose_landmark_lite"].read_bytes())
    data[100] ^= 0x01
    tarball = tmp_path / "damaged.tgz"
    with tarfile.open(tarball, "w:gz", compresslevel=1) as tf:
        member = tarfile.TarInfo(NPM_MEMBERS["pose_landmark_lite"])
        member.size = len(data)
        tf.addfile(member, io.BytesIO(bytes(data)))
    with pytest.raises(ModelError, match="checksum mismatch for pose_landmark_lite"):
        import_model_file(tarball)
    assert model_status("pose_landmark_lite").state == "missing"
    assert not [p for p in tmp_cache.iterdir() if p.name.startswith(".incoming")]


def test_import_unknown_file_refused(tmp_cache: Path, tmp_path: Path) -> None:
    unknown = tmp_path / "mystery.tflite"
    unknown.write_bytes(b"\x00" * 2819824)  # the lite model's size, but not its bytes
    with pytest.raises(ModelError, match="not one of the pinned pose models") as info:
        import_model_file(unknown)
    assert hashlib.sha256(unknown.read_bytes()).hexdigest() in str(info.value)
    assert not tmp_cache.exists() or not any(tmp_cache.iterdir())


def test_import_archive_without_models_refused(tmp_cache: Path, tmp_path: Path) -> None:
    archive = tmp_path / "other.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("package/index.js")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"1;\n"))
    with pytest.raises(ModelError, match="holds none of the pinned pose models"):
        import_model_file(archive)


def test_import_missing_and_broken_files(tmp_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a file"):
        import_model_file(tmp_path / "nope.tflite")
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ModelError, match="cannot read archive"):
        import_model_file(broken)


# --- fetching without the tools --------------------------------------------------------------


@pytest.mark.usefixtures("no_npm")
def test_npm_missing_gives_clear_message(tmp_cache: Path) -> None:
    # The lite model is only in the npm package, so no pip fallback (and no network) is tried.
    with pytest.raises(ModelError) as info:
        model_path("pose_landmark_lite")
    message = str(info.value)
    assert "npm is not on PATH" in message
    assert "Node.js" in message
    assert "vitruvian models import" in message
    assert "--source wheel" in message


@pytest.mark.usefixtures("no_npm")
def test_npm_only_source_without_npm(tmp_cache: Path) -> None:
    with pytest.raises(ModelError, match="npm is not on PATH"):
        fetch_models(["pose_detection"], sources=("npm",))


def test_wheel_source_cannot_give_lite(tmp_cache: Path) -> None:
    with pytest.raises(ModelError, match="wheel only pose_detection and pose_landmark_full"):
        fetch_models(["pose_landmark_lite"], sources=("wheel",))


@pytest.mark.usefixtures("no_npm")
def test_fetch_skips_verified_models(real_models: dict[str, Path]) -> None:
    # Everything is cached, so this must not run npm (PATH is empty) or pip.
    assert fetch_models() == real_models


# --- command line ----------------------------------------------------------------------------


def test_cli_models_path(tmp_cache: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "path"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_cache)


def test_cli_models_list(real_models: dict[str, Path], tmp_cache: Path) -> None:
    import_model_file(real_models["pose_detection"])
    tmp_cache.joinpath("pose_landmark_full.tflite").write_bytes(b"garbage")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["pose_detection"][1] == "present"
    assert rows["pose_detection"][2] == _sha256(real_models["pose_detection"])[:12]
    assert rows["pose_landmark_full"][1] == "corrupt"
    assert rows["pose_landmark_lite"][1:3] == ["missing", "-"]
    assert rows["pose_landmark_heavy"][3] == str(tmp_cache / "pose_landmark_heavy.tflite")


def test_cli_models_list_empty_cache(tmp_cache: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.count("missing") >= len(MODEL_NAMES)


@pytest.mark.usefixtures("no_npm")
def test_cli_model_error_is_one_line(tmp_cache: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "fetch", "pose_landmark_heavy"])
    assert result.exit_code == 1
    assert "Error: could not fetch pose_landmark_heavy" in result.output
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(cli, ["--debug", "models", "fetch", "pose_landmark_heavy"])
    assert isinstance(debug.exception, ModelError)


def test_cli_import(real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tflite"
    bogus.write_bytes(b"nope")
    ok = CliRunner().invoke(cli, ["models", "import", str(real_models["pose_landmark_heavy"])])
    assert ok.exit_code == 0, ok.output
    assert "imported pose_landmark_heavy" in ok.output
    bad = CliRunner().invoke(cli, ["models", "import", str(bogus)])
    assert bad.exit_code == 1
    assert "not one of the pinned pose models" in bad.output


def test_python_dash_m_help() -> None:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "vitruvian", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "models" in proc.stdout and "demo" in proc.stdout


def test_cli_demo_writes_png_and_json(real_models: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--model-complexity", "0"])
    assert result.exit_code == 0, result.output
    png = out / "grace_hopper_pose.png"
    record = json.loads((out / "grace_hopper_pose.json").read_text())
    assert png.stat().st_size > 0 and str(png) in result.output
    assert record["pose_found"] is True
    assert len(record["landmarks"]) == 33 and record["landmarks"][0]["name"] == "nose"
    assert all(0.0 <= row["visibility"] <= 1.0 for row in record["landmarks"])
