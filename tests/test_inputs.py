"""Inputs of ``vitruvian run``: nothing lost, nothing read twice, no crash on odd files.

Real files made in ``tmp_path`` from the shared data set, read through
:func:`vitruvian.io.sources.resolve_sources` / :meth:`~vitruvian.io.sources.Source.frames` and
through the real command line in a subprocess (``python -m vitruvian run``, complexity 0):

* file names that are not valid UTF-8 (an image in a folder, a video): decoded, never a crash
  (``cv2.imread`` and ``cv2.VideoCapture`` crash on such names), and the ``source`` column is
  valid text (``caf\\xe9.jpg``); the EXIF orientation of such an image is still applied;
* empty, unreadable and folder "images": one clear error naming the operating system's error;
* symbolic links that loop (``loop -> .``) under a ``**`` glob: the walk ends (the subprocess
  has a timeout) and each image is used once; the walker agrees with Python's ``glob`` on a
  tree without links;
* a ``.gif`` in a folder is read, as a video, as it is when named directly;
* a video with 32 KB of random bytes in the middle of its ``mdat``: every decodable frame is
  processed, with its real index and timestamp (equal to those of the undamaged file), the
  run exits 1 naming the skipped frames; ``--fail-fast`` (``skip_undecodable=False``) stops
  at the first bad frame.
"""

from __future__ import annotations

import csv
import errno
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vitruvian.io import sources as io_sources
from vitruvian.io.sources import Source, SourceReadError, display_name, resolve_sources

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SQUATS = DATA_DIR / "video" / "pose_squats.mp4"
MMPOSE = DATA_DIR / "mmpose"
SQUATS_FRAMES = 65

pytestmark = pytest.mark.skipif(
    not (SQUATS.is_file() and MMPOSE.is_dir()),
    reason=f"shared data set not found at {DATA_DIR} (needs video/pose_squats.mp4 and mmpose/)",
)

#: Seconds a command-line run may take before the test fails (a walk that never ends).
CLI_TIMEOUT_S = 300
LINUX_PROC = os.path.isdir("/proc/self/fd")
needs_bytes_names = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"),
    reason="file names that are not valid UTF-8 cannot be created on Windows or macOS",
)


def images() -> list[Path]:
    return sorted(MMPOSE.glob("*.jpg"))


def bytes_path(folder: Path, name: bytes) -> str:
    """``folder/name`` as Python names it (undecodable bytes as surrogate escapes)."""
    return os.fsdecode(os.fsencode(folder) + b"/" + name)


