"""`hachaos isolation` against the real engine on web-secure: the observed matrix and its block."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.scenario.models import IsolationCheck

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[3]


def test_isolation_command_observes_web_secure(tmp_path: Path) -> None:
    out = tmp_path / "isolation.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "isolation", "compose/web-secure/compose.yaml",
         "--write", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    block = IsolationCheck.model_validate(yaml.safe_load(out.read_text())["checks"]["isolation"])
    deny = {(r.from_, r.to, r.port) for r in block.deny}
    allow = {(r.from_, r.to, r.port) for r in block.allow}
    # front (lb, app) and back (app, db, internal): only the edge and the data tier are apart
    assert deny == {("lb", "db", 5432), ("db", "lb", 8080)}
    assert {("lb", "app", 8000), ("app", "db", 5432)} <= allow
    assert "tearing" in proc.stderr  # the stack was removed again
