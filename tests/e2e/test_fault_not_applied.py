"""A fault that never applied is an infrastructure error (exit 3), never a pass."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.e2e.conftest import events, load_json, only_run_dir, project_containers, run_scenario

pytestmark = pytest.mark.e2e


def test_fault_failing_mid_run_is_exit_3_and_everything_is_undone(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-nf-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/disk-missing-path.yaml", tmp_path, project)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "verdict: ERROR" in proc.stdout
    assert "/no/such/dir" in proc.stdout
    run_dir = only_run_dir(tmp_path)
    applies = [e for e in events(run_dir) if e["kind"] == "fault.apply"]
    assert [e["ok"] for e in applies] == [False]
    assert load_json(run_dir / "summary.json")["verdict"] == "error"
    assert load_json(run_dir / "run.json")["outcome"] == "error"
    assert project_containers(project) == []


def _netem_available() -> bool:
    from harness.engine.helpers import netem_available

    return netem_available()


def test_latency_without_netem_runs_through_the_proxy(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-lat-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/latency.yaml", tmp_path, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path)
    want = "netem" if _netem_available() else "proxy"
    evs = events(run_dir)
    [pre] = [e for e in evs if e["kind"] == "fault.preflight"]
    [apply] = [e for e in evs if e["kind"] == "fault.apply"]
    [revert] = [e for e in evs if e["kind"] == "fault.revert"]
    assert pre["mechanism"] == apply["mechanism"] == revert["mechanism"] == want
    assert apply["ok"] and revert["ok"]
    assert project_containers(project) == []


def test_netem_required_without_netem_stops_before_deploying(
    tmp_path: Path, down_after: list[str]
) -> None:
    if _netem_available():
        pytest.skip("this engine's kernel has sch_netem; the missing-netem path cannot occur")
    project = f"hachaos-e2e-netem-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/latency-netem.yaml", tmp_path, project)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "netem" in proc.stdout
    run_dir = only_run_dir(tmp_path)
    assert load_json(run_dir / "summary.json")["verdict"] == "error"
    assert not (run_dir / "samples.parquet").exists()  # no load was ever started
    assert project_containers(project) == []  # and nothing was deployed
