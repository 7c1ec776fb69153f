"""The hardened reference stack passes a kill run, and its report carries a clean live audit."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.e2e.conftest import load_json, only_run_dir, run_scenario

pytestmark = [pytest.mark.e2e]


def test_web_secure_passes_with_no_high_finding(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-sec-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/secure-kill-app.yaml", tmp_path, project)
    log = proc.stdout + proc.stderr
    summary = load_json(only_run_dir(tmp_path) / "summary.json")
    assert proc.returncode == 0, (log, summary["verdict_reasons"], summary["errors"])
    assert summary["durability"]["lost"] == 0 and summary["durability"]["ok"] > 0
    audit = summary["audit"]
    assert audit["mode"] == "live", audit
    assert sorted(audit["services"]) == ["app", "db", "lb"]
    assert audit["counts"]["high"] == 0 and audit["counts"]["critical"] == 0, audit
