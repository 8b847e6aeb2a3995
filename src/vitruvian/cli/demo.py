"""``vitruvian demo``: pose estimation on one image (MediaPipe's ``pose.jpg`` by default), an
annotated PNG and a landmarks JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import click

from vitruvian.cli.app import backend_option, cli
from vitruvian.cli.options import model_complexity_option

DEFAULT_DEMO_OUT = Path("out") / "demo"
#: The image ``vitruvian demo`` runs on without ``--input``: shipped in the package.
_DEMO_SAMPLE = "pose.jpg"


def _default_demo_input() -> Path:
    """MediaPipe's own test image (``vitruvian/data/pose.jpg``, Apache-2.0 from tfjs-models)."""
    path = Path(str(resources.files("vitruvian").joinpath("data", _DEMO_SAMPLE)))
    if not path.is_file():
        raise click.ClickException(
            f"the default demo image {path} is missing from this installation (a damaged "
            f"install?); reinstall vitruvian or pass --input IMAGE"
        )
    return path


def _landmark_rows(landmark_list: Any, names: Sequence[str] | None) -> list[dict[str, Any]]:
    rows = []
    for index, landmark in enumerate(landmark_list.landmark):
        row: dict[str, Any] = {"index": index}
        if names is not None and index < len(names):
            row["name"] = names[index]
        for field in ("x", "y", "z", "visibility", "presence"):
            row[field] = float(getattr(landmark, field))
        rows.append(row)
    return rows


@cli.command()
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"Image to process (default: MediaPipe's test image {_DEMO_SAMPLE}, shipped).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_OUT,
    show_default=True,
    help="Directory for the annotated PNG and the landmarks JSON.",
)
@model_complexity_option
@backend_option
def demo(
    input_path: Path | None, out_dir: Path, model_complexity: int, backend: str | None
) -> None:
    """Run pose estimation on one image; write an annotated PNG and a landmarks JSON."""
    import cv2

    from vitruvian.solutions import drawing_styles, drawing_utils
    from vitruvian.solutions import pose as mp_pose

    if input_path is None:
        input_path = _default_demo_input()
    image_bgr = cv2.imread(str(input_path), cv2.IMREAD_COLOR)
    if image_bgr is None:
        raise click.ClickException(f"cannot read {input_path} as an image (unsupported format?)")
    image_rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)

    pose = mp_pose.Pose(static_image_mode=True, model_complexity=model_complexity, backend=backend)
    try:
        results = pose.process(image_rgb)
        backend_used = pose.backend
    finally:
        pose.close()

    names = [member.name.lower() for member in mp_pose.PoseLandmark]
    found = results.pose_landmarks is not None
    height, width = image_bgr.shape[:2]
    record: dict[str, Any] = {
        "input": str(input_path),
        "image": {"width": int(width), "height": int(height)},
        "model_complexity": model_complexity,
        "backend": backend_used,
        "pose_found": found,
        "landmarks": _landmark_rows(results.pose_landmarks, names) if found else None,
        "world_landmarks": (
            _landmark_rows(results.pose_world_landmarks, names)
            if results.pose_world_landmarks is not None
            else None
        ),
    }
    annotated = image_bgr.copy()
    if found:
        drawing_utils.draw_landmarks(
            annotated,
            results.pose_landmarks,
            mp_pose.POSE_CONNECTIONS,
            landmark_drawing_spec=drawing_styles.get_default_pose_landmarks_style(),
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    png_path = out_dir / f"{input_path.stem}_pose.png"
    json_path = out_dir / f"{input_path.stem}_pose.json"
    if not cv2.imwrite(str(png_path), annotated):
        raise click.ClickException(f"cannot write {png_path}")
    json_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not found:
        click.echo(f"no pose found in {input_path}; wrote the unannotated image", err=True)
    click.echo(f"annotated image: {png_path}")
    click.echo(f"landmarks json:  {json_path}")
