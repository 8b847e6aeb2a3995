"""``LandmarkGrid`` (``web/src/solutions/control_utils_3d.ts``, bundle ``vitruvian-3d.mjs``), the
3-D landmark view of ``@mediapipe/control_utils_3d``, drawn by WebGL in headless Chromium.

The page side is ``web/test/browser/grid_harness.mjs``: it makes grids in ``<div>``\\s of known
sizes and reads the WebGL canvas back (``preserveDrawingBuffer``), counting the pixels near each
colour of interest. Only pixels fully covered by the scene (alpha 255, the background being
half transparent) count as scene colours, so antialiased edges, which blend with the
background, do not; tolerances are a few grey levels. The landmarks are the world landmarks
(metres) that :class:`vitruvian.pipeline.PosePipeline` finds on ``tfjs/pose.jpg``; the checks:

* the default grid shows its background, the white cube outline, the grey cell lines, grey
  landmarks and cyan connections, and the labels of a 1 m cube in world coordinates;
* configured colours replace the defaults (a red ``landmarkColor`` gives red pixels, the default
  none), ``definedColors`` colour the named connection and landmark lists;
* ``updateLandmarks([])`` removes the landmarks and connections, not the cube;
* landmarks whose visibility is not above ``minVisibility`` are drawn in
  ``nonvisibleLandmarkColor`` with ``showHidden``, else not at all (nor their connections);
* ``fitToGrid`` (with ``range`` and ``margin``) and ``centered`` set the labels as computed here,
  and the fitted figure lies inside the cube;
* three.js is in ``vitruvian-3d.mjs`` / ``.js`` only, and the classic script defines
  ``LandmarkGrid`` and ``ViewerWidget`` as globals;
* the canvas follows its parent's size (a parent with no height gets a square view);
* turning asks for frames and changes the picture; without it the view is still and idle, a
  drag turns it; ``dispose()`` empties the parent, loses the WebGL context and stops the frames.

A picture of the grid as MediaPipe's pose page configures it is saved to
``build/test-artifacts/web/landmark_grid.png``. Needs ``web/dist`` (``make web``), node with
``web/node_modules``, ``/usr/bin/chromium`` and the models (the site ``vitruvian web`` serves).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from _browser import WEB, Browser, missing_tools, served_site

from vitruvian.pipeline import PosePipeline

ROOT = Path(__file__).resolve().parents[1]
HARNESS = WEB / "test" / "browser" / "grid_harness.mjs"
POSE_JPG = ROOT / ".." / "shared" / "data" / "tfjs" / "pose.jpg"
SCREENSHOT = ROOT / "build" / "test-artifacts" / "web" / "landmark_grid.png"

#: Canvas size of most views, CSS pixels (the page's device pixel ratio is 1).
WIDTH, HEIGHT = 400, 300
#: Still views: the pictures can be compared from one reading to the next.
STILL = {"isRotating": False}


def _colour(rgb: int, tolerance: int = 8, alpha: str = "opaque") -> dict[str, Any]:
    """A colour for the harness to count: 0xRRGGBB, largest difference per channel."""
    return {
        "rgb": [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255],
        "tolerance": tolerance,
        "alpha": alpha,
    }


#: The original's default colours (the cell lines' grey is fixed).
DEFAULT_COLOURS = {
    "background": _colour(0x000000, 4, "background"),
    "axes": _colour(0xFFFFFF),
    "cells": _colour(0x999999, 5),
    "landmarks": _colour(0xAAAAAA, 5),
    "connections": _colour(0x00FFFF),
    "nonvisible": _colour(0xFF7777),
    "red": _colour(0xFF0000, 40),
}
#: Colours the tests configure, far from one another and from the defaults.
RED, GREEN, BLUE, ORANGE, MAGENTA = 0xFF0000, 0x00FF00, 0x0000FF, 0xFFA500, 0xFF00FF
TEST_COLOURS = {
    "red": _colour(RED, 40),
    "green": _colour(GREEN, 40),
    "blue": _colour(BLUE, 40),
    "orange": _colour(ORANGE, 30),
    "magenta": _colour(MAGENTA, 40),
    "grey": _colour(0xAAAAAA, 5),
    "cyan": _colour(0x00FFFF),
    "white": _colour(0xFFFFFF),
}

pytestmark = pytest.mark.skipif(not POSE_JPG.is_file(), reason=f"test data not found: {POSE_JPG}")


@pytest.fixture(scope="module")
def page(
    tmp_path_factory: pytest.TempPathFactory, real_models: dict[str, Path]
) -> Iterator[Browser]:
    """A page of a freshly prepared site served by ``vitruvian web`` on 127.0.0.1."""
    problem = missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)
    if not (WEB / "dist" / "vitruvian-3d.mjs").is_file():
        pytest.fail("web/dist has no vitruvian-3d.mjs (run `make web`)", pytrace=False)
    with served_site(tmp_path_factory.mktemp("site")) as url:
        # WebGL on the CPU (SwiftShader): the driver starts Chromium with --disable-gpu.
        browser = Browser(url + "test.html", ["--enable-unsafe-swiftshader"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def grid(page: Browser) -> Iterator[Browser]:
    """The page, with no grid left over from another test (so none turns or asks for frames)."""
    page.call(HARNESS, "disposeAll")
    yield page
    page.call(HARNESS, "disposeAll")


@pytest.fixture(scope="module")
def world() -> list[list[float]]:
    """World landmarks of ``pose.jpg`` (rows x, y, z, visibility, presence; metres)."""
    bgr = cv2.imread(str(POSE_JPG), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {POSE_JPG}"
    with PosePipeline(model_complexity=1) as graph:
        result = graph.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    assert result is not None
    rows = result.world_landmarks
    # The photo's person is fully visible and wider (arms out) than the default 1 m cube.
    assert rows.shape == (33, 5) and rows[:, 3].min() > 0.9
    assert np.abs(rows[:, :3]).max() > 0.6
    return rows.tolist()


@pytest.fixture(scope="module")
def lists(page: Browser) -> dict[str, Any]:
    """POSE_CONNECTIONS and the left and right landmark indices, from the browser package."""
    return page.call(HARNESS, "poseLists")


def _create(page: Browser, config: dict[str, Any], colours: dict[str, Any], **kw: Any) -> dict:
    args = {"width": WIDTH, "height": HEIGHT, "config": config, "colors": colours, **kw}
    return page.call(HARNESS, "create", args)


def _numbers(labels: list[str], prefix: str = "", suffix: str = "") -> list[float]:
    out = []
    for label in labels:
        assert label.startswith(prefix) and label.endswith(suffix), label
        out.append(float(label[len(prefix) : len(label) - len(suffix)]))
    return out


def _assert_labels(labels: list[str], expected: list[float], **affixes: str) -> None:
    """The labels read ``expected`` to the two significant digits they show."""
    got = _numbers(labels, **affixes)
    assert len(got) == len(expected), labels
    for g, e in zip(got, expected, strict=True):
        assert abs(g - e) <= 0.051 * abs(e) + 1e-3, (labels, expected)


def _default_labels(half: float, origin: tuple[float, float, float] = (0, 0, 0)) -> list[float]:
    """The world coordinates of the labelled grid lines of a cube of half side ``half`` (3
    cells), centred on ``origin``: x along the bottom front edge (but its left end), y up the
    front left edge (world y points down), z along the bottom right edge from the back (world z
    points away from the first view, so the back is +z)."""
    steps = [-1, -1 / 3, 1 / 3, 1]
    x = [origin[0] + half * s for s in steps[1:]]
    y = [origin[1] - half * s for s in steps]
    z = [origin[2] - half * s for s in steps[:3]]
    return x + y + z


def test_bundles(grid: Browser) -> None:
    """three.js is in the 3-D bundles only; the classic one defines MediaPipe's globals."""
    dist = WEB / "dist"
    assert "WebGLRenderer" not in (dist / "vitruvian.mjs").read_text(encoding="utf-8")
    assert "WebGLRenderer" not in (dist / "vitruvian.js").read_text(encoding="utf-8")
    assert "WebGLRenderer" in (dist / "vitruvian-3d.mjs").read_text(encoding="utf-8")
    globals_ = grid.call(HARNESS, "classicScript")
    assert globals_ == {
        "LandmarkGrid": "function",
        "ViewerWidget": "function",
        "namespace": "object",
        "subclass": True,
    }


