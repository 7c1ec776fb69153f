"""checks.isolation's reachability matrix per phase, as rows for every report format."""

from __future__ import annotations

from typing import Any

ISOLATION_HEAD = ("phase", "rule", "observed", "verdict")
_CLOSED = ("timeout", "refused", "down")


def _verdict(rule: str, states: dict[str, int], phase: str) -> str:
    if rule.startswith("deny"):
        return "VIOLATION" if states.get("open") else "ok"
    if any(states.get(s) for s in _CLOSED):
        return "closed (fault window)" if phase.startswith(("during", "settling")) else "VIOLATION"
    return "ok" if states.get("open") else "unprobed"


def isolation_lines(summary: dict[str, Any]) -> tuple[str, list[tuple[str, ...]]] | None:
    """``(caption, rows)`` of the run's isolation probes, or None when it had none."""
    iso = summary.get("isolation")
    if not iso:
        return None
    o = iso.get("overhead") or {}
    mean = o.get("round_mean_s")
    caption = (
        f"{o.get('rounds', 0)} probe rounds, {o.get('probes', 0)} probes, "
        f"{o.get('helpers', 0)} helper containers; a round took "
        f"{'—' if mean is None else f'{mean:.2f} s'} on average "
        f"(max {o.get('round_max_s') or 0:.2f} s)"
    )
    if o.get("errors"):
        caption += "; errors: " + " | ".join(o["errors"])
    rows: list[tuple[str, ...]] = []
    for phase, cells in (iso.get("matrix") or {}).items():
        for rule, states in sorted(cells.items()):
            observed = ", ".join(f"{k} ×{v}" for k, v in sorted(states.items()))
            rows.append((phase, rule, observed, _verdict(rule, states, phase)))
    return caption, rows
