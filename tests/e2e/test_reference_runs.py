"""The two reference scenarios, run for real: HA survives a replica kill, single does not."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.e2e.conftest import events, load_json, only_run_dir, project_containers, run_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_kill_replica_behind_haproxy_passes(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-ha-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("scenarios/kill-replica.yaml", tmp_path, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: PASS" in proc.stdout
    run_dir = only_run_dir(tmp_path)
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "pass"
    overall = summary["metrics"]["overall"]
    assert overall["availability"] >= 0.99
    assert overall["requests"] >= 60 * 100 * 0.9  # open model, 100 rps for 60+ s
    kinds = [(e["kind"], e.get("ok")) for e in events(run_dir) if e["kind"].startswith("fault.")]
    assert kinds == [("fault.apply", True), ("fault.revert", True)]
    for name in ("report.html", "summary.md", "junit.xml", "samples.parquet", "run.json"):
        assert (run_dir / name).is_file(), name
    assert project_containers(project) == []  # torn down


def test_same_kill_on_single_replica_shows_the_outage(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-single-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("scenarios/single-replica-kill.yaml", tmp_path, project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verdict: FAIL" in proc.stdout
    summary = load_json(only_run_dir(tmp_path) / "summary.json")
    assert summary["verdict"] == "fail"
    # 10 s of a 60 s run with the only replica down: roughly 1/6 of requests fail.
    assert summary["metrics"]["overall"]["availability"] < 0.95
    assert project_containers(project) == []
