"""Model assets (fetch, verify, cache, import) and the runtime that executes them.

Contract (stable):

    from vitruvian.models import model_path, ModelError
    path: pathlib.Path = model_path("pose_detection")       # fetches on first use, verified
    model_path("pose_landmark_lite" | "pose_landmark_full" | "pose_landmark_heavy")

See :mod:`vitruvian.models.assets` for where the files come from and where they are cached
(``$VITRUVIAN_CACHE_DIR`` overrides the directory).
"""

from vitruvian.models.assets import (
    CACHE_ENV,
    MODEL_NAMES,
    SOURCES,
    ModelError,
    ModelStatus,
    cache_dir,
    fetch_models,
    import_model_file,
    model_name_for_complexity,
    model_path,
    model_status,
    verify,
)

__all__ = [
    "CACHE_ENV",
    "MODEL_NAMES",
    "SOURCES",
    "ModelError",
    "ModelStatus",
    "cache_dir",
    "fetch_models",
    "import_model_file",
    "model_name_for_complexity",
    "model_path",
    "model_status",
    "verify",
]
