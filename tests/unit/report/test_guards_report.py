"""An aborted run with steady-state rounds, through the analysis and every report format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hachaos_runfolder import T0, fault_events, meta, scenario, steady, write_run

from harness.analysis.inputs import load_run
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, parse_summary
from harness.cli.output import verdict_exit_code
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown


def _steady(stage: str, ok: bool, wall: float) -> dict[str, Any]:
    result = {"probe": "api status", "ok": ok, "status": 200 if ok else 503, "latency_ms": 4.0}
    result["saw"] = "status 200 in 4.0 ms" if ok else "status 503, expected 200"
    return {"kind": "steady", "stage": stage, "ok": ok, "wall": wall, "results": [result]}


def _aborted_run(tmp_path: Path, after_ok: bool, cooldown: float = 0.0, end: float = 32) -> Summary:
    """10 rps; kill at 20 s; the abort condition held at 21.0, acted at 21.5, reverted 22.0."""
    events = [
        _steady("before", True, T0 + 0.01),
        *fault_events("kill-1", 20.0, 20.5, 21.6),
        {
            "kind": "abort",
            "index": 0,
            "type": "availability",
            "condition": "availability < 50% over 1s",
            "measured": 0.4,
            "detail": "availability 40.0% of 10 requests",
            "condition_wall": T0 + 21.0,
            "wall": T0 + 21.5,
            "cancelled": ["kill-1#1"],
            "active": ["kill-1#0"],
        },
        {"kind": "abort.reverted", "wall": T0 + 22.0, "reverted": ["kill-1#0"], "ok": True},
        _steady("after", after_ok, T0 + 32.0),
    ]
    frame = steady(-5, end, 10)
    doc = scenario({"availability": {"overall": "50%"}})
    doc["steady_state"] = {"probes": [{"name": "api status", "path": "/api/status"}]}
    run = write_run(
        tmp_path / "run",
        frame,
        events,
        run_meta=meta(outcome="aborted", ended_wall=T0 + 35.0, cooldown=cooldown),
        scenario_doc=doc,
    )
    return analyse(load_run(run))


def test_aborted_summary(tmp_path: Path) -> None:
    s = _aborted_run(tmp_path, after_ok=True)
    assert s.verdict == "aborted"
    assert verdict_exit_code(s.verdict) == 1
    assert s.verdict_reasons == [
        "aborted at t=21.00s: availability < 50% over 1s (availability 40.0% of 10 requests)"
    ]
    a = s.abort
    assert a is not None
    assert (a.condition_s, a.aborted_s, a.reverted_s) == (21.0, 21.5, 22.0)
    assert (a.detection_s, a.revert_s) == (0.5, 1.0)
    assert a.cancelled == ["kill-1#1"] and a.reverted == ["kill-1#0"]
    # Measurement ends one cooldown (0 s here) after the revert (22 s), but never before
    # the last request (31.9 s).
    assert s.end_s == pytest.approx(31.9 + 1e-6, abs=1e-9)
    steady_checks = [c for c in s.checks if c.phase.startswith("steady:")]
    assert [(c.name, c.passed) for c in steady_checks] == [
        ("steady state before the faults: api status", True),
        ("steady state after the cooldown: api status", True),
    ]
    assert s.steady_state is not None
    assert s.steady_state["after"][0].saw == "status 200 in 4.0 ms"
    doc = s.to_json_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["abort"]["detection_s"] == 0.5 and doc["steady_state"]["before"][0]["ok"]
    assert parse_summary(doc) == s  # summary.json reads back into the same model


def test_an_aborted_run_measures_one_cooldown_after_the_revert(tmp_path: Path) -> None:
    # Reverted at 22 s, cooldown 5 s: the load stopped at 27 s (last request 26.9 s); the
    # teardown that followed (ended_wall 35 s) is not measured time.
    s = _aborted_run(tmp_path, after_ok=True, cooldown=5.0, end=27)
    assert s.end_s == 27.0
    assert s.metrics["overall"].duration_s == 27.0
    assert s.metrics["overall"].throughput_rps == 10.0  # 270 requests (0 … 26.9 s) in 27 s


def test_not_steady_at_the_end_is_a_failed_check(tmp_path: Path) -> None:
    s = _aborted_run(tmp_path, after_ok=False)
    assert s.verdict == "aborted"  # the abort outranks the failed check, both listed
    assert s.verdict_reasons[1:] == ["check failed: steady state after the cooldown: api status"]


def test_every_format_shows_the_abort_and_the_steady_rounds(tmp_path: Path) -> None:
    s = _aborted_run(tmp_path, after_ok=False)
    html = render_html(s)
    assert 'class="banner aborted"' in html and 'id="abort"' in html
    assert "0.50 s after the condition" in html and "1.00 s after the condition" in html
    assert 'id="steady-state"' in html and "status 503, expected 200" in html
    assert 'fill="#bc4c00"' in html  # the abort (21.0 → 22.0 s) shaded on the time series
    md = render_markdown(s)
    assert "## 🛑 hachaos ABORTED" in md
    assert "| condition held | t=21.00 s |" in md
    assert "| cancelled | kill-1#1 |" in md
    assert "| after the cooldown | api status | NO | 503 |" in md
    suite = ET.fromstring(render_junit(s)).find("testsuite")
    assert suite is not None
    [case] = [c for c in suite.iter("testcase") if c.get("name") == "abort conditions"]
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "abort"
    assert (failure.get("message") or "").startswith("aborted at t=21.00s")
    names = [c.get("name") for c in suite.iter("testcase")]
    assert "steady state after the cooldown: api status" in names
