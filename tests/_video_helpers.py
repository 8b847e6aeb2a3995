"""Helpers shared by the tests that need damaged or re-packed video files.

Not a test module (no ``test_`` prefix); imported as ``from _video_helpers import ...`` (pytest
puts the ``tests`` folder on ``sys.path``).
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2


def count_decodable_frames(path: Path) -> int:
    """How many frames plain OpenCV decodes from ``path`` before it stops (0 if it cannot open
    the file)."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    try:
        while capture.isOpened() and capture.read()[0]:
            count += 1
    finally:
        capture.release()
    return count


def faststart(mp4: bytes) -> bytes:
    """The same MP4 with its ``moov`` index moved before ``mdat`` (chunk offsets shifted), as
    ``ffmpeg -movflags faststart`` writes it, so that a truncated copy still opens."""
    atoms: dict[bytes, bytes] = {}
    order = []
    offset = 0
    while offset < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[offset : offset + 8])
        assert size >= 8, "this helper handles 32-bit atom sizes only"
        atoms[kind] = mp4[offset : offset + size]
        order.append(kind)
        offset += size
    assert order.index(b"moov") > order.index(b"mdat"), "already faststart"
    moov = bytearray(atoms[b"moov"])
    position = moov.find(b"stco")
    assert position > 0 and moov.find(b"co64") < 0
    entries = struct.unpack(">I", moov[position + 8 : position + 12])[0]
    for i in range(entries):
        at = position + 12 + 4 * i
        value = struct.unpack(">I", moov[at : at + 4])[0]
        moov[at : at + 4] = struct.pack(">I", value + len(moov))
    head = b"".join(atoms[k] for k in order if k not in (b"moov", b"mdat"))
    assert all(k in (b"ftyp", b"free", b"moov", b"mdat") for k in order)
    return head + bytes(moov) + atoms[b"mdat"]


def truncated_mid_way(source: Path, destination: Path, keep: float = 0.3) -> int:
    """Write to ``destination`` the first ``keep`` of ``source`` re-packed by :func:`faststart`:
    a video that opens and then stops decoding part-way. Returns how many frames OpenCV decodes
    from it."""
    data = faststart(source.read_bytes())
    destination.write_bytes(data[: int(len(data) * keep)])
    return count_decodable_frames(destination)
