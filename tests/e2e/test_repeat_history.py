"""`hachaos suite --repeat 2` of a deliberately flaky scenario on the real engine: both
runs land in the run history (one repeat group), repeat.json gives the spreads and marks
the scenario flaky with the stop condition that flipped, junit.xml fails `hachaos.repeat`,
and every run's summary says how busy the host was."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import HACHAOS, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_repeat_marks_the_flaky_scenario_and_records_the_runs(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HACHAOS_FLAKY_STATE": str(tmp_path / "toggle"),  # pass, then the abort holds
        "HACHAOS_HISTORY": str(tmp_path / "history.sqlite"),
    }
    proc = subprocess.run(
        [
            *HACHAOS,
            "suite",
            "tests/e2e/scenarios",
            "--tag",
            "e2e-repeat",
            "--repeat",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "reports"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the aborted repetition
    assert "FLAKY" in proc.stdout
    [suite] = list((tmp_path / "reports" / "_suite").iterdir())
    doc = json.loads((suite / "repeat.json").read_text())
    [scenario] = doc["scenarios"]
    assert doc["flaky"] == ["e2e-flaky-toggle"] and scenario["verdicts"] == ["pass", "aborted"]
    assert [c for c in scenario["flipped_checks"] if c.endswith("[abort]")], scenario
    p99 = scenario["figures"]["p99_ms"]
    assert len(p99["values"]) == 2 and p99["min"] <= p99["mean"] <= p99["max"]
    assert "## Repeated runs (2 per scenario)" in (suite / "summary.md").read_text()
    root = ET.parse(suite / "junit.xml").getroot()
    repeat = root.find("testsuite[@name='hachaos.repeat']")
    assert repeat is not None and repeat.get("failures") == "1"

    with sqlite3.connect(tmp_path / "history.sqlite") as db:
        rows = db.execute(
            "SELECT verdict, repeat_group, repetition, suite, host_busy FROM runs"
            " ORDER BY repetition"
        ).fetchall()
    assert [(r[0], r[2]) for r in rows] == [("pass", 1), ("aborted", 2)]
    assert rows[0][1] == rows[1][1] == f"{suite.name}-e2e-flaky-toggle"
    assert {r[3] for r in rows} == {suite.name} and {r[4] for r in rows} <= {0, 1}
    for run_dir in json.loads((suite / "suite.json").read_text())["scenarios"]:
        summary = json.loads((Path(run_dir["run_dir"]) / "summary.json").read_text())
        assert summary["host"]["samples"] >= 1 and summary["host"]["cores"] == os.cpu_count()
