"""Clock offsets from ping exchanges: hand-computed values."""

from __future__ import annotations

import pytest

from harness.load.clock_sync import CLOCK, Exchange, Offset, estimate, master_time


def test_the_exchange_with_the_shortest_round_trip_gives_the_offset() -> None:
    # master sends at 100.000, worker reads 105.003, answer arrives at 100.004:
    # rtt 4 ms, midpoint 100.002, offset +5.001 s, within ±2 ms
    exchanges = [
        Exchange(sent=99.0, worker=104.020, received=99.030),  # rtt 30 ms: noisier
        Exchange(sent=100.0, worker=105.003, received=100.004),
        Exchange(sent=101.0, worker=106.050, received=101.100),
    ]
    got = estimate(exchanges)
    assert got is not None
    assert got.offset_s == pytest.approx(5.001)
    assert got.rtt_s == pytest.approx(0.004)
    assert got.uncertainty_s == pytest.approx(0.002)
    assert got.exchanges == 3
    assert got.significant


def test_a_worker_behind_the_master_has_a_negative_offset() -> None:
    got = estimate([Exchange(sent=10.0, worker=9.25, received=10.5)])
    assert got is not None
    assert got.offset_s == pytest.approx(-1.0)  # 9.25 - (10.0 + 10.5) / 2


def test_an_offset_within_its_uncertainty_is_not_significant() -> None:
    # the same clock seen through a 2 ms round trip: 0.7 ms is noise
    assert not Offset(offset_s=0.0007, rtt_s=0.002, exchanges=8).significant
    assert Offset(offset_s=-0.0011, rtt_s=0.002, exchanges=8).significant


def test_no_valid_exchange_gives_no_estimate() -> None:
    assert estimate([]) is None
    # an answer "before" its ping: a clock jumped on the master; never used
    assert estimate([Exchange(sent=5.0, worker=1.0, received=4.0)]) is None


def test_master_time_removes_the_applied_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.load.clock_sync.time.time", lambda: 1000.0)
    monkeypatch.setattr(CLOCK, "offset_s", 2.5)
    assert master_time() == 997.5
    monkeypatch.setattr(CLOCK, "offset_s", -0.25)
    assert master_time() == 1000.25
