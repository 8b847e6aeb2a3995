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
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
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
from vitruvian.models.assets import LOCK_NAME

NPM_MEMBERS = {
    "pose_detection": "package/pose_solution_packed_assets.data",
    "pose_landmark_lite": "package/pose_landmark_lite.tflite",
    "pose_landmark_full": "package/pose_landmark_full.tflite",
    "pose_landmark_heavy": "package/pose_landmark_heavy.tflite",
}
WHEEL_FULL_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model cache for one test."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(directory))
    return directory


@pytest.fixture
def no_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_npm_config: None) -> None:
    """A PATH with nothing on it, so npm cannot be found, and no npm setting naming a registry
    (so the client-less download from the registry is not tried either)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cache_files(directory: Path) -> list[str]:
    """The cache's files, sorted, without the (empty) lock file that every writer creates."""
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name != LOCK_NAME)


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
    assert _cache_files(tmp_cache) == ["pose_landmark_lite.tflite"]


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
    assert _cache_files(tmp_cache) == []


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
    assert "npm is not installed and no npm setting names a registry" in message
    assert "Node.js" in message
    assert "vitruvian models import" in message
    assert "--source wheel" in message


@pytest.mark.usefixtures("no_npm")
def test_npm_only_source_without_npm(tmp_cache: Path) -> None:
    with pytest.raises(ModelError, match="npm is not installed"):
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
    assert rows["pose_landmark_heavy"][4] == str(tmp_cache / "pose_landmark_heavy.tflite")
    # The ONNX column: nothing converted yet in a fresh cache.
    assert [rows[name][3] for name in MODEL_NAMES] == ["-"] * len(MODEL_NAMES)


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
    # No --input: the image shipped in the package (MediaPipe's pose.jpg), no extra installed.
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--model-complexity", "0"])
    assert result.exit_code == 0, result.output
    png = out / "pose_pose.png"
    record = json.loads((out / "pose_pose.json").read_text())
    assert png.stat().st_size > 0 and str(png) in result.output
    assert record["pose_found"] is True
    assert len(record["landmarks"]) == 33 and record["landmarks"][0]["name"] == "nose"
    assert all(0.0 <= row["visibility"] <= 1.0 for row in record["landmarks"])


# --- robustness: damaged downloads, concurrent writers, no network ---------------------------

