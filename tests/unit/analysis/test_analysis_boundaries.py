"""Boundaries of the measured numbers, on tiny timelines whose answers are worked out by hand.

HdrHistogram values used below (3 significant figures, 1 µs unit): values below
2048 µs are exact; in [2^k, 2^(k+1)) with k >= 11 a bucket is 2^(k-10) µs wide and
the reported value is its highest, e.g. 5000 µs -> [5000, 5003] -> 5.003 ms,
9000 µs -> [9000, 9007] -> 9.007 ms, 20000 µs -> [20000, 20015] -> 20.015 ms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hachaos_runfolder import (
    T0,
    fault_events,
    kill_run,
    meta,
    samples,
    scenario,
    steady,
    write_run,
)

from harness.analysis.inputs import load_run
from harness.analysis.metrics import timeseries
from harness.analysis.recovery import Requests, longest_failure_span, time_to_recover
from harness.analysis.samples import timeline
from harness.analysis.slo import CheckResult, evaluate
from harness.analysis.summary import _verdict, analyse, end_of_run
from harness.faults.catalog import Scenario
from harness.report.charts import downsample

HOUR_US = 3_600_000_000


def _checks(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in summary["checks"]}


# ------------------------------------------------------------------ availability threshold
def test_availability_exactly_at_the_threshold_passes(tmp_path: Path) -> None:
    # kill_run: 600 requests, 480 ok -> 0.8 overall; baseline 200/200 -> 1.0
    checks = {"availability": {"overall": 0.8, "baseline": 1.0, "during_faults": 0.01}}
    s = analyse(load_run(kill_run(tmp_path / "run", checks))).to_json_dict()
    c = _checks(s)
    assert (
        c["availability overall >= 80%"]["measured"],
        c["availability overall >= 80%"]["passed"],
    ) == (0.8, True)
    assert c["availability baseline >= 100%"]["passed"] is True
    assert c["availability during_faults >= 1%"]["measured"] == 0.0  # 100 refused of 100
    assert c["availability during_faults >= 1%"]["passed"] is False
    assert s["verdict"] == "fail"


def test_availability_just_above_the_measured_value_fails(tmp_path: Path) -> None:
    s = analyse(
        load_run(kill_run(tmp_path / "run", {"availability": {"overall": 0.8001}}))
    ).to_json_dict()
    (check,) = s["checks"]
    assert (check["measured"], check["passed"]) == (0.8, False)


# ------------------------------------------------------------------ time to recover
# requests at 10.0 ok, 10.5 ok, 11.0 FAIL, 11.5 ok, 12.0 ok
REQS = Requests(np.array([10.0, 10.5, 11.0, 11.5, 12.0]), np.array([True, True, False, True, True]))


def test_ttr_window_is_half_open() -> None:
    # [10, 11) holds 10.0 and 10.5 (both ok); the failure at exactly 11.0 is outside.
    assert time_to_recover(REQS, 10.0, 1.0, 1.0, 20.0) == 0.0
    # from 10.5: [10.5, 11.5) holds the failure; [11.0, 12.0) too; [11.5, 12.5) is clean
    assert time_to_recover(REQS, 10.5, 1.0, 1.0, 20.0) == 1.0


def test_ttr_window_must_end_by_end_of_run() -> None:
    assert time_to_recover(REQS, 10.0, 1.0, 1.0, 11.0) == 0.0  # 10 + 1 <= 11: fits exactly
    assert time_to_recover(REQS, 10.0, 1.0, 1.0, 10.9) is None  # no window fits


def test_ttr_window_needs_a_request_and_meets_the_slo_exactly() -> None:
    # From 12.5 no request is left: an empty window never counts as recovered.
    assert time_to_recover(REQS, 12.5, 1.0, 1.0, 20.0) is None
    # [10, 12) holds 3 ok of 4: exactly 75 % meets an SLO of 0.75, not one of 0.76.
    assert time_to_recover(REQS, 10.5, 2.0, 0.75, 20.0) == 0.0
    assert time_to_recover(REQS, 10.5, 2.0, 0.76, 20.0) == 1.0  # [11.5, 13.5): 2 of 2


# ------------------------------------------------------------------ corrected latency
def test_negative_start_lag_adds_nothing_to_corrected_latency() -> None:
    # started 5 ms *before* its intended time, 3 ms after, on time; raw 10 ms each
    tl = timeline(samples([1.0, 2.0, 3.0], ["ok"] * 3, 10.0, delay_ms=[-5.0, 3.0, 0.0]), T0)
    assert tl.raw_us.tolist() == [10_000, 10_000, 10_000]
    assert tl.corrected_us.tolist() == [10_000, 13_000, 10_000]


def test_latency_over_an_hour_is_clamped_to_an_hour() -> None:
    frame = samples([1.0, 2.0], ["ok", "ok"], [7_200_000.0, 3_599_000.0], delay_ms=[0.0, 5000.0])
    tl = timeline(frame, T0)
    assert tl.raw_us.tolist() == [HOUR_US, 3_599_000_000]
    # 3599 s + 5 s of start lag would be 3604 s: corrected is clamped to 1 h as well
    assert tl.corrected_us.tolist() == [HOUR_US, HOUR_US]


def test_latency_over_an_hour_reports_the_last_hdr_bucket(tmp_path: Path) -> None:
    frame = samples([1.0, 2.0], ["ok", "ok"], [7_200_000.0, 10.0])
    s = analyse(load_run(write_run(tmp_path / "run", frame, []))).to_json_dict()
    raw = s["metrics"]["overall"]["latency_ms"]["raw"]
    # 3.6e9 µs lies in [2^31, 2^32): buckets of 2^21 µs; 3.6e9 // 2^21 = 1716
    # -> [3 598 712 832, 3 600 809 983] µs
    assert raw["max"] == 3_600_809.983
    assert raw["p50"] == 10.007


# ------------------------------------------------------------------ per-fault max_recovery
def _kill_with_max_recovery(tmp_path: Path, max_recovery: float | None) -> dict[str, Any]:
    run = kill_run(tmp_path / "run")  # ttr 2.0 s: revert at 30.0, clean 5 s window from 32.0
    fault: dict[str, Any] = {"type": "kill", "target": {"service": "app"}, "at": 20, "for": 10}
    if max_recovery is not None:
        fault["max_recovery"] = max_recovery
    doc = scenario({"recovery": {"max": 5, "window": 5, "slo": 0.99}}, faults=[fault])
    (run / "scenario.json").write_text(json.dumps(doc))
    return analyse(load_run(run)).to_json_dict()


@pytest.mark.parametrize(
    ("max_recovery", "threshold", "passed"),
    [(None, 5.0, True), (1.0, 1.0, False), (2.0, 2.0, True), (1.999, 1.999, False)],
)
def test_per_fault_max_recovery_overrides_the_global_one(
    tmp_path: Path, max_recovery: float | None, threshold: float, passed: bool
) -> None:
    (check,) = _kill_with_max_recovery(tmp_path, max_recovery)["checks"]
    assert check["phase"] == "fault:kill-1#0"
    assert (check["measured"], check["threshold"], check["passed"]) == (2.0, threshold, passed)
    assert check["name"] == f"time to recover kill-1#0 <= {threshold:g} s"


# ------------------------------------------------------------------ percentiles and series
def _ten_latencies(tmp_path: Path, latency_check: dict[str, Any]) -> dict[str, Any]:
    # t = 0.0 … 0.9 s, latencies 1 … 10 ms in a shuffled order
    lat = [7.0, 2.0, 9.0, 1.0, 10.0, 4.0, 6.0, 3.0, 8.0, 5.0]
    frame = samples([i / 10 for i in range(10)], ["ok"] * 10, lat)
    doc = scenario({"latency": [latency_check]}, faults=[])
    run_meta = meta(duration=1.0)
    return analyse(
        load_run(write_run(tmp_path / "run", frame, [], run_meta=run_meta, scenario_doc=doc))
    ).to_json_dict()


def test_percentiles_other_than_p99(tmp_path: Path) -> None:
    s = _ten_latencies(tmp_path, {"percentile": 75, "max": "9ms", "phase": "overall"})
    raw = s["metrics"]["overall"]["latency_ms"]["raw"]
    # rank = max(floor(p * 10 / 100 + 0.5), 1): p50 -> 5th, p75 -> 8th, p90 -> 9th, p95/p99 -> 10th
    assert raw["p50"] == 5.003
    assert raw["p75"] == 8.003  # asked for by the check: 8000 µs -> [8000, 8003]
    assert raw["p90"] == 9.007
    assert raw["p95"] == 10.007
    assert raw["p99.9"] == 10.007
    assert raw["max"] == 10.007
    (check,) = s["checks"]
    assert (check["measured"], check["threshold"], check["passed"]) == (8.003, 9.0, True)
    assert check["name"] == "latency p75 (raw) overall <= 9 ms"


@pytest.mark.parametrize("ms", [0.249, 0.489, 1.956])
def test_latency_exactly_at_the_max_passes(tmp_path: Path, ms: float) -> None:
    # below 2048 µs HDR values are exact; ms / 1000 * 1000 < ms in floats for these three
    frame = samples([0.1, 0.2], ["ok", "ok"], ms)
    doc = scenario({"latency": [{"percentile": 99, "max": f"{ms}ms"}]}, faults=[])
    s = analyse(load_run(write_run(tmp_path / "run", frame, [], scenario_doc=doc))).to_json_dict()
    (check,) = s["checks"]
    assert (check["measured"], check["threshold"], check["passed"]) == (ms, ms, True)


def test_percentile_check_just_below_the_value_fails(tmp_path: Path) -> None:
    s = _ten_latencies(tmp_path, {"percentile": 50, "max": "5ms", "phase": "overall"})
    (check,) = s["checks"]
    assert (check["measured"], check["passed"]) == (5.003, False)


def test_p50_p90_p99_and_max_series_per_second() -> None:
    lat = [7.0, 2.0, 9.0, 1.0, 10.0, 4.0, 6.0, 3.0, 8.0, 5.0]
    times = [i / 10 for i in range(10)] + [1.5, 1.6]
    frame = samples(times, ["ok"] * 10 + ["ok", "timeout"], [*lat, 20.0, 2000.0])
    ts = timeseries(timeline(frame, T0), 3.0)
    assert ts["t"] == [0, 1, 2]
    assert ts["requests"] == [10, 2, 0]
    assert ts["failed"] == [0, 1, 0]
    assert ts["error_rate"] == [0.0, 0.5, None]
    assert ts["p50_ms"] == [5.003, 20.015, None]  # second 1: rank max(floor(1.5), 1) = 1
    assert ts["p90_ms"] == [9.007, 2000.895, None]  # rank floor(1.8 + 0.5) = 2
    assert ts["p99_ms"] == [10.007, 2000.895, None]
    assert ts["max_ms"] == [10.007, 2000.895, None]  # 2 000 000 µs: buckets of 1024 µs


def test_series_leave_out_a_last_second_cut_short() -> None:
    # end_s 2.5: [2, 3) is half measured, so the request at 2.2 s is in no bucket
    ts = timeseries(timeline(samples([0.5, 1.5, 2.2], ["ok", "ok", "ok"], 1.0), T0), 2.5)
    assert (ts["t"], ts["requests"]) == ([0, 1], [1, 1])
    assert ts["p50_ms"] == [1.0, 1.0]


# ------------------------------------------------------------------ end of run
def test_end_is_never_before_the_last_request(tmp_path: Path) -> None:
    frame = steady(0, 13, 1)  # requests at 0 … 12 s, but duration 10 s and no cooldown
    s = analyse(
        load_run(write_run(tmp_path / "run", frame, [], run_meta=meta(duration=10.0)))
    ).to_json_dict()
    assert s["end_s"] == pytest.approx(12.000001, abs=1e-9)
    assert s["metrics"]["overall"]["requests"] == 13
    # the series stop at the planned end: 10 whole seconds; 10.0 … 12.0 count in overall
    assert s["timeseries"]["t"] == list(range(10))


def test_end_of_an_interrupted_run() -> None:
    tl = timeline(steady(0, 9, 1), T0)  # last request at 8.0 s
    stopped = meta(duration=10.0, cooldown=2.0, outcome="interrupted", ended_wall=T0 + 5.0)
    assert end_of_run(stopped, tl) == pytest.approx(8.000001, abs=1e-9)  # max(min(12, 5), 8)
    late = meta(duration=10.0, cooldown=2.0, outcome="interrupted", ended_wall=T0 + 11.0)
    assert end_of_run(late, tl) == 11.0
    done = meta(duration=10.0, cooldown=2.0, outcome="completed", ended_wall=T0 + 11.0)
    assert end_of_run(done, tl) == 12.0  # a completed run measures its cooldown in full
    assert end_of_run(meta(duration=10.0, cooldown=2.0), timeline(steady(0, 0, 1), T0)) == 12.0


# ------------------------------------------------------------------ latency kind in checks
def _latency_check(corrected: bool, latency: dict[str, Any]) -> CheckResult:
    doc = scenario(
        {
            "latency": [
                {"percentile": 99, "max": "100ms", "phase": "overall", "corrected": corrected}
            ]
        },
        faults=[],
    )
    (check,) = evaluate(Scenario.model_validate(doc), {"overall": {"latency_ms": latency}}, [], 0.0)
    return check


def test_latency_check_reads_corrected_latency_when_asked_and_available() -> None:
    both = {"raw": {"p99": 10.0}, "corrected": {"p99": 500.0}}
    check = _latency_check(True, both)
    assert (check.measured, check.passed) == (500.0, False)
    assert check.name == "latency p99 (corrected) overall <= 100 ms"
    assert _latency_check(False, both).measured == 10.0
    # closed model: no corrected latency, the raw one is checked
    closed = _latency_check(True, {"raw": {"p99": 100.0}, "corrected": None})
    assert (closed.measured, closed.passed, closed.name) == (
        100.0,
        True,
        "latency p99 (raw) overall <= 100 ms",
    )


# ------------------------------------------------------------------ verdict precedence
def _check(passed: bool, name: str = "availability overall >= 99%") -> CheckResult:
    return CheckResult(name, "overall", 0.5, 0.99, "ratio", passed)


UNCHECKED = CheckResult(
    "durability: lost acknowledged writes <= 0", "after", None, 0.0, "writes", False, "no answer"
)
SCEN = Scenario.model_validate(scenario())


@pytest.mark.parametrize(
    ("outcome", "errors", "checks", "scen", "expected"),
    [
        # an infrastructure error beats everything, even an interruption
        ("interrupted", ["revert failed"], [_check(False)], SCEN, ("error", ["revert failed"])),
        ("error", [], [], SCEN, ("error", ["the run ended with an infrastructure error"])),
        (
            "completed",
            [],
            [_check(True)],
            None,
            (
                "error",
                [
                    "the run ended with an infrastructure error",
                    "the scenario could not be read, so no check could run",
                ],
            ),
        ),
        # interrupted beats an unchecked durability and a failed check
        (
            "interrupted",
            [],
            [UNCHECKED, _check(False)],
            SCEN,
            ("interrupted", ["interrupted by SIGTERM"]),
        ),
        # durability that could not be checked is an error, before any failed check
        (
            "completed",
            [],
            [_check(False), UNCHECKED],
            SCEN,
            ("error", [f"{UNCHECKED.name}: no answer"]),
        ),
        (
            "completed",
            [],
            [_check(False), _check(True, "b"), _check(False, "c")],
            SCEN,
            ("fail", ["check failed: availability overall >= 99%", "check failed: c"]),
        ),
        ("completed", [], [_check(True)], SCEN, ("pass", [])),
        # no check evaluated: a neutral verdict, never a green PASS
        (
            "completed",
            [],
            [],
            SCEN,
            (
                "unchecked",
                [
                    "the scenario defines no checks, so nothing was judged; "
                    "add `checks:` to get pass/fail"
                ],
            ),
        ),
    ],
)
def test_verdict_precedence(
    outcome: str,
    errors: list[str],
    checks: list[CheckResult],
    scen: Scenario | None,
    expected: tuple[str, list[str]],
) -> None:
    run_meta = {"outcome": outcome, "signal": "SIGTERM" if outcome == "interrupted" else None}
    assert _verdict(run_meta, errors, checks, scen) == expected


def test_interrupted_without_a_signal_name() -> None:
    assert _verdict({"outcome": "interrupted"}, [], [], SCEN) == (
        "interrupted",
        ["interrupted by a signal"],
    )


# ------------------------------------------------------------------ chart downsampling
def test_downsampling_keeps_series_up_to_the_cap() -> None:
    x = [float(i) for i in range(1200)]
    assert downsample(x, x) == (x, x)


def test_downsampling_above_the_cap_buckets_by_mean_or_max() -> None:
    x = [float(i) for i in range(2500)]
    y: list[float | None] = [float(i) for i in range(2500)]
    xs, ys = downsample(x, y)  # ceil(2500 / 1200) = 3 per bucket -> 834 buckets
    assert len(xs) == len(ys) == 834
    assert xs[:3] == [0.0, 3.0, 6.0] and xs[-1] == 2499.0
    assert ys[:2] == [1.0, 4.0] and ys[-1] == 2499.0  # mean of (0, 1, 2), (3, 4, 5), (2499,)
    _, top = downsample(x, y, how="max")
    assert top[:2] == [2.0, 5.0]
    xs2, ys2 = downsample(x[:1201], [None, None, *y[2:1201]], how="max")  # 2 per bucket
    assert len(xs2) == 601
    assert ys2[:2] == [None, 3.0]  # a bucket of only gaps stays a gap


def test_downsampling_a_small_limit() -> None:
    xs, ys = downsample([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, None, 3.0, 5.0, 7.0], limit=2)
    assert (xs, ys) == ([0.0, 3.0], [2.0, 6.0])  # buckets of 3: mean(1, 3) skips the gap


def test_frame_helper_keeps_exact_start_times() -> None:
    # guard for the helpers above: t is exactly what was asked for
    assert timeline(pd.concat([samples([0.1, 0.2], ["ok", "ok"])]), T0).t.tolist() == [0.1, 0.2]


# ------------------------------------------------------------------ outage at injection
def test_a_failure_run_under_way_at_injection_is_the_faults_outage(tmp_path: Path) -> None:
    """A request sent 50 ms before the kill fails because of it: the run starts before
    injection, and its whole span (to the next success) is still the fault's outage."""
    frame = pd.concat(
        [
            steady(0, 19.9, 10),  # ok … 19.8
            samples([19.95], ["reset"], 40.0),  # in flight when the kill lands at 20.0
            steady(20, 27, 10, "refused"),  # 20.0 … 26.9
            steady(27, 60, 10),  # ok from 27.0
        ],
        ignore_index=True,
    )
    s = analyse(
        load_run(write_run(tmp_path / "run", frame, fault_events("k", 20.0, 20.1, 25.0)))
    ).to_json_dict()
    (f,) = s["faults"]
    assert (f["outage_s"], f["outage_start_s"]) == (pytest.approx(7.05), 19.95)  # 27.0 - 19.95
    assert f["detection_s"] == 0.0  # first failure at or after injection: 20.0
    assert f["failures"] == 70  # [20.0, impact end): the 19.95 one is before injection


def test_a_failure_run_over_before_injection_is_not_the_faults() -> None:
    t = np.array([1.0, 2.0, 3.0, 10.0, 10.5, 11.0])
    reqs = Requests(t, np.array([False, False, True, False, False, True]))
    assert longest_failure_span(reqs, (1.5, 20.0)) == (2.0, 1.0)  # under way at 1.5
    assert longest_failure_span(reqs, (3.0, 20.0)) == (1.0, 10.0)  # ended at 3.0: not under way
    # a last run that no success ends, starting exactly at the window start
    tail = Requests(np.array([1.0, 2.0]), np.array([True, False]))
    assert longest_failure_span(tail, (2.0, 5.0)) == (0.0, 2.0)
    assert longest_failure_span(tail, (2.5, 5.0)) == (0.0, None)
