"""Unit parsers at their edges: exact limits, exact messages, truncated echoes."""

from __future__ import annotations

import pytest

from harness.scenario.units import check_rate, parse_size, shown, size_at_most


def test_shown_keeps_forty_characters_and_cuts_the_forty_first() -> None:
    forty = "x" * 38  # repr adds two quotes: 40 characters
    assert shown(forty) == repr(forty)
    longer = "y" * 39  # 41 characters with the quotes
    assert shown(longer) == "'" + "y" * 34 + "…(41 chars)"
    assert shown(12345, limit=3) == "123…(5 chars)"  # text[:-2]: a tiny limit still shows a head


def test_a_size_must_be_finite() -> None:
    with pytest.raises(ValueError, match=r"^a size must be a finite number, found inf$"):
        parse_size(float("inf"))


def test_a_size_above_one_tebibyte_is_echoed_as_written() -> None:
    assert parse_size(1024**4) == 1024**4
    with pytest.raises(
        ValueError,
        match=r"^a size must be at most 1TiB \(1099511627776 bytes\), found 1099511627777$",
    ):
        parse_size(1024**4 + 1)


def test_size_at_most_accepts_the_limit_itself() -> None:
    check = size_at_most(1024, "1KiB")
    assert check(1024) == 1024
    with pytest.raises(
        ValueError, match=r"^this size must be at most 1KiB \(1024 bytes\), found 1025 bytes$"
    ):
        check(1025)


@pytest.mark.parametrize("rate", ["1bit", "100gbit", "0.5kbit"])
def test_rates_at_the_edges_are_accepted(rate: str) -> None:
    assert check_rate(rate) == rate


@pytest.mark.parametrize("rate", ["0bit", "100.000001gbit"])
def test_rates_outside_are_refused(rate: str) -> None:
    with pytest.raises(ValueError, match="above 0bit and at most 100gbit"):
        check_rate(rate)
