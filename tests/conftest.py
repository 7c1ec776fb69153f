"""Shared fixtures. Docker-marked tests need a real engine and fail loudly without one."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_module(relative: str) -> ModuleType:
    """A Python file of the repository that is no package (a script, an app of a
    reference stack), loaded as a module for its unit tests."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _engine_up() -> bool:
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=20, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Docker/e2e tests fail (never silently skip) when the engine is missing."""
    needs_engine = [
        i for i in items if i.get_closest_marker("docker") or i.get_closest_marker("e2e")
    ]
    if not needs_engine or _engine_up():
        return
    if os.environ.get("HACHAOS_SKIP_DOCKER") == "1":
        skip = pytest.mark.skip(reason="HACHAOS_SKIP_DOCKER=1 and no engine")
        for item in needs_engine:
            item.add_marker(skip)
        return
    raise pytest.UsageError(
        "Docker-marked tests need a running engine: run `make test` (it starts one), "
        "or `pytest -m 'not docker and not e2e'` for unit tests only"
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT
