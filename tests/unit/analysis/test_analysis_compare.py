"""Regression comparison of two summaries with tolerances."""

from __future__ import annotations

import pytest
from hachaos_runfolder import summary_doc

from harness.analysis.compare import Tolerances, compare_runs
from harness.analysis.summary_model import Summary, SummaryError, parse_summary
from harness.errors import ScenarioError


def summary(availability: float, p99: float, ttr: float | None) -> Summary:
    return parse_summary(summary_doc("r", availability, p99, "raw", [("kill-1#0", ttr)]))


BASE = summary(0.999, 100.0, 4.0)


def test_identical_runs_do_not_regress() -> None:
    result = compare_runs(BASE, BASE.model_copy(deep=True))
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
def test_each_metric_regresses_beyond_its_tolerance(new: Summary, regressed_metric: str) -> None:
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
    # What compare reads goes through parse_summary: a SummaryError (a usage error, exit 2).
    with pytest.raises(SummaryError, match="not a hachaos summary") as err:
        parse_summary({})
    assert isinstance(err.value, ScenarioError) and err.value.exit_code == 2
