"""checks.isolation's reachability matrix per phase, as rows for every report format."""

from __future__ import annotations

from harness.analysis.summary_model import Summary

ISOLATION_HEAD = ("phase", "rule", "observed", "verdict")
_CLOSED = ("timeout", "refused", "down")


def _verdict(rule: str, states: dict[str, int], phase: str) -> str:
    if rule.startswith("deny"):
        return "VIOLATION" if states.get("open") else "ok"
    if any(states.get(s) for s in _CLOSED):
        return "closed (fault window)" if phase.startswith(("during", "settling")) else "VIOLATION"
    return "ok" if states.get("open") else "unprobed"


def isolation_lines(summary: Summary) -> tuple[str, list[tuple[str, ...]]] | None:
    """``(caption, rows)`` of the run's isolation probes, or None when it had none."""
    iso = summary.isolation
    if iso is None:
        return None
    o = iso.overhead
    mean = o.round_mean_s
    caption = (
        f"{o.rounds} probe rounds, {o.probes} probes, "
        f"{o.helpers} helper containers; a round took "
        f"{'—' if mean is None else f'{mean:.2f} s'} on average "
        f"(max {o.round_max_s or 0:.2f} s)"
    )
    if o.errors:
        caption += "; errors: " + " | ".join(o.errors)
    rows: list[tuple[str, ...]] = []
    for phase, cells in iso.matrix.items():
        for rule, states in sorted(cells.items()):
            observed = ", ".join(f"{k} ×{v}" for k, v in sorted(states.items()))
            rows.append((phase, rule, observed, _verdict(rule, states, phase)))
    return caption, rows
