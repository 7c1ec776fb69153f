"""Runs longer than 2 h get series buckets wider than a second, so summary.json stays bounded.

Tiny synthetic timelines; the bucket limit is lowered so a 10 s run needs 5 s buckets.
Every expected value is counted by hand (HdrHistogram: values up to 2047 µs are exact,
3 ms reads 3.001, 5 ms 5.003, 2000 ms 2000.895).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hachaos_runfolder import T0, meta, samples, steady, write_run

from harness.analysis.inputs import load_run
from harness.analysis.metrics import MAX_SERIES_POINTS, series_step, timeseries
from harness.analysis.samples import timeline
from harness.analysis.summary import analyse
from harness.analysis.summary_model import parse_summary
from harness.report.html import render_html
from harness.report.suite_facts import run_facts
from harness.report.suite_page import sparkline


@pytest.mark.parametrize(
    ("seconds", "step"),
    [(0, 1), (7200, 1), (7201, 2), (14_400, 2), (14_401, 5), (8 * 3600, 5), (24 * 3600, 15)],
)
def test_the_narrowest_step_that_keeps_7200_buckets(seconds: int, step: int) -> None:
    assert MAX_SERIES_POINTS == 7200
    assert series_step(seconds) == step


def test_beyond_the_table_the_step_is_the_quotient_rounded_up() -> None:
    assert series_step(3600 * 7200 + 1) == 3601


def _ten_seconds() -> dict[str, object]:
    # [0, 5): five ok requests of 1 … 5 ms; [5, 10): four ok of 1 ms and a 2 s timeout;
    # 10.2 s is past the end.
    times = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.2]
    outcomes = ["ok"] * 9 + ["timeout", "ok"]
    latency = [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 1.0, 1.0, 1.0, 2000.0, 1.0]
    return timeseries(timeline(samples(times, outcomes, latency), T0), 10.0, limit=3)


def test_a_bucket_counts_and_ranks_its_own_requests() -> None:
    ts = _ten_seconds()  # 10 s in at most 3 buckets: 2 s would need 5, so 5 s
    assert ts["step_s"] == 5
    assert ts["t"] == [0, 5]
    assert ts["requests"] == [5, 5]
    assert ts["failed"] == [0, 1]
    assert ts["dropped"] == [0, 0]
    assert ts["error_rate"] == [0.0, 0.2]
    assert ts["p50_ms"] == [3.001, 1.0]  # rank floor(2.5 + 0.5) = 3
    assert ts["p90_ms"] == [5.003, 2000.895]  # rank floor(4.5 + 0.5) = 5
    assert ts["p99_ms"] == [5.003, 2000.895]
    assert ts["max_ms"] == [5.003, 2000.895]


def test_one_second_buckets_have_no_step_key() -> None:
    ts = timeseries(timeline(samples([0.5, 1.5], ["ok", "ok"], 1.0), T0), 2.0, limit=3)
    assert "step_s" not in ts
    assert (ts["t"], ts["requests"]) == ([0, 1], [1, 1])


def test_a_last_bucket_the_load_left_part_way_is_left_out() -> None:
    # sending [0.4, 12]: whole seconds 1 … 11 (11 s), 5 s buckets [1, 6) and [6, 11)
    frame = steady(0.4, 12.0, 1)  # requests at 0.4, 1.4, … 11.4
    ts = timeseries(timeline(frame, T0), 12.0, start_s=0.4, limit=3)
    assert (ts["step_s"], ts["t"], ts["requests"]) == (5, [1, 6], [5, 5])


def test_a_run_longer_than_two_hours_gets_two_second_buckets(tmp_path: Path) -> None:
    # 7300 s at 1 request/s, no warmup: 7300 seconds > 7200, so 3650 buckets of 2 s
    run = write_run(
        tmp_path / "run",
        steady(0, 7300, 1),
        [],
        run_meta=meta(warmup=0.0, duration=7300.0, ended_wall=T0 + 7301),
    )
    summary = analyse(load_run(run))
    doc = summary.to_json_dict()
    ts = doc["timeseries"]
    assert ts["step_s"] == 2
    assert len(ts["t"]) == 3650
    assert ts["t"][:3] == [0, 2, 4]
    assert ts["t"][-1] == 7298
    assert set(ts["requests"]) == {2}
    assert doc["metrics"]["overall"]["requests"] == 7300
    assert parse_summary(json.loads(json.dumps(doc))).timeseries.step_s == 2
    html = render_html(summary)
    assert "Latency per 2 s (raw, ms)" in html
    assert "Latency per second" not in html
    facts = run_facts(summary)
    assert facts.step_s == 2
    assert "7300 s: 7,300 requests, 0 failed" in str(sparkline(facts))
