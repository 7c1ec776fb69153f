"""Container metrics analysis on tiny synthetic frames whose answers are worked out by hand."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from harness.analysis.containers import (
    analyse_containers,
    nearest_rank,
    prepare,
    replicas,
    span_stats,
    timeseries,
)

T0 = 1_000.0


def row(t: float, replica: int = 1, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "wall": T0 + t,
        "service": "app",
        "replica": replica,
        "container": f"c{replica}",
        "state": "running",
        "health": "healthy",
        "restarts": 0,
        "cpu_pct": 10.0,
        "mem_bytes": 100,
        "mem_limit": 1000,
        "net_rx": 0,
        "net_tx": 0,
        "blk_read": 0,
        "blk_write": 0,
        "pids": 1,
    }
    base.update(kw)
    return base


def down(t: float, replica: int = 1, **kw: Any) -> dict[str, Any]:
    nulls = dict.fromkeys(("cpu_pct", "mem_bytes", "net_rx", "net_tx", "blk_read", "blk_write"))
    return row(t, replica, state="exited", health="", **{**nulls, **kw})


def test_nearest_rank_picks_the_ceiling_rank() -> None:
    assert nearest_rank(list(range(1, 21)), 95) == 19  # ceil(0.95 * 20) = 19th
    assert nearest_rank([4, 1, 3, 2], 50) == 2  # ceil(2) = 2nd smallest
    assert nearest_rank([4, 1, 3, 2], 51) == 3  # ceil(2.04) = 3rd
    assert nearest_rank([7.0], 0) == 7.0
    assert nearest_rank([], 95) is None


def test_a_killed_replica_has_one_down_span_from_its_first_missed_round_to_its_return() -> None:
    frame = pd.DataFrame(
        [row(0), row(1), down(2), down(3), row(4, health="starting"), row(5)]
        + [row(t, replica=2) for t in range(6)]
    )
    out = {r["replica"]: r for r in replicas(prepare(frame, T0))}
    assert out[1]["down"] == [[2.0, 4.0]]
    assert out[1]["up_rounds"] == 4 and out[1]["rounds"] == 6
    assert out[1]["health"] == [[0.0, "healthy"], [2.0, ""], [4.0, "starting"], [5.0, "healthy"]]
    assert out[2]["down"] == []


def test_a_replica_still_down_at_the_end_spans_to_its_last_round() -> None:
    frame = pd.DataFrame([row(0), down(1), down(2)])
    (only,) = replicas(prepare(frame, T0))
    assert only["down"] == [[1.0, 2.0]]


def test_restarts_add_up_per_container_and_a_replacement_is_listed() -> None:
    frame = pd.DataFrame(
        [
            row(0, restarts=-1),
            row(1, restarts=2),
            row(2, restarts=5),
            row(3, container="new", restarts=0),
            row(4, container="new", restarts=1),
        ]
    )
    (only,) = replicas(prepare(frame, T0))
    assert only["restarts"] == 3 + 1  # -1 (unknown) is not a count
    assert only["containers"] == ["c1", "new"]


def test_span_stats_by_hand() -> None:
    # replica 1: cpu 10, 30, 50 at t=0,1,2; replica 2: cpu 20, 40 at t=0,1; t=3 is outside
    frame = pd.DataFrame(
        [
            row(0, cpu_pct=10.0, mem_bytes=100, net_rx=1000),
            row(1, cpu_pct=30.0, mem_bytes=300, net_rx=1500),
            row(2, cpu_pct=50.0, mem_bytes=200, net_rx=400),  # counter reset: +400
            row(3, cpu_pct=99.0, mem_bytes=999, net_rx=9999),
            row(0, 2, cpu_pct=20.0, mem_bytes=50, net_rx=0),
            row(1, 2, cpu_pct=40.0, mem_bytes=60, net_rx=100),
        ]
    )
    st = span_stats(prepare(frame, T0), [(0.0, 3.0)])
    assert st["rows"] == 5 and st["up_rows"] == 5 and st["seconds"] == 3.0
    assert st["cpu_pct"] == {"p50": 30.0, "p95": 50.0, "max": 50.0}
    # per round totals: t0 30, t1 70, t2 50 -> p95 = 3rd smallest = 70
    assert st["cpu_pct_sum"] == {"p95": 70.0, "max": 70.0}
    assert st["mem_bytes"] == {"p50": 100.0, "max": 300.0}
    # increases inside: c1 +500 (t1) +400 (t2, after the reset), c2 +100 (t1): 1000 B / 3 s
    assert st["net_rx_bps"] == pytest.approx(1000 / 3)


def test_down_rows_count_but_give_no_values() -> None:
    frame = pd.DataFrame([down(0), down(1)])
    st = span_stats(prepare(frame, T0), [(0.0, 2.0)])
    assert st["rows"] == 2 and st["up_rows"] == 0
    assert st["cpu_pct"] == {"p50": None, "p95": None, "max": None}
    assert st["net_rx_bps"] is None


def test_timeseries_means_cpu_and_maxes_memory_per_second() -> None:
    frame = pd.DataFrame(
        [
            row(0.2, cpu_pct=10.0, mem_bytes=2**20),
            row(0.7, cpu_pct=20.0, mem_bytes=3 * 2**20),
            down(1.5),
            row(2.1, cpu_pct=5.0, mem_bytes=2**21),
        ]
    )
    ts = timeseries(prepare(frame, T0), end_s=2.5)
    assert ts["t"] == [0, 1, 2]
    (one,) = ts["replicas"]
    assert one["cpu_pct"] == [15.0, None, 5.0]
    assert one["mem_mib"] == [3.0, None, 2.0]


def test_past_two_hours_the_buckets_widen_like_the_request_series() -> None:
    # end 7201 s: 7201 seconds > 7200 buckets of 1 s, so 2 s buckets [0, 2) … [7200, 7202)
    frame = pd.DataFrame(
        [
            row(0.5, cpu_pct=10.0, mem_bytes=2**20),
            row(1.5, cpu_pct=30.0, mem_bytes=3 * 2**20),
            row(7200.5, cpu_pct=4.0, mem_bytes=2**21),
        ]
    )
    ts = timeseries(prepare(frame, T0), end_s=7201.0)
    assert ts["step_s"] == 2
    assert (len(ts["t"]), ts["t"][:2], ts["t"][-1]) == (3601, [0, 2], 7200)
    (one,) = ts["replicas"]
    assert (one["cpu_pct"][0], one["mem_mib"][0]) == (20.0, 3.0)  # mean CPU, max memory
    assert one["cpu_pct"][1:3] == [None, None]
    assert (one["cpu_pct"][-1], one["mem_mib"][-1]) == (4.0, 2.0)
    assert "step_s" not in timeseries(prepare(frame, T0), end_s=7200.0)


def test_the_section_leaves_out_the_warmup_and_sums_by_phase_and_fault() -> None:
    frame = pd.DataFrame([row(-1, cpu_pct=90.0), row(0, cpu_pct=10.0), row(1, cpu_pct=20.0)])
    out = analyse_containers(frame, T0, 2.0, {"overall": [(0.0, 2.0)]}, {"kill#0": (1.0, 2.0)})
    assert out is not None
    app = out["services"]["app"]
    assert app["phases"]["overall"]["cpu_pct"]["max"] == 20.0  # the warmup's 90 is left out
    assert app["faults"]["kill#0"]["cpu_pct"]["max"] == 20.0
    assert app["faults"]["kill#0"]["rows"] == 1
    assert out["interval_s"] == 1.0
    assert analyse_containers(None, T0, 2.0, {}, {}) is None
    assert analyse_containers(frame.iloc[0:0], T0, 2.0, {}, {}) is None
