"""vitruvian: BlazePose (MediaPipe Pose) in plain Python and numpy.

Two ways in:

* MediaPipe's Solution API, unchanged: ``import vitruvian as mp`` then
  ``mp.solutions.pose.Pose(...)``, ``mp.solutions.drawing_utils``,
  ``mp.solutions.drawing_styles``.
* The numpy-first API: :class:`PosePipeline` (``process(rgb_image)`` returns a
  :class:`PoseResult` with ``(33, 5)`` landmark arrays, or ``None``).

Importing the package is cheap: submodules and the inference runtime load on first use.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vitruvian import solutions
    from vitruvian.pipeline import PosePipeline
    from vitruvian.types import PoseResult

__all__ = ["PosePipeline", "PoseResult", "__version__", "solutions"]

try:
    __version__: str = metadata.version("vitruvian")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

# Public name -> (module, attribute or None for the module itself), imported on first access.
_LAZY: dict[str, tuple[str, str | None]] = {
    "solutions": ("vitruvian.solutions", None),
    "PosePipeline": ("vitruvian.pipeline", "PosePipeline"),
    "PoseResult": ("vitruvian.types", "PoseResult"),
}


def __getattr__(name: str) -> Any:
    """Import the lazily exported names on first access (PEP 562)."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'vitruvian' has no attribute {name!r}")
    module_name, attribute = target
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _explained(exc) from exc
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


#: Shared libraries that OpenCV's GUI build (``opencv-python``) loads from the system.
_GUI_LIBRARIES = ("libGL.so", "libgthread", "libglib", "libSM.so", "libXext", "libxcb")


def _explained(exc: ImportError) -> ImportError:
    """``exc``, with the fix when it is OpenCV's GUI build missing a system library."""
    text = str(exc)
    if not any(library in text for library in _GUI_LIBRARIES):
        return exc
    return ImportError(
        f"{text}. OpenCV's GUI build (opencv-python, which vitruvian depends on so that "
        f"cv2.imshow works as with MediaPipe) needs the system's OpenGL and GLib libraries. Fix: "
        f"install them (Debian/Ubuntu: apt-get install libgl1 libglib2.0-0), or on a server "
        f"without a display use the headless build instead: pip uninstall -y opencv-python "
        f"&& pip install opencv-python-headless"
    )


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