def test_default_grid(grid: Browser, world: list[list[float]]) -> None:
    """Defaults: the cube, its cells and labels, grey landmarks and cyan connections."""
    shown = _create(grid, STILL, DEFAULT_COLOURS, landmarks=world, connections="pose")
    counts, pixels = shown["counts"], shown["pixels"]
    assert shown["canvas"] == [WIDTH, HEIGHT] and shown["css"] == [WIDTH, HEIGHT], shown
    assert counts["background"] > 0.6 * pixels, counts
    assert counts["axes"] > 300, counts
    assert counts["cells"] > 30, counts
    assert counts["landmarks"] > 500, counts
    assert counts["connections"] > 500, counts
    # Every landmark is visible, and nothing is red.
    assert counts["nonvisible"] == 0 and counts["red"] == 0, counts
    _assert_labels(shown["labels"], _default_labels(0.5))
    # The picture is a 3-D view: the figure's spheres spread over the cube and past it (arms).
    axes, landmarks = shown["boxes"]["axes"], shown["boxes"]["landmarks"]
    assert landmarks[0] < axes[0] and landmarks[2] > axes[2], shown["boxes"]


def test_configured_colours(grid: Browser, world: list[list[float]]) -> None:
    """Colours from the configuration replace the defaults, background included."""
    default = _create(grid, STILL, TEST_COLOURS, landmarks=world, connections="pose")
    assert default["counts"]["red"] == 0 and default["counts"]["green"] == 0, default["counts"]
    config = {
        **STILL,
        "landmarkColor": RED,
        "connectionColor": GREEN,
        "axesColor": BLUE,
        "backgroundColor": 0x336699,
    }
    colours = {**TEST_COLOURS, "background": _colour(0x336699, 4, "background")}
    shown = _create(grid, config, colours, landmarks=world, connections="pose")
    counts = shown["counts"]
    assert counts["red"] > 500 and counts["green"] > 500 and counts["blue"] > 300, counts
    assert counts["background"] > 0.6 * shown["pixels"], counts
    assert counts["grey"] == 0 and counts["cyan"] == 0 and counts["white"] == 0, counts


