"""A single run's reports say what verdict its scenario expects (`expect:`) and whether it came."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hachaos_runfolder import kill_run

from harness.analysis.expectation import expectation_text, gave_expected
from harness.report.pipeline import render_run

# kill_run: 120 of 600 requests fail (availability 0.8)
FAILS = {"availability": {"overall": 0.9}}
PASSES = {"availability": {"overall": 0.5}}


def _run(tmp_path: Path, checks: dict[str, Any], expect: str | None) -> Path:
    run = kill_run(tmp_path / "run", checks)
    if expect is not None:
        doc = json.loads((run / "scenario.json").read_text())
        (run / "scenario.json").write_text(json.dumps({**doc, "expect": expect}))
    render_run(run)
    return run


def _props(run: Path) -> dict[str, str]:
    root = ET.fromstring((run / "junit.xml").read_text())
    return {p.get("name", ""): p.get("value", "") for p in root.iter("property")}


def test_an_expected_failure_says_so_in_every_format(tmp_path: Path) -> None:
    run = _run(tmp_path, FAILS, "fail")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["verdict"] == "fail"
    assert summary["expect"] == {"verdict": "fail", "met": True}
    html = (run / "report.html").read_text()
    assert '<small id="expect">expect: fail (as expected)</small>' in html
    assert "<code>fail (as expected)</code>" in html  # the environment table
    assert "- expect: fail (as expected)" in (run / "summary.md").read_text()
    props = _props(run)
    assert (props["hachaos.expect"], props["hachaos.expect.met"]) == ("fail", "true")
    # the run's own cases are unchanged: a failed check is still a failure (exit 1)
    suite = ET.fromstring((run / "junit.xml").read_text()).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_an_expected_failure_that_passed_is_unexpected(tmp_path: Path) -> None:
    run = _run(tmp_path, PASSES, "fail")
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["verdict"], summary["expect"]) == ("pass", {"verdict": "fail", "met": False})
    assert "expect: fail (UNEXPECTED: got pass)" in (run / "report.html").read_text()
    assert "- expect: fail (UNEXPECTED: got pass)" in (run / "summary.md").read_text()
    assert _props(run)["hachaos.expect.met"] == "false"


def test_the_default_expectation_is_in_the_data_not_the_banner(tmp_path: Path) -> None:
    run = _run(tmp_path, FAILS, None)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["expect"] == {"verdict": "pass", "met": False}
    html = (run / "report.html").read_text()
    assert 'id="expect"' not in html  # FAIL already says it
    assert "<code>pass (UNEXPECTED: got fail)</code>" in html
    assert "expect:" not in (run / "summary.md").read_text()
    assert _props(run)["hachaos.expect"] == "pass"


@pytest.mark.parametrize(
    ("verdict", "expected", "met"),
    [
        ("pass", "pass", True),
        ("unchecked", "pass", True),  # nothing failed
        ("fail", "pass", False),
        ("fail", "fail", True),
        ("aborted", "fail", False),
        ("aborted", "aborted", True),
        ("error", "fail", False),  # an error is never what a scenario expects
        ("interrupted", "aborted", False),
    ],
)
def test_gave_expected(verdict: str, expected: str, met: bool) -> None:
    assert gave_expected(verdict, expected) is met
    assert expectation_text(verdict, expected) == (
        f"{expected} (as expected)" if met else f"{expected} (UNEXPECTED: got {verdict})"
    )
