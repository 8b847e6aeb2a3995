"""Temporal smoothing and video tracking, checked against MediaPipe 0.10.14's C++.

Sources of the facts used here (tag v0.10.14):

* ``mediapipe/util/filtering/low_pass_filter.cc`` (+ ``_test.cc``): ``y = a*x + (1-a)*y_prev``,
  the first value passes.
* ``mediapipe/util/filtering/one_euro_filter.cc``: ``alpha = 1 / (1 + tau / te)``,
  ``tau = 1 / (2 pi cutoff)``, ``te = 1 / frequency``; the rate is updated from timestamps only
  when ``last_time_ != 0 && new_timestamp != 0``; a non-increasing timestamp returns the value.
* ``mediapipe/calculators/util/landmarks_smoothing_calculator_utils.cc``: normalised landmarks
  are filtered in pixels (x * width, y * height, z * width), ``value_scale = 1 / object_scale``,
  an object scale below ``min_allowed_object_scale`` (1e-6) returns the input unchanged.
* ``mediapipe/modules/pose_landmark/pose_landmark_filtering.pbtxt``: the pose settings.
* ``mediapipe/calculators/image/segmentation_smoothing_calculator.cc``: ``blending_fn``.
* ``mediapipe/calculators/util/alignment_points_to_rects_calculator.cc``: the object-scale ROI.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from vitruvian.calculators.detection_to_roi import (
    detection_to_roi,
    landmarks_to_roi,
    object_scale,
)
from vitruvian.calculators.landmarks_smoothing import (
    AUXILIARY_LANDMARKS_FILTER,
    LANDMARKS_FILTER,
    MIN_ALLOWED_OBJECT_SCALE,
    VISIBILITY_ALPHA,
    WORLD_LANDMARKS_FILTER,
    LandmarksSmoother,
    OneEuroSettings,
    VisibilitySmoother,
)
from vitruvian.calculators.one_euro_filter import DEFAULT_FREQUENCY, LowPassFilter, OneEuroFilter
from vitruvian.calculators.segmentation_smoothing import (
    COMBINE_WITH_PREVIOUS_RATIO,
    smooth_segmentation,
)

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
VIDEO_PATH = DATA_DIR / "video" / "pose_squats.mp4"

#: 30 fps, as MediaPipe's Python solution steps its clock.
STEP_30HZ_US = 33333


# -- independent scalar references, transcribed from the C++ ---------------------------------------


def _f32(value: float) -> float:
    """Round a Python float to IEEE float32 (the C++ ``float``)."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _wrap_int64(value: int) -> int:
    """Two's-complement int64 wrap-around of the C++ subtraction."""
    return (value + 2**63) % 2**64 - 2**63


class RefLowPassFilter:
    """``mediapipe::LowPassFilter``: float state; ``SetAlpha`` ignores alphas outside [0, 1]."""

    def __init__(self, alpha: float) -> None:
        self.alpha = 0.0
        self.set_alpha(alpha)
        self.initialized = False
        self.raw = 0.0
        self.stored = 0.0

    def set_alpha(self, alpha: float) -> None:
        alpha = _f32(alpha)
        if 0.0 <= alpha <= 1.0:
            self.alpha = alpha

    def apply(self, value: float) -> float:
        value = _f32(value)
        if self.initialized:
            # float * float is a float product; (1.0 - alpha) * stored is double.
            result = _f32(_f32(self.alpha * value) + (1.0 - self.alpha) * self.stored)
        else:
            result = value
            self.initialized = True
        self.raw = value
        self.stored = result
        return result

    def apply_with_alpha(self, value: float, alpha: float) -> float:
        self.set_alpha(alpha)
        return self.apply(value)


class RefOneEuroFilter:
    """``mediapipe::OneEuroFilter`` for one scalar (timestamps in microseconds)."""

    INT64_MIN = -(2**63)

    def __init__(
        self, frequency: float, min_cutoff: float, beta: float, derivate_cutoff: float
    ) -> None:
        self.frequency = frequency
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self.x = RefLowPassFilter(self.get_alpha(min_cutoff))
        self.dx = RefLowPassFilter(self.get_alpha(derivate_cutoff))
        self.last_time = self.INT64_MIN

    def get_alpha(self, cutoff: float) -> float:
        te = 1.0 / self.frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def apply(self, timestamp_us: int, value_scale: float, value: float) -> float:
        new_timestamp = timestamp_us * 1000  # absl::ToInt64Nanoseconds
        if self.last_time >= new_timestamp:
            return value
        if self.last_time != 0 and new_timestamp != 0:
            self.frequency = 1.0 / (_wrap_int64(new_timestamp - self.last_time) * 1e-9)
        self.last_time = new_timestamp
        if self.x.initialized:
            dvalue = (value - self.x.raw) * value_scale * self.frequency
        else:
            dvalue = 0.0
        edvalue = self.dx.apply_with_alpha(dvalue, self.get_alpha(self.derivate_cutoff))
        cutoff = self.min_cutoff + self.beta * abs(edvalue)
        return self.x.apply_with_alpha(value, self.get_alpha(cutoff))


def _ref_blend(prev_mask_value: float, new_mask_value: float, ratio: float) -> float:
    """``SegmentationSmoothingCalculator::RenderCpu``'s ``blending_fn``, in float."""
    c1, c2, c3, c4, c5 = (_f32(c) for c in (5.68842, -0.748699, -57.8051, 291.309, -624.717))
    t = _f32(new_mask_value - 0.5)
    x = _f32(t * t)
    poly = _f32(c4 + _f32(x * c5))
    poly = _f32(c3 + _f32(x * poly))
    poly = _f32(c2 + _f32(x * poly))
    poly = _f32(c1 + _f32(x * poly))
    poly = _f32(x * poly)
    uncertainty = _f32(1.0 - min(1.0, poly))
    weight = _f32(uncertainty * _f32(ratio))
    return _f32(new_mask_value + _f32(_f32(prev_mask_value - new_mask_value) * weight))


