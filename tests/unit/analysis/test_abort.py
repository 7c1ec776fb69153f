"""Stop conditions judged on tiny hand-built sample streams (harness/analysis/abort.py)."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter

from harness.analysis.abort import (
    AbortMonitor,
    LiveSample,
    SampleWindow,
    WindowFigures,
    _judge,
    abort_reason,
    abort_record,
    describe,
    nearest_rank,
)
from harness.scenario.guards import AbortCondition

COND: TypeAdapter[AbortCondition] = TypeAdapter(AbortCondition)


def cond(**kw: object) -> AbortCondition:
    return COND.validate_python(kw)


def stream(lo: int, hi: int, ok_before: float, latency_ms: float = 10.0) -> list[LiveSample]:
    """A request every 0.1 s at t = k/10 for k in [lo, hi); ok while t < ok_before."""
    return [LiveSample(k / 10, latency_ms, k / 10 < ok_before) for k in range(lo, hi)]


def test_nearest_rank_p99() -> None:
    assert nearest_rank([], 99) is None
    assert nearest_rank([30.0, 10.0, 20.0], 99) == 30.0  # rank ceil(2.97) = 3
    assert nearest_rank([float(v) for v in range(1, 101)], 99) == 99.0  # rank 99 of 100
    assert nearest_rank([float(v) for v in range(1, 201)], 99) == 198.0  # rank 198 of 200
    assert nearest_rank([5.0], 99) == 5.0


def test_window_is_open_at_its_start_and_closed_at_its_end() -> None:
    w = SampleWindow()
    w.add(
        [
            LiveSample(2.5, math.nan, False),  # no answer: a failure without a latency
            LiveSample(1.0, 1.0, True),
            LiveSample(2.0, 7.0, True),
            LiveSample(1.5, 3.0, False),
        ]
    )
    fig = w.figures(end=2.5, over=1.0)  # (1.5, 2.5]: the samples at 2.0 and 2.5
    assert (fig.requests, fig.availability, fig.p99_ms) == (2, 0.5, 7.0)
    fig = w.figures(end=2.0, over=1.0)  # (1.0, 2.0]: 1.5 (failed, 3 ms) and 2.0 (ok, 7 ms)
    assert (fig.requests, fig.availability, fig.p99_ms) == (2, 0.5, 7.0)
    assert w.figures(end=0.9, over=1.0).requests == 0
    w.forget_before(2.0)
    assert len(w) == 2


def test_availability_trips_at_the_first_grid_instant_it_holds() -> None:
    # 10 requests/s; all fail from t = 12.0. Window (T-1, T] holds 10 requests; fewer
    # than half succeed from T = 12.5 on (6 failures: 12.0 … 12.5). At 12.25: 3 of 10 fail.
    m = AbortMonitor([cond(type="availability", below="50%", over="1s")], start=10.0, end=20.0)
    m.feed(stream(90, 124, ok_before=12.0))  # up to t = 12.3: the data cannot show it yet
    assert m.advance() is None
    assert m.next_instant == 12.5  # every instant up to the newest sample judged once
    m.feed(stream(124, 130, ok_before=12.0))
    trip = m.advance()
    assert trip is not None
    assert (trip.index, trip.type, trip.at, trip.measured) == (0, "availability", 12.5, 0.4)
    assert trip.condition == "availability < 50% over 1s"
    assert trip.detail == "availability 40.0% of 10 requests"
    m.feed(stream(130, 140, ok_before=0.0))
    assert m.advance() is trip  # the first trip stays


def test_error_rate_above() -> None:
    # All fail from t = 12.0; the error rate over (T-2, T] exceeds 25% once more than 5
    # of the 20 requests fail: 6 failures (12.0 … 12.5) at T = 12.5.
    c = cond(type="error_rate", above="25%", over="2s")
    m = AbortMonitor([c], start=10.0, end=20.0)
    m.feed(stream(80, 140, ok_before=12.0))
    trip = m.advance()
    assert trip is not None and trip.at == 12.5 and trip.measured == pytest.approx(0.3)
    assert describe(c) == "error rate > 25% over 2s"


def test_p99_above_uses_answered_requests_only() -> None:
    # Latency 10 ms, then 900 ms from t = 11.0; one 10-request window (T-1, T]:
    # p99 = the slowest (rank 10 of 10) as soon as one 900 ms request is in it: T = 11.0.
    slow = [LiveSample(k / 10, 10.0 if k < 110 else 900.0, True) for k in range(90, 130)]
    c = cond(type="p99", above="500ms", over="1s")
    m = AbortMonitor([c], start=10.0, end=20.0)
    m.feed(slow)
    trip = m.advance()
    assert trip is not None and (trip.at, trip.measured) == (11.0, 900.0)
    assert describe(c) == "p99 > 500 ms over 1s"
    # Unanswered requests (NaN latency) count for availability, never for p99.
    m2 = AbortMonitor([c], start=10.0, end=20.0)
    m2.feed([LiveSample(k / 10, math.nan, False) for k in range(90, 130)])
    assert m2.advance() is None


def test_min_requests_and_the_judged_span() -> None:
    c = cond(type="availability", below="50%", over="1s", min_requests=11)
    m = AbortMonitor([c], start=10.0, end=20.0)
    m.feed(stream(90, 200, ok_before=0.0))  # all fail, but a window holds 10 < 11
    assert m.advance() is None
    # Requests of the warmup (before t = start) are never in a window, and no instant
    # before start is judged; nor any instant at or after the end of the run.
    c2 = cond(type="availability", below="50%", over="1s", min_requests=1)
    early = AbortMonitor([c2], start=10.0, end=20.0)
    early.feed(stream(50, 100, ok_before=0.0))  # t = 5.0 … 9.9: all failed
    assert early.advance() is None
    early.feed([LiveSample(10.0, 5.0, True)])  # (9.0, 10.0] from 10.0 on: 1 ok of 1
    assert early.advance() is None
    early.feed([LiveSample(10.1, 5.0, False), LiveSample(10.2, 5.0, False)])
    assert early.advance() is None  # the next instant, 10.25, is beyond the newest sample
    early.feed([LiveSample(10.3, 5.0, True)])
    trip = early.advance()  # at 10.25: 10.0 ok, 10.1 and 10.2 failed: 1 of 3
    assert trip is not None and trip.at == 10.25 and trip.measured == pytest.approx(1 / 3)
    late = AbortMonitor([c2], start=10.0, end=12.0)
    late.feed(stream(100, 120, ok_before=99.0) + stream(120, 150, ok_before=0.0))
    assert late.advance() is None  # failures only from t = 12.0 = end


def test_probe_trips_on_consecutive_failures_only() -> None:
    c = cond(type="probe", path="/health", failures=3)
    m = AbortMonitor([cond(type="availability", below="50%", over="1s"), c], 10.0, 20.0)
    assert m.result(1, 10.0, False, "status 503") is None
    assert m.result(1, 11.0, False, "status 503") is None
    assert m.result(1, 12.0, True, "status 200") is None  # the streak restarts
    assert m.result(1, 13.0, False, "no answer") is None
    assert m.result(1, 14.0, False, "no answer") is None
    assert m.result(1, 9.0, False, "before the start: ignored") is None
    trip = m.result(1, 15.0, False, "no answer: refused")
    assert trip is not None
    assert (trip.index, trip.type, trip.at, trip.measured) == (1, "probe", 15.0, 3.0)
    assert trip.condition == "probe target/health failed 3x in a row"
    with pytest.raises(ValueError):
        m.result(0, 16.0, False, "not a probe")


def test_command_trips_at_its_first_failure_by_default() -> None:
    c = cond(type="command", argv=["./check", "--fast"])
    m = AbortMonitor([c], start=10.0, end=20.0)
    assert m.result(0, 10.5, True, "exited 0") is None
    assert m.result(0, 20.0, False, "at the end: ignored") is None
    trip = m.result(0, 11.0, False, "exited 2")
    assert trip is not None and trip.at == 11.0 and trip.detail == "exited 2"
    assert describe(c) == "command ./check --fast failed 1x in a row"


def test_abort_record_times_are_from_t0() -> None:
    t0 = 1000.0
    events = [
        {"kind": "phase", "phase": "run"},
        {
            "kind": "abort",
            "index": 0,
            "type": "availability",
            "condition": "availability < 50% over 2s",
            "measured": 0.25,
            "detail": "availability 25.0% of 80 requests",
            "condition_wall": 1004.25,
            "wall": 1005.0,
            "cancelled": ["b#0"],
            "active": ["a#0"],
        },
        {"kind": "abort.reverted", "wall": 1006.5, "reverted": ["a#0"], "ok": True},
    ]
    rec = abort_record(events, t0)
    assert rec is not None
    assert (rec["condition_s"], rec["aborted_s"], rec["reverted_s"]) == (4.25, 5.0, 6.5)
    assert (rec["detection_s"], rec["revert_s"]) == (0.75, 2.25)
    assert rec["reverted"] == ["a#0"] and rec["cancelled"] == ["b#0"] and rec["revert_ok"]
    assert abort_reason(rec) == (
        "aborted at t=4.25s: availability < 50% over 2s (availability 25.0% of 80 requests)"
    )
    assert abort_record(events[:1], t0) is None
    unreverted = abort_record(events[:2], t0)
    assert unreverted is not None
    assert unreverted["reverted_s"] is None and not unreverted["revert_ok"]


def test_thresholds_are_strict() -> None:
    # Error rate exactly at the bound does not hold: at T = 12.5, 6 of 20 = 30% (not > 30%);
    # at 12.75, 8 of 20 (12.0 … 12.7) = 40%.
    m = AbortMonitor([cond(type="error_rate", above="30%", over="2s")], start=10.0, end=20.0)
    m.feed(stream(80, 140, ok_before=12.0))
    trip = m.advance()
    assert trip is not None and trip.at == 12.75 and trip.measured == pytest.approx(0.4)
    # p99 exactly at the bound (500 ms) does not hold; 500.5 ms does.
    at_bound = [LiveSample(k / 10, 500.0, True) for k in range(100, 130)]
    p = cond(type="p99", above="500ms", over="1s")
    m2 = AbortMonitor([p], start=10.0, end=20.0)
    m2.feed(at_bound)
    assert m2.advance() is None
    m2.feed([LiveSample(13.0, 500.5, True), LiveSample(13.1, 1.0, True)])
    trip2 = m2.advance()
    assert trip2 is not None and (trip2.at, trip2.measured) == (13.0, 500.5)


def test_p99_bound_in_ms_is_exact() -> None:
    # 1001ms parses to 1.001 s, and 1.001 * 1000 is 1000.9999999999999 in floats:
    # a p99 of exactly 1001 ms is at the bound, so it must not abort.
    m = AbortMonitor([cond(type="p99", above="1001ms", over="1s")], start=10.0, end=20.0)
    m.feed([LiveSample(k / 10, 1001.0, True) for k in range(100, 130)])
    assert m.advance() is None


def test_error_rate_falls_back_to_one_minus_availability() -> None:
    rate = cond(type="error_rate", above="20%", over="10s")
    # 7 of 10 ok and no error_rate given: 30% failed, above 20%
    holds, value, detail = _judge(rate, WindowFigures(10, 0.7, None))
    assert holds is True and value == pytest.approx(0.3)
    assert detail == "error rate 30.0% of 10 requests"
    holds, value, detail = _judge(rate, WindowFigures(10, 0.9, None))
    assert holds is False and value == pytest.approx(0.1)
    assert detail == "error rate 10.0% of 10 requests"


def test_a_window_without_figures_never_holds() -> None:
    rate = cond(type="error_rate", above="20%", over="10s")
    assert _judge(rate, WindowFigures(0, None, None)) == (False, None, "")


def test_abort_reason_without_detail() -> None:
    assert abort_reason({"condition_s": 1.5, "condition": "probe target/ failed 3x in a row"}) == (
        "aborted at t=1.50s: probe target/ failed 3x in a row"
    )
    assert abort_reason({"condition_s": 2.0, "condition": "c", "detail": ""}) == (
        "aborted at t=2.00s: c"
    )


def test_a_long_command_is_cut_to_200_characters() -> None:
    text = describe(cond(type="command", argv=["x" * 150, "y" * 150], failures=2))
    assert text == "command " + "x" * 150 + " " + "y" * 49 + " failed 2x in a row"


def test_a_probe_on_a_service_names_it() -> None:
    probe = cond(type="probe", service="web", port=8000, path="/health", failures=3)
    assert describe(probe) == "probe web:8000/health failed 3x in a row"


def test_result_refuses_a_windowed_condition_and_counts_from_start() -> None:
    m = AbortMonitor(
        [
            cond(type="availability", below="50%", over="10s"),
            cond(type="command", argv=["true"], failures=1),
        ],
        10.0,
        20.0,
    )
    with pytest.raises(ValueError, match=r"^condition 0 is not a probe or a command$"):
        m.result(0, 12.0, False, "")
    trip = m.result(1, 10.0, False, "exit 1")  # the start instant is inside [start, end)
    assert trip is not None and (trip.at, trip.measured, trip.detail) == (10.0, 1.0, "exit 1")


def test_window_p99_is_rank_99_of_100() -> None:
    w = SampleWindow()
    w.add(LiveSample(k / 100, float(k), True) for k in range(1, 101))  # latencies 1..100 ms
    assert w.figures(end=2.0, over=10.0).p99_ms == 99.0


def test_p99_bound_keeps_fractions_of_a_millisecond() -> None:
    slow = cond(type="p99", above="2.5ms", over="10s")
    assert _judge(slow, WindowFigures(10, 1.0, 2.4))[0] is False  # 2.4 <= 2.5 (not 2)
    held = _judge(slow, WindowFigures(10, 1.0, 2.6))
    assert held == (True, 2.6, "p99 2.6 ms of 10 requests")
    # 0.1000000004 s is 100.0000004 ms, rounded to 1 ns of a ms: a bound of 100.0 ms
    tiny = cond(type="p99", above="0.1000000004s", over="10s")
    assert _judge(tiny, WindowFigures(10, 1.0, 100.0000002))[0] is True


def _worker(first: float, lo: int, hi: int) -> list[LiveSample]:
    """One worker sending every 0.1 s at first + k/10, k in [lo, hi); all fail from t = 12.0."""
    times = [round(first + k / 10, 2) for k in range(lo, hi)]
    return [LiveSample(t, 10.0, t < 12.0) for t in times]


def test_a_window_is_judged_only_once_every_worker_reported_past_its_end() -> None:
    # Workers A (10.00, 10.10, …) and B (10.05, 10.15, …); all requests fail from 12.0.
    # Window (T-1, T] holds 10 of each. T = 12.25: A fails 12.0-12.2 (3), B 12.05-12.25
    # (3): 6 of 20. T = 12.5: A 12.0-12.5 (6), B 12.05-12.45 (5): 11 of 20, 45 % < 50 %.
    c = cond(type="availability", below="50%", over="1s", min_requests=5)
    m = AbortMonitor([c], start=10.0, end=20.0)
    # A's chunks are in up to 12.9; B, the slower, has reported only up to 12.0.
    m.feed(_worker(10.0, 0, 30) + _worker(10.05, 0, 20), complete_before=12.0)
    assert m.advance() is None
    assert m.next_instant == 12.0  # 11.75 judged, 12.0 not: B may still send rows before it
    m.feed(_worker(10.05, 20, 30), complete_before=13.0)
    trip = m.advance()
    assert trip is not None and (trip.at, trip.measured) == (12.5, pytest.approx(0.45))
    assert trip.detail == "availability 45.0% of 20 requests"
    # Without the watermark the newest sample (12.9) was the horizon: (11.5, 12.5] held
    # A's 10 and B's 5 ok rows (60 %), and the trip came at 12.75 on 12 rows (8 failed).
    old = AbortMonitor([c], start=10.0, end=20.0)
    old.feed(_worker(10.0, 0, 30) + _worker(10.05, 0, 20))
    early = old.advance()
    assert early is not None and (early.at, early.measured) == (12.75, pytest.approx(4 / 12))


def test_the_watermark_never_moves_back_and_bounds_the_end() -> None:
    c = cond(type="availability", below="50%", over="1s", min_requests=5)
    m = AbortMonitor([c], start=10.0, end=11.0)
    m.feed(_worker(10.0, 0, 5), complete_before=10.5)
    m.advance()
    m.feed([], complete_before=10.2)  # an older reading changes nothing
    assert m.complete_before == 10.5 and m.next_instant == 10.5
    m.feed([], complete_before=30.0)
    m.advance()
    assert m.next_instant == 11.0  # never past the end of the run
