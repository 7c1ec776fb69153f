"""The run's security audit (run.json `audit`) appears in every report format."""

from __future__ import annotations

import json
from pathlib import Path

from hachaos_runfolder import kill_run

from harness.report.pipeline import render_run

AUDIT = {
    "compose_file": "compose/x.yaml",
    "mode": "live",
    "services": ["app"],
    "counts": {"low": 0, "medium": 0, "high": 1, "critical": 0},
    "findings": [
        {
            "rule": "root-user",
            "severity": "high",
            "service": "app",
            "message": "the running container's user is root",
            "fix": "set `user:`",
            "file": "compose/x.yaml",
            "line": 7,
        }
    ],
}


def _run_with_audit(tmp_path: Path, audit: dict[str, object]) -> Path:
    run = kill_run(tmp_path / "run", {"availability": {"overall": 0.5}})
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "audit": audit}))
    render_run(run)
    return run


def test_audit_in_every_format(tmp_path: Path) -> None:
    run = _run_with_audit(tmp_path, AUDIT)
    assert json.loads((run / "summary.json").read_text())["audit"] == AUDIT
    md = (run / "summary.md").read_text()
    assert "### Security audit" in md
    assert (
        "| high | root-user | app | compose/x.yaml:7 | the running container's user is root "
        "| set \\`user:\\` |" in md  # cell text is escaped: a backtick stays literal
    )
    assert "live audit of compose/x.yaml: 0 critical, 1 high, 0 medium, 0 low" in md
    html = (run / "report.html").read_text()
    assert "<h2>Security audit</h2>" in html
    assert "compose/x.yaml:7" in html


def test_audit_error_is_reported_and_no_audit_means_no_section(tmp_path: Path) -> None:
    run = _run_with_audit(tmp_path / "a", {"error": "engine gone"})
    assert "The audit could not run: engine gone" in (run / "summary.md").read_text()
    plain = kill_run(tmp_path / "b" / "run", {"availability": {"overall": 0.5}})
    render_run(plain)
    assert "Security audit" not in (plain / "summary.md").read_text()
    assert json.loads((plain / "summary.json").read_text())["audit"] is None
