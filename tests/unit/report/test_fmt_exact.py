"""Number and text formatting of the reports, to the character.

Every expected string is written out by hand: a report that shows 99.95 % as
"99.950%" must not silently become "0.99950%" or lose its unit.
"""

from __future__ import annotations

import pytest

from harness.report.fmt import MISSING, ms, num, pct, printable, ratio_x, secs, verdict_text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(0.99951, 3, "99.951%"), (1.0, 3, "100.000%"), (0.5, 1, "50.0%"), (0.0, 0, "0%")],
)
def test_pct(value: float, digits: int, text: str) -> None:
    assert pct(value, digits) == text


def test_pct_default_digits_and_missing() -> None:
    assert pct(0.123456) == "12.346%"
    assert pct(None) == MISSING == "—"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.000 ms"),
        (9.9994, "9.999 ms"),
        (10.0, "10.0 ms"),  # from 10 ms on: one decimal
        (1234.56, "1,234.6 ms"),
        (3_600_000.0, "3,600,000.0 ms"),  # an hour
        (None, "—"),
    ],
)
def test_ms(value: float | None, text: str) -> None:
    assert ms(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0.000 s"), (1.23456, "1.235 s"), (3600.0, "3600.000 s"), (None, "—")]
)
def test_secs(value: float | None, text: str) -> None:
    assert secs(value) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (1234567, 1, "1,234,567"),  # integers keep no decimals
        (0, 3, "0"),
        (1234.5678, 1, "1,234.6"),
        (2.0, 3, "2.000"),
        (None, 1, "—"),
    ],
)
def test_num(value: float | None, digits: int, text: str) -> None:
    assert num(value, digits) == text


def test_num_default_digits() -> None:
    assert num(2.25) == "2.2"  # one decimal by default; 2.25 is exact and rounds half to even


@pytest.mark.parametrize(("value", "text"), [(3.2, "3.20×"), (1.0, "1.00×"), (None, "—")])
def test_ratio_x(value: float | None, text: str) -> None:
    assert ratio_x(value) == text


@pytest.mark.parametrize(
    ("verdict", "text"),
    [
        ("pass", "PASS"),
        ("fail", "FAIL"),
        ("unchecked", "UNCHECKED"),
        ("error", "ERROR"),
        ("interrupted", "INTERRUPTED"),
        ("aborted", "ABORTED"),  # a verdict without its own word is shown upper-case
    ],
)
def test_verdict_text(verdict: str, text: str) -> None:
    assert verdict_text(verdict) == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("kill-1", "kill-1"),
        ("a\x00b", "a\\x00b"),
        ("tab\tlf\n", "tab\tlf\n"),  # allowed in XML 1.0: kept
        ("cr\r", "cr\\x0d"),  # XML turns CR into LF: escaped so it shows
        ("del\x7f", "del\\x7f"),
        ("\x08\x0b\x1f", "\\x08\\x0b\\x1f"),
        ("lone\ud800", "lone\\ud800"),
        ("\ufffe\uffff", "\\ufffe\\uffff"),
        ("é→ü", "é→ü"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown
