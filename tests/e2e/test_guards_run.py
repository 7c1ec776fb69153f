"""Guards on a stack the tests define (tests/e2e/stacks/guarded): abort and steady_state.

Real engine, real `hachaos run`. The abort run keeps its stack (--keep) so the
engine's state after the abort can be checked; `down_after` removes it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, events, load_json, only_run_dir, project_containers

pytestmark = pytest.mark.e2e


def _run(scenario: str, out: Path, project: str, state: Path, *extra: str) -> Any:
    return subprocess.run(
        [*HACHAOS, "run", scenario, "--quiet", "--out", str(out), "--project", project, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},  # never see other runs' journals
    )


def _journal(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines() if x]


def _state(project: str, service: str) -> str:
    out = subprocess.run(
        ["docker", "compose", "-p", project, "ps", "-a", "--format", "json", service],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    rows = [json.loads(x) for x in out.splitlines() if x.strip().startswith("{")]
    if not rows and out.strip().startswith("["):
        rows = json.loads(out)
    assert len(rows) == 1, out
    return str(rows[0]["State"])


def test_abort_fires_within_2s_reverts_and_cancels(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-abort-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = _run(
        "tests/e2e/scenarios/guard-abort.yaml", tmp_path / "out", project, tmp_path, "--keep"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verdict: ABORTED" in proc.stdout
    assert "aborted: availability < 50% over 2s at t=" in proc.stdout
    run_dir = only_run_dir(tmp_path / "out")
    evs = events(run_dir)
    [abort] = [e for e in evs if e["kind"] == "abort"]
    [done] = [e for e in evs if e["kind"] == "abort.reverted"]
    applies = [e for e in evs if e["kind"] == "fault.apply"]
    reverts = [e for e in evs if e["kind"] == "fault.revert"]
    # The kill applied, then the availability condition held after it, and the abort
    # acted within 2 s of that instant; the revert started right away and worked.
    assert [(e["key"], e["ok"]) for e in applies] == [("kill-api#0", True)], evs
    assert abort["type"] == "availability"
    assert abort["condition_wall"] >= applies[0]["wall_start"]
    assert 0 <= abort["wall"] - abort["condition_wall"] <= 2.0
    assert [(e["key"], e["ok"]) for e in reverts] == [("kill-api#0", True)]
    assert abort["wall"] <= reverts[0]["wall_start"] <= abort["wall"] + 0.5
    assert reverts[0]["wall_end"] <= done["wall"]
    assert done["ok"] and done["reverted"] == ["kill-api#0"]
    # Planned to be reverted at t = 23 s: it was reverted long before.
    t0 = next(e for e in evs if e["kind"] == "run.start")["t0_wall"]
    assert reverts[0]["wall_end"] - t0 < 15.0
    # The later fault was cancelled, never applied; the cooldown still ran.
    assert abort["cancelled"] == ["never-applied#0"]
    phases = [e for e in evs if e["kind"] == "phase"]
    assert phases[-1]["phase"] == "cooldown" and phases[-1]["wall"] >= done["wall"]
    [after] = [e for e in evs if e["kind"] == "steady" and e["stage"] == "after"]
    assert after["ok"], after
    assert after["wall"] - phases[-1]["wall"] >= 3.5, (after, phases)  # cooldown is 4 s
    # The journal: one intent, applied, reverted, and closed; nothing left to undo.
    ops = [(j["op"], j.get("key")) for j in _journal(run_dir) if j["op"] != "stack"]
    assert ops[:4] == [
        ("open", None),
        ("intent", "kill-api#0"),
        ("applied", None),
        ("revert", None),
    ]
    assert ("reverted", None) in ops and ops[-1] == ("closed", None)
    # The engine: the killed replica runs again, the never-applied one was never paused.
    assert _state(project, "api") == "running"
    assert _state(project, "jobs") == "running"
    # Every report says so.
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "aborted"
    assert summary["run"]["outcome"] == "aborted"
    assert summary["verdict_reasons"][0].startswith("aborted at t=")
    assert summary["abort"]["detection_s"] <= 2.0
    assert summary["abort"]["cancelled"] == ["never-applied#0"]
    assert "ABORTED" in (run_dir / "report.html").read_text()
    assert 'id="abort"' in (run_dir / "report.html").read_text()
    assert "### Abort" in (run_dir / "summary.md").read_text()
    junit = (run_dir / "junit.xml").read_text()
    assert 'name="abort conditions"' in junit and 'type="abort"' in junit


def test_a_failing_probe_aborts_and_the_pause_is_undone(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-probe-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = _run(
        "tests/e2e/scenarios/guard-probe.yaml", tmp_path / "out", project, tmp_path, "--keep"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path / "out")
    evs = events(run_dir)
    [apply] = [e for e in evs if e["kind"] == "fault.apply"]
    [abort] = [e for e in evs if e["kind"] == "abort"]
    [revert] = [e for e in evs if e["kind"] == "fault.revert"]
    # The probe (condition 0) tripped, not the command (its GETs to api kept passing).
    assert (abort["index"], abort["type"], abort["measured"]) == (0, "probe", 2.0), abort
    assert abort["detail"].startswith("no answer: ")  # paused: the GET timed out
    assert abort["condition_wall"] >= apply["wall_end"]
    assert 0 <= abort["wall"] - abort["condition_wall"] <= 2.0
    assert revert["ok"] and abort["wall"] <= revert["wall_start"] <= abort["wall"] + 0.5
    assert _state(project, "jobs") == "running"  # unpaused
    assert load_json(run_dir / "summary.json")["verdict"] == "aborted"


def test_unsteady_system_is_refused_before_any_fault(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-unsteady-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = _run("tests/e2e/scenarios/guard-unsteady.yaml", tmp_path / "out", project, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "system not steady: jobs backlog: $.state = 'backlogged', expected 'ok'" in proc.stdout
    run_dir = only_run_dir(tmp_path / "out")
    evs = events(run_dir)
    assert not [e for e in evs if e["kind"].startswith("fault.") and e["kind"] != "fault.preflight"]
    [before] = [e for e in evs if e["kind"] == "steady"]
    assert before["stage"] == "before" and not before["ok"]
    assert [r["ok"] for r in before["results"]] == [True, False]
    assert not [j for j in _journal(run_dir) if j["op"] in ("intent", "applied")]
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "error"
    assert any(r.startswith("system not steady: jobs backlog") for r in summary["verdict_reasons"])
    assert "system not steady" in (run_dir / "summary.md").read_text()
    assert project_containers(project) == []
