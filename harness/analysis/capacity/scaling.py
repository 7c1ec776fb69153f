"""Scaling efficiency: capacity at each replica count against linear scaling.

With the smallest count ``n0`` and its capacity ``C0``, linear scaling expects
``C0 x n / n0`` at ``n`` replicas; efficiency is the capacity measured over
that. The marginal gain of a step from ``n_prev`` to ``n`` is what each added
replica bought, as a share of what one replica carried at ``n0`` (``C0 / n0``):
1.0 is a replica's worth, 0 means the added replicas bought nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class ScalingPoint(BaseModel):
    """Capacity measured at one replica count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicas: int
    capacity: float | None  # None: no rate was good
    lower_bound: bool = False  # the search stopped before the limit (max_rps, generator)


class ScalingRow(BaseModel):
    """One replica count against linear scaling."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicas: int
    capacity: float | None
    linear: float | None  # C0 x n / n0
    speedup: float | None  # C / C0
    efficiency: float | None  # C / linear
    marginal: float | None  # (C - C_prev) / (n - n_prev) / (C0 / n0); None for the first
    lower_bound: bool


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def scaling_rows(points: Sequence[ScalingPoint]) -> list[ScalingRow]:
    """Rows by replica count, smallest first."""
    ordered = sorted(points, key=lambda p: p.replicas)
    if not ordered:
        return []
    first = ordered[0]
    per_replica = _div(first.capacity, first.replicas)
    rows: list[ScalingRow] = []
    previous: ScalingPoint | None = None
    for point in ordered:
        linear = None if per_replica is None else per_replica * point.replicas
        marginal = None
        if previous is not None and point.capacity is not None and previous.capacity is not None:
            gain = (point.capacity - previous.capacity) / (point.replicas - previous.replicas)
            marginal = _div(gain, per_replica)
        rows.append(
            ScalingRow(
                replicas=point.replicas,
                capacity=point.capacity,
                linear=linear,
                speedup=_div(point.capacity, first.capacity),
                efficiency=_div(point.capacity, linear),
                marginal=marginal,
                lower_bound=point.lower_bound or first.lower_bound,
            )
        )
        previous = point
    return rows
