"""The live counter drawn on annotated frames (``vitruvian reps --annotated / --show``).

:func:`draw_counter` draws, in the top-left corner of a BGR frame: the count, what is counted,
and a gauge of the signal the counter watches with its two thresholds: the joint angle (0 to
180 degrees, ``down`` and ``up`` marked) or the class's smoothed votes (0 to 10, the exit and
enter thresholds marked). The gauge's fill turns orange while a repetition is under way past
its threshold.
"""

from __future__ import annotations

import cv2
import numpy as np

from vitruvian.classify.counter import RepetitionCounter
from vitruvian.classify.exercise import ExerciseCounter, FrameState

__all__ = ["draw_counter"]

_PANEL_BGR = (40, 40, 40)
_TEXT_BGR = (255, 255, 255)
_COUNT_BGR = (80, 255, 160)
_FILL_BGR = (200, 200, 200)
_ACTIVE_BGR = (0, 165, 255)
_MARK_BGR = (80, 80, 255)


def draw_counter(bgr: np.ndarray, state: FrameState, counter: ExerciseCounter) -> np.ndarray:
    """Draw the counter panel on ``bgr`` (``(H, W, 3)`` uint8, in place) and return it.

    Args:
        bgr: the frame (usually already annotated with the skeleton).
        state: the frame's :class:`~vitruvian.classify.exercise.FrameState`.
        counter: the counter that produced it (for its thresholds and labels).
    """
    height, width = bgr.shape[:2]
    scale = max(0.4, min(width, height) / 720)
    pad = round(14 * scale)
    font = cv2.FONT_HERSHEY_SIMPLEX
    thick = max(1, round(2 * scale))
    count_text = str(state.count)
    label = counter.class_name
    (count_w, count_h), _ = cv2.getTextSize(count_text, font, 2.2 * scale, thick + 2)
    (label_w, label_h), _ = cv2.getTextSize(label, font, 0.8 * scale, thick)
    gauge_w = max(label_w, round(220 * scale))
    gauge_h = round(14 * scale)
    panel_w = pad * 3 + count_w + gauge_w
    panel_h = pad * 2 + max(count_h, label_h + pad + gauge_h + round(20 * scale))
    cv2.rectangle(bgr, (0, 0), (panel_w, panel_h), _PANEL_BGR, -1)
    cv2.putText(
        bgr,
        count_text,
        (pad, pad + count_h),
        font,
        2.2 * scale,
        _COUNT_BGR,
        thick + 2,
        cv2.LINE_AA,
    )
    left = pad * 2 + count_w
    cv2.putText(bgr, label, (left, pad + label_h), font, 0.8 * scale, _TEXT_BGR, thick, cv2.LINE_AA)

    inner = counter.counter
    if isinstance(inner, RepetitionCounter):
        value = state.smoothed.get(inner.class_name)
        top, marks = 10.0, (inner.exit_threshold, inner.enter_threshold)
        reading = "" if value is None else f"{value:.1f} / 10 votes"
    else:
        value = state.angle_deg
        top, marks = 180.0, (inner.exercise.down_deg, inner.exercise.up_deg)
        reading = "no angle" if value is None else f"{value:.0f} deg"
    y0 = pad + label_h + pad
    cv2.rectangle(bgr, (left, y0), (left + gauge_w, y0 + gauge_h), _TEXT_BGR, 1)
    if value is not None:
        fill = round(gauge_w * float(np.clip(value / top, 0.0, 1.0)))
        colour = _ACTIVE_BGR if state.entered else _FILL_BGR
        cv2.rectangle(bgr, (left, y0), (left + fill, y0 + gauge_h), colour, -1)
    for mark in marks:
        x = left + round(gauge_w * mark / top)
        cv2.line(
            bgr, (x, y0 - round(3 * scale)), (x, y0 + gauge_h + round(3 * scale)), _MARK_BGR, thick
        )
    cv2.putText(
        bgr,
        reading,
        (left, y0 + gauge_h + round(18 * scale)),
        font,
        0.6 * scale,
        _TEXT_BGR,
        max(1, thick - 1),
        cv2.LINE_AA,
    )
    return bgr
