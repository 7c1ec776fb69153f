"""Overlap arithmetic of the semantic checks: half-open windows, instants, rolling gaps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.scenario.plan import PlannedFault
from harness.scenario.semantics import _interval, _overlaps


def step(
    start: float,
    end: float | None,
    *,
    service: str = "app",
    replicas: tuple[int, ...] = (1,),
    gap: float | None = None,
) -> PlannedFault:
    spec: Any = SimpleNamespace(allow_overlap=False) if gap is None else SimpleNamespace(gap=gap)
    return PlannedFault(0, 0, "f", "kill", spec, service, replicas, start, end)


def test_intervals() -> None:
    assert _interval(step(5.0, 10.0)) == (5.0, 10.0)
    # rolling restart of 3 replicas, 2 s apart: from 5 s to the last restart at 9 s
    assert _interval(step(5.0, None, replicas=(1, 2, 3), gap=2.0)) == (5.0, 9.0)
    assert _interval(step(5.0, None, replicas=(1, 2))) == (5.0, 5.0)  # an instant, no gap


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (step(0, 5), step(5, 10), False),  # half-open: touching windows do not overlap
        (step(0, 5), step(4.9, 10), True),
        (step(4.9, 10), step(0, 5), True),
        (step(0, 5), step(1, 2, service="db"), False),  # other service
        (step(0, 5), step(1, 2, replicas=(2,)), False),  # other replica
        (step(0, 5, replicas=(1, 2)), step(1, 2, replicas=(2, 3)), True),
        (step(5, None), step(0, 5), False),  # an instant at a window's end is outside it
        (step(0, None), step(0, 5), True),  # … and at its start inside it
        (step(0, 5), step(0, None), True),
        (step(0, 5), step(5, None), False),
        (step(3, None), step(3, None), True),  # two instants at the same time collide
        (step(3, None), step(3.5, None), False),
        (step(3, None, replicas=(1, 2, 3), gap=1.0), step(4.5, None), True),  # inside 3 … 5
        (step(3, None, replicas=(1, 2, 3), gap=1.0), step(5, None), False),
    ],
)
def test_overlaps(a: PlannedFault, b: PlannedFault, overlap: bool) -> None:
    assert _overlaps(a, b) is overlap
