"""A run that ended before its load started (no t0_wall) still gets a report."""

from __future__ import annotations

import json
from pathlib import Path

from hachaos_runfolder import meta, scenario, write_run

from harness.report.pipeline import render_run


def test_run_without_t0_renders_an_error_report(tmp_path: Path) -> None:
    events = [
        {
            "kind": "fault.error",
            "wall": 1000.0,
            "mono": 1.0,
            "fault": "latency-1",
            "phase": "preflight",
            "error": "netem is not available",
        },
    ]
    run_meta = meta(
        t0_wall=None,
        started_wall=None,
        ended_wall=1000.5,
        outcome="error",
        errors=["netem is not available on this engine's kernel"],
        generator={},
    )
    run_dir = write_run(tmp_path / "run", None, events, run_meta=run_meta, scenario_doc=scenario())
    summary = render_run(run_dir)
    assert summary.verdict == "error"
    assert summary.requests == 0
    written = json.loads((run_dir / "summary.json").read_text())
    assert any("load never started" in w for w in written["warnings"])
    assert "netem is not available" in (run_dir / "report.html").read_text()
