#!/usr/bin/env python
"""GPU check of vitruvian's ONNX Runtime backend: CUDA against the CPU, then throughput.

Meant for a machine with an NVIDIA GPU and ``onnxruntime-gpu`` (``pip install
'vitruvian[gpu]'``)::

    python scripts/gpu_check.py --out DIR            # on the GPU machine
    python scripts/gpu_check.py --out DIR --device cpu --batch-sizes 1,8   # dry run, any machine

Steps (each printed as it goes; everything also lands in ``DIR/gpu_check.json`` and
``DIR/gpu_check.md``):

1. ONNX Runtime's version and providers (and ``nvidia-smi``'s GPU, when there is one). With
   ``--device cuda`` (the default) the script stops with status 2 and a clear message when
   ONNX Runtime cannot run its CUDA provider here.
2. Agreement: each of the four models (detector, lite, full, heavy) is converted with
   :func:`vitruvian.models.conversion.cache.onnx_model_path` and loaded twice, ``OnnxModel(path,
   device=DEVICE)`` and ``OnnxModel(path, device="cpu")``; both run on random inputs (batch 1
   and batch 4) and on real inputs made by the pipeline from the shared images
   (``DATA_DIR/tfjs/pose.jpg``, then ``coco/images`` and ``mmpose``, when present): the
   detector's letterboxed image and the landmark models' crop around the detected person. The
   largest absolute difference per output is printed, with the output's largest magnitude; a
   difference above 5% of that magnitude (of 1, for outputs smaller than 1) is marked FAIL
   (TF32 and cuDNN's algorithms give small differences; a broken kernel gives large ones) and
   makes the exit status 1.
3. Model-only throughput on the device against batch size (``--batch-sizes``, default 1, 8,
   32, 64): ``run`` on a random batch, host arrays in and out (the copies to and from the GPU
   included), median of several timed calls after two warm-ups.
4. End to end: ``PosePipeline(1, backend="onnxruntime-cuda")`` (``onnxruntime-cpu`` with
   ``--device cpu``) on the shared images cycled to a whole number of the largest batch:
   images/s of the ``process`` loop and of ``process_batch`` at each batch size, with the CPU
   backends' loops (ONNX Runtime CPU, and LiteRT where installed) as references, and the
   largest landmark difference of the device's batches from the CPU loop.

The whole run keeps to ``--budget-s`` seconds (default 200, so that it ends well within 4
minutes): measurements that would start after it are recorded as skipped.

The models come from vitruvian's model cache; on a machine without network access point
``--cache-dir`` (or ``VITRUVIAN_CACHE_DIR``) at a folder holding the four ``.tflite`` files
(they are converted there in about a second). When ``vitruvian`` is not installed, the
checkout's ``src`` folder is used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"
MODELS = ("pose_detection", "pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy")
SHORT = {
    "pose_detection": "detector",
    "pose_landmark_lite": "lite",
    "pose_landmark_full": "full",
    "pose_landmark_heavy": "heavy",
}
DETECTOR_OUTPUTS = ("boxes", "scores")
LANDMARK_OUTPUTS = ("landmarks", "pose_flag", "heatmap", "world_landmarks", "segmentation")
#: Real inputs per model in the agreement step.
REAL_IMAGES = 3
#: A difference above this share of the output's magnitude (at least 1) is a failure.
FAIL_SHARE = 0.05
PROG = "gpu_check.py"


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error and exit with status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def say(message: str) -> None:
    """Progress line on stdout."""
    print(message, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check vitruvian's ONNX Runtime backend on an NVIDIA GPU: CUDA against "
        "the CPU per model, model-only throughput against batch size, end-to-end "
        "PosePipeline.process_batch throughput.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the summary files")
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="device under test; cpu = a dry run of every step without a GPU",
    )
    parser.add_argument(
        "--batch-sizes",
        default="1,8,32,64",
        help="batch sizes of the throughput steps, comma-separated",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the shared data (images)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="vitruvian's model cache (sets VITRUVIAN_CACHE_DIR): a folder with the .tflite "
        "files, for machines without network access",
    )
    parser.add_argument(
        "--budget-s", type=float, default=200.0, help="time budget of the whole run, seconds"
    )
    args = parser.parse_args(argv)
    try:
        args.batch_sizes = sorted({int(v) for v in args.batch_sizes.split(",") if v.strip()})
    except ValueError:
        parser.error(f"--batch-sizes: integers separated by commas, got {args.batch_sizes!r}")
    if not args.batch_sizes or args.batch_sizes[0] < 1:
        parser.error("--batch-sizes must be integers >= 1")
    if args.budget_s <= 0:
        parser.error("--budget-s must be > 0")
    return args


class Budget:
    """The run's time budget."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.seconds - self.elapsed()


