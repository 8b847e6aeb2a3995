"""The benchmark report as Markdown (printed on stdout; the JSON holds the same and more)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vitruvian.benchmark.common import MEDIAPIPE

#: JSON key of the segmentation-on group in the video section.
_SEGMENTATION_ON = "segmentation_on"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _range_text(values: Sequence[int] | None) -> str:
    """``"3"`` when all values are equal, ``"2–4"`` otherwise, ``"–"`` for none."""
    if not values:
        return "–"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


_RSS_NOTE = (
    "peak RSS = the peak resident memory of the implementation's process during its passes "
    "(`VmHWM`, reset before each pass where Linux allows, after `gc.collect()` and "
    "`malloc_trim`), so it includes what that process holds besides the implementation: the "
    "decoded inputs, and for ours the other ours implementations interleaved with it."
)


def render_static(report: dict[str, Any]) -> list[str]:
    """Markdown lines of the static-image section: settings, latency and cold-start tables."""
    settings = report["settings"]
    lines = [
        "### Static-image mode",
        "",
        f"- {settings['images']} images, 1 warm-up + {settings['repeats']} timed passes each, "
        "interleaved; per-call `time.perf_counter`; static mode; CPU ms/img = process CPU time "
        "(all threads) per image; "
        + (
            "cold start = fresh interpreter: import + model load + first frame, median of "
            f"{settings['cold_runs']}"
            if settings["cold_runs"]
            else "cold start skipped"
        ),
        "",
        "| c | implementation | median ms | p10 ms | p90 ms | CPU ms/img | images with pose "
        "| ours / MediaPipe | cold start ms | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = report["labels"]
    for key, entry in report["results"].items():
        cold = entry.get("cold_start", {})
        for name, stats in entry["latency"].items():
            ratio = entry["ratio"].get(name)
            ratio_text = (
                "1 (ref)" if name == MEDIAPIPE else ("–" if ratio is None else f"{ratio:.2f}x")
            )
            cold_text = _ms(cold.get(name, {}).get("total_ms"))
            lines.append(
                f"| {key} | {labels[name]} | {stats['median_ms']:.1f} | {stats['p10_ms']:.1f} "
                f"| {stats['p90_ms']:.1f} | {stats['cpu_ms_per_image']:.1f} "
                f"| {stats['images_with_pose']}/{stats['images']} | {ratio_text} | {cold_text} "
                f"| {_mb(stats.get('peak_rss_mb'))} |"
            )
    if any(entry.get("cold_start") for entry in report["results"].values()):
        lines += [
            "",
            "Cold start (medians, ms): import, model load, first frame, their total, and the "
            "launch's wall time seen from the parent (interpreter start-up and exit included).",
            "",
            "| c | implementation | import | load | first frame | total | launch wall |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for key, entry in report["results"].items():
            for name, cold in entry.get("cold_start", {}).items():
                lines.append(
                    f"| {key} | {labels[name]} | {cold['import_ms']:.0f} | {cold['load_ms']:.0f} "
                    f"| {cold['first_frame_ms']:.0f} | {cold['total_ms']:.0f} "
                    f"| {cold['wall_ms']:.0f} |"
                )
    busy = {
        name: "/".join(
            f"{entry['latency'][name]['cpu_per_wall']:.1f}" for entry in report["results"].values()
        )
        for name in labels
    }
    keys = "/".join(f"c{key}" for key in report["results"])
    lines += [
        "",
        f"Note: cores kept busy during `process()` (CPU time / wall time), {keys}: "
        + "; ".join(f"{labels[name]} {value}" for name, value in busy.items())
        + ".",
        f"Note: {_RSS_NOTE}",
    ]
    return lines


def render_video(video: dict[str, Any]) -> list[str]:
    """Markdown lines of the video-mode section: settings, latency table, notes."""
    settings = video["settings"]
    height, width = video["frame_size"]
    seg_text = " and ".join("on" if seg else "off" for seg in settings["segmentation"])
    lines = [
        "### Video mode",
        "",
        f"- `{video['video']}`: {video['frames']} frames, {width}x{height}, decoded once to RGB "
        f"(outside the timing); segmentation {seg_text}; per complexity, 1 warm-up + "
        f"{settings['repeats']} timed pass{'' if settings['repeats'] == 1 else 'es'} per "
        "implementation and segmentation setting, "
        "interleaved; a fresh `Pose` per pass (construction not timed), so each pass starts with "
        "a detection; per-frame `time.perf_counter` around `process()`; MediaPipe in video mode "
        "with its default options; CPU ms/frame = process CPU time (all threads) per frame; "
        "detector runs/pass = ours' `pose.stats.detector_runs` (range over the timed passes)",
        "",
        "| c | segmentation | implementation | median ms/frame | mean ms/frame | p10 ms "
        "| p90 ms | CPU ms/frame | frames with pose | detector runs/pass "
        "| ours / MediaPipe (median) | ours / MediaPipe (mean) | peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = video["labels"]
    busy: dict[str, list[str]] = {}
    for key, entry in video["results"].items():
        for seg_name, group in entry.items():
            seg_text = "on" if seg_name == _SEGMENTATION_ON else "off"
            for name, stats in group["latency"].items():
                ratio = group["ratio"].get(name)
                if name == MEDIAPIPE:
                    median_ratio = mean_ratio = "1 (ref)"
                elif ratio is None:
                    median_ratio = mean_ratio = "–"
                else:
                    median_ratio = f"{ratio['median']:.2f}x"
                    mean_ratio = f"{ratio['mean']:.2f}x"
                with_pose = _range_text(stats["frames_with_pose_per_pass"])
                lines.append(
                    f"| {key} | {seg_text} | {labels[name]} | {stats['median_ms']:.1f} "
                    f"| {stats['mean_ms']:.1f} | {stats['p10_ms']:.1f} | {stats['p90_ms']:.1f} "
                    f"| {stats['cpu_ms_per_frame']:.1f} | {with_pose}/{stats['frames']} "
                    f"| {_range_text(stats['detector_runs_per_pass'])} "
                    f"| {median_ratio} | {mean_ratio} | {_mb(stats.get('peak_rss_mb'))} |"
                )
                busy.setdefault(f"{labels[name]}, segmentation {seg_text}", []).append(
                    f"{stats['cpu_per_wall']:.1f}"
                )
    keys = "/".join(f"c{key}" for key in video["results"])
    notes = [
        f"cores kept busy during `process()` (CPU time / wall time), {keys}: "
        + "; ".join(f"{name} {'/'.join(values)}" for name, values in busy.items())
        + ".",
        *video["notes"],
    ]
    return [*lines, "", *[f"Note: {note}" for note in notes]]


def render_extract(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the extraction section."""
    settings = section["settings"]
    clips = section["clips"]
    clip_text = "; ".join(
        f"{key}: `{clip['video']}`, {clip['frames']} frames, "
        f"{clip['frame_size'][1]}x{clip['frame_size'][0]}, {clip['codec']}"
        for key, clip in clips.items()
    )
    lines = [
        "### Offline extraction (video file to landmark rows)",
        "",
        f"- clips: {clip_text}. End to end from the file: open, decode, BGR to RGB, inference, "
        "one landmark row per frame kept in memory; the pose object is built first (load, "
        f"not in frames/s). Per complexity, 1 warm-up pass each on the short clip, then "
        f"{settings['repeats']} timed pass{'' if settings['repeats'] == 1 else 'es'} per clip "
        "and implementation, interleaved; frames/s = median over the passes (range in "
        "brackets); CPU ms/frame = process CPU time (all threads) per frame.",
        "",
        "| c | clip | implementation | frames/s | ms/frame | CPU ms/frame | load ms "
        "| frames with pose | peak RSS MB | ours / MediaPipe (frames/s) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = section["labels"]
    agreement: list[str] = []
    for key, entry in section["results"].items():
        for clip, group in entry.items():
            for name, stats in group["throughput"].items():
                ratio = group["ratio"].get(name)
                if name == MEDIAPIPE:
                    ratio_text = "1 (ref)"
                else:
                    ratio_text = "–" if ratio is None else f"{ratio:.2f}x"
                lines.append(
                    f"| {key} | {clip} | {labels[name]} | {stats['fps']:.1f} "
                    f"({stats['fps_min']:.1f}–{stats['fps_max']:.1f}) "
                    f"| {stats['ms_per_frame']:.2f} | {stats['cpu_ms_per_frame']:.1f} "
                    f"| {stats['load_ms']:.0f} "
                    f"| {stats['frames_with_pose']}/{stats['frames']} "
                    f"| {_mb(stats['peak_rss_mb'])} | {ratio_text} |"
                )
            difference = group["batch_vs_loop_max_abs_diff"]
            agreement.append(
                f"c{key} {clip} "
                + ("frames or poses differ" if difference is None else f"{difference:.1e}")
            )
    notes = [
        "largest landmark difference between ours' batch extractor and ours' frame loop "
        "(normalised units): " + ", ".join(agreement) + ".",
        "peak RSS = the process's peak resident memory during the pass, model loading "
        "included (`VmHWM`, reset before each pass where Linux allows, after `gc.collect()` "
        "and `malloc_trim`).",
        *section["notes"],
    ]
    return [*lines, "", *[f"Note: {note}" for note in notes]]


def render_soak(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the soak section: one row per phase, then the RSS samples."""
    settings = section["settings"]
    lines = [
        "### Soak (memory over a long run)",
        "",
        f"- video phase: `Pose()` video mode, {settings['video_frames']} frames of "
        f"`{section['video']}` ({section['video_frames']} frames played forwards then "
        f"backwards); static phase: `Pose(static_image_mode=True)`, "
        f"{settings['static_images']} calls over {section['images']} images in turn. RSS = "
        "`VmRSS` sampled during the run; growth = end minus the baseline sample (at a tenth of "
        f"the run); target: video growth < {settings['growth_target_mb']:.0f} MB.",
        "",
        "| c | phase | calls | ms/call | with pose | RSS first sample MB | RSS baseline MB "
        "| RSS end MB | growth MB | peak RSS MB | target met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    sample_lines: list[str] = []
    for key, entry in section["results"].items():
        for phase, stats in entry.items():
            growth = stats["growth_mb"]
            met = stats.get("target_met")
            met_text = "–" if met is None else ("yes" if met else "no")
            lines.append(
                f"| {key} | {phase} | {stats['calls']} | {stats['ms_per_call']:.1f} "
                f"| {stats['with_pose']} | {_ms(stats['rss_first_sample_mb'])} "
                f"| {_ms(stats['rss_baseline_mb'])} (call {stats['baseline_calls']}) "
                f"| {_ms(stats['rss_end_mb'])} "
                f"| {'–' if growth is None else f'{growth:+.1f}'} "
                f"| {_ms(stats['peak_rss_mb'])} | {met_text} |"
            )
            values = " ".join(
                "?" if s["rss_mb"] is None else f"{s['rss_mb']:.0f}" for s in stats["samples"]
            )
            sample_lines.append(f"c{key} {phase}, RSS MB every {stats['interval']} calls: {values}")
    return [*lines, "", *[f"Note: {line}" for line in sample_lines]]


def render_models(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the model-only section: one row per model and backend."""
    settings = section["settings"]
    backends = settings["backends"]
    lines = [
        "### Model-only latency",
        "",
        f"- each model alone (no pre- or post-processing), batch 1, on a fixed input "
        f"({settings['input']}), {settings['num_threads']} threads on every backend; "
        f"{settings['warmup_runs']} warm-up calls, then {settings['rounds']} "
        f"round{'' if settings['rounds'] == 1 else 's'} of {settings['runs_per_round']} timed "
        "`run` calls per backend, interleaved; load = the model's load time (ONNX conversion "
        "excluded); CPU ms/call = process CPU time (all threads) per call",
        "",
        "| model | input | backend | median ms | p10 ms | p90 ms | mean ms | CPU ms/call "
        f"| load ms | vs {backends[0]} (median) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, per_backend in section["results"].items():
        for backend, stats in per_backend.items():
            shape = "x".join(str(d) for d in stats["input_shape"])
            ratio = "1 (ref)" if backend == backends[0] else f"{stats['ratio_to_first']:.2f}x"
            lines.append(
                f"| {section['labels'][name]} | {shape} | {backend} | {stats['median_ms']:.2f} "
                f"| {stats['p10_ms']:.2f} | {stats['p90_ms']:.2f} | {stats['mean_ms']:.2f} "
                f"| {stats['cpu_ms_per_call']:.2f} | {stats['load_ms']:.0f} | {ratio} |"
            )
    if len(backends) > 1:
        lines += [
            "",
            "Median ms per call, side by side:",
            "",
            "| model | " + " | ".join(backends) + " |",
            "|---|" + "---:|" * len(backends),
        ]
        for name, per_backend in section["results"].items():
            lines.append(
                f"| {section['labels'][name]} | "
                + " | ".join(f"{per_backend[b]['median_ms']:.2f}" for b in backends)
                + " |"
            )
    return lines


def render_batch(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the batch section: the loop, then each batch size, per backend."""
    settings = section["settings"]
    repeats = settings["repeats"]
    lines = [
        "### Batch throughput (`PosePipeline.process_batch`)",
        "",
        f"- {len(section['images'])} images, {section['inputs_per_pass']} per pass; "
        f"{settings['num_threads']} threads on every backend; per configuration 1 warm-up + "
        f"{repeats} timed pass{'' if repeats == 1 else 'es'}, interleaved; loop = "
        "`process(image)` one by one; batch B = `process_batch` on slices of B images; "
        "images/s from the median pass (range over the passes); CPU ms/img = process CPU time "
        "(all threads) per image; max diff = largest landmark difference from the loop's "
        "results (normalised units)",
        "",
        "| c | backend | batch size | images/s | ms/image | CPU ms/img | vs loop "
        "| images with pose | max diff |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, per_backend in section["results"].items():
        for backend, entry in per_backend.items():
            rows = [("loop", entry["loop"]), *entry["batches"].items()]
            for size, stats in rows:
                is_loop = size == "loop"
                diff = stats.get("max_abs_diff_vs_loop")
                diff_text = "–" if is_loop else ("poses differ" if diff is None else f"{diff:.1e}")
                speedup = "1 (ref)" if is_loop else f"{stats['speedup_vs_loop']:.2f}x"
                lines.append(
                    f"| {key} | {backend} | {'loop (`process`)' if is_loop else size} "
                    f"| {stats['images_per_s']:.1f} "
                    f"({stats['images_per_s_min']:.1f}–{stats['images_per_s_max']:.1f}) "
                    f"| {stats['ms_per_image']:.2f} | {stats['cpu_ms_per_image']:.1f} "
                    f"| {speedup} | {stats['images_with_pose']}/{stats['results']} "
                    f"| {diff_text} |"
                )
    return [*lines, "", *[f"Note: {note}" for note in section["notes"]]]


def render_profile(section: dict[str, Any]) -> list[str]:
    """Markdown lines of the profile section: the top functions by own time."""
    lines = [
        f"### Profile: ours, video mode, complexity {section['complexity']}",
        "",
        f"- `{section['video']}`, {section['frames']} frames x {section['passes']} passes under "
        f"cProfile: {section['ms_per_frame_profiled']:.2f} ms/frame profiled, "
        f"{section['ms_per_frame_unprofiled']:.2f} ms/frame without the profiler. Top "
        f"{len(section['top'])} by own time (tottime):",
        "",
        "| function | calls/frame | own ms/frame | share | cumulative ms/frame |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in section["top"]:
        share = row["share_of_total"]
        lines.append(
            f"| `{row['function']}` | {row['calls_per_frame']:.2f} "
            f"| {row['tottime_ms_per_frame']:.3f} "
            f"| {'–' if share is None else f'{share:.1%}'} "
            f"| {row['cumtime_ms_per_frame']:.3f} |"
        )
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown: machine, then each section that ran, then notes."""
    machine = report["machine"]
    mp_versions = report["versions"].get(MEDIAPIPE)
    backends = report["settings"].get("backends") or []
    onnx = (
        f"onnxruntime {machine.get('onnxruntime')}, "
        if any(b.startswith("onnxruntime") for b in backends)
        else ""
    )
    lines = [
        "## Pose latency: vitruvian vs MediaPipe",
        "",
        f"- machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), {machine['platform']}",
        f"- ours: python {machine['python']}, numpy {machine['numpy']}, "
        f"opencv {machine['opencv']}, litert {machine['litert']}, {onnx}"
        f"vitruvian {machine['vitruvian']} ({machine['vitruvian_threads']} inference threads)",
    ]
    if report["settings"].get("backends_requested") is not None:
        lines.append(f"- backends: {', '.join(backends)}")
    if mp_versions:
        lines.append(
            f"- reference: mediapipe {mp_versions['mediapipe']}, python {mp_versions['python']}, "
            f"numpy {mp_versions['numpy']}, opencv {mp_versions['opencv']}"
        )
    if report["results"]:
        lines += ["", *render_static(report)]
    if report.get("video"):
        lines += ["", *render_video(report["video"])]
    if report.get("extract"):
        lines += ["", *render_extract(report["extract"])]
    if report.get("parallel"):
        from vitruvian.benchmark.parallel import render_parallel

        lines += ["", *render_parallel(report["parallel"])]
    if report.get("soak"):
        lines += ["", *render_soak(report["soak"])]
    if report.get("models"):
        lines += ["", *render_models(report["models"])]
    if report.get("batch"):
        lines += ["", *render_batch(report["batch"])]
    if report.get("people"):
        from vitruvian.benchmark.people import render_people

        lines += ["", *render_people(report["people"])]
    if report.get("profile"):
        lines += ["", *render_profile(report["profile"])]
    if report["notes"]:
        lines += ["", *[f"Note: {note}" for note in report["notes"]]]
    return "\n".join(lines) + "\n"
