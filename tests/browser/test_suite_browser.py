"""Open a suite's release report (index.html) in headless Chromium: clean console, nothing
fetched, sparklines really drawn, and every link resolves inside the suite folder."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hachaos_runfolder import fault_events, kill_run, scenario, steady, write_run

from harness.cli.suite_folder import suite_entry, write_suite
from harness.report.pipeline import render_run
from harness.report.suite_page import FAILED_COLOUR, REQUESTS_COLOUR, SuiteInfo
from tests.browser.test_report_browser import analyse_png, chromium, console_problems

pytestmark = pytest.mark.browser


def suite_folder(tmp: Path) -> Path:
    """Two synthetic runs (a pass and a fail) gathered the way `hachaos suite` does."""
    ok = kill_run(tmp / "run-ok", {"availability": {"overall": 0.5}})
    frame = pd.concat(
        [steady(-5, 20, 10), steady(20, 40, 10, "refused", 50.0), steady(40, 60, 10)],
        ignore_index=True,
    )
    bad = write_run(
        tmp / "run-bad",
        frame,
        fault_events("kill-1", 20.0, 20.5, 30.0),
        scenario_doc=scenario({"availability": {"overall": 0.99}}),
    )
    suite_dir = tmp / "suite"
    suite_dir.mkdir()
    taken: set[str] = set()
    entries = [
        suite_entry(name, f"{name}.yaml", render_run(run).verdict, run, suite_dir, taken)
        for name, run in (("kill-ok", ok), ("kill-bad", bad))
    ]
    write_suite(suite_dir, entries, SuiteInfo(started="2026-11-28 05:00:00 UTC", wall_s=120.0))
    return suite_dir


def test_release_report_loads_cleanly_and_sparklines_render(tmp_path: Path) -> None:
    suite_dir = suite_folder(tmp_path)
    page = (suite_dir / "index.html").read_text()
    links = re.findall(r'href="([^"]+)"', page)
    assert "runs/kill-bad/report.html" in links and "runs/kill-ok/report.html" in links
    for link in links:
        assert (suite_dir / link).is_file(), link

    shot = tmp_path / "suite.png"
    done = chromium(
        tmp_path,
        (suite_dir / "index.html").as_uri(),
        f"--screenshot={shot}",
        "--window-size=1300,700",
        "--hide-scrollbars",
    )
    assert shot.exists(), done.stderr[-2000:]
    assert console_problems(done.stderr) == []
    # nothing requested from a network: Chromium logs every failed or blocked fetch
    assert "net::" not in done.stderr
    stats = analyse_png(tmp_path, shot, [REQUESTS_COLOUR, FAILED_COLOUR, "#cf222e", "#1a7f37"])
    assert isinstance(stats["colours"], int) and stats["colours"] > 100  # not blank
    hits = stats["hits"]
    assert isinstance(hits, dict)
    assert hits.get(REQUESTS_COLOUR, 0) > 100  # the requests lines were drawn
    # failed-request bars: 12 s and 20 s of failures, 10 of 10 requests, ~4.4 px per second
    assert hits.get(FAILED_COLOUR, 0) > 500
    assert hits.get("#cf222e", 0) > 200  # the FAIL banner and badge
    assert hits.get("#1a7f37", 0) > 50  # the PASS badge


def test_linked_run_report_opens_from_the_suite_folder(tmp_path: Path) -> None:
    suite_dir = suite_folder(tmp_path)
    report = suite_dir / "runs" / "kill-bad" / "report.html"
    done = chromium(tmp_path, report.as_uri(), "--dump-dom")
    assert console_problems(done.stderr) == []
    assert 'id="verdict"' in done.stdout and "FAIL" in done.stdout