NPM_TARBALL_NAME = "mediapipe-pose-0.5.1675469404.tgz"
REPO_SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="session")
def npm_tarball(real_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned npm tarball with all four models.

    ``npm pack --offline`` builds the genuine one from npm's local cache when npm is installed
    and has it (no network is used); otherwise it is rebuilt from the verified cached models
    under the npm member names, next to a ``package.json`` like the real one.
    """
    directory = tmp_path_factory.mktemp("npm-pack")
    npm = shutil.which("npm")
    if npm is not None:
        spec = "@mediapipe/pose@0.5.1675469404"
        try:
            proc = subprocess.run(
                [npm, "pack", spec, "--offline", "--ignore-scripts", "--loglevel=error"],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            proc = None
        packed = directory / NPM_TARBALL_NAME
        if proc is not None and proc.returncode == 0 and packed.is_file():
            return packed
    rebuilt = directory / "rebuilt" / NPM_TARBALL_NAME
    rebuilt.parent.mkdir()
    with tarfile.open(rebuilt, "w:gz", compresslevel=1) as tf:
        manifest = b'{"name": "@mediapipe/pose", "version": "0.5.1675469404"}\n'
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tf.addfile(info, io.BytesIO(manifest))
        for name in MODEL_NAMES:
            tf.add(real_models[name], arcname=NPM_MEMBERS[name])
    return rebuilt


def _subprocess_env(cache: Path, **extra: str) -> dict[str, str]:
    """The environment for a child Python that imports this checkout with ``cache`` as cache."""
    env = dict(os.environ)
    env[CACHE_ENV] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_SRC), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _assert_cache_consistent(directory: Path) -> list[str]:
    """Every model file in the cache verifies and nothing else but the lock file is there.

    Returns the names of the models present.
    """
    present = []
    for file_name in _cache_files(directory):
        assert file_name.endswith(".tflite"), f"unexpected file in the cache: {file_name}"
        name = file_name.removesuffix(".tflite")
        assert verify(directory / file_name, name)  # raises on a partial or foreign file
        present.append(name)
    return present


def test_corrupt_cached_model_is_never_loaded(
    real_models: dict[str, Path], tmp_cache: Path, no_network: None
) -> None:
    # A flipped weight byte still parses as a model, so loading it would succeed silently:
    # Pose() raising proves the file never reached LiteRT, and it is not replaced either.
    import vitruvian as mp

    import_model_file(real_models["pose_detection"])
    data = bytearray(real_models["pose_landmark_lite"].read_bytes())
    data[len(data) // 2] ^= 0x01
    corrupt = tmp_cache / "pose_landmark_lite.tflite"
    corrupt.write_bytes(bytes(data))
    for static in (True, False):
        with pytest.raises(ModelError, match="checksum mismatch for pose_landmark_lite"):
            mp.solutions.pose.Pose(static_image_mode=static, model_complexity=0)
    assert corrupt.read_bytes() == bytes(data)
    assert model_status("pose_landmark_lite").state == "corrupt"


@pytest.mark.parametrize("fraction", [0.0005, 0.1, 0.35, 0.6, 0.9, 0.9999])
def test_truncated_npm_tarball_never_leaves_a_partial_model(
    npm_tarball: Path, tmp_cache: Path, tmp_path: Path, fraction: float
) -> None:
    # A download cut short: whatever members were complete may be installed (each one verified
    # by its sha256); the member being written when the data ran out never becomes a file.
    data = npm_tarball.read_bytes()
    truncated = tmp_path / NPM_TARBALL_NAME
    truncated.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelError, match="cannot read archive") as info:
        import_model_file(truncated)
    assert "npm pack" in str(info.value) and "vitruvian models import" in str(info.value)
    present = _assert_cache_consistent(tmp_cache)
    if fraction <= 0.6:  # the cut falls before or inside a model (the heavy one is 2/3 of it)
        assert len(present) < len(MODEL_NAMES)
    # The complete archive then installs everything over the partial state.
    assert import_model_file(npm_tarball) == list(MODEL_NAMES)
    assert _assert_cache_consistent(tmp_cache) == sorted(MODEL_NAMES)


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_truncated_wheel_installs_nothing(
    real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path, fraction: float
) -> None:
    wheel = tmp_path / "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mediapipe/__init__.py", "")
        zf.write(real_models["pose_landmark_full"], WHEEL_FULL_MEMBER)
    data = wheel.read_bytes()
    wheel.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelError, match="cannot read archive"):
        import_model_file(wheel)
    assert _assert_cache_consistent(tmp_cache) == []


def test_damaged_deflate_stream_is_a_model_error(
    real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path
) -> None:
    # Garbage inside the compressed data makes zlib raise its own error type mid-member;
    # it must come out as a ModelError, with no temporary file left behind.
    archive = tmp_path / "damaged.tgz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tf:
        tf.add(real_models["pose_landmark_lite"], arcname=NPM_MEMBERS["pose_landmark_lite"])
    data = bytearray(archive.read_bytes())
    rng = np.random.default_rng(7)
    failures = 0
    for start in np.linspace(len(data) * 0.2, len(data) * 0.8, 12).astype(int):
        damaged = bytearray(data)
        damaged[start : start + 512] = rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
        archive.write_bytes(bytes(damaged))
        with pytest.raises(ModelError):
            import_model_file(archive)
        failures += 1
        assert _assert_cache_consistent(tmp_cache) == []
    assert failures == 12


def test_truncated_single_model_file_is_refused(
    real_models: dict[str, Path], tmp_cache: Path, tmp_path: Path
) -> None:
    partial = tmp_path / "pose_landmark_heavy.tflite"
    partial.write_bytes(real_models["pose_landmark_heavy"].read_bytes()[:-4096])
    with pytest.raises(ModelError, match="not one of the pinned pose models"):
        import_model_file(partial)
    assert _cache_files(tmp_cache) == []


def test_stale_temporary_files_are_removed_by_the_next_writer(
    real_models: dict[str, Path], tmp_cache: Path
) -> None:
    tmp_cache.mkdir(parents=True)
    stale = tmp_cache / ".incoming-killed.part"
    stale.write_bytes(b"half a model")
    assert import_model_file(real_models["pose_detection"]) == ["pose_detection"]
    assert _cache_files(tmp_cache) == ["pose_detection.tflite"]


def test_reimporting_an_identical_model_keeps_the_file(
    real_models: dict[str, Path], tmp_cache: Path
) -> None:
    import_model_file(real_models["pose_detection"])
    cached = tmp_cache / "pose_detection.tflite"
    before = os.stat(cached)
    assert import_model_file(real_models["pose_detection"]) == ["pose_detection"]
    after = os.stat(cached)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


_HOLD_LOCK = """
import sys, time
from vitruvian.models.assets import cache_lock
with cache_lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[1]))
print("released", time.time(), flush=True)
"""


def test_writers_wait_for_the_cache_lock_of_another_process(
    real_models: dict[str, Path], tmp_cache: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, "1.5"],
        stdout=subprocess.PIPE,
        text=True,
        env=_subprocess_env(tmp_cache),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert import_model_file(real_models["pose_detection"]) == ["pose_detection"]
        finished = time.time()
        released = float(holder.stdout.readline().split()[1])
    finally:
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert finished >= released - 0.05  # the import only got in once the holder let go
    assert "waiting for another process writing to the model cache" in capfd.readouterr().err
    assert _assert_cache_consistent(tmp_cache) == ["pose_detection"]


_IMPORT_AFTER_START_SIGNAL = """
import os, sys, time
from pathlib import Path
from vitruvian.models import import_model_file
start = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not start.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
print(",".join(import_model_file(sys.argv[1])), flush=True)
"""


def test_two_processes_importing_the_npm_tarball_at_once(npm_tarball: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fresh-cache"
    start = tmp_path / "start"
    env = _subprocess_env(cache)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _IMPORT_AFTER_START_SIGNAL, str(npm_tarball), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    time.sleep(1.0)  # let both interpreters start and wait on the signal
    start.touch()
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == ",".join(MODEL_NAMES)
    assert _assert_cache_consistent(cache) == sorted(MODEL_NAMES)


def test_two_processes_fetching_with_npm_at_once(npm_tarball: Path, tmp_path: Path) -> None:
    # npm's offline mode serves `npm pack` from its local cache only: a real fetch, no network.
    if npm_tarball.parent.name == "rebuilt":
        pytest.skip("npm cannot pack @mediapipe/pose offline here (no npm or not in its cache)")
    cache = tmp_path / "fresh-cache"
    env = _subprocess_env(cache, npm_config_offline="true", PIP_NO_INDEX="1")
    command = [sys.executable, "-m", "vitruvian", "models", "fetch", "--source", "npm"]
    children = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, out + err
    assert _assert_cache_consistent(cache) == sorted(MODEL_NAMES)
    # Whichever got the lock second found the models there and downloaded nothing.
    assert sum("fetching pose models with npm pack" in err for _, err in outputs) == 1


@pytest.fixture
def no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_npm_config: None) -> None:
    """No way to download: npm is not on PATH and pip may not use any package index."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)


@pytest.mark.usefixtures("no_network")
def test_no_network_and_no_cache_says_how_to_import_by_hand(tmp_cache: Path) -> None:
    # The detector has two sources (npm, then pip): both fail, and the message gives the manual
    # route for each.
    with pytest.raises(ModelError) as info:
        model_path("pose_detection", download=True)
    message = str(info.value)
    assert message.startswith("could not fetch pose_detection")
    assert "npm is not installed" in message
    # pip with no index: "No matching distribution found", said in a few words.
    assert "`pip download mediapipe==0.10.14` failed: the registry does not have" in message
    assert "ERROR:" not in message  # pip's own lines are not pasted in
    assert "vitruvian models import" in message
    assert f"copy a model file or {NPM_TARBALL_NAME} here" in message
    assert "install the .whl here with `vitruvian models import FILE.whl`" in message
    assert _cache_files(tmp_cache) == []

    result = CliRunner().invoke(cli, ["models", "fetch"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "vitruvian models import" in result.output