def _alpha(cutoff: float, frequency: float) -> float:
    """The One-Euro smoothing factor, straight from the paper's/C++'s formula."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    te = 1.0 / frequency
    return 1.0 / (1.0 + tau / te)


# -- LowPassFilter ---------------------------------------------------------------------------------


def test_low_pass_filter_mediapipe_basic_checks() -> None:
    """``low_pass_filter_test.cc``: alpha 1 follows, alpha 0 holds, alpha 0.5 averages."""
    f = LowPassFilter(1.0)
    assert float(f.apply(2.0)) == 2.0
    assert float(f.apply(100.0)) == 100.0

    f = LowPassFilter(0.0)
    assert float(f.apply(2.0)) == 2.0
    assert float(f.apply(100.0)) == 2.0

    f = LowPassFilter(0.5)
    assert float(f.apply(2.0)) == 2.0
    assert float(f.apply(100.0)) == 51.0


def test_low_pass_filter_hand_computed_sequence() -> None:
    f = LowPassFilter(0.3)
    assert not f.initialized
    assert f.last_raw is None
    # y0 = 1; y1 = 0.3*4 + 0.7*1 = 1.9; y2 = 0.3*-2 + 0.7*1.9 = 0.73; y3 = 0.3*10 + 0.7*0.73
    expected = [1.0, 1.9, 0.73, 3.511]
    for x, y in zip([1.0, 4.0, -2.0, 10.0], expected, strict=True):
        out = f.apply(x)
        assert out.dtype == np.float32
        assert float(out) == pytest.approx(y, rel=1e-6)
        assert float(f.last_raw) == x
    assert f.initialized


def test_low_pass_filter_array_and_per_value_alpha() -> None:
    f = LowPassFilter(0.5)
    first = np.array([[0.0, 10.0], [-4.0, 2.0]], np.float32)
    np.testing.assert_array_equal(f.apply(first), first)
    second = np.array([[2.0, 0.0], [4.0, 2.0]], np.float32)
    # Default alpha 0.5: the element-wise mean.
    np.testing.assert_allclose(f.apply(second), (first + second) / 2, rtol=1e-7)
    # Per-value alpha overrides the constructor's.
    alpha = np.array([[1.0, 0.0], [0.25, 0.75]], np.float32)
    prev = (first + second) / 2
    third = np.array([[8.0, 8.0], [8.0, 8.0]], np.float32)
    expected = alpha * third + (1 - alpha) * prev
    np.testing.assert_allclose(f.apply(third, alpha), expected, rtol=1e-6)
    np.testing.assert_array_equal(f.last_raw, third)


def test_low_pass_filter_reset() -> None:
    f = LowPassFilter(0.1)
    f.apply(0.0)
    assert float(f.apply(10.0)) == pytest.approx(1.0, rel=1e-6)
    f.reset()
    assert not f.initialized
    assert f.last_raw is None
    assert float(f.apply(10.0)) == 10.0  # passes again
    assert float(f.apply(0.0)) == pytest.approx(9.0, rel=1e-6)


def test_low_pass_filter_returns_copies() -> None:
    f = LowPassFilter(0.5)
    x = np.array([1.0, 2.0], np.float32)
    out = f.apply(x)
    out[:] = 99.0
    x[:] = -1.0
    np.testing.assert_allclose(f.apply(np.array([3.0, 4.0], np.float32)), [2.0, 3.0])


# -- OneEuroFilter ---------------------------------------------------------------------------------


def _hand_sequence(frequency: float) -> list[float]:
    """min_cutoff 1, beta 0.5, derivate_cutoff 1, value_scale 1, values 1, 1.5, 1.2, 2.0,
    written out step by step from the formulas."""
    min_cutoff, beta, dcutoff = 1.0, 0.5, 1.0
    # Sample 0: passes; the derivative filter starts at 0.
    y0 = 1.0
    edx0 = 0.0
    # Sample 1.
    dvalue1 = (1.5 - 1.0) * frequency
    a_d = _alpha(dcutoff, frequency)
    edx1 = a_d * dvalue1 + (1 - a_d) * edx0
    a1 = _alpha(min_cutoff + beta * abs(edx1), frequency)
    y1 = a1 * 1.5 + (1 - a1) * y0
    # Sample 2.
    dvalue2 = (1.2 - 1.5) * frequency
    edx2 = a_d * dvalue2 + (1 - a_d) * edx1
    a2 = _alpha(min_cutoff + beta * abs(edx2), frequency)
    y2 = a2 * 1.2 + (1 - a2) * y1
    # Sample 3.
    dvalue3 = (2.0 - 1.2) * frequency
    edx3 = a_d * dvalue3 + (1 - a_d) * edx2
    a3 = _alpha(min_cutoff + beta * abs(edx3), frequency)
    y3 = a3 * 2.0 + (1 - a3) * y2
    return [y0, y1, y2, y3]


def test_one_euro_hand_computed_at_30hz() -> None:
    expected = _hand_sequence(1e6 / STEP_30HZ_US)
    # The same numbers, evaluated once in double precision, as a check of the step-by-step code.
    np.testing.assert_allclose(
        expected, [1.0, 1.162493077872658, 1.1704934411727315, 1.5108105925677129], rtol=1e-12
    )
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5, derivate_cutoff=1.0)
    t0 = 1_000_000
    got = [float(f.apply(x, t0 + i * STEP_30HZ_US)) for i, x in enumerate([1.0, 1.5, 1.2, 2.0])]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert f.frequency == pytest.approx(1e6 / STEP_30HZ_US)


def test_one_euro_hand_computed_array_input() -> None:
    """An array is filtered element by element, each like its own scalar filter."""
    seqs = {
        (0, 0): [1.0, 1.5, 1.2, 2.0],
        (0, 1): [-3.0, -3.0, -3.0, -3.0],
        (1, 0): [10.0, 12.0, 9.0, 30.0],
        (1, 1): [0.0, -1.0, 1.0, 0.0],
    }
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5, derivate_cutoff=1.0)
    outs = []
    for i in range(4):
        value = np.empty((2, 2), np.float32)
        for idx, seq in seqs.items():
            value[idx] = seq[i]
        out = f.apply(value, 1_000_000 + i * STEP_30HZ_US)
        assert out.shape == (2, 2)
        assert out.dtype == np.float32
        outs.append(out)
    np.testing.assert_allclose(
        [o[0, 0] for o in outs], _hand_sequence(1e6 / STEP_30HZ_US), rtol=1e-6
    )
    for idx, seq in seqs.items():
        ref = RefOneEuroFilter(30.0, 1.0, 0.5, 1.0)
        expected = [ref.apply(1_000_000 + i * STEP_30HZ_US, 1.0, x) for i, x in enumerate(seq)]
        np.testing.assert_allclose([o[idx] for o in outs], expected, rtol=1e-6, atol=1e-7)
    # A constant element stays exactly constant.
    assert all(float(o[0, 1]) == -3.0 for o in outs)


def test_one_euro_value_scale_multiplies_the_derivative() -> None:
    """value_scale 2 on values v is the derivative of 2v: same cutoff as beta doubled."""
    values = [0.0, 3.0, 1.0, 4.0]
    a = OneEuroFilter(0.5, 0.2, 1.0)
    b = OneEuroFilter(0.5, 0.4, 1.0)
    for i, v in enumerate(values):
        t = 1000 + i * STEP_30HZ_US
        np.testing.assert_allclose(a.apply(v, t, value_scale=2.0), b.apply(v, t), rtol=1e-6)


def test_one_euro_frequency_comes_from_timestamps() -> None:
    values = [1.0, 1.5, 1.2, 2.0]
    f100 = OneEuroFilter(min_cutoff=1.0, beta=0.5, derivate_cutoff=1.0)
    f30 = OneEuroFilter(min_cutoff=1.0, beta=0.5, derivate_cutoff=1.0)
    got100 = [float(f100.apply(x, 500_000 + i * 10_000)) for i, x in enumerate(values)]
    got30 = [float(f30.apply(x, 500_000 + i * STEP_30HZ_US)) for i, x in enumerate(values)]
    assert f100.frequency == pytest.approx(100.0)
    np.testing.assert_allclose(got100, _hand_sequence(100.0), rtol=1e-6)
    np.testing.assert_allclose(
        got100, [1.0, 1.0673592428852248, 1.078810077037493, 1.2578192853949324], rtol=1e-6
    )
    # A faster rate means smaller steps per sample: more smoothing of the same jumps.
    assert got100[1] < got30[1] - 0.05
    # An irregular clock: the rate follows each interval.
    f = OneEuroFilter(1.0, 0.5, 1.0)
    f.apply(0.0, 1_000)
    f.apply(1.0, 21_000)
    assert f.frequency == pytest.approx(50.0)
    f.apply(2.0, 26_000)
    assert f.frequency == pytest.approx(200.0)


def test_one_euro_matches_scalar_reference_on_random_sequences() -> None:
    rng = np.random.default_rng(1234)
    for trial in range(20):
        min_cutoff = float(rng.uniform(0.01, 2.0))
        beta = float(rng.choice([0.0, rng.uniform(0.0, 100.0)]))
        dcutoff = float(rng.uniform(0.1, 3.0))
        n, shape = 25, (4, 3)
        steps = rng.integers(5_000, 200_000, size=n)
        timestamps = np.cumsum(steps) + (0 if trial % 3 == 0 else rng.integers(1, 10**7))
        walk = np.cumsum(rng.normal(0.0, rng.uniform(0.1, 20.0), size=(n, *shape)), axis=0)
        values = (walk + rng.uniform(-500, 500, size=shape)).astype(np.float32)
        scales = rng.uniform(0.002, 2.0, size=n)

        f = OneEuroFilter(min_cutoff, beta, dcutoff)
        refs = [RefOneEuroFilter(30.0, min_cutoff, beta, dcutoff) for _ in range(values[0].size)]
        for i in range(n):
            got = f.apply(values[i], int(timestamps[i]), value_scale=float(scales[i]))
            expected = [
                r.apply(int(timestamps[i]), float(scales[i]), float(v))
                for r, v in zip(refs, values[i].ravel(), strict=True)
            ]
            np.testing.assert_allclose(
                got.ravel(),
                expected,
                rtol=1e-5,
                atol=1e-5,
                err_msg=f"trial {trial}, sample {i}",
            )


def test_one_euro_non_increasing_timestamp_returns_input_and_keeps_state() -> None:
    f = OneEuroFilter(1.0, 0.5, 1.0)
    clean = OneEuroFilter(1.0, 0.5, 1.0)
    for t, v in [(1_000, 1.0), (2_000, 2.0)]:
        f.apply(v, t)
        clean.apply(v, t)
    frequency = f.frequency
    # Equal and decreasing timestamps: the value comes back untouched.
    assert float(f.apply(7.25, 2_000)) == 7.25
    assert float(f.apply(-3.5, 1_500)) == -3.5
    x = np.array([0.125, 9.0], np.float32)
    np.testing.assert_array_equal(f.apply(x, 0), x)
    assert f.frequency == frequency
    # ... and the filter continues as if those calls had not happened.
    assert float(f.apply(3.0, 3_000)) == float(clean.apply(3.0, 3_000))


def test_one_euro_timestamp_zero_is_not_used_for_the_rate() -> None:
    """C++: ``if (last_time_ != 0 && new_timestamp != 0)`` update the frequency."""
    values = [1.0, 1.5, 1.2, 2.0]
    f = OneEuroFilter(1.0, 0.5, 1.0)
    ref = RefOneEuroFilter(30.0, 1.0, 0.5, 1.0)
    timestamps = [0, 10_000, 20_000, 30_000]
    got = []
    for t, v in zip(timestamps, values, strict=True):
        got.append(float(f.apply(v, t)))
        if t == 10_000:
            # The interval from 0 is ignored: still the initial 30 Hz.
            assert f.frequency == DEFAULT_FREQUENCY
    assert f.frequency == pytest.approx(100.0)
    expected = [ref.apply(t, 1.0, v) for t, v in zip(timestamps, values, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # Sample 1 ran at 30 Hz, sample 2 at 100 Hz.
    assert got[1] == pytest.approx(_hand_sequence(30.0)[1], rel=1e-6)
    assert got[1] != pytest.approx(_hand_sequence(100.0)[1], rel=1e-3)
    # A custom initial frequency is what a 0-based clock gets for its second sample.
    g = OneEuroFilter(1.0, 0.5, 1.0, frequency=100.0)
    g.apply(1.0, 0)
    assert float(g.apply(1.5, 50_000)) == pytest.approx(_hand_sequence(100.0)[1], rel=1e-6)


def test_one_euro_constant_input_stays_constant() -> None:
    f = OneEuroFilter(0.05, 80.0, 1.0)
    x = np.array([0.0, 1.0, -123.456, 1e4], np.float32)
    for i in range(50):
        np.testing.assert_array_equal(f.apply(x, 1 + i * STEP_30HZ_US, value_scale=0.01), x)


def _step_response(beta: float) -> np.ndarray:
    f = OneEuroFilter(min_cutoff=1.0, beta=beta, derivate_cutoff=1.0)
    values = [0.0] * 5 + [1.0] * 15
    return np.array([float(f.apply(v, 1_000 + i * STEP_30HZ_US)) for i, v in enumerate(values)])[5:]


def test_one_euro_step_converges_faster_with_higher_beta() -> None:
    slow, fast = _step_response(0.0), _step_response(1.0)
    for out in (slow, fast):
        assert np.all(out > 0.0)
        assert np.all(out < 1.0 + 1e-6)
        assert np.all(np.diff(out) >= -1e-7)  # approaches monotonically
    # beta 0 is a plain exponential filter with alpha(min_cutoff) at 30 Hz.
    a = _alpha(1.0, 1e6 / STEP_30HZ_US)
    np.testing.assert_allclose(slow, 1 - (1 - a) ** np.arange(1, 16), rtol=1e-5)
    assert np.all(fast > slow)
    assert fast[-1] > 0.99
    assert slow[-1] < 0.96


def test_one_euro_reset() -> None:
    f = OneEuroFilter(1.0, 0.5, 1.0, frequency=30.0)
    for i, v in enumerate([5.0, 6.0, 7.0]):
        f.apply(v, 1_000_000 + i * 10_000)
    assert f.frequency == pytest.approx(100.0)
    f.reset()
    assert f.frequency == 30.0
    # Time may restart, the first value passes, and the rest is a fresh filter's.
    fresh = OneEuroFilter(1.0, 0.5, 1.0, frequency=30.0)
    for i, v in enumerate([1.0, 1.5, 1.2, 2.0]):
        t = 10 + i * STEP_30HZ_US
        assert float(f.apply(v, t)) == float(fresh.apply(v, t))
    assert float(fresh.apply(2.0, 10 + 4 * STEP_30HZ_US)) != 2.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_cutoff": 0.0, "beta": 0.0, "derivate_cutoff": 1.0},
        {"min_cutoff": 1.0, "beta": 0.0, "derivate_cutoff": 0.0},
        {"min_cutoff": 1.0, "beta": 0.0, "derivate_cutoff": 1.0, "frequency": 0.0},
    ],
)
def test_one_euro_rejects_non_positive_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        OneEuroFilter(**kwargs)


# -- LandmarksSmoother / VisibilitySmoother --------------------------------------------------------


def test_pose_filter_settings_match_pose_landmark_filtering_pbtxt() -> None:
    assert LANDMARKS_FILTER == OneEuroSettings(0.05, 80.0, 1.0, disable_value_scaling=False)
    assert WORLD_LANDMARKS_FILTER == OneEuroSettings(0.1, 40.0, 1.0, disable_value_scaling=True)
    assert AUXILIARY_LANDMARKS_FILTER == OneEuroSettings(
        0.01, 10.0, 1.0, disable_value_scaling=False
    )
    assert VISIBILITY_ALPHA == 0.1
    # landmarks_smoothing_calculator.proto defaults.
    assert MIN_ALLOWED_OBJECT_SCALE == 1e-6
    assert DEFAULT_FREQUENCY == 30.0
    # pose_segmentation_filtering.pbtxt.
    assert COMBINE_WITH_PREVIOUS_RATIO == 0.7


def _pixel_track(n: int = 6) -> np.ndarray:
    """(n, 3, 3) landmark positions in pixels (x, y, z) moving over n frames."""
    rng = np.random.default_rng(7)
    start = rng.uniform(50.0, 300.0, size=(3, 3))
    motion = rng.normal(0.0, 8.0, size=(n, 3, 3))
    motion[0] = 0.0
    return start + np.cumsum(motion, axis=0)


def test_landmarks_filtered_in_pixels_independent_of_image_size() -> None:
    track = _pixel_track()
    outs = {}
    for size in [(640, 480), (1280, 720)]:
        w, h = size
        scale = np.array([w, h, w], np.float32)
        s = LandmarksSmoother(LANDMARKS_FILTER)
        outs[size] = [
            s.apply(px / scale, 1_000 + i * STEP_30HZ_US, object_scale=150.0, image_size=size)
            * scale
            for i, px in enumerate(track)
        ]
    for a, b in zip(outs[(640, 480)], outs[(1280, 720)], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)
    # It did smooth (the moving landmarks lag behind the input).
    assert not np.allclose(outs[(640, 480)][-1], track[-1], atol=0.5)


def test_landmarks_smoother_matches_reference_in_pixels() -> None:
    """x * width, y * height, z * width; value_scale 1 / object_scale; back to normalised."""
    w, h = 720, 1280
    track = _pixel_track(8)
    scale = np.array([w, h, w], np.float32)
    norm = (track / scale).astype(np.float32)
    obj_scales = [300.0, 310.0, 290.0, 305.0, 320.0, 300.0, 280.0, 295.0]
    s = LandmarksSmoother(LANDMARKS_FILTER)
    refs = [RefOneEuroFilter(30.0, 0.05, 80.0, 1.0) for _ in range(norm[0].size)]
    for i in range(len(norm)):
        t = 5_000 + i * 200_000
        got = s.apply(norm[i], t, object_scale=obj_scales[i], image_size=(w, h))
        assert got.shape == (3, 3)
        assert got.dtype == np.float32
        pixels = (norm[i] * scale).ravel()
        expected = [
            r.apply(t, 1.0 / obj_scales[i], float(p)) / float(c)
            for r, p, c in zip(refs, pixels, np.tile(scale, 3), strict=True)
        ]
        np.testing.assert_allclose(got.ravel(), expected, rtol=1e-5, atol=1e-7)


def test_landmarks_z_is_scaled_by_width_not_height() -> None:
    """Same normalised sequence in x, y and z on a 200x100 image: z behaves like x, not y."""
    seq = [0.5, 0.52, 0.55, 0.51, 0.6]
    s = LandmarksSmoother(LANDMARKS_FILTER)
    for i, v in enumerate(seq):
        out = s.apply(np.full((1, 3), v, np.float32), 1 + i * STEP_30HZ_US, 100.0, (200, 100))
    assert out[0, 2] == pytest.approx(out[0, 0], rel=1e-6)
    assert abs(out[0, 1] - out[0, 0]) > 1e-4


def test_larger_object_scale_smooths_more() -> None:
    track = _pixel_track()
    size = (640, 480)
    scale = np.array([640, 480, 640], np.float32)
    results = {}
    for obj in (50.0, 500.0):
        s = LandmarksSmoother(LANDMARKS_FILTER)
        for i, px in enumerate(track):
            out = s.apply(px / scale, 1 + i * STEP_30HZ_US, object_scale=obj, image_size=size)
        results[obj] = np.abs(out * scale - track[-1])
    # The same pixel motion is slower relative to a bigger person: lower cutoff, more lag.
    assert np.all(results[500.0] > results[50.0])


def test_landmark_smoothing_is_scale_invariant() -> None:
    """Doubling both the motion (in pixels) and the object scale doubles the output exactly:
    value_scale = 1 / object_scale makes the cutoff depend on relative motion only."""
    track = _pixel_track()
    a = LandmarksSmoother(LANDMARKS_FILTER)
    b = LandmarksSmoother(LANDMARKS_FILTER)
    for i, px in enumerate(track):
        t = 1 + i * STEP_30HZ_US
        out_a = a.apply(px, t, object_scale=100.0)
        out_b = b.apply(2.0 * px, t, object_scale=200.0)
        np.testing.assert_allclose(out_b, 2.0 * out_a, rtol=1e-5)


def test_tiny_object_scale_returns_input_unchanged() -> None:
    s = LandmarksSmoother(LANDMARKS_FILTER)
    clean = LandmarksSmoother(LANDMARKS_FILTER)
    first = np.array([[0.5, 0.5, 0.0]], np.float32)
    second = np.array([[0.6, 0.4, 0.1]], np.float32)
    for f in (s, clean):
        f.apply(first, 1_000, object_scale=100.0, image_size=(640, 480))
    for tiny in (0.0, 1e-7, 9.9e-7):
        out = s.apply(second, 2_000, object_scale=tiny, image_size=(640, 480))
        np.testing.assert_array_equal(out, second)
    # The skipped frames left the filter untouched (no state update, no timestamp consumed).
    np.testing.assert_array_equal(
        s.apply(second, 2_000, object_scale=100.0, image_size=(640, 480)),
        clean.apply(second, 2_000, object_scale=100.0, image_size=(640, 480)),
    )
    # At the threshold itself smoothing is on (C++: ``object_scale < min_allowed``).
    t = LandmarksSmoother(LANDMARKS_FILTER)
    t.apply(first, 1_000, object_scale=1.0)
    out = t.apply(second, 2_000, object_scale=MIN_ALLOWED_OBJECT_SCALE)
    assert not np.array_equal(out, second)


def test_object_scale_required_when_value_scaling_is_on() -> None:
    s = LandmarksSmoother(LANDMARKS_FILTER)
    with pytest.raises(ValueError, match="object_scale"):
        s.apply(np.zeros((2, 3), np.float32), 1_000)


def test_world_landmarks_need_no_object_scale() -> None:
    rng = np.random.default_rng(3)
    world = np.cumsum(rng.normal(0.0, 0.05, size=(6, 4, 3)), axis=0).astype(np.float32)
    s = LandmarksSmoother(WORLD_LANDMARKS_FILTER)
    ignored = LandmarksSmoother(WORLD_LANDMARKS_FILTER)
    f = OneEuroFilter(0.1, 40.0, 1.0)
    for i, xyz in enumerate(world):
        t = 7 + i * STEP_30HZ_US
        out = s.apply(xyz, t)
        np.testing.assert_allclose(out, f.apply(xyz, t, value_scale=1.0), rtol=1e-6)
        # An object scale is ignored when value scaling is disabled, even a tiny one.
        np.testing.assert_array_equal(ignored.apply(xyz, t, object_scale=1e-9), out)
    assert not np.allclose(out, world[-1], atol=1e-4)


def test_landmarks_smoother_reset_and_input_untouched() -> None:
    s = LandmarksSmoother(AUXILIARY_LANDMARKS_FILTER)
    a = np.array([[0.2, 0.3, 0.0], [0.4, 0.5, 0.1]], np.float32)
    b = np.array([[0.3, 0.2, 0.05], [0.5, 0.4, 0.0]], np.float32)
    a_copy, b_copy = a.copy(), b.copy()
    np.testing.assert_allclose(s.apply(a, 100, 200.0, (640, 480)), a, rtol=1e-6)
    assert not np.allclose(s.apply(b, 200_100, 200.0, (640, 480)), b, atol=1e-4)
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)
    s.reset()
    # After reset time may restart and the first value passes.
    np.testing.assert_allclose(s.apply(b, 1, 200.0, (640, 480)), b, rtol=1e-6)


def test_visibility_smoother_low_pass_0_1() -> None:
    v = VisibilitySmoother()
    # 0.2 -> 0.2; 0.1*0.9 + 0.9*0.2 = 0.27; 0.1*0.5 + 0.9*0.27 = 0.293.
    np.testing.assert_allclose(v.apply(np.array([0.2, 1.0], np.float32)), [0.2, 1.0], rtol=1e-6)
    np.testing.assert_allclose(v.apply(np.array([0.9, 0.0], np.float32)), [0.27, 0.9], rtol=1e-6)
    np.testing.assert_allclose(v.apply(np.array([0.5, 0.0], np.float32)), [0.293, 0.81], rtol=1e-6)
    v.reset()
    np.testing.assert_allclose(v.apply(np.array([0.5, 0.5], np.float32)), [0.5, 0.5])
    custom = VisibilitySmoother(alpha=0.5)
    custom.apply(np.array([0.0], np.float32))
    np.testing.assert_allclose(custom.apply(np.array([1.0], np.float32)), [0.5])


# -- smooth_segmentation ---------------------------------------------------------------------------


def test_segmentation_confident_pixels_follow_the_new_mask() -> None:
    current = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32)
    previous = np.array([[1.0, 0.0, 0.0, 1.0]], np.float32)
    out = smooth_segmentation(current, previous)
    # The C++ polynomial gives 0.99996 (not 1) at p = 0 and 1, so a confident pixel moves by
    # 0.7 * 4.3e-5 = 3.0e-5 towards the previous value: almost, not exactly, the new value.
    np.testing.assert_allclose(out, current, atol=3.1e-5)
    expected = [_ref_blend(p, c, 0.7) for p, c in zip(previous[0], current[0], strict=True)]
    np.testing.assert_allclose(out[0], expected, rtol=0, atol=1e-7)
    # Where the previous value is the same, nothing moves.
    assert out[0, 2] == 0.0
    assert out[0, 3] == 1.0


def test_segmentation_unsure_pixel_moves_by_the_full_ratio() -> None:
    current = np.full((2, 2), 0.5, np.float32)
    previous = np.array([[1.0, 0.0], [0.5, 0.8]], np.float32)
    out = smooth_segmentation(current, previous)
    np.testing.assert_allclose(out, 0.5 + (previous - 0.5) * 0.7, rtol=1e-6)
    np.testing.assert_allclose(out, [[0.85, 0.15], [0.5, 0.71]], rtol=1e-6)
    # Custom ratio.
    np.testing.assert_allclose(
        smooth_segmentation(current, previous, ratio=0.25), 0.5 + (previous - 0.5) * 0.25
    )


def test_segmentation_matches_cpp_blending_fn_on_random_masks() -> None:
    rng = np.random.default_rng(42)
    for ratio in (0.7, 0.3, 1.0):
        current = rng.random((13, 17), dtype=np.float32)
        current[0, :4] = [0.0, 1.0, 0.5, 0.25]
        previous = rng.random((13, 17), dtype=np.float32)
        out = smooth_segmentation(current, previous, ratio)
        assert out.shape == current.shape
        assert out.dtype == np.float32
        expected = np.array(
            [
                [_ref_blend(float(p), float(c), ratio) for p, c in zip(prow, crow, strict=True)]
                for prow, crow in zip(previous, current, strict=True)
            ]
        )
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)
        # Always between the new and the previous value.
        lo, hi = np.minimum(current, previous), np.maximum(current, previous)
        assert np.all(out >= lo - 1e-7)
        assert np.all(out <= hi + 1e-7)


def test_segmentation_mediapipe_calculator_test_case() -> None:
    """``segmentation_smoothing_calculator_test.cc``: a 0.98 block against its 3x3 blur."""
    mask = np.zeros((4, 4), np.float32)
    mask[1:3, 1:3] = 0.98
    previous = cv2.blur(mask, (3, 3))
    # Ratio 0: the output is the current mask.
    np.testing.assert_array_equal(smooth_segmentation(mask, previous, ratio=0.0), mask)
    # Ratio 1: confident (0.98) pixels change, but by less than 3/255.
    out = smooth_segmentation(mask, previous, ratio=1.0)
    assert np.all(out[mask > 0] != mask[mask > 0])
    np.testing.assert_allclose(out, mask, atol=3.0 / 255.0)


def test_segmentation_shape_mismatch_raises_and_inputs_untouched() -> None:
    with pytest.raises(ValueError, match="shape"):
        smooth_segmentation(np.zeros((4, 5), np.float32), np.zeros((5, 4), np.float32))
    current = np.full((3, 3), 0.4, np.float32)
    previous = np.full((3, 3), 0.9, np.float32)
    smooth_segmentation(current, previous)
    assert np.all(current == np.float32(0.4))
    assert np.all(previous == np.float32(0.9))


# -- landmarks_to_roi / object_scale ---------------------------------------------------------------


def test_landmarks_to_roi_equals_detection_roi_on_non_square_image() -> None:
    w, h = 640, 360
    hips = (0.45, 0.6)
    circle = (0.45 + 30 / w, 0.6 - 40 / h)  # 30 px right, 40 px up: 50 px away
    aux = np.array([[*hips, -0.3, 0.9, 0.8], [*circle, 0.2, 0.1, 0.7]], np.float32)
    keypoints = np.array([hips, circle, (0.1, 0.1), (0.9, 0.9)], np.float32)
    roi = landmarks_to_roi(aux, w, h)
    det_roi = detection_to_roi(keypoints, w, h)
    for name in ("x_center", "y_center", "width", "height", "rotation"):
        assert getattr(roi, name) == pytest.approx(getattr(det_roi, name), abs=1e-9), name
    # By hand: centred on the hips, a square of 2 * 50 px * 1.25 = 125 px in pixels, rotated
    # so that the hips -> circle vector points up: 90 deg - atan2(40, 30).
    assert roi.x_center == pytest.approx(hips[0], abs=1e-6)
    assert roi.y_center == pytest.approx(hips[1], abs=1e-6)
    assert roi.width * w == pytest.approx(125.0, rel=1e-5)
    assert roi.height * h == pytest.approx(125.0, rel=1e-5)
    assert roi.rotation == pytest.approx(math.pi / 2 - math.atan2(40.0, 30.0), abs=1e-6)


def test_object_scale_is_twice_the_pixel_distance() -> None:
    w, h = 640, 360
    aux = np.array(
        [[0.5, 0.5, 0.0, 1.0, 1.0], [0.5 + 30 / w, 0.5 - 40 / h, 5.0, 0.0, 0.0]], np.float32
    )
    assert object_scale(aux, w, h) == pytest.approx(100.0, rel=1e-5)
    # Distances are taken in pixels: the same normalised offset differs on each axis.
    horizontal = np.array([[0.5, 0.5, 0, 1, 1], [0.6, 0.5, 0, 1, 1]], np.float32)
    vertical = np.array([[0.5, 0.5, 0, 1, 1], [0.5, 0.6, 0, 1, 1]], np.float32)
    assert object_scale(horizontal, w, h) == pytest.approx(2 * 64.0, rel=1e-5)
    assert object_scale(vertical, w, h) == pytest.approx(2 * 36.0, rel=1e-5)
    # It is the unscaled alignment rect's size, not the 1.25x ROI's.
    roi = landmarks_to_roi(aux, w, h)
    assert roi.width * w == pytest.approx(1.25 * object_scale(aux, w, h), rel=1e-5)


# -- PoseTracker on real frames --------------------------------------------------------------------


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """The first frames of the squats clip, RGB."""
    if not VIDEO_PATH.is_file():
        pytest.skip(f"test video not found: {VIDEO_PATH.resolve()} (expected ../shared/data)")
    capture = cv2.VideoCapture(str(VIDEO_PATH))
    out = []
    try:
        while len(out) < 6:
            ok, bgr = capture.read()
            if not ok:
                break
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    assert len(out) == 6, f"cannot read 6 frames from {VIDEO_PATH}"
    return out


@pytest.fixture
def make_tracker():
    from vitruvian.tracking import PoseTracker

    made = []

    def factory(**kwargs):
        tracker = PoseTracker(**kwargs)
        made.append(tracker)
        return tracker

    yield factory
    for tracker in made:
        tracker.close()


def _assert_results_close(a, b, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(a.landmarks, b.landmarks, rtol=0, atol=atol)
    np.testing.assert_allclose(a.world_landmarks, b.world_landmarks, rtol=0, atol=atol)
    np.testing.assert_allclose(a.auxiliary_landmarks, b.auxiliary_landmarks, rtol=0, atol=atol)
    for name in ("x_center", "y_center", "width", "height", "rotation"):
        assert getattr(a.roi, name) == pytest.approx(getattr(b.roi, name), abs=atol), name


def test_tracker_resets_filters_when_pose_is_lost(frames, make_tracker) -> None:
    tracker = make_tracker()
    for frame in frames[:3]:
        assert tracker.process(frame) is not None
    assert tracker.stats.detector_runs == 1  # frames 2 and 3 were tracked
    assert tracker.stats.tracked_frames == 2

    black = np.zeros_like(frames[0])
    detector_runs = tracker.stats.detector_runs
    assert tracker.process(black) is None
    assert tracker.stats.detector_runs == detector_runs + 1  # tracking lost, detector tried

    result = tracker.process(frames[3])
    assert result is not None
    assert result.detection is not None  # re-detected, not tracked

    fresh = make_tracker()
    alone = fresh.process(frames[3])
    assert alone is not None
    _assert_results_close(result, alone)
    # A first frame after a reset passes the filters unchanged: the raw pipeline result.
    raw = tracker.pipeline.process(frames[3])
    assert raw is not None
    _assert_results_close(result, raw)

    # And smoothing restarts from there: the next frames match the fresh tracker's too.
    for frame in frames[4:6]:
        _assert_results_close(tracker.process(frame), fresh.process(frame))


def test_tracker_without_landmark_smoothing_returns_raw_landmarks(frames, make_tracker) -> None:
    tracker = make_tracker(smooth_landmarks=False)
    aux_differs = False
    for i, frame in enumerate(frames[:4]):
        result = tracker.process(frame)
        assert result is not None
        raw = tracker.pipeline.landmarks_from_roi(frame, result.roi)
        assert raw is not None
        np.testing.assert_array_equal(result.landmarks, raw.landmarks)
        np.testing.assert_array_equal(result.world_landmarks, raw.world_landmarks)
        if i == 0:
            # The first sample passes the (always-on) auxiliary filter.
            np.testing.assert_allclose(
                result.auxiliary_landmarks, raw.auxiliary_landmarks, atol=1e-6
            )
        else:
            aux_differs |= not np.allclose(
                result.auxiliary_landmarks[:, :3], raw.auxiliary_landmarks[:, :3], atol=1e-6
            )
    # The auxiliary landmarks (the next ROI) are still smoothed.
    assert aux_differs


def test_tracker_smooths_landmarks_by_default(frames, make_tracker) -> None:
    tracker = make_tracker()
    first = tracker.process(frames[0])
    raw_first = tracker.pipeline.landmarks_from_roi(frames[0], first.roi)
    np.testing.assert_allclose(first.landmarks, raw_first.landmarks, atol=1e-6)
    differs = False
    for frame in frames[1:4]:
        result = tracker.process(frame)
        raw = tracker.pipeline.landmarks_from_roi(frame, result.roi)
        differs |= not np.allclose(result.landmarks[:, :3], raw.landmarks[:, :3], atol=1e-6)
        # Visibility smoothed with the low-pass too; world visibility copies it.
        np.testing.assert_array_equal(result.world_landmarks[:, 3], result.landmarks[:, 3])
    assert differs


def test_tracker_default_clock_is_30_fps(frames, make_tracker) -> None:
    implicit = make_tracker()
    explicit = make_tracker()
    real_rate = make_tracker()
    for i, frame in enumerate(frames[:3]):
        a = implicit.process(frame)
        b = explicit.process(frame, (i + 1) * STEP_30HZ_US)
        c = real_rate.process(frame, i * 200_000)  # the clip's 5 fps
        _assert_results_close(a, b, atol=0)
    # The timestamps drive the filters: at 5 fps the same frames are smoothed differently.
    assert not np.allclose(a.landmarks[:, :3], c.landmarks[:, :3], atol=1e-6)


def test_tracker_timestamps_must_increase(frames, make_tracker) -> None:
    tracker = make_tracker()
    assert tracker.process(frames[0], 100_000) is not None
    with pytest.raises(ValueError, match="not after"):
        tracker.process(frames[1], 100_000)
    with pytest.raises(ValueError, match="not after"):
        tracker.process(frames[1], 50_000)
    # A rejected frame changes nothing: the stream goes on.
    assert tracker.stats.frames == 1
    assert tracker.process(frames[1], 133_333) is not None

    with pytest.raises(ValueError, match=">= 0"):
        make_tracker().process(frames[0], -1)

    # reset() starts a new stream: time may restart, and the filters are fresh.
    tracker.reset()
    restarted = tracker.process(frames[2], 10)
    alone = make_tracker().process(frames[2], 10)
    _assert_results_close(restarted, alone)


def test_tracker_smooths_segmentation_with_previous_mask(frames, make_tracker) -> None:
    tracker = make_tracker(enable_segmentation=True)
    first = tracker.process(frames[0])
    raw_first = tracker.pipeline.landmarks_from_roi(frames[0], first.roi)
    np.testing.assert_array_equal(first.segmentation_mask, raw_first.segmentation_mask)
    second = tracker.process(frames[1])
    raw_second = tracker.pipeline.landmarks_from_roi(frames[1], second.roi)
    np.testing.assert_allclose(
        second.segmentation_mask,
        smooth_segmentation(raw_second.segmentation_mask, first.segmentation_mask),
        atol=1e-7,
    )
    # Not smoothed when asked not to.
    plain = make_tracker(enable_segmentation=True, smooth_segmentation=False)
    plain.process(frames[0])
    unsmoothed = plain.process(frames[1])
    raw = plain.pipeline.landmarks_from_roi(frames[1], unsmoothed.roi)
    np.testing.assert_array_equal(unsmoothed.segmentation_mask, raw.segmentation_mask)


def test_tracker_composes_the_pose_filtering_graph(frames, make_tracker) -> None:
    """Each tracked output is PoseLandmarkFiltering applied to the raw landmarks: visibility
    low-pass, One-Euro on pixels scaled by the raw auxiliary landmarks' object scale, world
    One-Euro without scaling, auxiliary One-Euro; the next ROI comes from the smoothed auxiliary
    landmarks."""
    tracker = make_tracker()
    landmarks = LandmarksSmoother(LANDMARKS_FILTER)
    world = LandmarksSmoother(WORLD_LANDMARKS_FILTER)
    auxiliary = LandmarksSmoother(AUXILIARY_LANDMARKS_FILTER)
    visibility = VisibilitySmoother()
    previous = None
    for i, frame in enumerate(frames[:4]):
        h, w = frame.shape[:2]
        t = (i + 1) * STEP_30HZ_US
        result = tracker.process(frame)
        assert result is not None
        if previous is not None:
            expected_roi = landmarks_to_roi(previous.auxiliary_landmarks, w, h)
            for name in ("x_center", "y_center", "width", "height", "rotation"):
                assert getattr(result.roi, name) == pytest.approx(
                    getattr(expected_roi, name), abs=1e-7
                ), name
        raw = tracker.pipeline.landmarks_from_roi(frame, result.roi)
        scale = object_scale(raw.auxiliary_landmarks, w, h)
        vis = visibility.apply(raw.landmarks[:, 3])
        np.testing.assert_allclose(result.landmarks[:, 3], vis, atol=1e-7)
        np.testing.assert_allclose(
            result.landmarks[:, :3],
            landmarks.apply(raw.landmarks[:, :3], t, scale, (w, h)),
            rtol=0,
            atol=1e-6,
        )
        np.testing.assert_allclose(
            result.world_landmarks[:, :3], world.apply(raw.world_landmarks[:, :3], t), atol=1e-6
        )
        np.testing.assert_allclose(
            result.auxiliary_landmarks[:, :3],
            auxiliary.apply(raw.auxiliary_landmarks[:, :3], t, scale, (w, h)),
            rtol=0,
            atol=1e-6,
        )
        previous = result
