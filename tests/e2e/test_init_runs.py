"""`hachaos init` on a stack the tests define: the file it writes runs unchanged, for real."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import (
    HACHAOS,
    ROOT,
    load_json,
    only_run_dir,
    project_containers,
    run_scenario,
)

pytestmark = [pytest.mark.e2e]

STACK = ROOT / "tests" / "e2e" / "stacks" / "orders" / "compose.yaml"


def _init(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, "init", str(STACK), "-o", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_output_runs_unchanged(
    tmp_path: Path, down_after: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    scenario = tmp_path / "scenarios" / "orders.yaml"
    made = _init(scenario, "--duration", "8s")
    assert made.returncode == 0, made.stdout + made.stderr
    text = scenario.read_text()
    data = yaml.safe_load(text)
    # what init found in the compose file: the entry, its port and its healthcheck's path
    assert data["stack"]["target"] == {"service": "api", "port": 8080}
    assert data["stack"]["ready_path"] == "/api/healthz"
    assert data["load"]["requests"] == [{"name": "ready", "method": "GET", "path": "/api/healthz"}]
    assert data["faults"] == [] and "# - type: pause" in text  # suggested, commented out

    # never overwritten without --force
    again = _init(scenario)
    assert again.returncode == 2 and "exists" in again.stderr
    assert scenario.read_text() == text
    assert _init(scenario, "--force", "--duration", "8s").returncode == 0
    assert scenario.read_text() == text  # same compose, same file

    project = f"hachaos-e2e-init-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario(str(scenario), tmp_path / "out", project)
    log = proc.stdout + proc.stderr
    summary = load_json(only_run_dir(tmp_path / "out") / "summary.json")
    assert summary["verdict"] == "pass", (summary["verdict_reasons"], log)
    assert proc.returncode == 0, log
    assert summary["metrics"]["overall"]["requests"] > 50
    assert project_containers(project) == []
