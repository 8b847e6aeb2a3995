"""The browser package's drawing and camera utilities, the tutorial's example page and the demo
page, in headless Chromium.

* ``drawConnectors``, ``drawLandmarks``, ``drawRectangle``, ``lerp`` and ``clamp`` draw the same
  pixels as ``@mediapipe/drawing_utils`` itself (loaded from ``web/node_modules``) on the same
  canvases, and call style functions with the same ``{index, from, to}``; the defaults (white,
  line width 4, radius 6, ``visibilityMin`` 0.5) checked on pixels.
* ``example.html`` (MediaPipe's published example, only the script sources changed) on a fake
  camera that plays ``video/pose_squats.mp4``: results arrive, the landmarks are where the
  person is, the canvas shows the tutorial's red landmarks and green skeleton and mask near the
  person and not elsewhere, and the 3-D grid is drawn.
* ``index.html`` (the demo page) on the same camera and on its sample photo; its control panel
  changes the options (segmentation off removes the mask from the results).

Screenshots go to ``build/test-artifacts/web/``. Needs what ``tests/test_web_browser.py`` needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import test_pose_image as expected  # MediaPipe's pose_test.py expectations for pose.jpg
from _browser import WEB, Browser, BrowserError, missing_tools, served_site

from vitruvian.pipeline import PosePipeline
from vitruvian.solutions.pose import POSE_CONNECTIONS
from vitruvian.testing_clips import read_video_rgb

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".." / "shared" / "data"
POSE_JPG = DATA_DIR / "tfjs" / "pose.jpg"
SQUATS = (DATA_DIR / "video" / "pose_squats.mp4").resolve()
ARTIFACTS = ROOT / "build" / "test-artifacts" / "web"
HARNESS = WEB / "test" / "browser" / "demo_harness.mjs"
LEGACY_DRAWING = WEB / "node_modules" / "@mediapipe" / "drawing_utils" / "drawing_utils.js"

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason=f"test data not found: {DATA_DIR.resolve()}"
)

#: Records what the tutorial page's `Pose` gives its listener (the page itself is unchanged):
#: set before the page's scripts run, it wraps `Pose.prototype.onResults` when vitruvian.js
#: defines the global `Pose`.
CAPTURE_RESULTS = """
window.__results = [];
let PoseClass;
Object.defineProperty(window, "Pose", {
  configurable: true,
  get: () => PoseClass,
  set: (value) => {
    PoseClass = value;
    const onResults = value.prototype.onResults;
    value.prototype.onResults = function (listener) {
      return onResults.call(this, (results) => {
        window.__results.push({
          landmarks: results.poseLandmarks
            ? results.poseLandmarks.map((l) => [l.x, l.y, l.visibility]) : null,
          hasMask: results.segmentationMask !== undefined,
          size: [results.image.width, results.image.height],
        });
        listener(results);
      });
    };
  },
});
"""

#: Waits (in the page) until a JavaScript expression is true; the error says what it waited for.
WAIT_FOR = """async ([expression, timeoutMs]) => {
  const test = new Function(`return (${expression});`);
  const check = () => { try { return test(); } catch { return false; } };
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`waited ${timeoutMs} ms for ${expression}; status: ` +
                      (document.getElementById("status")?.textContent ?? "-"));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}"""

#: The output canvas's pixels against the last landmarks: red (the tutorial's landmarks) and
#: green (its skeleton and mask) near the person and away from it.
CANVAS_COLOURS = """([selector, landmarks]) => {
  const canvas = document.querySelector(selector);
  const { width, height } = canvas;
  const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const points = landmarks.filter((l) => l[2] > 0.5).map((l) => [l[0] * width, l[1] * height]);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const margin = 0.15 * Math.max(x1 - x0, y1 - y0);
  const box = [x0 - margin, y0 - margin, x1 + margin, y1 + margin];
  const counts = { redNear: 0, redFar: 0, greenInside: 0, greenOutside: 0,
                   inside: 0, outside: 0, near: 0, far: 0 };
  const radius = Math.max(12, width / 80);
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const i = (y * width + x) * 4;
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      const red = r > 200 && g < 70 && b < 70;
      const green = g > 200 && r < 90 && b < 90;
      const near = points.some((p) => Math.hypot(p[0] - x, p[1] - y) <= radius);
      const inside = x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3];
      counts[near ? "near" : "far"]++;
      counts[inside ? "inside" : "outside"]++;
      if (red) counts[near ? "redNear" : "redFar"]++;
      if (green) counts[inside ? "greenInside" : "greenOutside"]++;
    }
  }
  return counts;
}"""

#: Pixels of the 3-D grid's canvas that are not its background colour (the grid is drawn).
GRID_PIXELS = """(selector) => {
  const source = document.querySelector(selector);
  if (!source) return { found: false };
  const copy = document.createElement("canvas");
  copy.width = source.width;
  copy.height = source.height;
  const ctx = copy.getContext("2d");
  ctx.drawImage(source, 0, 0);
  const data = ctx.getImageData(0, 0, copy.width, copy.height).data;
  const background = [data[0], data[1], data[2]];
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - background[0]) + Math.abs(data[i + 1] - background[1]) +
        Math.abs(data[i + 2] - background[2]) > 60) drawn++;
  }
  return { found: true, drawn, pixels: data.length / 4 };
}"""


def _problem_or_fail() -> None:
    problem = missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, real_models: dict[str, Path]) -> Iterator[str]:
    """The URL of a fresh site (``vitruvian web``) served on 127.0.0.1."""
    _problem_or_fail()
    with served_site(tmp_path_factory.mktemp("site")) as url:
        yield url


@pytest.fixture(scope="module")
def page(site: str) -> Iterator[Browser]:
    """A blank page of the site."""
    browser = Browser(site + "test.html")
    try:
        yield browser
    finally:
        browser.close()


def write_y4m(frames: list[np.ndarray], path: Path, fps: int = 30) -> Path:
    """``frames`` (RGB) as a raw YUV 4:2:0 video file, as Chromium's fake camera reads it."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="module")
