"""Headroom under a held fault, and the N+1 verdict against the peak rate.

N+1 holds when the degraded stack carried a rate at or above ``peak`` within the
SLOs (a good step at >= peak), fails when a rate at or below ``peak`` broke them
(a bad step at <= peak), and is unknown when no step says either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.analysis.capacity.search import SearchStep

NPlus1 = Literal["holds", "fails", "unknown"]


class Headroom(BaseModel):
    """Capacity with and without the faults, against the peak rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    healthy: float | None
    degraded: float | None
    retained: float | None  # degraded / healthy
    peak: float | None
    headroom: float | None  # degraded / peak - 1: spare share above the peak
    n_plus_1: NPlus1 | None  # None without a peak
    evidence: str


def n_plus_1(peak: float, steps: Sequence[SearchStep]) -> tuple[NPlus1, str]:
    """The verdict, and the step that decides it."""
    good = [s.rate for s in steps if s.verdict == "good" and s.rate >= peak]
    if good:
        return "holds", f"a step at {min(good):g}/s >= peak {peak:g}/s met the SLOs"
    bad = [s.rate for s in steps if s.verdict == "bad" and s.rate <= peak]
    if bad:
        return "fails", f"a step at {max(bad):g}/s <= peak {peak:g}/s broke the SLOs"
    return "unknown", f"no step decided whether {peak:g}/s is carried"


def headroom(
    healthy: float | None,
    degraded: float | None,
    peak: float | None,
    degraded_steps: Sequence[SearchStep],
) -> Headroom:
    """Side by side: capacity without and with the faults, and N+1 against ``peak``."""
    verdict: NPlus1 | None = None
    evidence = ""
    if peak is not None:
        verdict, evidence = n_plus_1(peak, degraded_steps)
    return Headroom(
        healthy=healthy,
        degraded=degraded,
        retained=None if healthy is None or degraded is None or not healthy else degraded / healthy,
        peak=peak,
        headroom=None if peak is None or degraded is None else degraded / peak - 1.0,
        n_plus_1=verdict,
        evidence=evidence,
    )
