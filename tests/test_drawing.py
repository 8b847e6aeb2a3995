"""drawing_utils / drawing_styles: pixels drawn where and how MediaPipe draws them."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from vitruvian.solutions import drawing_styles, drawing_utils
from vitruvian.solutions.drawing_utils import (
    RED_COLOR,
    WHITE_COLOR,
    DrawingSpec,
    _normalized_to_pixel_coordinates,
    draw_landmarks,
    plot_landmarks,
)
from vitruvian.solutions.landmarks import (
    LandmarkList,
    NormalizedLandmark,
    NormalizedLandmarkList,
)
from vitruvian.solutions.pose import POSE_CONNECTIONS, PoseLandmark

GREEN = (0, 255, 0)
BLUE = (255, 0, 0)
MAGENTA = (255, 0, 255)


def _canvas(height: int = 100, width: int = 200) -> np.ndarray:
    return np.zeros((height, width, 3), dtype=np.uint8)


def _pixels_of(image: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    """(row, col) of every pixel with exactly ``color``."""
    return np.argwhere(np.all(image == np.array(color, dtype=np.uint8), axis=-1))


def _three_points(visibility: tuple[float, float, float] = (0.9, 0.9, 0.9)) -> np.ndarray:
    """Three landmarks (normalised) on a 200x100 image: pixels (40, 20), (160, 20), (100, 80)."""
    return np.array(
        [
            [0.2, 0.2, 0.0, visibility[0], 0.99],
            [0.8, 0.2, 0.0, visibility[1], 0.99],
            [0.5, 0.8, 0.0, visibility[2], 0.99],
        ],
        dtype=np.float32,
    )


def test_normalized_to_pixel_coordinates_matches_mediapipe_rules() -> None:
    assert _normalized_to_pixel_coordinates(0.0, 0.0, 200, 100) == (0, 0)
    assert _normalized_to_pixel_coordinates(1.0, 1.0, 200, 100) == (199, 99)
    assert _normalized_to_pixel_coordinates(0.5, 0.25, 200, 100) == (100, 25)
    assert _normalized_to_pixel_coordinates(0.2049, 0.999, 200, 100) == (40, 99)
    assert _normalized_to_pixel_coordinates(-0.01, 0.5, 200, 100) is None
    assert _normalized_to_pixel_coordinates(0.5, 1.01, 200, 100) is None


def test_filled_landmarks_and_connection_in_spec_colors_at_the_right_places() -> None:
    image = _canvas()
    landmarks = NormalizedLandmarkList.from_numpy(_three_points())
    draw_landmarks(
        image,
        landmarks,
        [(0, 1), (1, 2)],
        landmark_drawing_spec=DrawingSpec(color=GREEN, thickness=-1, circle_radius=4),
        connection_drawing_spec=DrawingSpec(color=BLUE, thickness=1),
    )
    # Landmark centres: filled circles in the landmark colour ...
    for col, row in [(40, 20), (160, 20), (100, 80)]:
        assert tuple(image[row, col]) == GREEN
        # ... inside a white border ring of radius max(4 + 1, int(4 * 1.2)) = 5.
        assert tuple(image[row, col + 5]) == WHITE_COLOR
        assert tuple(image[row, col + 7]) != WHITE_COLOR
    # Connection (0, 1) is the horizontal line y = 20 between x = 40 and 160.
    assert tuple(image[20, 100]) == BLUE
    # Connection (1, 2): its midpoint (130, 50).
    assert tuple(image[50, 130]) == BLUE
    # No connection (0, 2) was asked for.
    assert tuple(image[50, 70]) == (0, 0, 0)
    # Nothing outside the drawn shapes.
    assert not image[:10].any() and not image[90:].any()


def test_default_specs_draw_red_ring_with_white_border() -> None:
    image = _canvas()
    draw_landmarks(image, NormalizedLandmarkList.from_numpy(_three_points()[:1]))
    red = _pixels_of(image, RED_COLOR)
    white = _pixels_of(image, WHITE_COLOR)
    assert len(red) > 0 and len(white) > 0
    # Red: circle radius 2, thickness 2 around (40, 20); white ring: radius 3, thickness 2.
    assert np.abs(red - [20, 40]).max() <= 3
    assert np.abs(white - [20, 40]).max() <= 4
    colors = set(map(tuple, np.unique(image.reshape(-1, 3), axis=0).tolist()))
    assert colors == {(0, 0, 0), RED_COLOR, WHITE_COLOR}


@pytest.mark.parametrize("field", ["visibility", "presence"])
def test_landmarks_below_threshold_are_skipped_with_their_connections(field: str) -> None:
    points = _three_points()
    column = 3 if field == "visibility" else 4
    points[1, column] = 0.49
    image = _canvas()
    draw_landmarks(
        image,
        NormalizedLandmarkList.from_numpy(points),
        [(0, 1), (1, 2), (0, 2)],
        landmark_drawing_spec=DrawingSpec(color=GREEN, thickness=-1, circle_radius=4),
        connection_drawing_spec=DrawingSpec(color=BLUE, thickness=1),
    )
    assert tuple(image[20, 40]) == GREEN
    assert tuple(image[80, 100]) == GREEN
    assert not image[10:31, 150:171].any()  # landmark 1 not drawn
    assert tuple(image[20, 100]) == (0, 0, 0)  # (0, 1) not drawn
    assert tuple(image[50, 70]) == BLUE  # (0, 2) drawn


def test_threshold_is_inclusive_and_unset_fields_do_not_hide() -> None:
    points = _three_points(visibility=(0.5, 0.9, 0.9))
    landmarks = NormalizedLandmarkList.from_numpy(points)
    landmarks.landmark[1].ClearField("visibility")
    landmarks.landmark[1].ClearField("presence")
    image = _canvas()
    draw_landmarks(
        image, landmarks, landmark_drawing_spec=DrawingSpec(GREEN, thickness=-1, circle_radius=3)
    )
    assert tuple(image[20, 40]) == GREEN  # visibility exactly 0.5 is drawn
    assert tuple(image[20, 160]) == GREEN  # no visibility / presence set: drawn


def test_landmarks_outside_the_image_are_not_drawn() -> None:
    points = _three_points()
    points[2, :2] = (1.2, 0.5)
    image = _canvas()
    draw_landmarks(
        image,
        NormalizedLandmarkList.from_numpy(points),
        [(1, 2)],
        landmark_drawing_spec=DrawingSpec(GREEN, thickness=-1, circle_radius=3),
        connection_drawing_spec=DrawingSpec(BLUE, thickness=1),
    )
    assert len(_pixels_of(image, BLUE)) == 0
    assert tuple(image[20, 160]) == GREEN


def test_per_landmark_and_per_connection_spec_mappings() -> None:
    image = _canvas()
    draw_landmarks(
        image,
        NormalizedLandmarkList.from_numpy(_three_points()),
        [(0, 1), (1, 2)],
        landmark_drawing_spec={
            0: DrawingSpec(GREEN, thickness=-1, circle_radius=3),
            1: DrawingSpec(MAGENTA, thickness=-1, circle_radius=3),
            2: DrawingSpec(RED_COLOR, thickness=-1, circle_radius=3),
        },
        connection_drawing_spec={
            (0, 1): DrawingSpec(BLUE, thickness=1),
            (1, 2): DrawingSpec(MAGENTA, thickness=1),
        },
    )
    assert tuple(image[20, 40]) == GREEN
    assert tuple(image[20, 160]) == MAGENTA
    assert tuple(image[80, 100]) == RED_COLOR
    assert tuple(image[20, 100]) == BLUE
    assert tuple(image[50, 130]) == MAGENTA


def test_spec_none_and_is_drawing_landmarks_false() -> None:
    args = (NormalizedLandmarkList.from_numpy(_three_points()), [(0, 1)])
    lines_only = _canvas()
    draw_landmarks(
        lines_only, *args, connection_drawing_spec=DrawingSpec(BLUE, 1), is_drawing_landmarks=False
    )
    assert set(map(tuple, np.unique(lines_only.reshape(-1, 3), axis=0))) == {(0, 0, 0), BLUE}
    also_lines_only = _canvas()
    draw_landmarks(
        also_lines_only,
        *args,
        landmark_drawing_spec=None,
        connection_drawing_spec=DrawingSpec(BLUE, 1),
    )
    np.testing.assert_array_equal(also_lines_only, lines_only)
    points_only = _canvas()
    draw_landmarks(points_only, *args, connection_drawing_spec=None)
    assert tuple(points_only[20, 100]) == (0, 0, 0)
    assert len(_pixels_of(points_only, RED_COLOR)) > 0


def test_numpy_array_and_landmark_objects_draw_the_same() -> None:
    points = _three_points()
    from_list, from_array, from_objects = _canvas(), _canvas(), _canvas()
    draw_landmarks(from_array, points, [(0, 1), (1, 2)])
    draw_landmarks(from_list, NormalizedLandmarkList.from_numpy(points), [(0, 1), (1, 2)])
    objects = [NormalizedLandmark(x=float(p[0]), y=float(p[1]), z=0.0) for p in points]
    draw_landmarks(from_objects, objects, [(0, 1), (1, 2)])
    np.testing.assert_array_equal(from_array, from_list)
    np.testing.assert_array_equal(from_objects, from_list)


def test_non_contiguous_view_is_drawn_into() -> None:
    base = _canvas()
    view = base[:, ::-1]
    draw_landmarks(view, NormalizedLandmarkList.from_numpy(_three_points()), [(0, 1)])
    expected = _canvas()
    draw_landmarks(expected, NormalizedLandmarkList.from_numpy(_three_points()), [(0, 1)])
    np.testing.assert_array_equal(base[:, ::-1], expected)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((100, 200), dtype=np.uint8),
        np.zeros((100, 200, 4), dtype=np.uint8),
        np.zeros((100, 200, 1), dtype=np.uint8),
        np.zeros((100, 200, 3), dtype=np.float32),
        [[0, 0, 0]],
    ],
    ids=["gray", "bgra", "one_channel", "float32", "list"],
)
def test_non_bgr_images_are_rejected(image: object) -> None:
    with pytest.raises(ValueError, match="three channel bgr"):
        draw_landmarks(image, NormalizedLandmarkList.from_numpy(_three_points()))  # type: ignore[arg-type]


def test_read_only_image_is_rejected() -> None:
    image = _canvas()
    image.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        draw_landmarks(image, NormalizedLandmarkList.from_numpy(_three_points()))


def test_no_landmarks_draws_nothing() -> None:
    image = _canvas()
    draw_landmarks(image, None, POSE_CONNECTIONS)
    assert not image.any()


def test_out_of_range_connection_raises() -> None:
    with pytest.raises(ValueError, match="Invalid connection from landmark #1 to landmark #5"):
        draw_landmarks(_canvas(), NormalizedLandmarkList.from_numpy(_three_points()), [(1, 5)])


def test_default_pose_style_colors() -> None:
    style = drawing_styles.get_default_pose_landmarks_style()
    assert sorted(style) == list(range(33))
    orange, cyan = (0, 138, 255), (231, 217, 0)
    for landmark in PoseLandmark:
        spec = style[landmark]
        assert spec.thickness == 2 and spec.circle_radius == 2
        if landmark is PoseLandmark.NOSE:
            assert spec.color == (224, 224, 224)
        elif landmark.name.startswith("LEFT_") or landmark.name == "MOUTH_LEFT":
            assert spec.color == orange, landmark.name
        else:
            assert spec.color == cyan, landmark.name


def test_drawing_spec_defaults() -> None:
    assert DrawingSpec() == DrawingSpec(color=(224, 224, 224), thickness=2, circle_radius=2)
    assert drawing_utils.RED_COLOR == (0, 0, 255)


def _world_landmarks() -> LandmarkList:
    """A crude standing figure in metres (hip-centred, y down), all 33 landmarks visible."""
    rng = np.random.default_rng(3)
    xyz = rng.normal(scale=0.05, size=(33, 3))
    xyz[:, 1] += np.linspace(-0.7, 0.8, 33)
    values = np.concatenate([xyz, np.full((33, 2), 0.9)], axis=1).astype(np.float32)
    values[PoseLandmark.LEFT_HEEL, 3] = 0.1  # hidden: no point, no line to it
    return LandmarkList.from_numpy(values)


def test_plot_landmarks_writes_a_non_blank_png(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    world = _world_landmarks()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*")
        plot_landmarks(world, POSE_CONNECTIONS, elevation=20, azimuth=30)
    figure = plt.gcf()
    try:
        ax = figure.axes[0]
        assert ax.name == "3d"
        assert ax.elev == 20 and ax.azim == 30
        assert len(ax.collections) == 32  # one scatter per visible landmark
        hidden = PoseLandmark.LEFT_HEEL
        visible_connections = [c for c in POSE_CONNECTIONS if hidden not in c]
        assert len(ax.lines) == len(visible_connections)
        # MediaPipe's axes convention: (x, y, z) is plotted at (-z, x, -y).
        xyz = world.to_numpy()[:, :3].astype(np.float64)
        expected = {
            tuple(np.round([-xyz[i, 2], xyz[i, 0], -xyz[i, 1]], 5))
            for c in visible_connections
            for i in c
        }
        plotted = {
            tuple(np.round(point, 5))
            for line in ax.lines
            for point in np.array(line.get_data_3d()).T
        }
        assert plotted == expected
        path = tmp_path / "plot.png"
        figure.savefig(path)
    finally:
        plt.close(figure)
    png = cv2.imread(str(path))
    assert png is not None and png.shape[0] > 100
    assert png.std() > 5.0
    # Landmarks are red (RGB 255, 0, 0 from BGR RED_COLOR) somewhere in the picture.
    reds = (png[..., 2] > 200) & (png[..., 1] < 80) & (png[..., 0] < 80)
    assert reds.sum() > 20


def test_plot_landmarks_none_does_nothing() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_landmarks(None, POSE_CONNECTIONS)
    assert plt.get_fignums() == before