def test_defined_colours(grid: Browser, world: list[list[float]], lists: dict[str, Any]) -> None:
    """``definedColors`` names colour connection groups and landmark lists."""
    left, right = set(lists["left"]), set(lists["right"])
    connections = lists["connections"]
    config = {
        **STILL,
        "connectionColor": GREEN,
        "definedColors": [{"name": "LEFT", "value": ORANGE}, {"name": "RIGHT", "value": MAGENTA}],
    }
    shown = _create(grid, config, TEST_COLOURS)
    groups = [
        {"color": "LEFT", "list": [c for c in connections if set(c) <= left]},
        {"color": "RIGHT", "list": [c for c in connections if set(c) <= right]},
    ]
    marks = [{"color": "LEFT", "list": lists["left"]}, {"color": "RIGHT", "list": lists["right"]}]
    args = {"id": shown["id"], "landmarks": world, "colors": TEST_COLOURS}
    coloured = grid.call(
        HARNESS, "update", {**args, "connections": groups, "colorLandmarks": marks}
    )
    counts = coloured["counts"]
    assert counts["orange"] > 500 and counts["magenta"] > 500, counts
    # Only the groups are drawn: the links across the body (shoulders, hips, nose to eyes) are
    # in neither, and none is in the default colour.
    assert counts["green"] == 0, counts
    # Without a colour name (or with an unknown one) a group takes the connection colour.
    plain = [{"color": None, "list": lists["left"]}, {"color": "NOPE", "list": lists["right"]}]
    default = grid.call(HARNESS, "update", {**args, "connections": "pose", "colorLandmarks": plain})
    counts = default["counts"]
    assert counts["green"] > 1000 and counts["orange"] == 0 and counts["magenta"] == 0, counts


