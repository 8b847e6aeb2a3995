"""Convert each pinned model to ONNX once and cache it beside its ``.tflite``.

For model ``<name>`` the cache holds ``<name>.onnx`` and ``<name>.onnx.json``, a small record of
what the ONNX file was made from and its own sha256::

    {"model": ..., "source_sha256": <the .tflite's sha256>, "converter_version": 1,
     "opset": 17, "sha256": <the .onnx's sha256>, "size": <bytes>}

:func:`onnx_model_path` hands out the file only when that record matches the verified
``.tflite`` and this converter's version, and the ``.onnx`` still has its recorded sha256.
Otherwise (first use, a new converter, a changed or damaged file) it converts again, under the
cache's write lock, and replaces both files atomically. Converted files are derived data: they
are rebuilt, never trusted, when anything disagrees.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from vitruvian.models.assets import (
    ModelError,
    cache_lock,
    file_sha256,
    verified_model,
    write_cache_file,
)

ONNX_SUFFIX = ".onnx"
RECORD_SUFFIX = ".onnx.json"
_INSTALL_HINT = "pip install 'vitruvian[onnx]' (or 'vitruvian[gpu]' for CUDA)"


def _expected_record(name: str, source_sha256: str) -> dict[str, Any]:
    from vitruvian.models.conversion.tflite_to_onnx import CONVERTER_VERSION, OPSET

    return {
        "model": name,
        "source_sha256": source_sha256,
        "converter_version": CONVERTER_VERSION,
        "opset": OPSET,
    }


def _valid_cached(onnx_path: Path, record_path: Path, expected: dict[str, Any]) -> str | None:
    """Why the cached ONNX file cannot be used (``None``: it can)."""
    if not onnx_path.exists() or not record_path.exists():
        return "not converted yet"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable record {record_path.name} ({exc})"
    for key, value in expected.items():
        if record.get(key) != value:
            return f"made from a different {key.replace('_', ' ')}"
    try:
        digest, size = file_sha256(onnx_path)
    except OSError as exc:
        return f"unreadable ({exc})"
    if digest != record.get("sha256") or size != record.get("size"):
        return "its sha256 no longer matches its record (changed or damaged)"
    return None


def onnx_state(name: str, tflite_path: Path, source_sha256: str | None) -> str:
    """``"converted"`` (usable as is), ``"stale"`` (will be converted again) or ``"-"`` (not
    converted yet, or no verified ``.tflite``), for ``vitruvian models list``."""
    onnx_path = tflite_path.with_suffix(ONNX_SUFFIX)
    record_path = tflite_path.with_name(tflite_path.stem + RECORD_SUFFIX)
    if source_sha256 is None or not onnx_path.exists():
        return "-"
    reason = _valid_cached(onnx_path, record_path, _expected_record(name, source_sha256))
    return "converted" if reason is None else "stale"


def onnx_model_path(name: str, *, download: bool = True) -> Path:
    """The cached ONNX conversion of model ``name``, converting (once) when needed.

    Args:
        name: one of :data:`vitruvian.models.MODEL_NAMES`.
        download: fetch the ``.tflite`` first if it is not cached.

    Raises:
        ModelError: the ``.tflite`` is missing or fails its checksum (see
            :func:`~vitruvian.models.model_path`), the ``onnx`` package is not installed, the
            conversion fails, or the cache cannot be written.
    """
    tflite_path, source_sha256 = verified_model(name, download=download)
    onnx_path = tflite_path.with_suffix(ONNX_SUFFIX)
    record_path = tflite_path.with_name(tflite_path.stem + RECORD_SUFFIX)
    try:
        expected = _expected_record(name, source_sha256)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            f"converting {name} to ONNX needs the onnx package: {_INSTALL_HINT}"
        ) from exc
    if _valid_cached(onnx_path, record_path, expected) is None:
        return onnx_path
    with cache_lock() as directory:
        reason = _valid_cached(onnx_path, record_path, expected)  # another process may have won
        if reason is None:
            return onnx_path
        if reason != "not converted yet":
            print(f"vitruvian: re-converting {name} to ONNX: {reason}", flush=True, file=sys.stderr)
        data = _convert(name, tflite_path)
        try:
            write_cache_file(directory, onnx_path, data)
            record = {
                **expected,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
            write_cache_file(directory, record_path, (json.dumps(record, indent=1) + "\n").encode())
        except OSError as exc:
            raise ModelError(
                f"cannot write the converted model to {directory} ({exc}); free some space or "
                "set VITRUVIAN_CACHE_DIR to a writable directory"
            ) from exc
    return onnx_path


def _convert(name: str, tflite_path: Path) -> bytes:
    try:
        from vitruvian.models.conversion.tflite_reader import ConversionError
        from vitruvian.models.conversion.tflite_to_onnx import convert_tflite
    except ImportError as exc:
        raise ModelError(f"converting {name} to ONNX needs {exc.name}: {_INSTALL_HINT}") from exc
    try:
        return convert_tflite(tflite_path).SerializeToString()
    except ConversionError as exc:
        raise ModelError(f"cannot convert {tflite_path.name} to ONNX: {exc}") from exc
    except ImportError as exc:
        raise ModelError(f"converting {name} to ONNX needs {exc.name}: {_INSTALL_HINT}") from exc
