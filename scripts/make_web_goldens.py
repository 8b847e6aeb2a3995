"""Write the JSON goldens that the browser package's calculator tests compare against.

Each module in ``scripts/web_goldens/`` defines ``goldens() -> dict``: inputs (seeded, so the
same every run) and what the Python calculators of ``vitruvian.calculators`` make of them. This
script writes one ``<module>.json`` per module into OUTDIR, for ``web/test/*.test.ts`` (node's
test runner) to read. The goldens are made fresh by ``make test-web``, never committed, so they
always come from the Python code being tested.

Usage::

    python scripts/make_web_goldens.py web/build/goldens
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent / "web_goldens"


def plain(value: Any) -> Any:
    """``value`` as JSON: arrays become nested lists, dataclasses dicts, NaN/inf strings."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    modules = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    for path in modules:
        spec = importlib.util.spec_from_file_location(f"web_goldens.{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        data = plain(module.goldens())
        (args.outdir / f"{path.stem}.json").write_text(json.dumps(data), encoding="utf-8")
    print(f"wrote {len(modules)} golden files to {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
