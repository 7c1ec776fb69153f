"""A real run without checks and with a hostile fault name: `unchecked`, and valid reports."""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, load_json, project_containers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOWN = "\\x1b[31mred ]]> 😀#0"  # the fault key as every report must show it


def test_suite_of_an_unchecked_run_with_a_hostile_fault_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    args = ["suite", "tests/e2e/scenarios", "--tag", "e2e-reports", "--quiet", "--out", str(out)]
    proc = subprocess.run(
        [*HACHAOS, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr  # unchecked: nothing failed
    assert "verdict: UNCHECKED (the scenario defines no checks, so nothing" in proc.stdout
    (run_dir,) = (out / "e2e-hostile-no-checks").iterdir()
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "unchecked"
    assert [f["key"] for f in summary["faults"]] == ["\x1b[31mred ]]> 😀#0"]  # data kept as is
    html = (run_dir / "report.html").read_text()
    assert "\x1b" not in html and SHOWN.replace(">", "&gt;") in html
    assert 'class="banner unchecked"' in html
    md = (run_dir / "summary.md").read_text()
    assert "\x1b" not in md and "UNCHECKED" in md
    # The run's and the suite's junit.xml parse, and say the run was not judged.
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "1"
    (suite_dir,) = (out / "_suite").iterdir()
    merged = ET.parse(suite_dir / "junit.xml").getroot()
    assert (merged.get("tests"), merged.get("failures"), merged.get("skipped")) == ("1", "0", "1")
    assert "| unchecked | pass | e2e-hostile-no-checks |" in (suite_dir / "summary.md").read_text()
    assert project_containers(summary["run"]["project"]) == []
