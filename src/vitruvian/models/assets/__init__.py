"""The pinned BlazePose model files: where they come from, how they are verified and cached.

Every model is pinned by sha256 in ``manifest.json`` (next to this module). Files are fetched
once into a per-user cache and checked against the manifest every time :func:`model_path` hands
one out; a cached file that no longer matches is refused, never used.

Sources, tried in this order:

1. ``npm pack @mediapipe/pose@<pinned version>`` -- the npm tarball holds all four models
   (the detector is stored as ``pose_solution_packed_assets.data``). Without an npm client, the
   same tarball straight from the registry the user's npm settings name (``.npmrc``,
   ``npm_config_registry``), checked against its pinned sha256
   (:mod:`vitruvian.models.npm_registry`).
2. ``pip download mediapipe==<pinned version>`` (one platform wheel, never installed) -- holds the
   detector and the *full* landmark model only.

Without network access, copy a model file, the npm ``.tgz`` or the ``.whl`` over and install it
with :func:`import_model_file` (``vitruvian models import FILE``).

The cache lives in ``$VITRUVIAN_CACHE_DIR`` if set, else in the platform's user cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
on Windows) under ``vitruvian/models``, one ``<name>.tflite`` per model.

Writes are safe against interruption and concurrency:

* a model is written to a temporary ``.incoming-*.part`` file in the cache directory, hashed on
  the way, flushed to disk, and only renamed to ``<name>.tflite`` (an atomic replace) when its
  sha256 is a pinned one, so a partial or damaged download never becomes a cached file;
* every write into the cache holds an inter-process lock on ``<cache>/.lock``
  (:func:`cache_lock`: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows; the operating
  system releases it when a process dies), so two processes fetching or importing at the same
  time take turns, and the second one finds the models already there. Temporary files left by a
  killed process are removed by the next writer.

A fetch works in a temporary folder inside the cache directory, ``.tmp-<pid>-<source>-*``,
where the package client downloads (its ``TMPDIR`` points there too) and which is removed when
the fetch ends, however it ends:

* Ctrl-C, an error, or SIGTERM / SIGHUP (in the main thread, where they would otherwise kill
  the process on the spot): the package client is killed, the folder removed, and a signal
  ends the process with exit status 128 + its number (143 for SIGTERM, 129 for SIGHUP;
  :class:`SystemExit`);
* SIGKILL, or a crash: on Linux the client dies with its parent (``PR_SET_PDEATHSIG``); the
  folder stays until the next fetch or import, which removes ``.tmp-<pid>-*`` folders whose
  process is gone.

Reading needs no lock: a cached file is replaced atomically, so a reader sees the old or the new
file, never a mix, and checks its sha256 anyway.
"""

from vitruvian.models.assets.cache import (
    CACHE_ENV,
    ModelStatus,
    cache_dir,
    checked_cache_dir,
    file_sha256,
    model_name_for_complexity,
    model_status,
    verify,
)
from vitruvian.models.assets.fetch import fetch_models, model_path, verified_model
from vitruvian.models.assets.manifest import MODEL_NAMES, SOURCES, ModelError
from vitruvian.models.assets.manifest import _manifest as _manifest  # web, tests
from vitruvian.models.assets.store import (
    LOCK_NAME,
    cache_lock,
    import_model_file,
    write_cache_file,
)

__all__ = [
    "CACHE_ENV",
    "LOCK_NAME",
    "MODEL_NAMES",
    "SOURCES",
    "ModelError",
    "ModelStatus",
    "cache_dir",
    "cache_lock",
    "checked_cache_dir",
    "fetch_models",
    "file_sha256",
    "import_model_file",
    "model_name_for_complexity",
    "model_path",
    "model_status",
    "verified_model",
    "verify",
    "write_cache_file",
]
