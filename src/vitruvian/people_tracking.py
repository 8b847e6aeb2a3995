"""Video mode for several people: :class:`~vitruvian.tracking.PoseTracker` with
``num_poses > 1`` (not in MediaPipe's legacy solution, which follows one person).

Per frame::

    tracked people ─► landmark model on each one's region (one batched call)
         │               └─ no pose: the track is lost (kept for the grace period)
         ▼
    merge: two tracks on one person: the one that moved least from its last box keeps it,
           the other is lost
         │
         ▼
    fewer than num_poses people, and a track was lost on this frame or detect_every seconds
    have passed since the last search? ─► find_people: the tracked people blanked out, detector
    rounds, landmark model on the new people
         │
         ▼
    new people matched to lost tracks (box IoU, Hungarian algorithm): matched ones get their
    ID back, the others a new ID; lost tracks older than the grace period are forgotten
         │
         ▼
    each person smoothed by its own filters (started fresh for a new or recovered track), its
    next region from its smoothed auxiliary landmarks

IDs are integers from 0, in the order people are first found, never reused within a stream.
A person's box is the box around their 33 image landmarks
(:func:`~vitruvian.calculators.person_boxes.landmark_box`), in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from vitruvian.calculators.association import linear_sum_assignment, match_boxes
from vitruvian.calculators.person_boxes import box_iou, landmark_box
from vitruvian.pipeline import is_duplicate
from vitruvian.tracking import PersonSmoothing
from vitruvian.types import PoseResult

if TYPE_CHECKING:
    from vitruvian.tracking import PoseTracker, _Frame

__all__ = ["PeopleTracker"]


@dataclass
class _Track:
    """One person followed through the stream."""

    person_id: int
    smoothing: PersonSmoothing
    #: The person's pixel box in the last frame they were seen.
    box: np.ndarray
    #: When the person was lost (µs of stream time); ``None`` while tracked.
    lost_us: int | None = None


class PeopleTracker:
    """The multi-person state of one :class:`~vitruvian.tracking.PoseTracker` (its options,
    clock, counters and pipeline are the tracker's).

    Raises:
        ImportError: scipy is not installed (``pip install 'vitruvian[multi]'``).
    """

    def __init__(self, tracker: PoseTracker) -> None:
        linear_sum_assignment(np.zeros((1, 1)))  # scipy is there, or the error names the fix
        self._tracker = tracker
        self._tracks: list[_Track] = []
        self._last_search_us: int | None = None

    def clear(self) -> None:
        """Forget every track (a new stream)."""
        self._tracks = []
        self._last_search_us = None

    def process(self, frame: _Frame, resized: bool) -> list[PoseResult]:
        """One begun frame: track, search, match, smooth (see the module docstring)."""
        tracker = self._tracker
        pipeline = tracker.pipeline
        image, now = frame.image, frame.now_us
        height, width = image.shape[:2]
        if resized:
            self.clear()  # regions and filters in the old frame's pixels mean nothing here

        lost_now = False
        following: list[_Track] = []
        for t in self._tracks:
            if t.lost_us is not None:
                continue
            if t.smoothing.roi is None:  # its next region was unusable
                self._lose(t, now)
                lost_now = True
            else:
                following.append(t)
        kept: list[tuple[_Track, PoseResult]] = []
        if following:
            rois = [t.smoothing.roi for t in following]
            results = pipeline.process_batch([image] * len(following), rois)
            found: list[tuple[_Track, PoseResult, np.ndarray]] = []
            for track, result in zip(following, results, strict=True):
                if result is None:
                    self._lose(track, now)
                    lost_now = True
                else:
                    found.append((track, result, landmark_box(result.landmarks, width, height)))
            # Two tracks on one person: the one that moved least from its own last box keeps
            # the person; the other is lost (and may get its ID back in the grace period).
            found.sort(key=lambda f: -float(box_iou(f[2], f[0].box)[0, 0]))
            for track, result, box in found:
                if is_duplicate(box, [t.box for t, _ in kept]):
                    self._lose(track, now)
                    lost_now = True
                    continue
                track.box = box
                kept.append((track, result))

        grace_us = round(tracker.grace_period * 1e6)
        self._tracks = [t for t in self._tracks if t.lost_us is None or now - t.lost_us <= grace_us]
        wanted = tracker.num_poses - len(kept)
        due = self._last_search_us is None or now - self._last_search_us >= round(
            tracker.detect_every * 1e6
        )
        if wanted > 0 and (not kept or lost_now or due):
            self._last_search_us = now
            new = pipeline.find_people(image, [t.box for t, _ in kept], wanted)
            kept += self._assign(new, width, height)
        elif kept:
            tracker._tracked += 1  # every person came from the previous frame, no detector

        out = [
            replace(track.smoothing.smooth(result, now, width, height), person_id=track.person_id)
            for track, result in kept
        ]
        return sorted(out, key=lambda r: -1 if r.person_id is None else r.person_id)

    def _lose(self, track: _Track, now: int) -> None:
        track.lost_us = now
        track.smoothing.reset()

    def _assign(
        self, people: list[PoseResult], width: int, height: int
    ) -> list[tuple[_Track, PoseResult]]:
        """Tracks for newly found people: a lost track where one was lost, else a new ID."""
        if not people:
            return []
        boxes = np.array([landmark_box(p.landmarks, width, height) for p in people])
        lost = [t for t in self._tracks if t.lost_us is not None]
        matches = dict(match_boxes(boxes, np.array([t.box for t in lost]).reshape(-1, 4)))
        out = []
        for i, person in enumerate(people):
            if i in matches:
                track = lost[matches[i]]
                track.lost_us = None
            else:
                tracker = self._tracker
                track = _Track(
                    tracker._new_id(),
                    PersonSmoothing(tracker.smooth_landmarks, tracker.smooth_segmentation),
                    boxes[i],
                )
                self._tracks.append(track)
            track.box = boxes[i]
            out.append((track, person))
        return out
