"""`hachaos compare --baseline history`: a run judged against its scenario's history."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
from hachaos_runfolder import meta, scenario, steady, write_run
from typer.testing import CliRunner

from harness.analysis.gate import GatePolicy
from harness.cli.app import app
from harness.history.baseline import judge_against_history
from harness.history.folders import run_record
from harness.history.store import HistoryStore
from harness.history.url import history_url as resolve
from harness.report.gate import add_to_junit
from harness.report.pipeline import render_run

DAY = 86_400.0


def run(reports: Path, n: int, latency_ms: float) -> Path:
    """A fault-free run of 'synthetic' (10 rps for 60 s, every request ``latency_ms``)."""
    t0 = 1_700_000_000.0 + n * DAY
    frame = pd.concat([steady(-5, 0, 10), steady(0, 60, 10, latency_ms=latency_ms)])
    shift = int(n * DAY * 1_000_000)  # the builder's samples start at its T0: move them
    frame["start_us"] += shift
    folder = write_run(
        reports / "synthetic" / f"run-{n:02d}",
        frame,
        [],
        run_meta=meta(run_id=f"r-{n:02d}", t0_wall=t0, started_wall=t0 - 5, ended_wall=t0 + 61),
        scenario_doc=scenario({"availability": {"overall": 0.99}}, faults=[]),
    )
    render_run(folder)
    return folder


def gate(history: str, folder: Path) -> tuple[int, str]:
    done = CliRunner().invoke(
        app,
        ["compare", "--baseline", "history", "--history", history, str(folder)],
        env={"COLUMNS": "200"},
    )
    return done.exit_code, done.output


def test_the_gate_passes_noise_and_flags_a_shift_out_of_the_band(
    history_url: str, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    url = resolve(history_url, tmp_path)
    assert url is not None
    with HistoryStore(url) as store:
        for n, ms in enumerate([10.0, 11.0, 12.0, 10.0, 11.0]):
            store.add_run(run_record(run(reports, n, ms)))
        # 3 ms slower than the median: a single-run compare sees +27 % p99 over run 0 ...
        same = run(reports, 10, 14.0)
        # ... but the band of p50/p99 is 11 ms ± max(3 x 1.48 ms, floor): within noise
        result = judge_against_history(store, run_record(same), GatePolicy())
        assert result.judged and not result.regressed
        assert {j.figure: j.status for j in result.judgements}["p99_ms"] == "within noise"

    code, out = gate(history_url, same)
    assert code == 0, out
    assert "no regression" in out and (same / "gate.md").is_file()
    doc = json.loads((same / "gate.json").read_text())
    assert doc["regressed"] is False and doc["scenarios"][0]["baseline"] == [
        "r-04",
        "r-03",
        "r-02",
        "r-01",
        "r-00",
    ]

    slow = run(reports, 11, 40.0)  # +29 ms: 11 MADs away
    code, out = gate(history_url, slow)
    assert code == 1, out
    assert "REGRESSED" in out and "regression in 1 scenario(s): synthetic" in out
    doc = json.loads((slow / "gate.json").read_text())
    regressed = {f["figure"] for f in doc["scenarios"][0]["figures"] if f["status"] == "regressed"}
    assert regressed == {"p10_ms", "p50_ms", "p99_ms"}


def test_too_little_history_is_said_and_passes(history_url: str, tmp_path: Path) -> None:
    folder = run(tmp_path / "reports", 1, 10.0)
    code, out = gate(history_url, folder)
    assert code == 0, out
    assert "no baseline: 0 earlier run(s)" in out


def test_the_gate_adds_a_testsuite_to_junit(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    url = resolve(str(tmp_path / "h.sqlite"), tmp_path)
    assert url is not None
    with HistoryStore(url) as store:
        for n in range(5):
            store.add_run(run_record(run(reports, n, 10.0)))
        result = judge_against_history(store, run_record(run(reports, 9, 40.0)), GatePolicy())
    junit = (
        '<?xml version="1.0"?><testsuites tests="1" failures="0"><testsuite name="a" '
        'tests="1" failures="0"><testcase name="x"/></testsuite></testsuites>'
    )
    root = ET.fromstring(add_to_junit(junit, [result]))
    gate_suite = root.find("testsuite[@name='hachaos.regression-gate']")
    assert gate_suite is not None
    failed = [c.get("name") for c in gate_suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["p10", "p50", "p99"]
    assert root.get("failures") == "3" and root.get("tests") == str(1 + len(gate_suite))


def test_baseline_must_be_history(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["compare", "--baseline", "last", str(tmp_path)])
    assert done.exit_code == 2 and "--baseline 'last' is not known" in done.output
