"""The one bridge to MediaPipe itself, for the comparisons: the benchmark (``vitruvian bench``),
the evaluation (``vitruvian eval coco --compare mediapipe``) and the parity goldens
(``scripts/make_goldens.py``).

MediaPipe runs in a *reference* Python (its own venv, e.g. with ``mediapipe==0.10.14``), where
:mod:`vitruvian.reference.worker` is started by file path; :mod:`vitruvian.reference.client`
talks to it, one JSON line per request (:class:`~vitruvian.reference.client.ReferencePython`,
:func:`~vitruvian.reference.client.run_job`).
"""

from vitruvian.reference.client import (
    REFERENCE_ENV_VAR,
    ReferencePython,
    ReferencePythonError,
    resolve_reference_python,
    run_job,
)

__all__ = [
    "REFERENCE_ENV_VAR",
    "ReferencePython",
    "ReferencePythonError",
    "resolve_reference_python",
    "run_job",
]
