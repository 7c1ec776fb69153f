"""Where the load curve bent: the lowest rate whose step left the low-load behaviour.

Latency stays flat while a stack has spare capacity, then climbs (the "hockey
stick"); throughput follows the offered rate, then falls behind. The curve bent
at the first step, by rate, whose p99 reached ``LATENCY_FACTOR`` times the p99 of
the lowest-rate step, or whose successful answers fell below ``ACHIEVED_SHARE``
of the offered rate.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from harness.analysis.capacity.step import StepMeasure

LATENCY_FACTOR = 2.0
ACHIEVED_SHARE = 0.95


class Bend(BaseModel):
    """The first step past the knee, and the one below it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float  # the first step whose behaviour changed
    below: float | None  # the highest step below it (None: the lowest step already bent)
    why: str


def bend(steps: Sequence[StepMeasure]) -> Bend | None:
    """Where the curve bent, over the steps measured (generator-bound ones left out by the
    caller); None when it never did within them."""
    ordered = sorted(steps, key=lambda s: s.offered_rps)
    if not ordered:
        return None
    base = ordered[0].latency_ms.get("p99")
    below: float | None = None
    for step in ordered:
        p99 = step.latency_ms.get("p99")
        share = step.achieved_rps / step.offered_rps
        why = ""
        if base and p99 is not None and p99 >= LATENCY_FACTOR * base and step is not ordered[0]:
            why = (
                f"p99 {p99:g} ms, {p99 / base:.1f}x the {base:g} ms at {ordered[0].offered_rps:g}/s"
            )
        elif share < ACHIEVED_SHARE:
            why = f"answered {share * 100:.1f} % of the offered rate"
        if why:
            return Bend(rate=step.offered_rps, below=below, why=why)
        below = step.offered_rps
    return None
