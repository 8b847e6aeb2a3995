"""Deprecated: the TFLite -> ONNX converter moved to :mod:`vitruvian.models.conversion` (the
model layer holds the model files, their runtimes and their conversion).

``import vitruvian.conversion`` and its submodules (``cache``, ``densify``, ``tflite_reader``,
``tflite_to_onnx``) still work, with a :class:`DeprecationWarning`; each is the module of the
new place, so its objects are the same.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

from vitruvian.models.conversion import *  # noqa: F403

_NEW = "vitruvian.models.conversion"
_SUBMODULES = ("cache", "densify", "tflite_reader", "tflite_to_onnx")

warnings.warn(
    f"vitruvian.conversion is deprecated: import {_NEW} instead",
    DeprecationWarning,
    stacklevel=2,
)


class _Alias(MetaPathFinder, Loader):
    """``vitruvian.conversion.X`` is ``vitruvian.models.conversion.X`` (loaded when asked, as
    the converter's modules need the optional ``onnx`` package)."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        prefix, _, name = fullname.rpartition(".")
        if prefix == __name__ and name in _SUBMODULES:
            return ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(f"{_NEW}.{spec.name.rpartition('.')[2]}")

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed when it was imported under its new name."""


sys.meta_path.insert(0, _Alias())
