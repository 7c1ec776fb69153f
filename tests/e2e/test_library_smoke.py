"""The library's `smoke` subset, run for real as a suite: the release report, the merged JUnit,
summary.md and a suite-to-suite compare. baseline passes; single-replica-kill fails, as its
`expect: fail` says, so the suite exits 0 and its failed check is an expected one in JUnit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, project_containers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_smoke_suite_writes_the_release_report(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    out = tmp_path / "reports"
    started = time.monotonic()
    proc = subprocess.run(
        [*HACHAOS, "suite", "scenarios", "--tag", "smoke", "--quiet", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    wall = time.monotonic() - started
    print(f"smoke suite wall time: {wall:.1f} s")
    # single-replica-kill is the library's proof that checks fail; it is expected to
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [suite_dir] = list((out / "_suite").iterdir())
    doc = json.loads((suite_dir / "suite.json").read_text())
    verdicts = {s["scenario"]: (s["verdict"], s["expected"]) for s in doc["scenarios"]}
    assert verdicts == {"baseline": ("pass", "pass"), "single-replica-kill": ("fail", "fail")}
    assert doc["unexpected"] == 0 and doc["counts"]["fail"] == 1
    for row in doc["scenarios"]:
        run_dir = Path(row["run_dir"])
        project = json.loads((run_dir / "run.json").read_text())["project"]
        assert project_containers(project) == []  # every stack torn down
        assert (suite_dir / row["copy"] / "report.html").is_file()
    base = next(s for s in doc["scenarios"] if s["scenario"] == "baseline")
    assert base["availability"] >= 0.999 and base["worst_ttr_s"] is None

    page = (suite_dir / "index.html").read_text()
    assert re.findall(r'<tr class="row" data-verdict="(\w+)"', page) == ["fail", "pass"]
    assert page.count("<svg") == 2  # one sparkline per run
    for link in re.findall(r'href="([^"]+)"', page):
        assert (suite_dir / link).is_file(), link  # every link resolves inside the folder
    md = (suite_dir / "summary.md").read_text()
    assert "| fail | fail | single-replica-kill |" in md and "| pass | pass | baseline |" in md
    assert "all as expected" in md
    root = ET.parse(suite_dir / "junit.xml").getroot()
    names = sorted(s.get("name", "") for s in root.iter("testsuite"))
    assert names == ["hachaos.baseline", "hachaos.single-replica-kill"]
    # the failed availability check is reported as an expected failure (skipped)...
    assert root.get("failures") == "0" and int(root.get("skipped", "0")) >= 1
    # ...and one more testcase checks that the verdict was the expected one
    assert root.find("./testsuite/testcase[@name='verdict is fail']") is not None

    same = subprocess.run(
        [*HACHAOS, "compare", str(suite_dir), str(suite_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert (suite_dir / "compare.md").is_file()