def test_clear(grid: Browser, world: list[list[float]]) -> None:
    """``updateLandmarks([])`` removes the landmarks and connections; the cube stays."""
    config = {**STILL, "landmarkColor": RED, "connectionColor": GREEN}
    shown = _create(grid, config, TEST_COLOURS, landmarks=world, connections="pose")
    assert shown["counts"]["red"] > 500 and shown["counts"]["green"] > 500, shown["counts"]
    cleared = grid.call(
        HARNESS, "update", {"id": shown["id"], "landmarks": [], "colors": TEST_COLOURS}
    )
    counts = cleared["counts"]
    assert counts["red"] == 0 and counts["green"] == 0 and counts["white"] > 300, counts
    _assert_labels(cleared["labels"], _default_labels(0.5))


def test_hidden_landmarks(grid: Browser, world: list[list[float]]) -> None:
    """Landmarks at or below ``minVisibility`` are drawn in ``nonvisibleLandmarkColor`` only
    with ``showHidden``, and their connections only then."""
    # The upper body (face, shoulders, arms: landmarks 0 to 22) half visible.
    rows = [[*row[:3], 0.5 if i <= 22 else row[3], row[4]] for i, row in enumerate(world)]
    config = {
        **STILL,
        "landmarkColor": RED,
        "nonvisibleLandmarkColor": BLUE,
        "connectionColor": GREEN,
        "axesColor": 0x808080,
    }
    kw = {"landmarks": rows, "connections": "pose"}
    shown = _create(grid, config, TEST_COLOURS, **kw)["counts"]
    assert shown["blue"] > 500 and shown["red"] > 100 and shown["green"] > 500, shown
    hidden = _create(grid, {**config, "showHidden": False}, TEST_COLOURS, **kw)["counts"]
    assert hidden["blue"] == 0 and hidden["red"] > 100, hidden
    assert 0 < hidden["green"] < 0.75 * shown["green"], (hidden, shown)
    # A lower threshold makes them visible (0.5 > 0.4).
    lower = {**config, "showHidden": False, "minVisibility": 0.4}
    visible = _create(grid, lower, TEST_COLOURS, **kw)["counts"]
    assert visible["blue"] == 0 and visible["red"] > hidden["red"] + 300, (visible, hidden)
    assert visible["green"] > hidden["green"], (visible, hidden)
    # A visibility of exactly 0 is hidden whatever the threshold (as the original).
    zero = [[*row[:3], 0.0, row[4]] for row in world]
    none = _create(grid, {**config, "minVisibility": -1}, TEST_COLOURS, landmarks=zero)["counts"]
    assert none["red"] == 0 and none["blue"] > 500, none


def test_fit_and_centre(grid: Browser, world: list[list[float]]) -> None:
    """``fitToGrid`` grows or shrinks the cube in 0.5 m steps of its half side, ``margin``
    keeps room, ``centered`` moves the centre; the labels say so."""
    colours = {"red": TEST_COLOURS["red"], "blue": TEST_COLOURS["blue"]}
    base = {**STILL, "landmarkColor": RED, "axesColor": BLUE}
    kw = {"landmarks": world, "connections": "pose"}
    largest = float(np.abs(np.asarray(world)[:, :3]).max())
    assert 0.5 < largest < 1.0
    fitted = _create(grid, {**base, "fitToGrid": True}, colours, **kw)
    # The smallest half side 0.5 + k * 0.5 that holds the largest coordinate is 1 m.
    _assert_labels(fitted["labels"], _default_labels(1.0))
    (left, top, right, bottom), cube = fitted["boxes"]["red"], fitted["boxes"]["blue"]
    slack = 8  # a sphere's radius in pixels, about
    assert left >= cube[0] - slack and right <= cube[2] + slack, fitted["boxes"]
    assert top >= cube[1] - slack and bottom <= cube[3] + slack, fitted["boxes"]
    # Room for a margin of a quarter of the side on each side: 0.78 / 0.5 -> half side 2 m.
    margin = _create(grid, {**base, "fitToGrid": True, "margin": 0.25}, colours, **kw)
    _assert_labels(margin["labels"], _default_labels(2.0))
    # A 4 m cube shrinks to the same 1 m half side.
    shrunk = _create(grid, {**base, "fitToGrid": True, "range": 4}, colours, **kw)
    _assert_labels(shrunk["labels"], _default_labels(1.0))
    # Centred: on the middle of the landmarks' bounding box; labels with prefix and suffix.
    xyz = np.asarray(world)[:, :3]
    middle = tuple(float(v) for v in (xyz.max(axis=0) + xyz.min(axis=0)) / 2)
    affixes = {"labelPrefix": "~", "labelSuffix": "m"}
    centred = _create(grid, {**base, "centered": True, **affixes}, colours, **kw)
    _assert_labels(centred["labels"], _default_labels(0.5, middle), prefix="~", suffix="m")