def import_vitruvian() -> str:
    """Import vitruvian (the checkout's ``src`` when it is not installed); its location."""
    try:
        import vitruvian
    except ImportError:
        sys.path.insert(0, str(REPO / "src"))
        import vitruvian
    return str(Path(vitruvian.__file__).parent)


def environment(device: str) -> dict[str, Any]:
    """Versions, providers and the GPU as ``nvidia-smi`` names it."""
    import onnxruntime as ort

    info: dict[str, Any] = {
        "device": device,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "onnxruntime": ort.__version__,
        "onnxruntime_device": ort.get_device(),
        "providers": ort.get_available_providers(),
        "cpu_count": os.cpu_count(),
        "gpu": None,
    }
    if shutil.which("nvidia-smi"):
        query = "--query-gpu=name,driver_version,memory.total"
        try:
            proc = subprocess.run(
                ["nvidia-smi", query, "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            info["gpu"] = proc.stdout.strip() or proc.stderr.strip() or None
        except (OSError, subprocess.TimeoutExpired) as exc:
            info["gpu"] = f"nvidia-smi failed: {exc}"
    return info


def check_cuda() -> None:
    """Exit with a clear message when ONNX Runtime cannot run CUDA here."""
    import onnxruntime as ort

    from vitruvian.models.backends import onnxruntime_gpu_works

    providers = ort.get_available_providers()
    if "CUDAExecutionProvider" not in providers:
        fail(
            f"CUDA is not available: onnxruntime {ort.__version__} here has only "
            f"{', '.join(providers)}. Install onnxruntime-gpu (pip install 'vitruvian[gpu]'; "
            "uninstall the CPU onnxruntime first) with a CUDA/cuDNN it was built for, or pass "
            "--device cpu for a dry run."
        )
    if not onnxruntime_gpu_works():
        fail(
            "CUDA is not available: onnxruntime-gpu is installed but its CUDA provider does not "
            "start (no GPU, or a driver/CUDA/cuDNN mismatch; run a session with log level 0 to "
            "see why). Pass --device cpu for a dry run."
        )


# -- inputs -------------------------------------------------------------------------------------


def image_paths(data_dir: Path) -> list[Path]:
    """``tfjs/pose.jpg`` first, then ``coco/images/*.jpg`` and ``mmpose/*.jpg`` (sorted)."""
    paths = [data_dir / "tfjs" / "pose.jpg"]
    for folder in ("coco/images", "mmpose"):
        paths.extend(sorted((data_dir / folder).glob("*.jpg")))
    return [p for p in paths if p.is_file()]


def decode(paths: Sequence[Path]) -> list[np.ndarray]:
    """RGB uint8 images (undecodable files skipped)."""
    import cv2

    images = []
    for path in paths:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is not None:
            images.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return images


def real_inputs(
    paths: Sequence[Path], images: Sequence[np.ndarray], count: int
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """The detector's and the landmark models' exact input tensors for the first ``count``
    images with a detected person, built by the pipeline itself (its private input helpers,
    so that the tensors are exactly what the models see)."""
    from vitruvian.calculators.detection_to_roi import detection_to_roi
    from vitruvian.pipeline import DETECTOR_SIZE, LANDMARK_SIZE, PosePipeline

    detector: list[tuple[str, np.ndarray]] = []
    landmark: list[tuple[str, np.ndarray]] = []
    with PosePipeline(1, backend="onnxruntime-cpu") as pipeline:
        for path, image in zip(paths, images, strict=True):
            if len(detector) >= count:
                break
            found = pipeline.detect(image)
            if not found:
                continue
            det = np.empty((1, DETECTOR_SIZE, DETECTOR_SIZE, 3), np.float32)
            matrix, _ = pipeline._detector_transform(image)
            pipeline._detector_input(image, matrix, det[0])
            height, width = image.shape[:2]
            roi = detection_to_roi(found[0].keypoints, width, height)
            crop = np.empty((1, LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
            matrix, _ = pipeline._landmark_transform(image, roi)
            pipeline._landmark_input(image, matrix, crop[0])
            detector.append((f"real {path.name}", det))
            landmark.append((f"real {path.name}", crop))
    return detector, landmark


def random_input(name: str, batch: int, seed: int = 0) -> np.ndarray:
    """Uniform noise in the model's input range (``[-1, 1]`` detector, ``[0, 1]`` landmarks)."""
    size = 224 if name == "pose_detection" else 256
    low = -1.0 if name == "pose_detection" else 0.0
    rng = np.random.default_rng(seed)
    return rng.uniform(low, 1.0, (batch, size, size, 3)).astype(np.float32)


def output_shapes(name: str) -> tuple[tuple[str, ...], list[tuple[int, ...]]]:
    """Labels and batch-1 shapes of all the outputs the pipeline can ask of model ``name``."""
    if name == "pose_detection":
        return DETECTOR_OUTPUTS, [(1, 2254, 12), (1, 2254, 1)]
    return LANDMARK_OUTPUTS, [(1, 195), (1, 1), (1, 64, 64, 39), (1, 117), (1, 256, 256, 1)]


# -- steps --------------------------------------------------------------------------------------


def compare_models(
    device: str,
    real: dict[str, list[tuple[str, np.ndarray]]],
    budget: Budget,
) -> list[dict[str, Any]]:
    """Step 2: each model on the device against the CPU; one row per (model, input, output)."""
    from vitruvian.models.conversion.cache import onnx_model_path
    from vitruvian.models.runtime import OnnxModel

    rows: list[dict[str, Any]] = []
    for name in MODELS:
        start = time.perf_counter()
        path = onnx_model_path(name)
        convert_s = time.perf_counter() - start
        start = time.perf_counter()
        on_device = OnnxModel(path, device=device)
        load_s = time.perf_counter() - start
        on_cpu = OnnxModel(path, device="cpu")
        labels, shapes = output_shapes(name)
        indices = on_device.output_indices(shapes)
        say(
            f"{SHORT[name]}: {path.name} ({path.stat().st_size / 1e6:.1f} MB), convert/check "
            f"{convert_s:.2f} s, load on {device} {load_s:.2f} s, providers {on_device.providers}"
        )
        inputs = [
            ("random b1", random_input(name, 1)),
            ("random b4", random_input(name, 4, seed=1)),
            *real["detector" if name == "pose_detection" else "landmark"],
        ]
        for input_name, tensor in inputs:
            got = on_device.run(tensor, indices)
            want = on_cpu.run(tensor, indices)
            for label, a, b in zip(labels, got, want, strict=True):
                diff = float(np.max(np.abs(a.astype(np.float64) - b)))
                scale = float(np.max(np.abs(b)))
                ok = bool(np.isfinite(diff)) and diff <= FAIL_SHARE * max(scale, 1.0)
                rows.append(
                    {
                        "model": SHORT[name],
                        "input": input_name,
                        "output": label,
                        "shape": list(a.shape),
                        "max_abs_diff": diff,
                        "max_abs": scale,
                        "ok": ok,
                    }
                )
                say(
                    f"  {input_name:28s} {label:16s} max |diff| {diff:.3e} "
                    f"(max |value| {scale:.3g}) {'ok' if ok else 'FAIL'}"
                )
        on_device.close()
        on_cpu.close()
        if budget.left() < 0:
            say("time budget spent: agreement check stopped early")
            break
    return rows


def time_calls(
    call: Callable[[], object],
    warmup: int = 2,
    min_runs: int = 3,
    max_runs: int = 20,
    max_s: float = 2.0,
) -> list[float]:
    """Seconds per call: ``warmup`` untimed calls, then at least ``min_runs`` and at most
    ``max_runs`` timed ones, stopping once ``max_s`` seconds of timed calls have passed."""
    for _ in range(warmup):
        call()
    times: list[float] = []
    while len(times) < max_runs and (len(times) < min_runs or sum(times) < max_s):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def model_throughput(
    device: str, batch_sizes: Sequence[int], budget: Budget
) -> list[dict[str, Any]]:
    """Step 3: model-only throughput on the device against batch size (plus the CPU at batch
    1 as a reference when the device is the GPU)."""
    from vitruvian.models.conversion.cache import onnx_model_path
    from vitruvian.models.runtime import OnnxModel

    rows: list[dict[str, Any]] = []
    runs = [(device, size) for size in batch_sizes]
    if device != "cpu":
        runs.append(("cpu", 1))
    for name in MODELS:
        models = {d: OnnxModel(onnx_model_path(name), device=d) for d in {d for d, _ in runs}}
        _, shapes = output_shapes(name)
        indices = models[device].output_indices(shapes[:4] if len(shapes) == 5 else shapes)
        for run_device, size in runs:
            row: dict[str, Any] = {"model": SHORT[name], "device": run_device, "batch": size}
            if budget.left() < 0:
                row["skipped"] = "time budget"
                rows.append(row)
                continue
            tensor = random_input(name, size)
            model = models[run_device]
            times = time_calls(lambda m=model, t=tensor, i=indices: m.run(t, i))
            median = float(np.median(times))
            row.update(
                ms_per_batch=median * 1e3,
                ms_per_item=median * 1e3 / size,
                items_per_s=size / median,
                runs=len(times),
            )
            rows.append(row)
            say(
                f"{SHORT[name]:8s} {run_device:4s} batch {size:3d}: {median * 1e3:8.2f} ms/batch, "
                f"{size / median:8.1f} items/s"
            )
        for model in models.values():
            model.close()
    return rows


def end_to_end(
    device: str, images: Sequence[np.ndarray], batch_sizes: Sequence[int], budget: Budget
) -> dict[str, Any]:
    """Step 4: ``PosePipeline(1).process_batch`` on the device against the ``process`` loop and
    the CPU backends' loops."""
    import importlib.util

    from vitruvian.pipeline import PosePipeline

    largest = max(batch_sizes)
    total = math.ceil(len(images) / largest) * largest
    inputs = [images[i % len(images)] for i in range(total)]
    backend = f"onnxruntime-{device}"
    configs: list[tuple[str, int | None]] = [(backend, None), *((backend, b) for b in batch_sizes)]
    references = [] if device == "cpu" else ["onnxruntime-cpu"]
    if importlib.util.find_spec("ai_edge_litert") is not None:
        references.append("litert")
    configs += [(ref, None) for ref in references]
    pipelines: dict[str, Any] = {}
    results: dict[tuple[str, int | None], list[Any]] = {}
    rows: list[dict[str, Any]] = []
    try:
        for run_backend, size in configs:
            row: dict[str, Any] = {
                "backend": run_backend,
                "mode": "loop" if size is None else "process_batch",
                "batch": size,
            }
            rows.append(row)
            if budget.left() < 0:
                row["skipped"] = "time budget"
                continue
            if run_backend not in pipelines:
                pipelines[run_backend] = PosePipeline(1, backend=run_backend)
            pipeline = pipelines[run_backend]

            def one_pass(p: Any = pipeline, b: int | None = size) -> list[Any]:
                if b is None:
                    return [p.process(image) for image in inputs]
                out: list[Any] = []
                for first in range(0, len(inputs), b):
                    out.extend(p.process_batch(inputs[first : first + b]))
                return out

            results[run_backend, size] = one_pass()  # warm-up, and the results compared
            times = time_calls(one_pass, warmup=0, min_runs=2, max_runs=3, max_s=5.0)
            median = float(np.median(times))
            row.update(
                images_per_s=total / median,
                ms_per_image=median * 1e3 / total,
                images_with_pose=sum(r is not None for r in results[run_backend, size]),
                passes=len(times),
            )
            say(
                f"e2e {run_backend:16s} {row['mode']:13s} batch {size or '-'!s:>3}: "
                f"{total / median:8.1f} images/s, {median * 1e3 / total:7.2f} ms/image"
            )
    finally:
        for pipeline in pipelines.values():
            pipeline.close()
    reference = results.get(("onnxruntime-cpu", None))
    for row in rows:
        got = results.get((row["backend"], row["batch"]))
        if got is None or reference is None or row["backend"] == "litert":
            continue
        same = [(a, b) for a, b in zip(got, reference, strict=True)]
        row["pose_agreement_with_cpu"] = sum((a is None) == (b is None) for a, b in same)
        diffs = [
            float(np.max(np.abs(a.landmarks - b.landmarks)))
            for a, b in same
            if a is not None and b is not None
        ]
        row["max_landmark_diff_vs_cpu"] = max(diffs, default=0.0)
    return {"images": len(images), "inputs_per_pass": total, "complexity": 1, "rows": rows}


# -- summary ------------------------------------------------------------------------------------


def markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown tables."""
    env = summary["environment"]
    lines = [
        f"## GPU check ({env['device']})",
        "",
        f"- onnxruntime {env['onnxruntime']} ({env['onnxruntime_device']}), providers: "
        f"{', '.join(env['providers'])}; GPU: {env['gpu'] or 'none found'}; python "
        f"{env['python']}, {env['cpu_count']} CPUs; total {summary['elapsed_s']:.0f} s",
        "",
        f"### Agreement, {env['device']} vs cpu (max |diff| per output)",
        "",
        "| model | input | output | max abs diff | max abs value | ok |",
        "|---|---|---|---:|---:|---|",
    ]
    for row in summary["agreement"]:
        lines.append(
            f"| {row['model']} | {row['input']} | {row['output']} | {row['max_abs_diff']:.2e} "
            f"| {row['max_abs']:.3g} | {'ok' if row['ok'] else 'FAIL'} |"
        )
    lines += [
        "",
        "### Model-only throughput (host arrays in and out)",
        "",
        "| model | device | batch | ms/batch | ms/item | items/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in summary["model_throughput"]:
        if "skipped" in row:
            lines.append(f"| {row['model']} | {row['device']} | {row['batch']} | skipped |||")
            continue
        lines.append(
            f"| {row['model']} | {row['device']} | {row['batch']} | {row['ms_per_batch']:.2f} "
            f"| {row['ms_per_item']:.3f} | {row['items_per_s']:.1f} |"
        )
    e2e = summary["end_to_end"]
    if e2e is not None:
        lines += [
            "",
            f"### End to end, `PosePipeline(1)`: {e2e['images']} images cycled to "
            f"{e2e['inputs_per_pass']} per pass",
            "",
            "| backend | mode | batch | images/s | ms/image | with pose | max landmark diff vs "
            "cpu loop |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in e2e["rows"]:
            if "skipped" in row:
                lines.append(f"| {row['backend']} | {row['mode']} | {row['batch']} | skipped ||||")
                continue
            diff = row.get("max_landmark_diff_vs_cpu")
            lines.append(
                f"| {row['backend']} | {row['mode']} | {row['batch'] or '–'} "
                f"| {row['images_per_s']:.1f} | {row['ms_per_image']:.2f} "
                f"| {row['images_with_pose']}/{e2e['inputs_per_pass']} "
                f"| {'–' if diff is None else f'{diff:.1e}'} |"
            )
    lines += ["", *[f"Note: {note}" for note in summary["notes"]]]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check; 0 when every output agrees, 1 when one does not, 2 when it cannot run."""
    args = parse_args(argv)
    budget = Budget(args.budget_s)
    if args.cache_dir is not None:
        os.environ["VITRUVIAN_CACHE_DIR"] = str(args.cache_dir.resolve())
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        fail("onnxruntime is not installed: pip install 'vitruvian[gpu]' (or [onnx] for cpu)")
    location = import_vitruvian()
    env = environment(args.device)
    env["vitruvian"] = location
    say(
        f"onnxruntime {env['onnxruntime']} ({env['onnxruntime_device']}); providers: "
        f"{', '.join(env['providers'])}"
    )
    say(f"GPU: {env['gpu'] or 'none found (no nvidia-smi)'}; vitruvian from {location}")
    if args.device == "cuda":
        check_cuda()
    notes: list[str] = []
    if args.device == "cpu":
        notes.append("dry run: the device under test is the CPU, so the agreement is trivial.")

    paths = image_paths(args.data_dir)
    images = decode(paths)
    real: dict[str, list[tuple[str, np.ndarray]]] = {"detector": [], "landmark": []}
    if images:
        real["detector"], real["landmark"] = real_inputs(paths, images, REAL_IMAGES)
    else:
        notes.append(f"no images under {args.data_dir}: random inputs only, no end-to-end step.")
        say(notes[-1])

    say("\n== agreement ==")
    agreement = compare_models(args.device, real, budget)
    say("\n== model-only throughput ==")
    throughput = model_throughput(args.device, args.batch_sizes, budget)
    e2e = None
    if images:
        say("\n== end to end ==")
        e2e = end_to_end(args.device, images, args.batch_sizes, budget)
    if budget.left() < 0:
        notes.append(f"the time budget ({args.budget_s:.0f} s) ran out: some steps skipped.")
    summary = {
        "environment": env,
        "settings": {
            "device": args.device,
            "batch_sizes": args.batch_sizes,
            "data_dir": str(args.data_dir),
            "budget_s": args.budget_s,
            "fail_share": FAIL_SHARE,
        },
        "agreement": agreement,
        "model_throughput": throughput,
        "end_to_end": e2e,
        "notes": notes,
        "elapsed_s": budget.elapsed(),
    }
    failed = [row for row in agreement if not row["ok"]]
    summary["ok"] = not failed
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "gpu_check.md").write_text(markdown(summary))
    say(
        f"\nwrote {args.out / 'gpu_check.json'} and {args.out / 'gpu_check.md'} "
        f"in {budget.elapsed():.0f} s"
    )
    if failed:
        say(f"{len(failed)} outputs disagree by more than {FAIL_SHARE:.0%} of their magnitude")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
