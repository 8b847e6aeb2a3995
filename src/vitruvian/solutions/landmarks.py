"""Landmark containers shaped like MediaPipe's ``landmark_pb2`` protobuf messages.

MediaPipe code reads results as ``results.pose_landmarks.landmark[i].x``; these classes give the
same attribute surface without protobuf. Each list keeps its values in one ``(N, 5)`` float32
array (columns ``x, y, z, visibility, presence``, see :data:`vitruvian.types.LANDMARK_COLUMNS`);
the per-landmark objects are thin views created on first access, so building a list from the
pipeline's numpy output costs one small array copy.

Coordinate frames:

* :class:`NormalizedLandmark`: ``x`` and ``y`` are fractions of the image width and height
  (origin at the top-left image corner, y down); ``z`` is a relative depth on roughly the same
  scale as ``x``, origin at the hip midpoint, smaller values closer to the camera.
* :class:`Landmark` (world landmarks): ``x``, ``y``, ``z`` in metres, origin at the centre
  between the hips, y down, z away from the camera.
* ``visibility`` and ``presence`` are probabilities in [0, 1].

As in protobuf, every field is optional: reading an unset field gives ``0.0`` and
``HasField(name)`` tells whether it was set. Landmarks built from pipeline output have all five
fields set (unlike MediaPipe's Pose, which clears ``presence`` in its outputs).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeVar, overload

import numpy as np

__all__ = [
    "FIELDS",
    "Landmark",
    "LandmarkList",
    "NormalizedLandmark",
    "NormalizedLandmarkList",
]

#: Field names, in the column order of the backing arrays.
FIELDS: tuple[str, ...] = ("x", "y", "z", "visibility", "presence")
_NUM_FIELDS = len(FIELDS)
_FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}


def _format_float(value: float) -> str:
    """Format a float32 like protobuf's text format (shortest float32 repr, ``1`` for ``1.0``)."""
    text = str(np.float32(value))
    return text[:-2] if text.endswith(".0") else text


