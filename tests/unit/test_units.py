"""Durations, fractions and sizes as written in scenario files."""

from __future__ import annotations

import pytest

from harness.scenario.units import parse_duration, parse_fraction, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        (3, 3.0),
        ("1.5s", 1.5),
        ("7", 7.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["10 sec", "-1s", -2, True, None, "ms"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "frac"), [("99.5%", 0.995), (0.995, 0.995), ("100%", 1.0), (1, 1.0)]
)
def test_fractions(text: object, frac: float) -> None:
    assert parse_fraction(text) == pytest.approx(frac)


@pytest.mark.parametrize("bad", ["101%", 1.5, "abc", True])
def test_bad_fractions(bad: object) -> None:
    with pytest.raises(ValueError, match="percentage"):
        parse_fraction(bad)


def test_sizes() -> None:
    assert parse_size("256MiB") == 256 * 1024**2
    assert parse_size("1g") == 1024**3
    assert parse_size(4096) == 4096
    with pytest.raises(ValueError, match="size"):
        parse_size("lots")
