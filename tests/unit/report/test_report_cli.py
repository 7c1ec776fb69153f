"""Exit codes of `hachaos report` and `hachaos compare` (documented in docs/summary-schema.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hachaos_runfolder import fault_events, kill_run, meta, steady, write_run
from typer.testing import CliRunner

from harness.cli.app import app

runner = CliRunner()


def test_report_exit_codes_follow_the_verdict(tmp_path: Path) -> None:
    passing = kill_run(tmp_path / "pass", {"availability": {"baseline": 0.999}})
    failing = kill_run(tmp_path / "fail", {"availability": {"overall": 0.99}})
    broken = write_run(
        tmp_path / "error", steady(0, 60, 10), fault_events("k", 20.0, 20.5, ok=False)
    )
    t0 = meta()["t0_wall"]
    sigint = write_run(
        tmp_path / "int",
        steady(0, 5, 10),
        [],
        run_meta=meta(outcome="interrupted", signal="SIGINT", ended_wall=t0 + 5),
    )
    sigterm = write_run(
        tmp_path / "term",
        steady(0, 5, 10),
        [],
        run_meta=meta(outcome="interrupted", signal="SIGTERM", ended_wall=t0 + 5),
    )
    codes = {
        run.name: runner.invoke(app, ["report", str(run)]).exit_code
        for run in (passing, failing, broken, sigint, sigterm)
    }
    assert codes == {"pass": 0, "fail": 1, "error": 3, "int": 130, "term": 143}


def test_report_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["report", str(tmp_path)]).exit_code == 2
    run = kill_run(tmp_path / "run")
    assert runner.invoke(app, ["report", str(run), "--format", "pdf"]).exit_code == 2


@pytest.fixture
def base_and_worse(tmp_path: Path) -> tuple[Path, Path]:
    base = kill_run(tmp_path / "base")
    worse = tmp_path / "new"
    shutil.copytree(base, worse)
    # Recovery takes 4 s longer in the new run: failures until 35.9 s instead of 31.9 s.
    frame = pd.concat([steady(0, 20, 10), steady(20, 36, 10, "refused"), steady(36, 60, 10)])
    frame.to_parquet(worse / "samples.parquet", index=False)
    for run in (base, worse):
        assert runner.invoke(app, ["report", str(run)]).exit_code == 0
    return base, worse


def test_compare_exits_1_beyond_tolerance_and_writes_files(
    base_and_worse: tuple[Path, Path],
) -> None:
    base, new = base_and_worse
    result = runner.invoke(app, ["compare", str(base), str(new), "--max-availability-drop", "10%"])
    assert result.exit_code == 1, result.output
    assert "REGRESSED" in result.output
    assert "time to recover kill-1#0" in (new / "compare.md").read_text()
    assert (new / "compare.json").exists()


def test_compare_passes_within_tolerances(base_and_worse: tuple[Path, Path]) -> None:
    base, new = base_and_worse
    args = ["--max-availability-drop", "10%", "--max-ttr-increase", "5s"]
    result = runner.invoke(app, ["compare", str(base), str(new), *args])
    assert result.exit_code == 0, result.output


def test_compare_bad_tolerance_exits_2(base_and_worse: tuple[Path, Path]) -> None:
    base, new = base_and_worse
    result = runner.invoke(app, ["compare", str(base), str(new), "--max-p99-increase", "lots"])
    assert result.exit_code == 2