class _LandmarkBase:
    """Shared behaviour of :class:`NormalizedLandmark` and :class:`Landmark`.

    A landmark stores its values in ``_values`` (a length-5 float32 array, possibly a row of a
    list's backing array) and which fields are set in ``_has`` (a length-5 bool array).
    """

    __slots__ = ("_values", "_has")

    _values: np.ndarray
    _has: np.ndarray

    def __init__(
        self,
        x: float | None = None,
        y: float | None = None,
        z: float | None = None,
        visibility: float | None = None,
        presence: float | None = None,
    ) -> None:
        """Create a landmark; fields left as ``None`` are unset (they read as ``0.0``)."""
        object.__setattr__(self, "_values", np.zeros(_NUM_FIELDS, dtype=np.float32))
        object.__setattr__(self, "_has", np.zeros(_NUM_FIELDS, dtype=bool))
        for name, value in zip(FIELDS, (x, y, z, visibility, presence), strict=True):
            if value is not None:
                setattr(self, name, value)

    @classmethod
    def _view(cls, values: np.ndarray, has: np.ndarray) -> Any:
        """Create a landmark backed by ``values``/``has`` (rows of a list's arrays)."""
        landmark = cls.__new__(cls)
        object.__setattr__(landmark, "_values", values)
        object.__setattr__(landmark, "_has", has)
        return landmark

    def __getattr__(self, name: str) -> float:
        index = _FIELD_INDEX.get(name)
        if index is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return float(self._values[index])

    def __setattr__(self, name: str, value: float) -> None:
        index = _FIELD_INDEX.get(name)
        if index is None:
            raise AttributeError(f"{type(self).__name__!r} object has no field {name!r}")
        self._values[index] = float(value)
        self._has[index] = True

    def _field_index(self, field_name: str) -> int:
        index = _FIELD_INDEX.get(field_name)
        if index is None:
            raise ValueError(f'Protocol message {type(self).__name__} has no field "{field_name}".')
        return index

    def HasField(self, field_name: str) -> bool:  # noqa: N802 (protobuf's spelling)
        """Whether ``field_name`` (one of :data:`FIELDS`) has been set."""
        return bool(self._has[self._field_index(field_name)])

    def ClearField(self, field_name: str) -> None:  # noqa: N802 (protobuf's spelling)
        """Unset ``field_name``; it then reads as ``0.0`` and ``HasField`` returns False."""
        index = self._field_index(field_name)
        self._values[index] = 0.0
        self._has[index] = False

    def to_numpy(self) -> np.ndarray:
        """The five fields as a new float32 array ``[x, y, z, visibility, presence]``."""
        return self._values.copy()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(
            np.array_equal(self._has, other._has)
            and np.array_equal(self._values[self._has], other._values[other._has])
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like protobuf messages

    def __str__(self) -> str:
        return "".join(
            f"{name}: {_format_float(self._values[i])}\n"
            for i, name in enumerate(FIELDS)
            if self._has[i]
        )

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {name: float(self._values[i]) for i, name in enumerate(FIELDS) if self._has[i]}
        return (_rebuild_landmark, (type(self), kwargs))


def _rebuild_landmark(cls: type[_LandmarkBase], kwargs: dict[str, float]) -> _LandmarkBase:
    """Unpickling helper for landmarks."""
    return cls(**kwargs)


class NormalizedLandmark(_LandmarkBase):
    """One landmark in normalised image coordinates (MediaPipe's ``NormalizedLandmark``).

    Attributes (all ``float``; ``0.0`` when unset):
        x: horizontal position as a fraction of the image width (0 = left edge, 1 = right edge).
        y: vertical position as a fraction of the image height (0 = top edge, 1 = bottom edge).
        z: relative depth, origin at the hip midpoint, on roughly the scale of ``x``; smaller is
            closer to the camera.
        visibility: probability in [0, 1] that the point is visible (not occluded).
        presence: probability in [0, 1] that the point is inside the image.
    """

    __slots__ = ()


class Landmark(_LandmarkBase):
    """One world landmark in metres (MediaPipe's ``Landmark``).

    Attributes (all ``float``; ``0.0`` when unset):
        x: metres, origin at the centre between the hips, towards image right.
        y: metres, down.
        z: metres, away from the camera.
        visibility: probability in [0, 1] that the point is visible (not occluded).
        presence: probability in [0, 1] that the point is inside the image.
    """

    __slots__ = ()


L = TypeVar("L", bound=_LandmarkBase)


class RepeatedLandmarks(Sequence[L], Generic[L]):
    """The ``.landmark`` field of a landmark list: a sequence of landmark objects.

    Supports ``len``, iteration, indexing by ``int`` (a :class:`~vitruvian.solutions.pose.
    PoseLandmark` works, being an ``IntEnum``), negative indices and slices (a slice gives a
    ``list``), plus protobuf's ``add(**fields)``, ``append(landmark)`` and
    ``extend(landmarks)`` (both copy the values, as protobuf does). The returned landmark objects
    are live views: setting ``landmark.x`` changes the list and its ``to_numpy()``.
    """

    __slots__ = ("_cls", "_values", "_has", "_items")

    def __init__(self, cls: type[L], values: np.ndarray, has: np.ndarray) -> None:
        self._cls = cls
        self._values = values
        self._has = has
        self._items: list[L | None] = [None] * len(values)

    def __len__(self) -> int:
        return len(self._items)

    def _get(self, index: int) -> L:
        item = self._items[index]
        if item is None:
            item = self._cls._view(self._values[index], self._has[index])
            self._items[index] = item
        return item

    @overload
    def __getitem__(self, index: int) -> L: ...

    @overload
    def __getitem__(self, index: slice) -> list[L]: ...

    def __getitem__(self, index: int | slice) -> L | list[L]:
        if isinstance(index, slice):
            return [self._get(i) for i in range(*index.indices(len(self)))]
        try:
            position = operator.index(index)
        except TypeError:
            raise TypeError(
                f"landmark indices must be integers or PoseLandmark, not {type(index).__name__}"
            ) from None
        count = len(self)
        if not -count <= position < count:
            raise IndexError(f"landmark index {position} out of range for {count} landmarks")
        return self._get(position % count)

    def __iter__(self) -> Iterator[L]:
        for i in range(len(self)):
            yield self._get(i)

    def _grow(self, extra: int) -> None:
        """Reallocate the backing arrays with room for ``extra`` more rows, rebinding views."""
        old = len(self)
        values = np.zeros((old + extra, _NUM_FIELDS), dtype=np.float32)
        has = np.zeros((old + extra, _NUM_FIELDS), dtype=bool)
        values[:old] = self._values
        has[:old] = self._has
        self._values = values
        self._has = has
        for i, item in enumerate(self._items):
            if item is not None:
                object.__setattr__(item, "_values", values[i])
                object.__setattr__(item, "_has", has[i])
        self._items.extend([None] * extra)

    def add(self, **fields: float) -> L:
        """Append a new landmark with the given fields set and return it (protobuf's ``add``)."""
        self._grow(1)
        item = self._get(len(self) - 1)
        for name, value in fields.items():
            setattr(item, name, value)
        return item

    def append(self, landmark: L) -> None:
        """Append a copy of ``landmark``."""
        self.extend([landmark])

    def extend(self, landmarks: Iterable[L]) -> None:
        """Append copies of ``landmarks``."""
        new = list(landmarks)
        for landmark in new:
            if not isinstance(landmark, self._cls):
                raise TypeError(f"expected {self._cls.__name__}, got {type(landmark).__name__}")
        start = len(self)
        self._grow(len(new))
        for i, landmark in enumerate(new, start):
            self._values[i] = landmark._values
            self._has[i] = landmark._has

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RepeatedLandmarks):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


