"""Accuracy of the pose pipeline on COCO-format keypoint annotations (``vitruvian eval coco``).

Modules:

* :mod:`vitruvian.eval.coco`: the data set, the two protocols (person crops, whole images), the
  BlazePose -> COCO keypoint mapping and the predictions in COCO results format; also runs
  MediaPipe's side through a reference Python (:mod:`vitruvian.reference`).
* :mod:`vitruvian.eval.metrics`: COCO OKS AP through pycocotools, PCK@0.2, detection rate and
  latency, gathered per run in :class:`~vitruvian.eval.metrics.Figures`.
* :mod:`vitruvian.eval.report`: the terminal table, the JSON file, the Markdown report and its
  bar charts.

The metrics and charts need the ``eval`` extra (``pip install vitruvian[eval]``: pycocotools
and matplotlib); without it they raise :class:`EvalError` naming that command. This package
module itself imports nothing heavy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EVAL_EXTRA_HINT", "EvalError", "import_eval_dependency"]

#: How to install what the metrics and charts need.
EVAL_EXTRA_HINT = "pip install vitruvian[eval]"


class EvalError(Exception):
    """An evaluation cannot run: a missing dependency, unreadable data, a failed reference run.

    The message is one line meant for the user (the CLI prints it as ``Error: ...``).
    """


def import_eval_dependency(module: str) -> ModuleType:
    """Import an optional dependency of the ``eval`` extra, or explain how to install it.

    Args:
        module: the module to import, e.g. ``"pycocotools.cocoeval"``.

    Returns:
        The imported module.

    Raises:
        EvalError: the module is not installed; the message names :data:`EVAL_EXTRA_HINT`.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise EvalError(
            f"{package} is needed for `vitruvian eval` but cannot be imported ({exc}); "
            f"install the eval extra: {EVAL_EXTRA_HINT}"
        ) from exc
