"""Repeated runs: spreads per figure, flaky verdicts and the checks that flipped."""

from __future__ import annotations

import json
import math
from xml.etree import ElementTree as ET

import pytest

from harness.analysis.repeat import repeat_result
from harness.analysis.runrecord import CheckValue, RunRecord
from harness.report.repeat import (
    render_repeat_json,
    render_repeat_markdown,
    repeat_junit_suite,
    verdict_line,
)

AVAIL = CheckValue("availability overall >= 99%", "overall", 0.995, 0.99, "ratio", True)
AVAIL_FAILED = CheckValue("availability overall >= 99%", "overall", 0.95, 0.99, "ratio", False)
ABORT = CheckValue("abort: command ./x failed", "abort", None, 0.0, "", False)


def rec(n: int, verdict: str, p99: float, *checks: CheckValue) -> RunRecord:
    return RunRecord(
        run_id=f"r{n}",
        scenario="kill",
        verdict=verdict,
        started_at=float(n),
        run_dir=f"reports/kill/{n}",
        figures={"availability": 1.0, "p99_ms": p99, "lost_writes": None},
        checks=checks or (AVAIL,),
    )


def test_spreads_are_the_mean_sd_range_and_t_interval_of_the_repetitions() -> None:
    r = repeat_result("kill", [rec(1, "pass", 10.0), rec(2, "pass", 20.0), rec(3, "pass", 30.0)])
    assert not r.flaky and r.flipped == ()
    p99 = {f.figure.name: f for f in r.figures}["p99_ms"]
    assert p99.values == (10.0, 20.0, 30.0)
    assert p99.spread is not None
    assert (p99.spread.mean, p99.spread.sd, p99.spread.low, p99.spread.high) == (20, 10, 10, 30)
    half = 4.303 * 10 / math.sqrt(3)
    assert p99.spread.ci_low == pytest.approx(20 - half)
    assert "lost_writes" not in {f.figure.name for f in r.figures}  # never measured
    assert verdict_line(r) == "pass, pass, pass: stable"


def test_a_verdict_that_differs_between_repetitions_is_flaky_with_the_flipped_checks() -> None:
    runs = [rec(1, "pass", 10.0), rec(2, "fail", 12.0, AVAIL_FAILED), rec(3, "unchecked", 11.0)]
    r = repeat_result("kill", runs)
    assert r.flaky and r.flipped == ("availability overall >= 99% [overall]",)
    assert verdict_line(r) == (
        "pass, fail, unchecked: FLAKY (flipped: availability overall >= 99% [overall])"
    )
    assert not repeat_result("kill", [rec(1, "pass", 1.0), rec(2, "unchecked", 1.0)]).flaky


def test_a_stop_condition_that_held_once_is_a_flipped_check() -> None:
    r = repeat_result("kill", [rec(1, "pass", 10.0), rec(2, "aborted", 10.0, AVAIL, ABORT)])
    assert r.flaky and r.flipped == ("abort: command ./x failed [abort]",)


def test_reports_mark_the_flaky_scenario() -> None:
    flaky = repeat_result("kill", [rec(1, "pass", 10.0), rec(2, "fail", 30.0, AVAIL_FAILED)])
    md = render_repeat_markdown([flaky])
    assert "## Repeated runs (2 per scenario)" in md
    assert "**Flaky** (the verdict differs between repetitions): kill" in md
    assert "| kill | p99 | 20.0 ms ± 14.1 ms |" in md  # sd of 10 and 30: 14.14
    doc = json.loads(render_repeat_json([flaky]))
    assert doc["flaky"] == ["kill"] and doc["scenarios"][0]["verdicts"] == ["pass", "fail"]
    assert doc["scenarios"][0]["figures"]["p99_ms"]["values"] == [10.0, 30.0]
    suite = repeat_junit_suite([flaky])
    case = suite.find("testcase")
    assert case is not None and case.get("name") == "verdict stable over 2 runs"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "flaky"
    assert ET.tostring(suite).count(b"<testcase") == 1 and suite.get("failures") == "1"


def test_a_run_that_ended_in_an_error_flips_no_check() -> None:
    error = rec(2, "error", 0.0, AVAIL_FAILED)  # deploy failed: its checks judged nothing
    r = repeat_result("kill", [rec(1, "pass", 10.0), error])
    assert r.flaky and r.flipped == ()
    assert verdict_line(r).endswith(
        "FLAKY (no check flipped: a run ended in an error or was interrupted)"
    )