def camera_page(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A page whose camera plays the squat clip (half size), the camera allowed."""
    frames = [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2)) for f in read_video_rgb(SQUATS)]
    clip = write_y4m(frames, tmp_path_factory.mktemp("camera") / "squats.y4m")
    browser = Browser(
        site + "test.html",
        chromium_args=[
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ],
    )
    try:
        yield browser
    finally:
        browser.close()


def _pose_jpg_landmarks() -> tuple[list[dict[str, float]], int, int]:
    bgr = cv2.imread(str(POSE_JPG))
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    with PosePipeline(model_complexity=1) as graph:
        result = graph.process(rgb)
    assert result is not None
    marks = [
        {"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)}
        for x, y, z, v, _ in result.landmarks
    ]
    return marks, rgb.shape[1], rgb.shape[0]


def test_drawing_utils_draw_what_mediapipe_draws(page: Browser) -> None:
    """Each case (defaults, the tutorial's styles, style functions, visibilityMin, rectangles,
    missing landmarks) drawn by ours and by ``@mediapipe/drawing_utils`` on identical canvases:
    the same pixels and the same style-function calls."""
    landmarks, width, height = _pose_jpg_landmarks()
    # pose.jpg's landmarks are all clearly visible: spread the visibilities over [0, 1] (0.5,
    # the default bound, included) so that the thresholds hide some of them.
    for i, mark in enumerate(landmarks):
        mark["visibility"] = (i * 7 % 33) / 32
    report = page.call(
        HARNESS,
        "compareWithMediaPipe",
        {
            "legacyPath": str(LEGACY_DRAWING),
            "landmarks": landmarks,
            "connections": sorted(POSE_CONNECTIONS),
            "width": width,
            "height": height,
        },
    )
    lerp = report.pop("lerp")
    assert lerp["ours"] == lerp["legacy"]
    for name, case in report.items():
        print(f"{name}: {case['changed']} pixels drawn, {case['differing']} differ")
        assert case["changed"] > 500, f"{name}: nothing drawn"
        assert case["differing"] <= case["changed"] // 1000 and case["maxDiff"] <= 2, (name, case)
        assert case["calls"] == case["legacyCalls"], name
    assert len(report["functions"]["calls"]) > 50


def test_drawing_utils_defaults(page: Browser) -> None:
    """One landmark with the defaults: a 6 px radius circle, its 4 px white outline centred on
    the circle (so white from 4 to 8 px out), the inside in the context's fill colour (black);
    not drawn at visibility 0.5 (``visibilityMin`` is a strict bound), drawn at 0.51."""
    rows = page.call(HARNESS, "defaultLandmark")
    shown = np.asarray(rows["shown"], np.int32).reshape(-1, 4)
    centre = 50
    assert shown[centre].tolist() == [0, 0, 0, 255]  # filled with the context's black
    for offset in (-6, 6):
        assert shown[centre + offset].tolist() == [255, 255, 255, 255]  # the white outline
    for offset in (-10, 10, -30, 30):
        assert shown[centre + offset][3] == 0  # nothing beyond radius + lineWidth / 2
    assert np.asarray(rows["atThreshold"]).max() == 0
    assert np.asarray(rows["above"]).reshape(-1, 4)[centre + 6].tolist() == [255, 255, 255, 255]


def _reference_box() -> np.ndarray:
    """Where the person of the squat clip is (normalised x0, y0, x1, y1 of tfjs's reference
    landmarks over all frames)."""
    frames = read_video_rgb(SQUATS, max_frames=1)
    height, width = frames[0].shape[:2]
    points = np.array(json.loads((SQUATS.parent / "pose_squats.full.json").read_text()))[..., :2]
    points = points.reshape(-1, 2) / [width, height]
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def _check_on_person(landmarks: list[list[float]], what: str) -> None:
    box = _reference_box()
    margin = 0.1
    visible = np.array([(x, y) for x, y, v in landmarks if v > 0.5])
    assert len(visible) > 10, f"{what}: few visible landmarks"
    assert (visible >= box[:2] - margin).all() and (visible <= box[2:] + margin).all(), (
        f"{what}: landmarks outside where the person is {box}: {visible.min(0)}, {visible.max(0)}"
    )


def _wait(browser: Browser, expression: str, timeout_ms: int = 120_000) -> None:
    try:
        browser.run(WAIT_FOR, [expression, timeout_ms])
    except BrowserError as error:
        log = [line for line in browser.log if "Sparsity" not in line and "INFO:" not in line]
        raise AssertionError(f"{error}\npage log:\n" + "\n".join(log[-20:])) from None


def test_tutorial_example_on_a_camera(site: str, camera_page: Browser) -> None:
    """MediaPipe's example page, unchanged but for its script sources, on the fake camera."""
    camera_page.goto(site + "example.html", init_script=CAPTURE_RESULTS)
    _wait(camera_page, "window.__results.filter((r) => r.landmarks).length >= 8")
    results = camera_page.run("async () => window.__results")
    found = [r for r in results if r["landmarks"]]
    assert all(r["hasMask"] for r in found), "enableSegmentation: true gives a mask"
    for i, result in enumerate(found):
        _check_on_person(result["landmarks"], f"result {i}")
    # The canvas and the last results, read at the same moment.
    colours = camera_page.run(
        "async () => { const last = window.__results.filter((r) => r.landmarks).at(-1);"
        f" return ({CANVAS_COLOURS})(['.output_canvas', last.landmarks]); }}"
    )
    print(f"example.html: {len(results)} results, canvas colours {colours}")
    assert colours["redNear"] > 20, colours  # the landmarks' red dots
    assert colours["redFar"] <= colours["far"] // 1000, colours
    assert colours["greenInside"] > colours["inside"] // 20, colours  # skeleton and mask
    assert colours["greenOutside"] <= colours["outside"] // 100, colours
    grid = camera_page.run(f"async () => ({GRID_PIXELS})('.landmark-grid-container canvas')")
    assert grid["found"] and grid["drawn"] > 500, grid
    camera_page.screenshot(ARTIFACTS / "example.png")


def test_demo_page_on_a_camera_and_its_controls(site: str, camera_page: Browser) -> None:
    """The demo page: webcam source, the mask on by default, segmentation off from the panel
    (results without a mask), a lighter model from the panel (still a pose), the FPS readout."""
    camera_page.goto(site + "index.html?source=webcam")
    _wait(camera_page, "window.demo.withPose >= 5")
    state = camera_page.run(
        "async () => ({mask: demo.lastHasMask, fps: document.getElementById('fps').textContent,"
        " landmarks: demo.lastLandmarks.map((l) => [l.x, l.y, l.visibility]),"
        " error: demo.error})"
    )
    assert state["error"] is None
    assert state["mask"] is True
    assert float(state["fps"]) > 0
    _check_on_person(state["landmarks"], "demo page")
    grid = camera_page.run(f"async () => ({GRID_PIXELS})('#grid canvas')")
    assert grid["found"] and grid["drawn"] > 500, grid
    camera_page.screenshot(ARTIFACTS / "demo_webcam.png")

    camera_page.run(
        "async () => { document.querySelector('[name=enableSegmentation]').click();"
        " window.__mark = demo.frames; }"
    )
    _wait(camera_page, "demo.frames >= window.__mark + 3 && !demo.lastHasMask")
    camera_page.run(
        "async () => { const select = document.querySelector('[name=modelComplexity]');"
        " select.value = '0'; select.dispatchEvent(new Event('input', {bubbles: true}));"
        " window.__mark = demo.withPose; }"
    )
    _wait(camera_page, "demo.withPose >= window.__mark + 3")
    assert camera_page.run("async () => demo.error") is None


def test_demo_page_sample_photo(site: str, page: Browser) -> None:
    """The demo page's sample photo (pose.jpg): MediaPipe's expected landmarks, within its
    tolerance."""
    page.goto(site + "index.html?source=sample")
    _wait(page, "window.demo.lastLandmarks !== null")
    marks: list[dict[str, Any]] = page.run("async () => demo.lastLandmarks")
    width, height = 1000, 667
    pixels = np.array([[m["x"] * width, m["y"] * height] for m in marks])
    assert np.abs(pixels - expected.EXPECTED_POSE_LANDMARKS).max() < expected.DIFF_THRESHOLD
    page.screenshot(ARTIFACTS / "demo_sample.png")


@pytest.fixture(scope="module")
def squat_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``vitruvian run`` on the first 30 frames of the squat clip: its JSON Lines and CSV."""
    folder = tmp_path_factory.mktemp("tables")
    outs = {"jsonl": folder / "squats.jsonl", "csv": folder / "squats.csv"}
    subprocess.run(
        [sys.executable, "-m", "vitruvian", "run", str(SQUATS), "--max-frames", "30"]
        + [arg for path in outs.values() for arg in ("--out", str(path))],
        check=True,
        capture_output=True,
    )
    return outs


def test_run_tables_read_in_the_browser(page: Browser, squat_tables: dict[str, Path]) -> None:
    """``parseRunOutput`` reads ``vitruvian run``'s JSON Lines and CSV as Python wrote them
    (every value equal: both print floats in full), and names what is wrong with a table that
    is not one."""
    rows = [json.loads(line) for line in squat_tables["jsonl"].read_text().splitlines()]
    landmark_columns = [c for c in rows[0] if c.endswith(("_x", "_y", "_z", "_visibility"))]
    image_columns = [c for c in landmark_columns if "_world_" not in c]
    world_columns = [c for c in landmark_columns if "_world_" in c]
    expected_rows = [
        [
            row["frame"],
            row["timestamp_s"],
            row["image_width"],
            [row[c] for c in image_columns] if row["pose_present"] else None,
            [row[c] for c in world_columns] if row["pose_present"] else None,
        ]
        for row in rows
    ]
    header = squat_tables["csv"].read_text().splitlines()[0]
    report = page.call(
        HARNESS,
        "readTables",
        {
            "paths": [str(p) for p in squat_tables.values()],
            "broken": [
                "source,frame\nx,1\n",
                "{not json}\n",
                header + "\n",
                header[:-30] + "\n1,2",
            ],
        },
    )
    assert len(image_columns) == 33 * 4 and len(world_columns) == 33 * 3
    assert sum(r[3] is not None for r in expected_rows) == len(rows) == 30
    for path, table in report["tables"].items():
        assert table == expected_rows, path
    missing, not_json, empty, short = report["errors"]
    assert missing.startswith("RunOutputError") and '"pose_present"' in missing
    assert "line 1 is not JSON" in not_json
    assert "no rows" in empty
    assert "fields" in short or "column" in short, short


def test_demo_page_plays_back_a_table(
    site: str, page: Browser, squat_tables: dict[str, Path]
) -> None:
    """``index.html?video=...&table=...``: the clip plays with the table's landmarks drawn over
    it (the model does not run), each frame's landmarks the table's row for that time."""
    page.goto(f"{site}index.html?video=/__file__{SQUATS}&table=/__file__{squat_tables['jsonl']}")
    _wait(page, "(window.demo.playedBack ?? 0) >= 10 && window.demo.lastLandmarks !== null")
    state = page.run(
        "async () => ({table: demo.table.length, error: demo.error, frames: demo.frames,"
        " landmarks: demo.lastLandmarks.map((l) => [l.x, l.y, l.visibility]),"
        " time: document.getElementById('video').currentTime})"
    )
    assert state["error"] is None
    assert state["table"] == 30
    _check_on_person(state["landmarks"], "played back")
    rows = [json.loads(line) for line in squat_tables["jsonl"].read_text().splitlines()]
    noses = {(round(r["nose_x"], 6), round(r["nose_y"], 6)) for r in rows if r["pose_present"]}
    nose = (round(state["landmarks"][0][0], 6), round(state["landmarks"][0][1], 6))
    assert nose in noses, "the landmarks drawn are a row of the table"
    page.screenshot(ARTIFACTS / "demo_playback.png")
