"""`hachaos history import` backfills run and suite folders; `hachaos history` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hachaos_runfolder import kill_run, meta
from typer.testing import CliRunner

from harness.cli.app import app
from harness.history.folders import import_folders, run_record
from harness.history.store import HistoryStore
from harness.history.url import history_url as resolve
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
    rec = run_record(run_folder(tmp_path / "run", "r-1", 1_700_000_000.0))
    # kill_run: 600 requests, 120 refused (20.0 … 31.9 s) at 50 ms, the rest at 10 ms
    assert rec.figures["availability"] == 0.8
    assert rec.figures["p50_ms"] == 10.007  # HDR bucket of 10 000 µs
    assert rec.figures["p99_ms"] == 50.015
    assert rec.figures["worst_ttr_s"] == pytest.approx(2.0)  # revert 30.0, good from 32.0
    assert rec.figures["longest_failure_s"] == pytest.approx(12.0)
    assert rec.figures["unrecovered"] == 0.0
    assert rec.figures["lost_writes"] is None  # no durability check
    assert (rec.verdict, rec.expected, rec.as_expected) == ("fail", "fail", True)
    assert rec.tags == ("nightly",)
    assert (rec.git_commit, rec.host_cores, rec.started_at) == ("deadbeef", 2, 1_700_000_000.0)
    assert rec.duration_s == 66.0  # started 5 s before t0, ended 61 s after
    assert [(c.phase, c.measured, c.passed) for c in rec.checks] == [
        ("overall", 0.8, False),
        ("fault:kill-1#0", pytest.approx(2.0), True),
    ]


def test_import_backfills_runs_and_suites_once(history_url: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    one = run_folder(reports / "synthetic" / "20261127T050000Z", "r-1", 1_700_000_000.0)
    run_folder(reports / "synthetic" / "20261128T050000Z", "r-2", 1_700_086_400.0)
    (reports / "synthetic" / "broken").mkdir()
    (reports / "synthetic" / "broken" / "run.json").write_text("{}")
    suite = reports / "_suite" / "20261127T045900Z"
    suite.mkdir(parents=True)
    row = {"scenario": "synthetic", "verdict": "fail", "run_dir": str(one)}
    (suite / "suite.json").write_text(
        json.dumps(
            {
                "schema": "hachaos.suite",
                "tags": ["nightly"],
                "scenarios": [row],
                "counts": {"fail": 1},
                "unexpected": 0,
                "wall_s": 70.0,
            }
        )
    )
    url = resolve(history_url, tmp_path)
    assert url is not None
    with HistoryStore(url) as store:
        first = import_folders(store, reports)
        assert (first.added, first.known, first.suites) == (2, 0, 1)
        assert [Path(p).name for p, _ in first.skipped] == ["broken"]
        again = import_folders(store, reports)
        assert (again.added, again.known, again.suites) == (0, 2, 0)
        records = store.runs("synthetic")
        assert [r.run_id for r in records] == ["r-2", "r-1"]
        assert [r.suite for r in records] == [None, "20261127T045900Z"]
        # 2026-01-01 is 1_767_225_600; + 330 days + 4 h 59 min
        assert store.suites()[0].started_at == 1_795_755_540.0


def test_history_command_lists_runs_per_scenario(history_url: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run_folder(reports / "synthetic" / "20261127T050000Z", "r-1", 1_700_000_000.0)
    cli = CliRunner()
    done = cli.invoke(
        app, ["history", "--history", history_url, "import", str(reports)], env={"COLUMNS": "250"}
    )
    assert done.exit_code == 0, done.output
    assert "1 run(s) added" in done.output
    listed = cli.invoke(app, ["history", "--history", history_url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "synthetic" in listed.output and "2023-11-14 22:13" in listed.output
    assert "80.000%" in listed.output and "50.0 ms" in listed.output
    assert "(1 runs)" in listed.output


def test_a_bad_history_url_is_a_usage_error(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["history", "--history", "mysql://x/y"])
    assert done.exit_code == 2
    assert "unsupported history database 'mysql'" in done.output
