#!/usr/bin/env python3
"""A large run in simulation: many short videos through ``vitruvian run --out-dir`` (Ray local by
default), with memory sampled over the whole run, then the same run killed halfway and resumed.

What it does:

1. writes ``--videos`` clips (default 1,000) of ``--frames`` frames (default 10), cut from
   ``../shared/data/video/pose_squats.mp4`` at different starting frames and scaled to
   ``--size`` (default 360x640), into a temporary folder (never into the repository);
2. runs ``vitruvian run CLIPS --out-dir A --engine ray --workers 2`` in a subprocess and samples,
   every 0.5 s, the resident memory of all its processes (the driver, Ray's own processes and
   the workers, from ``/proc``) and the number of videos done: throughput, and memory at 10 %,
   50 % and 90 % of the videos (flat, not growing with the number of videos done);
3. runs it again into a new folder, ``kill -9`` of every process of the run (its session: the
   driver, Ray's processes, the workers) once half the videos are done, then reruns it: the
   time the rerun takes to skip what was done and write its first new video, its total time,
   and a check that every video is there exactly once with all its rows (``pyarrow.dataset``).

Prints a Markdown summary (``--json PATH`` also writes the figures). Linux only (``/proc``).

Usage::

    .venv/bin/python scripts/simulate_many_videos.py                    # 1,000 videos, Ray
    .venv/bin/python scripts/simulate_many_videos.py --videos 200 --engine local
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SQUATS = ROOT.parent / "shared" / "data" / "video" / "pose_squats.mp4"


def write_clips(folder: Path, videos: int, frames: int, size: tuple[int, int]) -> None:
    import cv2

    sys.path.insert(0, str(ROOT / "src"))
    from vitruvian.testing_clips import read_video_rgb

    source = [cv2.cvtColor(cv2.resize(f, size), cv2.COLOR_RGB2BGR) for f in read_video_rgb(SQUATS)]
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(videos):
        writer = cv2.VideoWriter(
            str(folder / f"clip{k:05d}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 5, size
        )
        for i in range(frames):
            writer.write(source[(k * 7 + i) % len(source)])
        writer.release()


def tree_rss_mb(root: int) -> float:
    """Resident memory of the session ``root`` leads (all its processes), MB (``/proc``)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm", encoding="utf-8") as file:
                pages = int(file.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    members, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    return sum(rss.get(pid, 0) for pid in members) / 2**20


def kill_session(leader: int) -> None:
    """``kill -9`` every process of the session ``leader`` started: the driver, Ray's processes
    and its workers (Ray gives each worker a process group of its own), like a machine crash."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == leader:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue


def start(clips: Path, out: Path, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "vitruvian",
        "run",
        str(clips),
        "--out-dir",
        str(out),
        "--engine",
        args.engine,
        "--workers",
        str(args.workers),
        "--no-progress",
    ]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def done(out: Path) -> int:
    return len(list(out.glob("*.parquet")))


def full_run(clips: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    process = start(clips, out, args)
    samples = []
    while process.poll() is None:
        samples.append((time.monotonic() - began, done(out), tree_rss_mb(process.pid)))
        time.sleep(0.5)
    seconds = time.monotonic() - began
    if process.returncode != 0:
        raise SystemExit(f"the run failed: {process.stderr.read().decode()[-2000:]}")
    at = {}
    for share in (0.1, 0.5, 0.9):
        target = share * args.videos
        near = [s for s in samples if s[1] >= target]
        at[f"{round(share * 100)}%"] = round(near[0][2]) if near else None
    first = next((s[0] for s in samples if s[1] > 0), None)
    return {
        "seconds": seconds,
        "videos_per_s": args.videos / seconds,
        "frames_per_s": args.videos * args.frames / seconds,
        "first_video_s": first,
        "peak_rss_mb": round(max(s[2] for s in samples)),
        "rss_mb_at_share_done": at,
        "samples": samples,
    }


def kill_and_resume(clips: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    process = start(clips, out, args)
    while done(out) < args.videos // 2 and process.poll() is None:
        time.sleep(0.05)
    kill_session(process.pid)
    process.wait()
    before = done(out)
    began = time.monotonic()
    rerun = start(clips, out, args)
    first_new = None
    while rerun.poll() is None:
        if first_new is None and done(out) > before:
            first_new = time.monotonic() - began
        time.sleep(0.05)
    seconds = time.monotonic() - began
    if rerun.returncode != 0:
        raise SystemExit(f"the rerun failed: {rerun.stderr.read().decode()[-2000:]}")
    import pyarrow.dataset as ds

    table = ds.dataset(out, format="parquet").to_table(columns=["source", "frame"])
    pairs = set(zip(table["source"].to_pylist(), table["frame"].to_pylist(), strict=True))
    complete = (
        len(pairs) == table.num_rows == args.videos * args.frames and done(out) == args.videos
    )
    return {
        "done_when_killed": before,
        "rerun_seconds": seconds,
        "rerun_first_new_video_s": first_new,
        "every_video_once": complete,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--size", default="360x640", help="WIDTHxHEIGHT of the clips")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=("ray", "local"), default="ray")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="vitruvian-simulation-") as tmp:
        clips = Path(tmp) / "clips"
        print(f"writing {args.videos} clips of {args.frames} frames ({args.size})", file=sys.stderr)
        write_clips(clips, args.videos, args.frames, (width, height))
        print("full run", file=sys.stderr)
        full = full_run(clips, Path(tmp) / "full", args)
        print("killed run and rerun", file=sys.stderr)
        resumed = kill_and_resume(clips, Path(tmp) / "resumed", args)
    report = {"settings": vars(args) | {"json": None}, "full": full, "resume": resumed}
    at = full["rss_mb_at_share_done"]
    print(
        f"| videos x frames | engine, workers | seconds | videos/s | frames/s | first video s "
        f"| memory MB at 10/50/90 % done, peak | resume: done when killed, rerun s, first new "
        f"video s, every video once |\n|---|---|---:|---:|---:|---:|---|---|\n"
        f"| {args.videos} x {args.frames} ({args.size}) | {args.engine}, {args.workers} "
        f"| {full['seconds']:.0f} | {full['videos_per_s']:.1f} | {full['frames_per_s']:.0f} "
        f"| {full['first_video_s']:.1f} | {at['10%']} / {at['50%']} / {at['90%']}, "
        f"{full['peak_rss_mb']} | {resumed['done_when_killed']}, {resumed['rerun_seconds']:.0f}, "
        f"{resumed['rerun_first_new_video_s']:.1f}, {resumed['every_video_once']} |"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0 if resumed["every_video_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