class _LandmarkListBase(Generic[L]):
    """Shared behaviour of :class:`NormalizedLandmarkList` and :class:`LandmarkList`."""

    __slots__ = ("_landmark",)

    _landmark_cls: ClassVar[type[_LandmarkBase]]

    def __init__(self, landmark: Iterable[L] | None = None) -> None:
        """Create a list, optionally from landmark objects (their values are copied)."""
        self._landmark: RepeatedLandmarks[L] = RepeatedLandmarks(
            self._landmark_cls,  # type: ignore[arg-type]
            np.zeros((0, _NUM_FIELDS), dtype=np.float32),
            np.zeros((0, _NUM_FIELDS), dtype=bool),
        )
        if landmark is not None:
            self._landmark.extend(landmark)

    @classmethod
    def from_numpy(cls, array: np.ndarray) -> Any:
        """Build a list from an ``(N, 3)``, ``(N, 4)`` or ``(N, 5)`` array (values copied).

        Columns are ``x, y, z[, visibility[, presence]]`` in the list's coordinate frame (see
        the module docstring); the columns given are marked as set.
        """
        data = np.asarray(array, dtype=np.float32)
        if data.ndim != 2 or not 3 <= data.shape[1] <= _NUM_FIELDS:
            raise ValueError(
                f"expected an (N, 3..5) array of x, y, z[, visibility[, presence]], "
                f"got shape {data.shape}"
            )
        values = np.zeros((data.shape[0], _NUM_FIELDS), dtype=np.float32)
        values[:, : data.shape[1]] = data
        has = np.zeros((data.shape[0], _NUM_FIELDS), dtype=bool)
        has[:, : data.shape[1]] = True
        result = cls.__new__(cls)
        result._landmark = RepeatedLandmarks(cls._landmark_cls, values, has)
        return result

    @property
    def landmark(self) -> RepeatedLandmarks[L]:
        """The landmarks, indexable by ``int`` or ``PoseLandmark``."""
        return self._landmark

    def to_numpy(self) -> np.ndarray:
        """A new ``(N, 5)`` float32 array ``[x, y, z, visibility, presence]`` (unset = 0)."""
        return self._landmark._values.copy()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._landmark == other._landmark

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        blocks = []
        for item in self._landmark:
            body = "".join(f"  {line}\n" for line in str(item).splitlines())
            blocks.append(f"landmark {{\n{body}}}\n")
        return "".join(blocks)

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_list, (type(self), self._landmark._values.copy(), self._landmark._has))


def _rebuild_list(
    cls: type[_LandmarkListBase[Any]], values: np.ndarray, has: np.ndarray
) -> _LandmarkListBase[Any]:
    """Unpickling helper for landmark lists."""
    result = cls.__new__(cls)
    result._landmark = RepeatedLandmarks(cls._landmark_cls, values.copy(), has.copy())
    return result


class NormalizedLandmarkList(_LandmarkListBase[NormalizedLandmark]):
    """Landmarks in normalised image coordinates (MediaPipe's ``NormalizedLandmarkList``).

    ``results.pose_landmarks.landmark[PoseLandmark.NOSE].x * image_width`` is the nose's x in
    pixels. :meth:`to_numpy` gives the ``(33, 5)`` array ``[x, y, z, visibility, presence]``.
    """

    __slots__ = ()
    _landmark_cls = NormalizedLandmark


class LandmarkList(_LandmarkListBase[Landmark]):
    """World landmarks in metres, hip-centred (MediaPipe's ``LandmarkList``).

    :meth:`to_numpy` gives the ``(33, 5)`` array ``[x, y, z, visibility, presence]`` with x, y,
    z in metres.
    """

    __slots__ = ()
    _landmark_cls = Landmark
