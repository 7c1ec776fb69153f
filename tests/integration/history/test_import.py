"""`hachaos history import` backfills run and suite folders; `hachaos history` lists them."""

from __future__ import annotations

import json
from pathlib import Path

from hachaos_runfolder import kill_run, meta
from typer.testing import CliRunner

from harness.cli.app import app
from harness.history.folders import import_folders
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
