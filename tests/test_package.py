"""vitruvian as a real package: built, installed from its wheel, and used like a user would.

What this proves, with no mocks:

* ``python -m build`` turns the checkout (its files as git sees them, copied outside the checkout
  so setuptools leaves no ``build/`` or ``*.egg-info`` behind) into an sdist and a wheel built
  from that sdist; the wheel carries the package data that the code opens by path (model
  manifest, ``py.typed``, the demo image and its provenance, the MediaPipe worker scripts run in
  another Python) and the ``vitruvian`` console script, and no tests or model weights; the sdist
  carries the project files.
* The wheel installs with its dependencies into a fresh venv of the same interpreter, and from
  a working directory outside the checkout (so nothing comes from ``src/``), with the already
  filled model cache (``$VITRUVIAN_CACHE_DIR``, so nothing is downloaded):
  ``import vitruvian`` is the venv's copy; ``vitruvian --version`` is pyproject's version; a
  MediaPipe-style static-image script finds the pose of MediaPipe's ``pose.jpg`` with the same
  landmarks as the dev install; ``vitruvian run`` writes a CSV row with the pose;
  ``vitruvian demo`` works without ``--input`` (the packaged image); and the README's webcam
  loop, taken from README.md itself, runs as written on ``pose_squats.mp4`` under a virtual X
  server (``xvfb-run``, Debian package ``xvfb``), ``cv2.imshow`` included.
* A new user's first run: with an empty model cache, no ``npm`` on ``PATH`` and no npm setting,
  a MediaPipe script with the default options fetches the detector and the full model through
  pip by itself and finds the pose.
"""

from __future__ import annotations

import configparser
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
POSE_JPG = SHARED / "tfjs" / "pose.jpg"
SQUATS = SHARED / "video" / "pose_squats.mp4"

#: Files the installed package opens by path or that make it a typed, runnable package.
WHEEL_REQUIRED = (
    "vitruvian/models/manifest.json",
    "vitruvian/py.typed",
    "vitruvian/data/pose.jpg",
    "vitruvian/data/SOURCES.md",
    "vitruvian/reference/worker.py",  # run by path in the reference Python, with:
    "vitruvian/crops.py",
    "vitruvian/testing_clips.py",
)
SDIST_REQUIRED = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "src/vitruvian/data/pose.jpg",
    # From MANIFEST.in: the whole test suite, not only setuptools' default tests/test*.py.
    "tests/conftest.py",
    "SECURITY.md",
)
WEIGHT_SUFFIXES = (".tflite", ".onnx", ".data")

#: Nose position tolerance against the dev install, px (same models and code, other builds of
#: numpy/OpenCV/LiteRT may differ in the last bits).
NOSE_TOLERANCE_PX = 0.5

#: The static-image example's shape (README "Drop-in for mediapipe"), printing the landmarks.
STATIC_SCRIPT = """\
import json
import sys

import cv2
import vitruvian as mp

mp_pose = mp.solutions.pose

with mp_pose.Pose(
    static_image_mode=True,
    model_complexity=2,
    enable_segmentation=True,
    min_detection_confidence=0.5,
) as pose:
    image = cv2.imread(sys.argv[1])
    h, w = image.shape[:2]
    results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    if results.pose_landmarks:
        nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]
        print(json.dumps({
            "found": True,
            "module": mp.__file__,
            "nose_px": [nose.x * w, nose.y * h],
            "nose_visibility": nose.visibility,
            "landmarks_px": [[lm.x * w, lm.y * h] for lm in results.pose_landmarks.landmark],
            "mask_shape": list(results.segmentation_mask.shape),
        }))
    else:
        print(json.dumps({"found": False}))
"""

#: Runs a code block as ``__main__`` and reports what its ``pose`` counted (the harness only:
#: the block itself runs unchanged).
LOOP_HARNESS = """\
import json
import sys

code = open(sys.argv[1], encoding="utf-8").read()
namespace = {"__name__": "__main__"}
exec(compile(code, "README.md (### Video)", "exec"), namespace)
stats = namespace["pose"].stats
print(json.dumps({"frames": stats.frames, "landmark_runs": stats.landmark_runs}))
"""


def _tail(text: str, chars: int = 4000) -> str:
    return text if len(text) <= chars else "..." + text[-chars:]


def _report(proc: subprocess.CompletedProcess[str]) -> str:
    return (
        f"command {proc.args!r} exited {proc.returncode}\n"
        f"--- stdout ---\n{_tail(proc.stdout)}\n--- stderr ---\n{_tail(proc.stderr)}"
    )


