"""The package's layers: no module imports one from a layer above its own.

From the bottom: plain helpers and the graph's pure steps (``calculators``), the model layer
(files, runtimes, backends, conversion), the graph (``pipeline``, ``tracking``), the
MediaPipe-compatible shell (``solutions``), inputs and outputs with extraction, the applications
(evaluation, benchmarks, the reference bridge, the web site, classification), and the command
line. A module may import its own layer and those below; in the bottom layer, the helpers import
nothing of ``vitruvian`` and ``calculators`` only ``types``.

Checked two ways: statically, every ``import`` of every module (those inside functions too), and
at run time, importing a layer in a fresh interpreter loads nothing above it. Nothing in the
repository imports the deprecated ``vitruvian.conversion`` (it warns; its place is
``vitruvian.models.conversion``).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "vitruvian"

#: Each top-level module or subpackage of ``vitruvian`` and its layer (bottom 0).
LAYERS: dict[str, int] = {
    **dict.fromkeys(
        (
            "_files",
            "_click",
            "types",
            "options",
            "progress",
            "image_input",
            "calculators",
            "crops",
            "segmentation_effects",
            "testing_clips",
        ),
        0,
    ),
    **dict.fromkeys(("models", "conversion"), 1),
    **dict.fromkeys(("pipeline", "tracking", "people_tracking"), 2),
    "solutions": 3,
    **dict.fromkeys(("io", "extract", "parallel"), 4),
    **dict.fromkeys(("eval", "benchmark", "reference", "web", "classify"), 5),
    "cli": 6,
    **dict.fromkeys(("__init__", "__main__"), 7),
}

#: What each module of the bottom layer may import besides itself.
BOTTOM_IMPORTS: dict[str, frozenset[str]] = {
    **{top: frozenset() for top, layer in LAYERS.items() if layer == 0},
    "calculators": frozenset({"types"}),
}

#: The deprecated shim of ``vitruvian.models.conversion``.
DEPRECATED = "vitruvian.conversion"


def _top(module: str) -> str:
    """``vitruvian.a.b`` -> ``a``; ``vitruvian`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _imports(path: Path) -> list[tuple[str, int]]:
    """The ``vitruvian`` modules ``path`` imports anywhere in it, with the line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "vitruvian":  # from vitruvian import web, crops, __version__
                found += [(f"vitruvian.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((node.module, node.lineno))
    return [(name, line) for name, line in found if name.split(".")[0] == "vitruvian"]


def test_every_module_has_a_layer() -> None:
    tops = {_top(name) for name, _ in _modules()}
    assert tops <= set(LAYERS), f"put these in LAYERS: {sorted(tops - set(LAYERS))}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for name, path in _modules():
        mine = LAYERS[_top(name) if name != "vitruvian" else "__init__"]
        for imported, line in _imports(path):
            top = _top(imported)
            if top.startswith("__"):  # vitruvian.__version__
                continue
            if LAYERS[top] > mine:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_bottom_layer_imports_only_what_it_may() -> None:
    wrong = []
    for name, path in _modules():
        top = _top(name)
        if LAYERS[top] != 0:
            continue
        for imported, line in _imports(path):
            other = _top(imported)
            if other != top and other not in BOTTOM_IMPORTS[top]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}")
    assert not wrong, "the bottom layer imports more than it may:\n" + "\n".join(wrong)


def test_nothing_imports_the_deprecated_conversion_path() -> None:
    """Only the shim itself; the package, its tests and scripts use the new place."""
    shim = PACKAGE / "conversion"
    old = []
    for folder in (PACKAGE, ROOT / "tests", ROOT / "scripts"):
        for path in sorted(folder.rglob("*.py")):
            if path.is_relative_to(shim):
                continue
            for imported, line in _imports(path):
                if imported == DEPRECATED or imported.startswith(f"{DEPRECATED}."):
                    old.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    fix = f"import vitruvian.models.conversion instead of {DEPRECATED}"
    assert not old, fix + ":\n" + "\n".join(old)


@pytest.mark.parametrize(
    "module",
    [
        "vitruvian.calculators",
        "vitruvian.models",
        "vitruvian.models.backends",
        "vitruvian.pipeline",
        "vitruvian.tracking",
        "vitruvian.solutions.pose",
        "vitruvian.io",
        "vitruvian.cli",
    ],
)
def test_importing_a_layer_loads_nothing_above_it(module: str) -> None:
    """In a fresh interpreter (what is already imported in this one does not count)."""
    code = (
        "import importlib, json, sys; importlib.import_module(sys.argv[1]); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('vitruvian.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, module], capture_output=True, text=True, check=True
    ).stdout
    loaded = {_top(name) for name in json.loads(out)}
    mine = _top(module)
    above = sorted(top for top in loaded if LAYERS[top] > LAYERS[mine])
    assert not above, f"importing {module} loads {above}"
    if LAYERS[mine] == 0:
        extra = sorted(loaded - {mine, *BOTTOM_IMPORTS[mine]})
        assert not extra, f"importing {module} loads {extra}"
    assert _top(DEPRECATED) not in loaded, f"importing {module} loads {DEPRECATED}"


def test_the_old_conversion_path_still_imports_with_a_warning() -> None:
    """``vitruvian.conversion`` moved to ``vitruvian.models.conversion``."""
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n    import vitruvian.conversion\nexcept DeprecationWarning as w:\n"
        "    print('warned:', w)\n"
        "warnings.simplefilter('ignore', DeprecationWarning)\n"
        "import vitruvian.conversion.cache as old, vitruvian.models.conversion.cache as new\n"
        "print(old is new)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "warned: vitruvian.conversion is deprecated" in out
    assert out.strip().endswith("True")
