"""The stack's own series: selection, per-span values and changes, by hand."""

from __future__ import annotations

import json

import pandas as pd

from harness.analysis.stack_metrics import analyse_stack_metrics, endpoint_warnings
from harness.scenario.models import MetricsEndpoint

T0 = 1_000.0


def sample(t: float, value: float, name: str = "active", replica: int = 1, **labels: str) -> dict:
    return {
        "wall": T0 + t,
        "endpoint": 0,
        "service": "lb",
        "replica": replica,
        "name": name,
        "labels": json.dumps(labels, sort_keys=True, separators=(",", ":")),
        "value": value,
    }


EP = MetricsEndpoint(service="lb", port=8404, series=['active{proxy="app"}', "missing"])
OK = [
    {
        "index": 0,
        "service": "lb",
        "port": 8404,
        "path": "/metrics",
        "scrapes": 5,
        "failed": 0,
        "samples": 3,
        "targets": 1,
        "last_error": None,
    }
]


def test_a_backend_going_down_and_up_is_two_changes_with_its_span_values() -> None:
    values = [(-1, 3), (0, 3), (1, 3), (2, 2), (3, 2), (4, 3), (5, 3)]
    frame = pd.DataFrame(
        [sample(t, v, proxy="app") for t, v in values]
        + [sample(t, 9, proxy="other") for t in range(3)]
        + [sample(1, 1, name="unrelated", proxy="app")]
    )
    out, warnings = analyse_stack_metrics(
        frame, [EP], OK, T0, 5.0, {"overall": [(0.0, 5.0)]}, {"kill#0": (2.0, 4.0)}
    )
    assert out is not None
    (series,) = out["series"]
    assert series["labels"] == {"proxy": "app"} and series["replica"] == 1
    assert series["changes"] == [
        [0.0, 3.0],
        [2.0, 2.0],
        [4.0, 3.0],
    ]
    assert series["phases"]["overall"] == {"min": 2.0, "max": 3.0, "first": 3.0, "last": 3.0}
    assert series["faults"]["kill#0"] == {"min": 2.0, "max": 2.0, "first": 2.0, "last": 2.0}
    assert series["t"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # warmup left out, end included
    assert warnings == ["stack metrics: lb:8404/metrics: series missing matched no scraped sample"]


def test_each_replica_is_a_series_of_its_own() -> None:
    frame = pd.DataFrame([sample(0, 1, proxy="app"), sample(0, 2, replica=2, proxy="app")])
    out, _ = analyse_stack_metrics(frame, [EP], OK, T0, 1.0, {}, {})
    assert out is not None
    assert [(s["replica"], s["values"]) for s in out["series"]] == [(1, [1.0]), (2, [2.0])]


def test_failed_endpoints_are_warnings_never_errors() -> None:
    never = {
        **OK[0],
        "scrapes": 4,
        "failed": 4,
        "last_error": "lb.1: HTTP 500",
    }
    some = {**OK[0], "scrapes": 10, "failed": 3, "last_error": "not Prometheus text format: x"}
    assert endpoint_warnings([never, some, OK[0]]) == [
        "stack metrics: lb:8404/metrics: never scraped (last: lb.1: HTTP 500)",
        "stack metrics: lb:8404/metrics: 3 of 10 scrapes failed"
        " (last: not Prometheus text format: x)",
    ]
    out, warnings = analyse_stack_metrics(None, [EP], [never], T0, 1.0, {}, {})
    assert out == {"endpoints": [never], "series": []}
    assert len(warnings) == 1


def test_no_endpoint_no_section() -> None:
    assert analyse_stack_metrics(None, [], [], T0, 1.0, {}, {}) == (None, [])
