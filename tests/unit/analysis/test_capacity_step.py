"""One capacity step: counts and corrected latency of a tiny synthetic window, then its verdict.

Every expected number is worked out by hand from the rows below.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from harness.analysis.capacity.slo import LatencyBound, StepSlo, step_slo
from harness.analysis.capacity.step import (
    GeneratorHealth,
    StepMeasure,
    judge_step,
    measure_step,
)
from harness.faults.catalog import Scenario

S = 1_000_000  # µs per second
T0 = 1_700_000_000 * S  # the window opens here


def _row(
    intended_s: float, lag_ms: float, latency_ms: float, outcome: str = "ok"
) -> dict[str, object]:
    intended = T0 + round(intended_s * S)
    return {
        "intended_us": intended,
        "start_us": intended + round(lag_ms * 1000),
        "latency_ms": latency_ms,
        "status": 200 if outcome == "ok" else 0,
        "outcome": outcome,
        "bytes": 10,
        "name": "GET /",
        "worker": "w0",
        "item": "",
    }


def _frame() -> pd.DataFrame:
    rows = [
        _row(-0.5, 0, 999.0),  # scheduled before the window (settle): not counted
        _row(0.0, 0, 10.0),
        _row(0.5, 20, 10.0),  # late: 20 ms behind, corrected 30 ms
        _row(1.0, 0, 40.0, "http_5xx"),
        _row(1.5, 5, 10.0),  # 5 ms behind: not late, corrected 15 ms
        _row(2.0, 0, math.nan, "dropped"),
        _row(2.5, 0, 50.0, "timeout"),
        _row(3.0, 0, 5.0),
        _row(3.5, 0, 8.0),
        _row(4.0, 0, 7.0),  # scheduled at the window's end: excluded (half-open)
    ]
    return pd.DataFrame(rows)


SLO = StepSlo(
    availability=0.99,
    latency=(LatencyBound(percentile=99, max_ms=45.0),),
    max_error_rate=0.01,
    max_lag_ms=25.0,
)
CALM = GeneratorHealth(workers=2, cpu_max=40.0, saturated=False)


def test_the_window_counts_arrivals_by_schedule_and_corrects_latency() -> None:
    m = measure_step(_frame(), T0, T0 + 4 * S, offered_rps=2.0, percentiles=(50.0, 99.0))
    assert (m.arrivals, m.requests, m.ok, m.failed, m.dropped, m.late) == (8, 7, 5, 2, 1, 1)
    assert m.outcomes == {"dropped": 1, "http_5xx": 1, "ok": 5, "timeout": 1}
    assert m.hold_s == 4.0
    assert m.achieved_rps == 5 / 4
    assert m.throughput_rps == 7 / 4
    assert m.availability == 5 / 7
    assert m.error_rate == 3 / 8  # failed + dropped over every scheduled arrival
    assert m.late_fraction == 1 / 7
    # lags (ms) of the 7 sent: 0 20 0 5 0 0 0; p99: rank 7 -> 20 ms
    assert m.lag_p99_ms == pytest.approx(20.0, abs=0.016)
    # corrected values (ms) of the 7 sent: 10, 30, 40, 15, 50, 5, 8 -> sorted 5 8 10 15 30 40 50
    # p50: rank max(round(0.5 * 7), 1) = 4 -> 15 ms; p99: rank 7 -> 50 ms (HdrHistogram buckets
    # are exact below 2048 µs... and 1 µs wide up to 2048: 50 ms lies in a 32 µs bucket)
    assert m.latency_ms["p50"] == pytest.approx(15.0, abs=0.016)
    assert m.latency_ms["p99"] == pytest.approx(50.0, abs=0.032)
    assert m.latency_ms["max"] == pytest.approx(50.0, abs=0.032)


def test_an_empty_window_measures_nothing() -> None:
    m = measure_step(_frame(), T0 + 10 * S, T0 + 12 * S, offered_rps=2.0, percentiles=(99.0,))
    assert (m.arrivals, m.requests, m.ok) == (0, 0, 0)
    assert m.availability is None and m.error_rate is None and m.late_fraction is None
    assert m.lag_p99_ms is None
    assert m.latency_ms["p99"] is None
    verdict = judge_step(m, SLO, CALM)
    assert verdict.verdict == "generator"
    assert verdict.reasons == ("no arrival was scheduled in the measured window",)
    assert verdict.slo_broken == ("no request was sent",)


def _measure(**changes: object) -> StepMeasure:
    base: dict[str, object] = {
        "offered_rps": 100.0,
        "hold_s": 10.0,
        "arrivals": 1000,
        "requests": 1000,
        "ok": 1000,
        "failed": 0,
        "dropped": 0,
        "late": 0,
        "lag_p99_ms": 3.0,
        "outcomes": {"ok": 1000},
        "latency_ms": {"p50": 10.0, "p99": 40.0, "max": 60.0},
    }
    return StepMeasure.model_validate({**base, **changes})


def test_a_step_meeting_every_slo_is_good() -> None:
    verdict = judge_step(_measure(), SLO, CALM)
    assert (verdict.verdict, verdict.reasons, verdict.slo_broken) == ("good", (), ())


def test_bounds_are_inclusive() -> None:
    # availability exactly 99 %, p99 exactly 45 ms, error rate exactly 1 %: still good
    edge = _measure(ok=990, failed=10, latency_ms={"p99": 45.0})
    assert judge_step(edge, SLO, CALM).verdict == "good"


def test_each_broken_slo_is_named_with_its_figures() -> None:
    bad = _measure(ok=980, failed=10, dropped=10, requests=990, latency_ms={"p99": 45.5})
    verdict = judge_step(bad, SLO, CALM)
    assert verdict.verdict == "bad"
    assert verdict.reasons == (
        "availability 98.99 % < 99.00 %",  # 980 / 990
        "p99 45.5 ms > 45 ms",
        "error rate 2.00 % > 1.00 %",  # (10 + 10) / 1000
    )


def test_a_saturated_or_late_generator_voids_the_step_even_if_slos_broke() -> None:
    hot = GeneratorHealth(workers=1, cpu_max=97.4, saturated=True)
    late = _measure(late=201, lag_p99_ms=25.5, latency_ms={"p99": 900.0})
    verdict = judge_step(late, SLO, hot)
    assert verdict.verdict == "generator"
    assert verdict.reasons == (
        "a load worker ran above 90 % CPU (max 97 %)",
        "requests were sent up to 25.5 ms behind schedule (p99; limit 25 ms): the generator"
        " could not keep its schedule",
    )
    assert verdict.slo_broken == ("p99 900 ms > 45 ms",)
    # a p99 lag of exactly the limit: the generator kept up
    assert judge_step(_measure(late=200, lag_p99_ms=25.0), SLO, CALM).verdict == "good"


def test_the_slo_comes_from_the_scenario_with_defaults() -> None:
    base = {
        "version": 1,
        "name": "s",
        "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:1/"},
        "load": {},
        "experiment": {"capacity": {"max_rps": 10}},
    }
    plain = step_slo(Scenario.model_validate(base))
    # no latency bound: the lag limit is the default 50 ms
    assert plain == StepSlo(availability=0.99, latency=(), max_error_rate=0.01, max_lag_ms=50.0)
    assert plain.percentiles() == (50.0, 90.0, 99.0)
    tuned = step_slo(
        Scenario.model_validate(
            {
                **base,
                "checks": {
                    "availability": {"overall": "99.9%"},
                    "latency": [{"percentile": 99.9, "max": "250ms"}],
                },
                "experiment": {
                    "capacity": {"max_rps": 10, "max_error_rate": "2%", "max_lag": "30ms"}
                },
            }
        )
    )
    assert tuned.availability == pytest.approx(0.999)  # "99.9%" parses to 0.999000...1
    assert tuned.latency == (LatencyBound(percentile=99.9, max_ms=250.0),)
    assert (tuned.max_error_rate, tuned.max_lag_ms) == (0.02, 30.0)
    assert tuned.percentiles() == (50.0, 90.0, 99.0, 99.9)
    without_max = step_slo(
        Scenario.model_validate({**base, "checks": {"availability": {"overall": "99.9%"}}})
    )
    assert without_max.max_error_rate == pytest.approx(0.001)
    derived = step_slo(
        Scenario.model_validate(
            {
                **base,
                "checks": {
                    "latency": [
                        {"percentile": 99, "max": "300ms"},
                        {"percentile": 50, "max": "40ms"},
                    ]
                },
            }
        )
    )
    assert derived.max_lag_ms == pytest.approx(8.0)  # a fifth of the tightest bound, 40 ms
