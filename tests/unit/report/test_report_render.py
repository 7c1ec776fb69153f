"""Renderers and the render_run pipeline on a synthetic run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from hachaos_runfolder import fault_events, kill_run, meta, steady, write_run

from harness.report.pipeline import render_run

CHECKS = {"availability": {"overall": 0.99, "baseline": 0.999}, "recovery": {"max": 5}}


def test_render_run_writes_every_format(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    result = render_run(run)
    assert result.verdict == "fail"
    assert (result.requests, result.availability) == (600, 0.8)
    assert [c.passed for c in result.checks] == [False, True, True]
    for name in ("report.html", "summary.md", "summary.json", "junit.xml"):
        assert (run / name).stat().st_size > 0
    assert result.report_path == run / "report.html"


def test_only_requested_formats_are_written(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    render_run(run, ["json"])
    assert (run / "summary.json").exists()
    assert not (run / "report.html").exists()


def test_html_is_self_contained_and_shows_fault_windows(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    render_run(run, ["html"])
    html = (run / "report.html").read_text()
    # Nothing may be fetched: no external src/href, no script, no @import.
    assert not re.search(r"(src|href)\s*=", html)
    assert "<script" not in html
    assert "@import" not in html
    assert html.count("<svg") == 4  # throughput, error rate, latency, distribution
    assert "kill-1#0: 20.00s → 30.00s" in html  # the shaded window's tooltip
    assert 'class="banner fail"' in html
    assert "sha256:1234" in html  # environment: image ids


def test_summary_json_is_strict_and_versioned(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    render_run(run, ["json"])
    doc = json.loads(
        (run / "summary.json").read_text(),
        parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)),
    )
    assert (doc["schema"], doc["schema_version"]) == ("hachaos.summary", 1)
    assert doc["checks"][0]["measured"] == 0.8


def test_junit_has_one_case_per_check_and_failures_carry_the_value(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    render_run(run, ["junit"])
    suite = ET.parse(run / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "measured 80.000%, threshold 99.000% (phase overall)"


def test_markdown_lists_checks_and_faults(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    render_run(run, ["md"])
    md = (run / "summary.md").read_text()
    assert "hachaos FAIL: synthetic" in md
    assert "| ❌ | availability overall >= 99% | overall | 80.000% | 99.000% |" in md
    assert "| kill-1#0 | kill | 0.000 s | 120 | 12.000 s | 2.000 s | 5.00× | yes |" in md


def test_error_run_gets_an_error_testcase_and_banner(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run", steady(0, 60, 10), fault_events("kill-1", 20.0, 20.5, ok=False)
    )
    result = render_run(run)
    assert result.verdict == "error"
    suite = ET.parse(run / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    assert 'class="banner error"' in (run / "report.html").read_text()


def test_partial_run_without_samples_renders(tmp_path: Path) -> None:
    run_meta = meta(outcome="interrupted", signal="SIGTERM", ended_wall=meta()["t0_wall"] + 3)
    run = write_run(tmp_path / "run", None, [], run_meta=run_meta)
    result = render_run(run)
    assert result.verdict == "interrupted"
    assert result.requests == 0
    assert "samples.parquet is missing" in (run / "report.html").read_text()
