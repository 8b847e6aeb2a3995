"""Shared test configuration: the Hypothesis profiles of the property-based tests, and the
``real_models`` fixture (the verified model files of the real cache).

* ``fast`` (the default, used by ``make test`` and CI): 60 examples per property, so the whole
  of ``tests/test_fuzz.py`` stays well under 30 s. Derandomized: every run tries the same
  examples, so a green suite stays green on a correct program and a red one can be rerun.
* ``long`` (``make fuzz``): 2,500 random examples per property, to find new failures (add
  each one as an ``@example`` or fix it; the database replays it first next time).

Pick one with the ``HYPOTHESIS_PROFILE`` environment variable (``HYPOTHESIS_PROFILE=long
pytest tests/test_fuzz.py``). There is no deadline: a first call may load a model, and timing
is the benchmarks' business. Failing examples are remembered under ``.pytest_cache/hypothesis``
(git-ignored) and replayed first on the next run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

#: Examples per property in each profile.
PROFILE_EXAMPLES = {"fast": 60, "long": 2500}

_DATABASE = DirectoryBasedExampleDatabase(
    str(Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis")
)

for _name, _examples in PROFILE_EXAMPLES.items():
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        derandomize=_name == "fast",
        # A derandomized run needs no database (it replays nothing and saves nothing).
        database=None if _name == "fast" else _DATABASE,
        print_blob=True,
        # Images and archives are bigger than Hypothesis's usual data; generating them is fine.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(scope="session")
def real_models() -> dict[str, Path]:
    """The verified models in the real cache (fetched once if missing; skip when impossible)."""
    from vitruvian.models import MODEL_NAMES, ModelError, model_path

    paths = {}
    for name in MODEL_NAMES:
        try:
            paths[name] = model_path(name)
        except ModelError as exc:
            pytest.skip(f"real models unavailable (run `make models`): {exc}")
    return paths


@pytest.fixture
def no_npm_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No npm setting names a registry: no ``npm_config_*`` variables, global and user npmrc
    paths that do not exist, and a working directory without an ``.npmrc``."""
    for name in list(os.environ):
        if name.lower().startswith("npm_config_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("npm_config_globalconfig", str(tmp_path / "no-global-npmrc"))
    monkeypatch.setenv("npm_config_userconfig", str(tmp_path / "no-user-npmrc"))
    monkeypatch.chdir(tmp_path)
