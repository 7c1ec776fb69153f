"""The headline figures of a run that the history keeps and the regression gate judges.

FIGURES is the one list to extend when a new headline figure appears: the store, the
trend page, repeat spreads and the gate all iterate over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.analysis.summary_model import Summary

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Figure:
    """One tracked figure: its key, unit, which direction is better, and how it reads."""

    name: str
    unit: str  # ratio | ms | s | writes | count
    better: Better
    label: str
    # The smallest band half-width the gate uses: a figure that never varied in the
    # baseline (availability 100 % ten times) is not a regression for one failed request.
    floor: float = 0.0
    floor_relative: float = 0.0  # ... or this fraction of the baseline median, if larger


FIGURES: tuple[Figure, ...] = (
    Figure("availability", "ratio", "higher", "availability", floor=0.002),
    # The fast path: what nearly every request pays. A longer service time moves it; the
    # queueing of a busy host, which swings p50 and p99 by 10x on a shared machine,
    # barely does (docs/history.md#evidence).
    Figure("p10_ms", "ms", "lower", "p10", floor=1.0, floor_relative=0.10),
    Figure("p50_ms", "ms", "lower", "p50", floor=2.0, floor_relative=0.10),
    Figure("p99_ms", "ms", "lower", "p99", floor=5.0, floor_relative=0.10),
    Figure("worst_ttr_s", "s", "lower", "worst time to recover", floor=0.5),
    Figure("unrecovered", "count", "lower", "faults not recovered"),
    Figure("longest_failure_s", "s", "lower", "longest failure span", floor=0.5),
    Figure("lost_writes", "writes", "lower", "lost writes"),
    Figure("anomalies", "count", "lower", "consistency anomalies"),
)
BY_NAME = {f.name: f for f in FIGURES}


def figures_of(summary: Summary) -> dict[str, float | None]:
    """Every figure of FIGURES measured in a run (None: not measured, e.g. no durability check)."""
    overall = summary.metrics.get("overall")
    p50 = overall.latency_ms.of(summary.latency_kind).get("p50") if overall else None
    curve = getattr(summary.latency_distribution, summary.latency_kind) or []
    p10 = next((ms for pct, ms in curve if pct >= 10.0), None)
    applied = [f for f in summary.faults if f.applied]
    ttrs = [f.ttr_s for f in applied if f.ttr_s is not None]
    durability = summary.durability
    lost = None
    if durability is not None and not durability.error:
        lost = float(durability.lost + durability.corrupt)
    consistency = summary.consistency
    anomalies = None
    if consistency is not None and not consistency.error:
        anomalies = float(sum(consistency.anomalies.values()))
    return {
        "availability": summary.headline.availability,
        "p10_ms": float(p10) if p10 is not None else None,
        "p50_ms": float(p50) if p50 is not None else None,
        "p99_ms": summary.headline.p99_ms,
        "worst_ttr_s": max(ttrs) if ttrs else None,
        "unrecovered": float(sum(1 for f in applied if not f.recovered)) if applied else None,
        "longest_failure_s": summary.longest_failure_span.seconds,
        "lost_writes": lost,
        "anomalies": anomalies,
    }