def test_follows_parent_size(grid: Browser, world: list[list[float]]) -> None:
    """The canvas takes the parent's size, and follows it; no height set: a square."""
    config = {**STILL, "landmarkColor": RED}
    shown = _create(grid, config, TEST_COLOURS, landmarks=world, connections="pose")
    assert shown["canvas"] == [WIDTH, HEIGHT] == shown["parent"], shown
    wide = grid.call(
        HARNESS, "resize", {"id": shown["id"], "width": 520, "height": 200, "colors": TEST_COLOURS}
    )
    assert wide["canvas"] == [520, 200] and wide["css"] == [520, 200], wide
    assert wide["counts"]["red"] > 300, wide["counts"]
    auto = grid.call(
        HARNESS,
        "create",
        {"width": 240, "height": None, "config": config, "landmarks": world, "colors": {}},
    )
    assert auto["canvas"] == [240, 240] and auto["parent"] == [240, 240], auto


def test_turning_drag_and_dispose(grid: Browser, world: list[list[float]]) -> None:
    """Turning draws every frame; a still view is idle until dragged; ``dispose()`` frees it."""
    kw = {"landmarks": world, "connections": "pose"}
    still = _create(grid, STILL, {}, **kw)
    assert grid.call(HARNESS, "frameRequestsOver", {"count": 5}) == 0
    assert not grid.call(HARNESS, "changesOver", {"id": still["id"], "count": 5})
    colours = {"landmarks": DEFAULT_COLOURS["landmarks"]}
    box = grid.call(HARNESS, "update", {"id": still["id"], **kw, "colors": colours})["boxes"]
    dragged = grid.call(HARNESS, "drag", {"id": still["id"], "dx": 100, "colors": colours})
    assert dragged["boxes"]["landmarks"] != box["landmarks"], (box, dragged["boxes"])

    turning = _create(grid, {}, {}, **kw)
    assert grid.call(HARNESS, "frameRequestsOver", {"count": 5}) >= 4
    assert grid.call(HARNESS, "changesOver", {"id": turning["id"], "count": 5})
    for view in (turning, still):
        left = grid.call(HARNESS, "dispose", {"id": view["id"]})
        assert left["children"] == 0 and left["contextLost"], left
    # Nothing is left asking for frames.
    assert left["frameRequests"] == 0, left


def test_screenshot(grid: Browser, world: list[list[float]], lists: dict[str, Any]) -> None:
    """A picture of the grid as MediaPipe's pose page sets it up, labels included."""
    config = {
        **STILL,
        "connectionColor": 0xCCCCCC,
        "definedColors": [{"name": "LEFT", "value": ORANGE}, {"name": "RIGHT", "value": 0x00FFFF}],
        "range": 2,
        "fitToGrid": True,
        "labelSuffix": "m",
        "landmarkSize": 2,
        "numCellsPerAxis": 4,
        "showHidden": False,
        "centered": True,
    }
    marks = [{"color": "LEFT", "list": lists["left"]}, {"color": "RIGHT", "list": lists["right"]}]
    shown = grid.call(
        HARNESS,
        "create",
        {
            "width": 480,
            "height": 360,
            "config": config,
            "landmarks": world,
            "connections": "pose",
            "colorLandmarks": marks,
            "colors": {"orange": TEST_COLOURS["orange"], "cyan": TEST_COLOURS["cyan"]},
        },
    )
    assert shown["counts"]["orange"] > 100 and shown["counts"]["cyan"] > 100, shown["counts"]
    assert len(shown["labels"]) == 4 + 5 + 4 and all(s.endswith("m") for s in shown["labels"])
    grid.screenshot(SCREENSHOT, ".viewer-widget-js")
    image = cv2.imread(str(SCREENSHOT))
    assert image is not None and image.shape[:2] == (360, 480)
