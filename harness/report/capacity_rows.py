"""The capacity report's words and table rows, shared by its HTML and Markdown renderers.

Plain text only; each renderer escapes it for its format.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.capacity.document import (
    CapacityDocument,
    Configuration,
    ScalingTable,
    SearchRecord,
    StepRecord,
)
from harness.report import fmt

MISSING = fmt.MISSING

_STOPS = {
    "converged": "narrowed down to the resolution",
    "max_rps": "every step up to max_rps met the SLOs",
    "generator": "the load generator was the limit",
    "none_good": "even the lowest rate tried broke the SLOs",
    "max_steps": "max_steps reached before the limit was narrowed down",
    "max_time": "max_time reached before the limit was narrowed down",
    "unrecovered": "after a bad step the stack did not serve again without load (metastable);"
    " the limit was not narrowed down further",
    "running": "the experiment ended before this search did",
}


def rate(value: float | None) -> str:
    """``120/s``; ``—`` when unknown."""
    return MISSING if value is None else f"{value:g}/s"


def stop_text(search: SearchRecord) -> str:
    """Why the search ended, in words."""
    if search.stop == "unrecovered" and search.unrecovered_s is not None:
        return (
            f"after a bad step the stack still did not serve {search.unrecovered_s:.0f} s into"
            " no load (metastable: queued work or retries kept it overloaded); the limit was"
            " not narrowed down further"
        )
    return _STOPS.get(search.stop, search.stop)


def capacity_text(search: SearchRecord | None) -> str:
    """The capacity with what it means: exact to the resolution, a lower bound, or none."""
    if search is None:
        return MISSING
    if search.capacity is None:
        return f"none ({stop_text(search)})"
    if search.stop == "generator":
        return f"≥ {rate(search.capacity)} (generator-bound at {rate(search.generator_rate)})"
    if search.stop == "max_rps":
        return f"≥ {rate(search.capacity)} (max_rps)"
    if search.first_bad is None:
        return f"≥ {rate(search.capacity)} ({search.stop})"
    if search.stop == "unrecovered":
        return f"{rate(search.capacity)} (first bad {rate(search.first_bad)}; then metastable)"
    return f"{rate(search.capacity)} (first bad {rate(search.first_bad)})"


def _ratio(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:.0f} %"


def _retained(config: Configuration) -> str:
    """degraded / healthy, marked where a capacity is only a lower bound: ``≥`` when the
    degraded one is (the ratio can only be higher), ``≤`` when the healthy one is, and
    unknown when both are."""
    room, healthy, degraded = config.headroom, config.healthy, config.degraded
    if room is None or room.retained is None:
        return MISSING
    low_healthy = healthy is not None and healthy.lower_bound_only
    low_degraded = degraded is not None and degraded.lower_bound_only
    if low_healthy and low_degraded:
        return MISSING
    mark = "≥ " if low_degraded else "≤ " if low_healthy else ""
    return mark + _ratio(room.retained)


def summary_head() -> list[str]:
    return [
        "configuration",
        "capacity",
        "with the faults held",
        "retained",
        "N+1",
        "bent at",
        "steps",
        "time",
    ]


def summary_rows(doc: CapacityDocument) -> list[list[str]]:
    """One row per configuration: capacity without and with the faults, N+1, the bend."""
    rows = []
    for c in doc.configurations:
        if c.error:
            rows.append([c.label, f"error: {c.error}", *([MISSING] * 6)])
            continue
        searches = [s for s in (c.healthy, c.degraded) if s is not None]
        room = c.headroom
        bent = c.healthy.bend if c.healthy else None
        rows.append(
            [
                c.label,
                capacity_text(c.healthy),
                capacity_text(c.degraded) if c.degraded else MISSING,
                _retained(c) if room else MISSING,
                (room.n_plus_1 or MISSING) if room else MISSING,
                f"{rate(bent.rate)}: {bent.why}" if bent else MISSING,
                str(sum(len(s.steps) for s in searches)),
                fmt.secs(sum(s.took_s for s in searches)),
            ]
        )
    return rows


def step_head() -> list[str]:
    return [
        "#",
        "phase",
        "offered",
        "achieved",
        "sent",
        "failed",
        "dropped",
        "availability",
        "error rate",
        "p50",
        "p99",
        "lag p99",
        "worker CPU",
        "verdict",
        "why",
        "no load before",
    ]


def step_row(step: StepRecord) -> list[str]:
    """One step: what was offered, what came back, the generator, the verdict."""
    m, g = step.measure, step.generator
    return [
        str(step.index),
        step.phase,
        rate(step.rate),
        rate(round(m.achieved_rps, 1)),
        f"{m.requests:,}",
        f"{m.failed:,}",
        f"{m.dropped:,}",
        fmt.pct(m.availability, 2),
        fmt.pct(m.error_rate, 2),
        fmt.ms(m.latency_ms.get("p50")),
        fmt.ms(m.latency_ms.get("p99")),
        fmt.ms(m.lag_p99_ms),
        f"{g.cpu_max:.0f} % ({g.workers})",
        step.verdict.verdict,
        "; ".join(step.verdict.reasons),
        fmt.secs(step.rested_s) if step.rested_s else "",
    ]


def scaling_head() -> list[str]:
    return ["replicas", "capacity", "linear", "speedup", "efficiency", "each added replica"]


def scaling_table_rows(table: ScalingTable) -> list[list[str]]:
    """Replica counts against linear scaling (``≥`` where a capacity is a lower bound)."""
    out = []
    for r in table.rows:
        bound = "≥ " if r.lower_bound else ""
        out.append(
            [
                str(r.replicas),
                bound + rate(r.capacity),
                rate(None if r.linear is None else round(r.linear, 1)),
                MISSING if r.speedup is None else f"{r.speedup:.2f}×",
                MISSING if r.efficiency is None else f"{bound}{r.efficiency * 100:.0f} %",
                MISSING if r.marginal is None else f"{r.marginal * 100:.0f} % of a replica",
            ]
        )
    return out


def variant_rows(doc: CapacityDocument) -> list[list[str]]:
    """Variants side by side at each replica count, against the first variant."""
    first: dict[int | None, float | None] = {}
    rows = []
    for c in doc.configurations:
        capacity = c.healthy.capacity if c.healthy else None
        base = first.setdefault(c.replicas, capacity)
        change = MISSING
        if capacity is not None and base and c.variant != doc.configurations[0].variant:
            change = f"{(capacity / base - 1) * 100:+.0f} %"
        rows.append(
            [
                c.variant,
                MISSING if c.replicas is None else str(c.replicas),
                capacity_text(c.healthy),
                capacity_text(c.degraded) if c.degraded else MISSING,
                change,
            ]
        )
    return rows


def variant_head(first: str) -> list[str]:
    return ["variant", "replicas", "capacity", "with the faults held", f"vs {first}"]


def generator_notes(configurations: Sequence[Configuration]) -> list[str]:
    """One sentence per search that the load generator limited."""
    notes = []
    for c in configurations:
        for s in (c.healthy, c.degraded):
            if s is not None and s.generator_advice is not None:
                carried = (
                    f"the stack carried at least {rate(s.capacity)}"
                    if s.capacity is not None
                    else "no step before it measured the stack"
                )
                notes.append(
                    f"{c.label} ({s.condition}): the load generator, not the stack, was the"
                    f" limit at {rate(s.generator_rate)}; {carried}."
                    f" {s.generator_advice.text()}."
                )
    return notes


def setup_rows(doc: CapacityDocument) -> list[tuple[str, str]]:
    """The SLOs, the search's bounds and the host: what the numbers depend on."""
    slo, lim, host = doc.slo, doc.limits, doc.host
    latency = ", ".join(f"p{b.percentile:g} ≤ {b.max_ms:g} ms" for b in slo.latency) or "none"
    ramp = f"× {lim.factor:g}" if lim.factor else f"+ {lim.step or lim.start:g}/s"
    loads = [v for v in (host.load_before, host.load_after) if v is not None]
    return [
        ("availability per step", f"≥ {fmt.pct(slo.availability, 2)}"),
        ("corrected latency per step", latency),
        ("error rate per step (failed or dropped)", f"≤ {fmt.pct(slo.max_error_rate, 2)}"),
        ("generator lag (p99) allowed", f"{slo.max_lag_ms:g} ms"),
        ("ramp", f"from {lim.start:g}/s, {ramp} per step, at most {lim.max_rps:g}/s"),
        ("resolution", f"{lim.resolution * 100:g} % of the first bad rate"),
        ("budget per search", f"{lim.max_steps} steps, {lim.max_time_s:g} s"),
        ("peak (N+1)", rate(doc.peak)),
        ("load workers", str(doc.workers)),
        ("host", f"{host.cores} cores, load average {' → '.join(f'{v:.1f}' for v in loads)}"),
    ]
