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


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (True, "expected a duration such as 500ms, 10s or 2m, found True"),
        (-2, "a duration cannot be negative, found -2"),
        ("10 sec", "expected a duration such as 500ms, 10s or 2m, found '10 sec'"),
        (None, "expected a duration such as 500ms, 10s or 2m, found None"),
    ],
)
def test_duration_messages(bad: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_duration(bad)
    assert str(err.value) == message


def test_duration_edges() -> None:
    assert parse_duration(0) == 0.0  # zero is a duration, only negatives are refused
    assert parse_duration(" 250 ms ") == 0.25
    assert parse_duration("0.5h") == 1800.0


@pytest.mark.parametrize(
    ("text", "frac"),
    [("0%", 0.0), ("0", 0.0), (0, 0.0), ("1", 1.0), (" 50 % ", 0.5), ("12.5%", 0.125)],
)
def test_fraction_edges(text: object, frac: float) -> None:
    assert parse_fraction(text) == frac


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (True, "expected a percentage such as 99.5% or 0.995, found True"),
        ("abc", "expected a percentage such as 99.5% or 0.995, found 'abc'"),
        (None, "expected a percentage such as 99.5% or 0.995, found None"),
        ("100.1%", "a percentage must lie between 0% and 100%, found '100.1%'"),
        (-0.01, "a percentage must lie between 0% and 100%, found -0.01"),
    ],
)
def test_fraction_messages(bad: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_fraction(bad)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10", 10),
        ("10b", 10),
        ("2k", 2048),
        ("2kb", 2000),
        ("2KiB", 2048),
        ("3m", 3 * 1024**2),
        ("3MB", 3_000_000),
        ("3mib", 3 * 1024**2),
        ("1gb", 1_000_000_000),
        ("1GiB", 1024**3),
        ("1.5k", 1536),
        (" 7 ", 7),
        (0, 0),
    ],
)
def test_every_size_unit(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", [True, -1, 1.5, "1tb", None])
def test_bad_sizes(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        parse_size(bad)
    assert str(err.value) == f"expected a size such as 256MiB or 1GiB, found {bad!r}"