def write_bytes_name(folder: Path, name: bytes, data: bytes) -> str:
    """Create ``folder/name`` (raw bytes, not valid UTF-8) holding ``data``; its str path."""
    fd = os.open(os.fsencode(folder) + b"/" + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return bytes_path(folder, name)


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def run_cli(*args: str | Path, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """``python -m vitruvian run ARGS --model-complexity 0`` in a subprocess."""
    command = [sys.executable, "-m", "vitruvian", "run", *map(str, args)]
    command += ["--model-complexity", "0", "--no-progress"]
    return subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8", errors="strict") as file:
        return list(csv.DictReader(file))


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# --------------------------------------------------------------------------- odd file names


@needs_bytes_names
def test_non_utf8_image_name_in_folder_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    original = images()[0]
    odd = write_bytes_name(folder, b"caf\xe9.jpg", original.read_bytes())
    shutil.copy(images()[1], folder / "b.jpg")
    assert not is_utf8(odd)

    sources = resolve_sources([str(folder)])
    assert [s.name for s in sources] == [str(folder / "b.jpg"), str(folder) + "/caf\\xe9.jpg"]
    assert all(is_utf8(s.name) for s in sources)
    assert sources[1].path == Path(odd) and sources[1].path.is_file()
    (frame,) = list(sources[1].frames())
    assert frame.source == sources[1].name and frame.index == 0
    expected = cv2.cvtColor(cv2.imread(str(original), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(frame.rgb, expected)


def jpeg_with_orientation(bgr: np.ndarray, orientation: int) -> bytes:
    """``bgr`` as a JPEG whose EXIF block holds ``orientation`` (6: rotate 90 degrees clockwise
    to view)."""
    ok, encoded = cv2.imencode(".jpg", bgr)
    assert ok
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\x00\x00" + tiff
    data = encoded.tobytes()
    return data[:2] + app1 + data[2:]


@needs_bytes_names
def test_exif_orientation_is_applied_whatever_the_name(tmp_path: Path) -> None:
    bgr = np.zeros((40, 80, 3), np.uint8)
    bgr[:, :40] = 255  # left half white
    data = jpeg_with_orientation(bgr, 6)
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(data)
    odd = write_bytes_name(tmp_path, b"r\xf6t.jpg", data)
    upright = cv2.imread(str(plain), cv2.IMREAD_COLOR)
    assert upright.shape == (80, 40, 3)  # what imread (EXIF applied) gives
    for name in (str(plain), odd):
        (source,) = resolve_sources([name])
        (frame,) = list(source.frames())
        assert frame.rgb.shape == (80, 40, 3)
        np.testing.assert_array_equal(frame.rgb, cv2.cvtColor(upright, cv2.COLOR_BGR2RGB))


@needs_bytes_names
@pytest.mark.skipif(not LINUX_PROC, reason="needs /proc/self/fd (Linux)")
def test_non_utf8_video_name_is_read_and_its_descriptor_closed(tmp_path: Path) -> None:
    odd = write_bytes_name(tmp_path, b"squats_\xff.mp4", SQUATS.read_bytes())
    (source,) = resolve_sources([odd])
    assert source.kind == "video" and source.name == str(tmp_path) + "/squats_\\xff.mp4"
    assert source.frame_count == SQUATS_FRAMES and source.fps == pytest.approx(5.0)
    before = open_fds()
    frames = list(source.frames(max_frames=3))
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].rgb.shape == (1280, 720, 3)
    early = source.frames()
    next(early)
    early.close()  # stopped early: the descriptor is closed too
    assert open_fds() == before


@needs_bytes_names
def test_non_utf8_video_name_elsewhere_asks_to_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = write_bytes_name(tmp_path, b"squats_\xff.mp4", SQUATS.read_bytes())
    monkeypatch.setattr(io_sources, "_PROC_FD", str(tmp_path / "no-proc"))  # as on macOS
    (source,) = resolve_sources([odd])
    assert source.frame_count is None
    with pytest.raises(SourceReadError, match="not valid UTF-8 .*rename the file"):
        list(source.frames())
    # open_capture refuses the name instead of crashing OpenCV
    assert not io_sources.open_capture(odd).isOpened()


@needs_bytes_names
def test_cli_non_utf8_image_in_folder(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_bytes_name(folder, b"caf\xe9.jpg", images()[0].read_bytes())
    shutil.copy(images()[1], folder / "b.jpg")
    out = tmp_path / "rows.csv"
    result = run_cli(folder, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)  # strict UTF-8
    assert [row["source"] for row in rows] == [
        str(folder / "b.jpg"),
        str(folder) + "/caf\\xe9.jpg",
    ]
    assert all(row["image_width"] for row in rows)


@needs_bytes_names
@pytest.mark.skipif(not LINUX_PROC, reason="needs /proc/self/fd (Linux)")
def test_cli_non_utf8_video_name(tmp_path: Path) -> None:
    odd = write_bytes_name(tmp_path, b"v\xe9.mp4", SQUATS.read_bytes())
    out = tmp_path / "rows.jsonl"
    result = run_cli(odd, "--out", out, "--max-frames", "3")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["frame"] for row in rows] == [0, 1, 2]
    assert {row["source"] for row in rows} == {display_name(odd)}
    assert display_name(odd).endswith("v\\xe9.mp4")


# --------------------------------------------------------------------------- unreadable files


def test_empty_file_and_folder_named_like_an_image(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    (source,) = resolve_sources([str(empty)])
    with pytest.raises(SourceReadError, match=r"empty\.jpg: the file is empty \(0 bytes\)"):
        list(source.frames())
    direct = Source("image", str(folder), 0, path=folder, frame_count=1)
    with pytest.raises(SourceReadError, match=r"cannot read the file: .*\(EISDIR\)") as caught:
        list(direct.frames())
    assert caught.value.frame == 0
    # a folder SOURCE does not take a folder named like an image as a file
    assert [s.name for s in resolve_sources([str(tmp_path)])] == [str(empty)]


READ_AS_USER = """\
import os, sys
from vitruvian.io.sources import SourceReadError, resolve_sources
if os.geteuid() == 0:  # root reads any file: drop to nobody
    os.setgid(65534); os.setuid(65534)
for source in resolve_sources(sys.argv[1:]):
    try:
        list(source.frames())
    except SourceReadError as exc:
        print(exc, exc.frame)
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_files(tmp_path: Path) -> None:
    """Files with mode 000, read by an unprivileged user (root drops to nobody in the child,
    in a folder outside pytest's, which only root may enter)."""
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        locked = [base / "locked.jpg", base / "locked.mp4"]
        shutil.copy(images()[0], locked[0])
        shutil.copy(SQUATS, locked[1])
        for path in locked:
            path.chmod(0)
        done = subprocess.run(
            [sys.executable, "-c", READ_AS_USER, *map(str, locked)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(base)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{locked[0]}: cannot read the file: Permission denied (EACCES) 0",
        f"{locked[1]}: cannot open the video: Permission denied (EACCES) None",
    ]


def test_read_errors_name_the_system_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same messages for any user (root reads files with mode 000)."""
    image = tmp_path / "x.jpg"
    shutil.copy(images()[0], image)
    (source,) = resolve_sources([str(image)])

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(io_sources.np, "fromfile", denied)
    with pytest.raises(SourceReadError) as caught:
        list(source.frames())
    assert str(caught.value) == f"{image}: cannot read the file: Permission denied (EACCES)"
    monkeypatch.setattr(io_sources.os, "open", denied)
    video = Source("video", str(SQUATS), 0, path=SQUATS, frame_count=SQUATS_FRAMES)
    with pytest.raises(SourceReadError, match="cannot open the video: Permission denied"):
        list(video.frames())


# --------------------------------------------------------------------------- folders and globs


def image_tree(root: Path) -> list[Path]:
    """``root`` with three images, one in a subfolder, a hidden one, and links: two loops to
    ``root`` itself, one from the subfolder back up, and a link to one of the images."""
    (root / "sub").mkdir(parents=True)
    real = [root / "a.jpg", root / "b.jpg", root / "sub" / "c.jpg"]
    for path, image in zip(real, images(), strict=False):
        path.write_bytes(image.read_bytes())
    (root / ".hidden.jpg").write_bytes(images()[3].read_bytes())
    (root / "loop1").symlink_to(".", target_is_directory=True)
    (root / "loop2").symlink_to(".", target_is_directory=True)
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)
    (root / "z_alias.jpg").symlink_to("a.jpg")
    return real


RESOLVE = (
    "import json, sys; from vitruvian.io.sources import resolve_sources; "
    "print(json.dumps([s.name for s in resolve_sources(sys.argv[1:])]))"
)


def test_glob_with_symlink_loops_ends_and_takes_each_image_once(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    real = image_tree(root)
    pattern = f"{root}/**/*.jpg"
    # In a subprocess with a timeout: glob.glob(recursive=True) never ends on this tree.
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE, pattern, str(root), f"{root}/*.jpg"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names = json.loads(done.stdout)
    # the glob: each real image once, by its shortest name; the folder and the plain glob:
    # the two images directly inside, the link to a.jpg dropped as a duplicate
    assert names == [str(p) for p in real] + [str(p) for p in real[:2]] * 2


def test_cli_glob_with_symlink_loops(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    real = image_tree(root)
    out = tmp_path / "rows.csv"
    result = run_cli(f"{root}/**/*.jpg", "--out", out)
    assert result.returncode == 0, result.stderr
    assert [row["source"] for row in read_csv(out)] == [str(p) for p in real]


def test_glob_walker_agrees_with_python_glob_without_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "t"
    files = [
        "a.jpg",
        "B.JPG",
        ".h.jpg",
        "x/c.jpg",
        "x/.d.png",
        "x/y/e.png",
        ".hid/f.jpg",
        ".hid/z/g.jpg",
        "x/y/z/h.mp4",
        "[k].jpg",
        "notes.txt",
    ]
    for name in files:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    patterns = [
        "t/**/*.jpg",
        "t/**/*",
        "t/**",
        "t/*.jpg",
        "t/*.JPG",
        "t/**/.*",
        "t/.*/**/*.jpg",
        "t/**/y/**/*.*",
        "t/*/*/*.png",
        "t/[[]k].jpg",
        "t/**/*/",
        "**/*.png",
        f"{tmp_path}/t/**/*.mp4",
        "t/x/**/e.png",
        "t/nothing/**/*.jpg",
    ]
    for pattern in patterns:
        expected = sorted({p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)})
        got = sorted({p for p in io_sources._glob(pattern) if os.path.isfile(p)})
        assert got == expected, pattern


def test_folder_takes_the_files_a_glob_takes(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(images()[0], folder / "a.jpg")
    shutil.copy(SQUATS, folder / "b.mp4")
    (folder / "c.txt").write_text("not an input\n")
    (folder / ".d.jpg").write_bytes(images()[1].read_bytes())  # hidden, as for a glob
    (folder / "e_link.jpg").symlink_to("a.jpg")  # the same file again
    (folder / "f.jpg").mkdir()  # a folder named like an image
    by_folder = [(s.kind, s.name) for s in resolve_sources([str(folder)])]
    by_glob = [(s.kind, s.name) for s in resolve_sources([f"{folder}/*"])]
    assert (
        by_folder == by_glob == [("image", str(folder / "a.jpg")), ("video", str(folder / "b.mp4"))]
    )


def make_gif(path: Path, frames: int = 3) -> None:
    """A small animated GIF of a person (OpenCV >= 4.11 writes GIFs, else Pillow)."""
    bgr = cv2.imread(str(images()[0]), cv2.IMREAD_COLOR)
    scale = 256 / max(bgr.shape[:2])
    small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    shots = [np.roll(small, 4 * i, axis=1) for i in range(frames)]
    try:
        if cv2.imwritemulti(str(path), shots):
            return
    except cv2.error:
        pass
    image = pytest.importorskip("PIL.Image", reason="cannot write a GIF: old OpenCV, no Pillow")
    rgb = [image.fromarray(cv2.cvtColor(s, cv2.COLOR_BGR2RGB)) for s in shots]
    rgb[0].save(path, save_all=True, append_images=rgb[1:], duration=100, loop=0)


def test_gif_in_a_folder_is_read_as_a_video(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(images()[0], folder / "a.jpg")
    make_gif(folder / "b.gif")
    named = resolve_sources([str(folder / "b.gif")])
    sources = resolve_sources([str(folder)])
    assert [(s.kind, s.name) for s in sources] == [
        ("image", str(folder / "a.jpg")),
        ("video", str(folder / "b.gif")),
    ]
    assert [s.kind for s in named] == ["video"]
    frames = list(sources[1].frames())
    assert [f.index for f in frames] == [0, 1, 2]

    out = tmp_path / "rows.csv"
    result = run_cli(folder, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert [(Path(r["source"]).name, r["frame"]) for r in rows] == [
        ("a.jpg", "0"),
        ("b.gif", "0"),
        ("b.gif", "1"),
        ("b.gif", "2"),
    ]


# --------------------------------------------------------------------------- damaged video

DAMAGE_BYTES = 32 * 1024


def mdat_middle(data: bytes) -> int:
    """The byte offset of the middle of the MP4's ``mdat`` payload (the coded frames)."""
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            return offset + size // 2
        offset += size
    raise AssertionError("no mdat atom")


def read_past_failures(path: Path) -> list[float]:
    """The presentation times (s) of the frames plain OpenCV decodes from ``path`` when it
    keeps reading after failed reads (up to 200 in a row)."""
    capture = cv2.VideoCapture(str(path))
    times: list[float] = []
    failures = 0
    try:
        while failures <= 200:
            ok, _ = capture.read()
            if ok:
                failures = 0
                times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
            else:
                failures += 1
    finally:
        capture.release()
    return times


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the squats clip with 32 KB of seeded random bytes in the middle of ``mdat``,
    and what the undamaged clip gives."""
    data = bytearray(SQUATS.read_bytes())
    start = mdat_middle(bytes(data))
    noise = np.random.default_rng(14).integers(0, 256, DAMAGE_BYTES, dtype=np.uint8)
    data[start : start + DAMAGE_BYTES] = noise.tobytes()
    path = tmp_path_factory.mktemp("damaged") / "damaged.mp4"
    path.write_bytes(bytes(data))
    (whole,) = resolve_sources([str(SQUATS)])
    reference = {f.index: f.timestamp_s for f in whole.frames()}
    assert sorted(reference) == list(range(SQUATS_FRAMES))
    past = read_past_failures(path)
    if len(past) == SQUATS_FRAMES:
        pytest.skip("this OpenCV/FFmpeg build decodes every frame of the damaged copy")
    return {"path": path, "reference": reference, "plain_past_failures": past}


SKIPPED = re.compile(
    r"(\d+) frames? could not be decoded and (?:were|was) skipped \(frames? ([\d, -]+)\); "
    r"the other (\d+) were processed"
)


def skipped_indices(message: str) -> tuple[set[int], int]:
    """The frame indices a skipped-frames message names, and its count of processed frames."""
    match = SKIPPED.search(message)
    assert match, message
    named: set[int] = set()
    for part in match.group(2).split(", "):
        first, _, last = part.partition("-")
        named.update(range(int(first), int(last or first) + 1))
    assert int(match.group(1)) == len(named)
    return named, int(match.group(3))


def test_damaged_video_frames_keep_their_real_index(damaged: dict[str, Any]) -> None:
    (source,) = resolve_sources([str(damaged["path"])])
    assert source.frame_count == SQUATS_FRAMES
    frames = []
    with pytest.raises(SourceReadError) as caught:
        for frame in source.frames():
            frames.append((frame.index, frame.timestamp_s))
    indices = [index for index, _ in frames]
    assert indices == sorted(set(indices))  # strictly increasing
    assert 0 < len(indices) < SQUATS_FRAMES and indices[-1] == SQUATS_FRAMES - 1
    # the decodable frames after the gap are there, as plain OpenCV reading on finds them
    assert len(indices) == len(damaged["plain_past_failures"])
    # real indices: each frame's time is the undamaged clip's time for that index
    for index, stamp in frames:
        assert stamp == pytest.approx(damaged["reference"][index], abs=1e-6), index
    named, processed = skipped_indices(str(caught.value))
    assert named == set(range(SQUATS_FRAMES)) - set(indices)
    assert processed == len(indices)
    assert caught.value.frame == min(named)


def test_damaged_video_without_skipping_stops_at_the_first_bad_frame(
    damaged: dict[str, Any],
) -> None:
    (source,) = resolve_sources([str(damaged["path"])])
    with pytest.raises(SourceReadError) as caught:
        list(source.frames())
    first_bad = caught.value.frame
    assert first_bad is not None and first_bad > 0
    indices = []
    with pytest.raises(SourceReadError, match=f"decoding stopped at frame {first_bad} of 65"):
        for frame in source.frames(skip_undecodable=False):
            indices.append(frame.index)
    assert indices == list(range(first_bad))


def test_damaged_video_with_max_frames_before_the_damage_is_clean(
    damaged: dict[str, Any],
) -> None:
    (source,) = resolve_sources([str(damaged["path"])])
    assert [f.index for f in source.frames(max_frames=3)] == [0, 1, 2]


def test_cli_damaged_video(damaged: dict[str, Any], tmp_path: Path) -> None:
    (source,) = resolve_sources([str(damaged["path"])])
    expected = []
    with pytest.raises(SourceReadError):
        expected.extend((f.index, f.timestamp_s) for f in source.frames())
    out = tmp_path / "rows.csv"
    video = tmp_path / "annotated.mp4"
    result = run_cli(damaged["path"], "--out", out, "--annotated", video)
    assert result.returncode == 1, result.stderr
    assert f"Error: {damaged['path']}: " in result.stderr
    named, processed = skipped_indices(result.stderr)
    rows = read_csv(out)
    assert [(int(r["frame"]), float(r["timestamp_s"])) for r in rows] == [
        (index, pytest.approx(stamp, abs=1e-6)) for index, stamp in expected
    ]
    assert processed == len(rows) and named.isdisjoint(int(r["frame"]) for r in rows)
    # The annotated video keeps the source's length: skipped frames repeat the previous one.
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == int(rows[-1]["frame"]) + 1
    capture.release()


def test_cli_damaged_video_fail_fast_stops_at_the_first_bad_frame(
    damaged: dict[str, Any], tmp_path: Path
) -> None:
    (source,) = resolve_sources([str(damaged["path"])])
    with pytest.raises(SourceReadError) as caught:
        list(source.frames())
    first_bad = caught.value.frame
    assert first_bad is not None
    out = tmp_path / "rows.csv"
    result = run_cli(damaged["path"], "--out", out, "--fail-fast")
    assert result.returncode == 1, result.stderr
    assert f"decoding stopped at frame {first_bad} of {SQUATS_FRAMES}" in result.stderr
    assert [int(r["frame"]) for r in read_csv(out)] == list(range(first_bad))
