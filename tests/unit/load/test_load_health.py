"""Generator saturation needs sustained CPU above the threshold."""

from __future__ import annotations

from harness.load.driver import resolve_workers
from harness.load.health import SaturationTracker


def test_one_hot_second_is_not_saturation() -> None:
    t = SaturationTracker(threshold=90.0, sustained=2)
    t.add({1: 95.0, 2: 10.0})
    t.add({1: 50.0, 2: 95.0})
    assert not t.saturated
    assert t.cpu_max == 95.0


def test_two_hot_seconds_of_one_worker_is_saturation() -> None:
    t = SaturationTracker(threshold=90.0, sustained=2)
    t.add({1: 91.0})
    t.add({1: 99.0})
    assert t.saturated
    assert t.last_max == 99.0


def test_resolve_workers() -> None:
    assert resolve_workers(3) == 3
    assert resolve_workers("auto") >= 1
