"""Exact text of measured(), durability_rows() and recovered_text(), written out by hand."""

from __future__ import annotations

import pytest

from harness.analysis.summary_model import Durability, FaultRecord
from harness.report.fmt import durability_rows, measured, recovered_text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.99951, "ratio", "99.951%"),
        (None, "ratio", "—"),
        (2.5, "ms", "2.500 ms"),
        (1234.56, "ms", "1,234.6 ms"),
        (None, "ms", "—"),
        (1.5, "s", "1.500 s"),
        (None, "s", "—"),
        # writes are whole numbers: the fraction is cut, not rounded
        (12345.9, "writes", "12,345"),
        (3, "writes", "3"),
        (None, "writes", "—"),
        # any other unit: three decimals, integers as they are
        (1234.5678, "req/s", "1,234.568"),
        (7, "count", "7"),
        (None, "count", "—"),
    ],
)
def test_measured_text_per_unit(value: float | None, unit: str, text: str) -> None:
    assert measured(value, unit) == text


def test_durability_rows_when_the_check_failed() -> None:
    d = Durability(error="the stack answered 503 to every read", acked=12, lost=3)
    assert durability_rows(d) == [("could not check", "the stack answered 503 to every read")]


def test_durability_rows_of_a_clean_unsampled_run() -> None:
    d = Durability(acked=2000, selected=1500, ok=1500, elapsed_s=0.25)
    assert durability_rows(d) == [
        ("acknowledged writes", "2,000"),
        ("read back", "1,500"),
        ("ok", "1,500"),
        ("lost (read says missing)", "0"),
        ("corrupt (wrong payload)", "0"),
        ("unknown (error, timeout, 5xx)", "0"),
        ("unchecked (time budget)", "0"),
        ("read-back time", "0.250 s"),
    ]


def test_durability_rows_list_every_kind_of_loss() -> None:
    d = Durability(
        acked=12345,
        selected=5000,
        sampled=True,
        ok=4990,
        lost=6,
        corrupt=2,
        unknown=1001,
        unchecked=1002,
        elapsed_s=12.5,
        timed_out=1200,
        timed_out_landed=1100,
        timed_out_not_landed=60,
        timed_out_unknown=40,
        lost_ids=["a1", "a2", "a3", "a4", "a5", "a6"],
        corrupt_ids=["c1", "c2"],
        unknown_reasons={"timeout": 2, "http 503": 1},
    )
    assert durability_rows(d) == [
        ("acknowledged writes", "12,345"),
        ("read back", "5,000 (random sample)"),
        ("ok", "4,990"),
        ("lost (read says missing)", "6"),
        ("corrupt (wrong payload)", "2"),
        ("unknown (error, timeout, 5xx)", "1,001"),
        ("unchecked (time budget)", "1,002"),
        ("read-back time", "12.500 s"),
        ("timed-out writes", "1,200: landed 1,100, not landed 60, unknown 40"),
        ("lost ids", "a1, a2, a3, a4, a5 … (6 listed)"),
        ("corrupt ids", "c1, c2"),
        ("unknown because", "timeout ×2, http 503 ×1"),
    ]


def test_durability_rows_list_five_ids_without_an_ellipsis() -> None:
    ids = ["x1", "x2", "x3", "x4", "x5"]
    d = Durability(acked=5, selected=5, corrupt=5, corrupt_ids=ids)
    assert durability_rows(d)[-1] == ("corrupt ids", "x1, x2, x3, x4, x5")
    assert [label for label, _ in durability_rows(d)].count("lost ids") == 0


def test_durability_rows_show_thousands_of_timed_out_parts() -> None:
    d = Durability(
        timed_out=3000, timed_out_landed=1000, timed_out_not_landed=1500, timed_out_unknown=500
    )
    assert durability_rows(d)[-1] == (
        "timed-out writes",
        "3,000: landed 1,000, not landed 1,500, unknown 500",
    )


def _fault(*, applied: bool, recovered: bool, note: str) -> FaultRecord:
    return FaultRecord(
        key="f0",
        name="kill web",
        type="kill",
        index=0,
        occurrence=0,
        targets=["web-1"],
        planned_s=1.0,
        applied=applied,
        self_healing=False,
        error=None,
        injected_s=1.0,
        in_effect_s=1.1,
        reverted_s=3.0,
        revert_ok=True,
        window_end_s=8.0,
        recovery_from_s=3.0,
        recovered=recovered,
        recovered_at_s=3.5 if recovered else None,
        ttr_s=0.5 if recovered else None,
        recovery_note=note,
        detection_s=None,
        failures=0,
        failures_in_window=0,
        requests=10,
        outage_s=0.0,
        outage_start_s=None,
        p99_ms=None,
        p99_inflation=None,
    )


@pytest.mark.parametrize(
    ("applied", "recovered", "note", "text"),
    [
        (False, False, "", "not applied"),
        # a fault that never applied is "not applied" whatever its recovery fields say
        (False, True, "late", "not applied"),
        (True, True, "", "yes"),
        (True, True, "ignored when it recovered", "yes"),
        (True, False, "", "no"),
        (True, False, "errors until the end of the run", "no (errors until the end of the run)"),
    ],
)
def test_recovered_text(applied: bool, recovered: bool, note: str, text: str) -> None:
    assert recovered_text(_fault(applied=applied, recovered=recovered, note=note)) == text
