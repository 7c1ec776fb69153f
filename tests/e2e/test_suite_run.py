"""`hachaos suite` runs the tagged scenarios for real and merges their JUnit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import HACHAOS, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_suite_runs_tagged_scenarios_and_exits_with_the_worst_code(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            *HACHAOS,
            "suite",
            "tests/e2e/scenarios",
            "--tag",
            "e2e-suite",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # one scenario passes, the other cannot apply its fault: the suite is an infra error
    assert proc.returncode == 3, proc.stdout + proc.stderr
    suite_dirs = list((tmp_path / "_suite").iterdir())
    assert len(suite_dirs) == 1
    root = ET.parse(suite_dirs[0] / "junit.xml").getroot()
    names = sorted(s.get("name", "") for s in root.iter("testsuite"))
    assert names == ["hachaos.e2e-disk-missing-path", "hachaos.e2e-short-pause"]
    assert int(root.get("errors", "0")) >= 1
    md = (suite_dirs[0] / "summary.md").read_text()
    assert "| error | pass: UNEXPECTED | e2e-disk-missing-path |" in md
    assert "| pass | pass | e2e-short-pause |" in md