def _project_version() -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        match = re.search(r'^\[project\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
        assert match, "no version in pyproject.toml's [project]"
        return match.group(1)
    return tomllib.loads(text)["project"]["version"]


def _child_env(**extra: str) -> dict[str, str]:
    """The environment for the venv's processes: nothing pointing back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _source_files() -> list[Path]:
    """The checkout's files as git sees them (tracked and untracked, not ignored), relative."""
    if shutil.which("git") is not None and (REPO / ".git").exists():
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        names = [n for n in proc.stdout.decode("utf-8").split("\0") if n]
        return [Path(n) for n in names if (REPO / n).is_file()]
    # Not a git checkout (e.g. an unpacked sdist): everything but the usual build products.
    skip = {".git", ".venv", "build", "dist", "out", "__pycache__", ".pytest_cache", ".ruff_cache"}
    files = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if any(p in skip or p.endswith(".egg-info") for p in rel.parts):
            continue
        if path.is_file() and path.suffix not in (*WEIGHT_SUFFIXES, ".pyc"):
            files.append(rel)
    return files


def _litter_snapshot() -> dict[str, list[tuple[str, int]]]:
    """What setuptools would leave in a source tree: ``build/``, ``dist/``, ``*.egg-info``."""
    roots = [REPO / "build", REPO / "dist", *REPO.glob("*.egg-info"), *REPO.glob("src/*.egg-info")]
    return {
        str(root): sorted(
            (str(p), p.stat().st_mtime_ns) for p in [root, *root.rglob("*")] if p.exists()
        )
        for root in roots
    }


def _outside_checkout(path: Path) -> Path:
    assert not path.resolve().is_relative_to(REPO), f"{path} is inside the checkout {REPO}"
    return path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sdist and the wheel (built from that sdist) of a copy of the checkout."""
    checkout_before = _litter_snapshot()
    root = _outside_checkout(tmp_path_factory.mktemp("dists"))
    source = root / "source"
    for rel in _source_files():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, source / rel)
    out = root / "dist"
    # Isolated build: pip puts build-system.requires (setuptools>=69, wheel) in a throwaway env
    # from the configured registry or pip's cache (seconds). --no-isolation would build with
    # whatever setuptools the test venv happens to have, possibly older than required.
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        env=_child_env(),
    )
    if proc.returncode != 0:
        pytest.fail(f"python -m build failed:\n{_report(proc)}")
    return {
        "wheel": sorted(out.glob("*.whl")),
        "sdist": sorted(out.glob("*.tar.gz")),
        "checkout_before": checkout_before,
    }


@pytest.fixture(scope="module")
def venv(dists: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (same interpreter as this run) with the wheel and its dependencies."""
    if len(dists["wheel"]) != 1:
        pytest.fail(f"expected one wheel, got {dists['wheel']}")
    root = _outside_checkout(tmp_path_factory.mktemp("venv")) / "venv"
    proc = subprocess.run(
        [sys.executable, "-m", "venv", str(root)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        pytest.fail(f"python -m venv failed:\n{_report(proc)}")
    proc = subprocess.run(
        [
            str(root / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--timeout",
            "120",
            str(dists["wheel"][0]),
        ],
        cwd=root.parent,
        capture_output=True,
        text=True,
        timeout=1200,
        env=_child_env(),
    )
    if proc.returncode != 0:
        pytest.fail(f"pip install of the wheel failed:\n{_report(proc)}")
    return root


@pytest.fixture(scope="module")
def env(real_models: dict[str, Path]) -> dict[str, str]:
    """The venv's environment, using this run's filled model cache (no download)."""
    from vitruvian.models.assets import cache_dir

    cache = cache_dir()
    assert all(path.is_relative_to(cache) for path in real_models.values()), (cache, real_models)
    return _child_env(VITRUVIAN_CACHE_DIR=str(cache))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory outside the checkout: nothing is importable from ``src/``."""
    return _outside_checkout(tmp_path)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"shared test data missing: {path} (expected in ../shared/data)")
    return path


# --- build --------------------------------------------------------------------------------


def test_build_makes_one_wheel_and_one_sdist(dists: dict) -> None:
    version = _project_version()
    assert [p.name for p in dists["wheel"]] == [f"vitruvian-{version}-py3-none-any.whl"]
    assert [p.name for p in dists["sdist"]] == [f"vitruvian-{version}.tar.gz"]
    assert all(p.stat().st_size > 0 for p in dists["wheel"] + dists["sdist"])
    # Built from a copy: the checkout's build products are as they were before the build.
    assert _litter_snapshot() == dists["checkout_before"]


def test_wheel_contents(dists: dict) -> None:
    with zipfile.ZipFile(dists["wheel"][0]) as wheel:
        names = set(wheel.namelist())
        info = f"vitruvian-{_project_version()}.dist-info"
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(f"{info}/entry_points.txt").decode("utf-8"))
        metadata = wheel.read(f"{info}/METADATA").decode("utf-8")

    missing = [name for name in WHEEL_REQUIRED if name not in names]
    assert not missing, f"missing from the wheel: {missing}"
    # Every module of the package is there, not only the package data.
    modules = {
        rel.as_posix().removeprefix("src/")
        for rel in _source_files()
        if rel.parts[:2] == ("src", "vitruvian") and rel.suffix == ".py"
    }
    assert modules and not modules - names, f"modules missing: {sorted(modules - names)}"
    assert dict(entry_points["console_scripts"]) == {"vitruvian": "vitruvian.cli:main"}
    assert f"Version: {_project_version()}" in metadata
    assert {name.split("/")[0] for name in names} == {"vitruvian", info}, sorted(names)[:20]
    tests = [n for n in names if n.startswith("tests/") or "/test_" in n or "conftest" in n]
    assert not tests, f"tests in the wheel: {tests}"
    weights = [n for n in names if n.endswith(WEIGHT_SUFFIXES)]
    assert not weights, f"model weights in the wheel: {weights}"


def test_sdist_contents(dists: dict) -> None:
    top = f"vitruvian-{_project_version()}"
    with tarfile.open(dists["sdist"][0]) as sdist:
        names = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    missing = [name for name in SDIST_REQUIRED if name not in names]
    assert not missing, f"missing from the sdist: {missing}"
    weights = [n for n in names if n.endswith(WEIGHT_SUFFIXES)]
    assert not weights, f"model weights in the sdist: {weights}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


# --- installed from the wheel --------------------------------------------------------------


def test_import_resolves_to_the_venv(venv: Path, env: dict[str, str], workdir: Path) -> None:
    probe = (
        "import json, sysconfig, vitruvian\n"
        "from importlib import metadata\n"
        "dist = metadata.distribution('vitruvian')\n"
        "print(json.dumps({'file': vitruvian.__file__, 'version': vitruvian.__version__,\n"
        "    'purelib': sysconfig.get_paths()['purelib'],\n"
        "    'direct_url': dist.read_text('direct_url.json')}))\n"
    )
    proc = _run([str(venv / "bin" / "python"), "-c", probe], workdir, env)
    assert proc.returncode == 0, _report(proc)
    found = json.loads(proc.stdout)
    module = Path(found["file"]).resolve()
    assert module.is_relative_to(Path(found["purelib"]).resolve()), found
    assert module.is_relative_to(venv.resolve()), found
    assert not module.is_relative_to(REPO), f"imported from the checkout: {module}"
    assert found["version"] == _project_version()
    # A wheel install, not an editable one pointing back at the checkout.
    assert found["direct_url"] is None or '"editable": true' not in found["direct_url"], found


def test_console_script_version(venv: Path, env: dict[str, str], workdir: Path) -> None:
    proc = _run([str(venv / "bin" / "vitruvian"), "--version"], workdir, env)
    assert proc.returncode == 0, _report(proc)
    assert proc.stdout.strip() == f"vitruvian, version {_project_version()}", _report(proc)


def test_mediapipe_style_static_script(venv: Path, env: dict[str, str], workdir: Path) -> None:
    image_path = _need(POSE_JPG)
    script = workdir / "static_example.py"
    script.write_text(STATIC_SCRIPT, encoding="utf-8")
    proc = _run([str(venv / "bin" / "python"), str(script), str(image_path)], workdir, env)
    assert proc.returncode == 0, _report(proc)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["found"], _report(proc)
    assert Path(got["module"]).resolve().is_relative_to(venv.resolve()), got["module"]

    # The same image through the dev install (this process), same options.
    import cv2

    import vitruvian as mp

    image = cv2.imread(str(image_path))
    h, w = image.shape[:2]
    with mp.solutions.pose.Pose(
        static_image_mode=True,
        model_complexity=2,
        enable_segmentation=True,
        min_detection_confidence=0.5,
    ) as pose:
        results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    assert results.pose_landmarks is not None
    nose = results.pose_landmarks.landmark[mp.solutions.pose.PoseLandmark.NOSE]
    dx, dy = got["nose_px"][0] - nose.x * w, got["nose_px"][1] - nose.y * h
    assert (dx * dx + dy * dy) ** 0.5 <= NOSE_TOLERANCE_PX, (got["nose_px"], nose)
    assert abs(got["nose_visibility"] - nose.visibility) < 0.01
    assert len(got["landmarks_px"]) == 33
    assert got["mask_shape"] == [h, w]


def test_cli_run_writes_csv(venv: Path, env: dict[str, str], workdir: Path) -> None:
    image_path = _need(POSE_JPG)
    proc = _run(
        [str(venv / "bin" / "vitruvian"), "run", str(image_path), "--out", "out.csv"],
        workdir,
        env,
    )
    assert proc.returncode == 0, _report(proc)
    with open(workdir / "out.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1, rows
    assert rows[0]["pose_present"] == "True", rows[0]
    assert 0.0 < float(rows[0]["nose_x"]) < 1.0 and 0.0 < float(rows[0]["nose_y"]) < 1.0


def test_cli_demo_without_input(venv: Path, env: dict[str, str], workdir: Path) -> None:
    proc = _run([str(venv / "bin" / "vitruvian"), "demo", "--out", "d"], workdir, env)
    assert proc.returncode == 0, _report(proc)
    png, record_path = workdir / "d" / "pose_pose.png", workdir / "d" / "pose_pose.json"
    assert png.is_file() and png.stat().st_size > 0, _report(proc)
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["pose_found"] is True
    assert len(record["landmarks"]) == 33
    # The packaged image, from the venv's site-packages.
    packaged = Path(record["input"]).resolve()
    assert packaged.is_relative_to(venv.resolve()), record["input"]
    assert packaged.parts[-2:] == ("data", "pose.jpg"), record["input"]


def _readme_video_loop() -> str:
    """The webcam loop from README.md's ``### Video`` section (the block with VideoCapture)."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines(keepends=True)
    blocks: list[str] = []
    in_section = in_fence = False
    current: list[str] | None = None
    for line in lines:
        if line.startswith("```"):
            if in_fence:
                if current is not None:
                    blocks.append("".join(current))
                in_fence, current = False, None
            else:
                in_fence = True
                current = [] if in_section and line.strip() == "```python" else None
            continue
        if in_fence:
            if current is not None:
                current.append(line)
            continue
        if re.match(r"#{1,3} ", line):
            in_section = line.strip() == "### Video"
    loops = [block for block in blocks if "cv2.VideoCapture(" in block]
    assert len(loops) == 1, f"expected one VideoCapture block under '### Video': {blocks}"
    assert "cv2.imshow(" in loops[0] and "import vitruvian as mp" in loops[0], loops[0]
    return loops[0]


def test_readme_video_loop_under_xvfb(venv: Path, env: dict[str, str], workdir: Path) -> None:
    clip = _need(SQUATS)
    code = _readme_video_loop()
    if shutil.which("xvfb-run") is None:
        pytest.skip(
            "xvfb-run not found: `apt-get install xvfb` to run the README's cv2.imshow loop"
        )
    # Only the input file name changes; the clip's 65 frames bound the run.
    code, count = re.subn(
        r"""cv2\.VideoCapture\(\s*(?:"[^"]*"|'[^']*')""",
        lambda _: f"cv2.VideoCapture({str(clip)!r}",
        code,
    )
    assert count == 1, code
    (workdir / "readme_video_loop.py").write_text(code, encoding="utf-8")
    (workdir / "harness.py").write_text(LOOP_HARNESS, encoding="utf-8")
    proc = _run(
        ["xvfb-run", "-a", str(venv / "bin" / "python"), "harness.py", "readme_video_loop.py"],
        workdir,
        env,
        timeout=300,
    )
    assert proc.returncode == 0, _report(proc)
    assert "not implemented" not in proc.stderr.lower(), _report(proc)
    counted = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counted["frames"] == 65, counted  # every frame of the clip went through the loop


FIRST_USE_SCRIPT = """\
import sys

import cv2
import vitruvian as mp

with mp.solutions.pose.Pose() as pose:  # MediaPipe's defaults: video mode, complexity 1
    image = cv2.imread(sys.argv[1])
    results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
print("found" if results.pose_landmarks else "none")
"""


def test_first_use_fetches_the_default_models_without_npm(
    venv: Path, workdir: Path, tmp_path: Path
) -> None:
    # A new user: an empty model cache, no npm on PATH and no npm setting naming a registry.
    # The default models (detector and full) come through pip by themselves on first use.
    image_path = _need(POSE_JPG)
    cache = tmp_path / "empty-cache"
    npm_free = {k: v for k, v in _child_env().items() if not k.lower().startswith("npm_config_")}
    npm_free.update(
        PATH=str(venv / "bin"),
        VITRUVIAN_CACHE_DIR=str(cache),
        npm_config_globalconfig=str(tmp_path / "no-global-npmrc"),
        npm_config_userconfig=str(tmp_path / "no-user-npmrc"),
    )
    script = workdir / "first_use.py"
    script.write_text(FIRST_USE_SCRIPT, encoding="utf-8")
    proc = _run([str(venv / "bin" / "python"), str(script), str(image_path)], workdir, npm_free)
    assert proc.returncode == 0, _report(proc)
    assert proc.stdout.strip().splitlines()[-1] == "found", _report(proc)
    assert "pip download mediapipe==0.10.14" in proc.stderr  # said what it fetched, once
    cached = sorted(p.name for p in cache.glob("*.tflite"))
    assert cached == ["pose_detection.tflite", "pose_landmark_full.tflite"], cached
