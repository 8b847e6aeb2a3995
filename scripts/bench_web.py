"""Benchmark the browser package against the real ``@mediapipe/pose`` in the same browser.

Serves a fresh site with ``vitruvian web`` on 127.0.0.1, opens it in headless Chromium
(Debian's, through ``web/test/browser/driver.mjs``) and times, per model complexity:

* vitruvian's ``Pose.send()`` in video mode (frames of ``video/pose_squats.mp4`` sent every
  33.333 ms, tracking on) and static mode (``reset()`` before every frame, so the detector runs
  each time), on LiteRT.js wasm (XNNPACK, threads when cross-origin isolated);
* ``@mediapipe/pose@0.5.1675469404`` from ``web/node_modules`` (installed by ``npm ci``) on the
  same frames and the same way, with ``useCpuInference: true`` and with its default (WebGL;
  SwiftShader, i.e. the CPU, in a headless browser without a GPU);
* LiteRT.js alone: ms per model call on a constant input.

Prints a Markdown table (the README's "Browser" section holds one). Usage::

    python scripts/bench_web.py [--frames 20] [--complexity 0 1 2] [--mediapipe-gpu-frames 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _browser import WEB, Browser, missing_tools, served_site  # noqa: E402

from vitruvian.testing_clips import read_video_rgb  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCH = WEB / "bench" / "bench.mjs"
MEDIAPIPE = WEB / "node_modules" / "@mediapipe" / "pose"


def write_frames(frames: list[np.ndarray], folder: Path) -> list[dict[str, Any]]:
    """Raw RGBA files of ``frames``; the page's description of each."""
    out = []
    for i, rgb in enumerate(frames):
        path = folder / f"{i}.rgba"
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
        path.write_bytes(np.concatenate([rgb, alpha], axis=2).tobytes())
        out.append({"path": str(path), "width": rgb.shape[1], "height": rgb.shape[0]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20, help="frames per run (default 20)")
    parser.add_argument("--complexity", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--mediapipe-gpu-frames",
        type=int,
        default=3,
        help="frames for @mediapipe/pose's default (WebGL) path, slow without a GPU (0: skip)",
    )
    args = parser.parse_args(argv)
    problem = missing_tools()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if not (MEDIAPIPE / "pose.js").is_file():
        print(f"{MEDIAPIPE} is missing: run `make web` (npm ci)", file=sys.stderr)
        return 1
    clip = read_video_rgb(DATA / "video" / "pose_squats.mp4", max_frames=args.frames)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, served_site(Path(tmp) / "site") as url:
        frames = write_frames(clip, Path(tmp))
        page = Browser(url + "test.html")
        try:
            threads = "threads" if page.cross_origin_isolated else "one thread"
            models = page.call(
                BENCH,
                "benchModels",
                {
                    "names": [
                        "pose_detection",
                        "pose_landmark_lite",
                        "pose_landmark_full",
                        "pose_landmark_heavy",
                    ]
                },
            )
            for complexity in args.complexity:
                for mode in ("video", "static"):
                    ours = page.call(
                        BENCH,
                        "benchVitruvian",
                        {"complexity": complexity, "mode": mode, "frames": frames},
                    )
                    cpu = page.call(
                        BENCH,
                        "benchMediaPipe",
                        {
                            "folder": str(MEDIAPIPE),
                            "complexity": complexity,
                            "mode": mode,
                            "frames": frames,
                            "useCpuInference": True,
                        },
                    )
                    gpu = None
                    if args.mediapipe_gpu_frames > 0:
                        gpu = page.call(
                            BENCH,
                            "benchMediaPipe",
                            {
                                "folder": str(MEDIAPIPE),
                                "complexity": complexity,
                                "mode": mode,
                                "frames": frames[: args.mediapipe_gpu_frames],
                                "useCpuInference": False,
                                "warmup": 1,
                            },
                        )
                    rows.append((complexity, mode, ours, cpu, gpu))
                    print(f"complexity {complexity} {mode}: done", file=sys.stderr)
        finally:
            page.close()

    print(
        f"\nms per `send()`, median over {args.frames} frames of pose_squats.mp4 "
        f"(720x1280), headless Chromium, LiteRT.js wasm with {threads}:\n"
    )
    print(
        "| complexity | mode | vitruvian | @mediapipe/pose, useCpuInference | "
        "@mediapipe/pose, default (WebGL) |"
    )
    print("|---|---|---|---|---|")
    for complexity, mode, ours, cpu, gpu in rows:
        gpu_text = "-" if gpu is None else f"{gpu['median']:.0f} (n={gpu['n']})"
        print(
            f"| {complexity} | {mode} | {ours['median']:.1f} | {cpu['median']:.1f} | {gpu_text} |"
        )
    print("\nLiteRT.js alone, ms per call (median):\n")
    print("| model | threads | ms |")
    print("|---|---|---|")
    for name, figures in models.items():
        print(f"| {name} | {figures['threads']} | {figures['median']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
