"""A run folder as a history record: the figures and checks, hand-computed from the
synthetic kill run of tests/unit/analysis/hachaos_runfolder.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hachaos_runfolder import T0, kill_run, meta

from harness.history.folders import run_record
from harness.report.pipeline import render_run

CHECKS = {"availability": {"overall": 0.99}, "recovery": {"max": 3}}


def run_folder(path: Path, run_id: str, t0: float) -> Path:
    kill_run(path, CHECKS)
    (path / "run.json").write_text(
        json.dumps(meta(run_id=run_id, t0_wall=t0, started_wall=t0 - 5, ended_wall=t0 + 61))
    )
    doc = json.loads((path / "scenario.json").read_text())
    doc.update(tags=["nightly"], expect="fail")
    (path / "scenario.json").write_text(json.dumps(doc))
    render_run(path)
    return path


def test_a_run_folder_becomes_a_record_with_its_figures(tmp_path: Path) -> None:
    rec = run_record(run_folder(tmp_path / "run", "r-1", T0))
    # kill_run: 600 requests, 120 refused (20.0 … 31.9 s) at 50 ms, the rest at 10 ms
    assert rec.figures["availability"] == 0.8
    assert rec.figures["p10_ms"] == 10.007  # HDR bucket of 10 000 µs
    assert rec.figures["p50_ms"] == 10.007
    assert rec.figures["p99_ms"] == 50.015
    assert rec.figures["worst_ttr_s"] == pytest.approx(2.0)  # revert 30.0, good from 32.0
    assert rec.figures["longest_failure_s"] == pytest.approx(12.0)
    assert rec.figures["unrecovered"] == 0.0
    assert rec.figures["lost_writes"] is None  # no durability check
    assert (rec.verdict, rec.expected, rec.as_expected) == ("fail", "fail", True)
    assert rec.tags == ("nightly",)
    assert (rec.git_commit, rec.host_cores, rec.started_at) == ("deadbeef", 2, T0)
    assert rec.duration_s == 66.0  # started 5 s before t0, ended 61 s after
    assert [(c.phase, c.measured, c.passed) for c in rec.checks] == [
        ("overall", 0.8, False),
        ("fault:kill-1#0", pytest.approx(2.0), True),
    ]


def test_a_stop_condition_that_held_is_a_failed_check_of_the_record(tmp_path: Path) -> None:
    path = run_folder(tmp_path / "run", "r-2", T0)
    events = path / "events.jsonl"
    abort = {
        "kind": "abort",
        "wall": T0 + 25.0,
        "index": 0,
        "type": "availability",
        "condition": "availability < 50% over 5s",
        "measured": 0.1,
        "detail": "x",
        "condition_wall": T0 + 24.0,
        "cancelled": [],
        "active": [],
    }
    events.write_text(events.read_text() + json.dumps(abort) + "\n")
    render_run(path)
    rec = run_record(path)
    assert rec.verdict == "aborted"
    assert rec.checks[-1].key == "abort: availability < 50% over 5s [abort]"
    assert (rec.checks[-1].measured, rec.checks[-1].passed) == (0.1, False)


def test_consistency_anomalies_are_a_figure_when_the_check_ran() -> None:
    from hachaos_runfolder import summary_doc

    from harness.analysis.figures import figures_of
    from harness.analysis.summary_model import parse_summary

    checked = {"model": "register", "anomalies": {"stale-read": 2, "lost-update": 1}}
    assert figures_of(parse_summary(summary_doc(consistency=checked)))["anomalies"] == 3.0
    failed = {"model": "register", "error": "no history", "anomalies": {"stale-read": 2}}
    assert figures_of(parse_summary(summary_doc(consistency=failed)))["anomalies"] is None
    assert figures_of(parse_summary(summary_doc()))["anomalies"] is None
