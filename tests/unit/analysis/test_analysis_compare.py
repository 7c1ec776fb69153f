"""Regression comparison of two summaries with tolerances."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.analysis.compare import Tolerances, compare_runs
from harness.errors import ScenarioError


def summary(availability: float, p99: float, ttr: float | None) -> dict[str, Any]:
    return {
        "schema": "hachaos.summary",
        "run": {"run_id": "r"},
        "latency_kind": "raw",
        "headline": {"availability": availability, "p99_ms": p99},
        "faults": [{"key": "kill-1#0", "ttr_s": ttr, "recovered": ttr is not None}],
    }


BASE = summary(0.999, 100.0, 4.0)


def test_identical_runs_do_not_regress() -> None:
    result = compare_runs(BASE, copy.deepcopy(BASE))
    assert not result.regressed
    assert [r.metric for r in result.rows] == [
        "availability overall",
        "p99 overall",
        "time to recover kill-1#0",
    ]


@pytest.mark.parametrize(
    ("new", "regressed_metric"),
    [
        (summary(0.9939, 100.0, 4.0), "availability overall"),
        (summary(0.999, 120.1, 4.0), "p99 overall"),
        (summary(0.999, 100.0, 6.5), "time to recover kill-1#0"),
        (summary(0.999, 100.0, None), "time to recover kill-1#0"),
    ],
)
def test_each_metric_regresses_beyond_its_tolerance(
    new: dict[str, Any], regressed_metric: str
) -> None:
    result = compare_runs(BASE, new, Tolerances())
    assert result.regressed
    assert [r.metric for r in result.rows if r.regressed] == [regressed_metric]


def test_within_tolerance_is_fine() -> None:
    new = summary(0.995, 119.9, 5.9)
    assert not compare_runs(BASE, new).regressed


def test_tolerances_parse_cli_text() -> None:
    tol = Tolerances.parse("1%", "150%", "500ms")
    assert tol == Tolerances(0.01, 1.5, 0.5)
    with pytest.raises(ScenarioError):
        Tolerances.parse("x", "20%", "2s")


@pytest.mark.parametrize(
    "texts", [("nan", "20%", "2s"), ("1%", "nan%", "2s"), ("1%", "inf", "2s"), ("1%", "20%", "inf")]
)
def test_non_finite_tolerances_are_refused(texts: tuple[str, str, str]) -> None:
    # A NaN tolerance would make every comparison pass: never a silent "no regression".
    with pytest.raises(ScenarioError, match=r"finite|expected"):
        Tolerances.parse(*texts)


def test_not_a_summary_is_a_usage_error() -> None:
    with pytest.raises(ScenarioError, match="not a hachaos summary"):
        compare_runs({}, BASE)
