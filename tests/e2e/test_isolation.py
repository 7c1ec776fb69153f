"""checks.isolation for real: a denied path found open fails the run; web-secure passes.

The passing run is also web-secure's e2e: durability on PostgreSQL and a clean live audit.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from harness.analysis.isolation import ALLOW_CHECK, DENY_CHECK
from tests.e2e.conftest import load_json, only_run_dir, run_scenario

pytestmark = [pytest.mark.e2e]


def _checks(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in summary["checks"]}  # type: ignore[attr-defined]


def test_open_denied_path_fails_the_run(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-leak-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/leaky-isolation.yaml", tmp_path, project)
    run_dir = only_run_dir(tmp_path)
    summary = load_json(run_dir / "summary.json")
    assert proc.returncode == 1, (proc.stdout + proc.stderr, summary["errors"])
    deny = _checks(summary)[DENY_CHECK]
    assert deny["passed"] is False and deny["measured"] >= 2  # baseline and final rounds
    assert "lb#1 → db#1:5432 open" in str(deny["detail"])
    assert _checks(summary)[ALLOW_CHECK]["passed"] is True
    assert summary["isolation"]["matrix"]["baseline"]["deny lb → db:5432"].get("open", 0) >= 1
    assert "VIOLATION" in (run_dir / "summary.md").read_text()


def test_web_secure_passes_and_keeps_isolation_under_partition(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-iso-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/secure-isolation-partition.yaml", tmp_path, project)
    run_dir = only_run_dir(tmp_path)
    summary = load_json(run_dir / "summary.json")
    assert proc.returncode == 0, (proc.stdout + proc.stderr, summary["verdict_reasons"])
    iso = summary["isolation"]
    assert _checks(summary)[DENY_CHECK]["measured"] == 0
    assert _checks(summary)[ALLOW_CHECK]["measured"] == 0
    # the partition really closed app -> db inside its window, and it was only reported
    assert iso["allowed_closed_in_window"] >= 1, iso
    phases = set(iso["matrix"])
    assert "baseline" in phases and "after recovery" in phases, phases
    assert any(p.startswith("during ") for p in phases), phases
    assert iso["overhead"]["rounds"] >= 5
    # web-secure itself: writes survive in PostgreSQL, and the live audit is clean
    assert summary["durability"]["lost"] == 0 and summary["durability"]["ok"] > 0
    audit = summary["audit"]
    assert audit["mode"] == "live" and sorted(audit["services"]) == ["app", "db", "lb"], audit
    assert audit["counts"]["high"] == 0 and audit["counts"]["critical"] == 0, audit
