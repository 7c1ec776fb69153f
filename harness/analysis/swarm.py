"""Swarm's own view of a fault: time to the desired replica count, beside the load's view.

Pure: reads the run's events. The engine observer records ``swarm.replicas``
(a service's running/desired task count changed; ``since`` is Swarm's time of
the latest task start) and the fault runner records the tasks that replaced a
killed one (``replaced`` on ``fault.revert``). Both recoveries are measured
from the fault's injection, so they can be compared: they disagree when the
load balancer hid the loss (the load recovered long before the replicas) or
when the replicas were back before the clients were served again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DISAGREE_S = 2.0  # the two recoveries differ by more than this: flagged


def _replica_recovery(
    series: list[Mapping[str, Any]], injected_wall: float
) -> tuple[int | None, float | None, bool]:
    """(desired count before the fault, wall time it was restored, whether it ever dipped)."""
    before = [e for e in series if float(e["wall"]) <= injected_wall]
    if not before:
        return None, None, False
    desired = int(before[-1]["desired"])
    dipped = False
    for e in series:
        if float(e["wall"]) <= injected_wall:
            continue
        if int(e["running"]) < desired:
            dipped = True
        elif dipped:
            return desired, float(e.get("since") or e["wall"]), True
    return desired, None, dipped


def swarm_recovery(
    events: Iterable[Mapping[str, Any]],
    faults: Iterable[Mapping[str, Any]],
    t0_wall: float,
    *,
    tolerance: float = DISAGREE_S,
) -> list[dict[str, Any]] | None:
    """One row per applied fault of a swarm run; None when the run has no swarm events.

    ``faults`` are the summary's fault records (``key``, ``injected_s``,
    ``recovered_at_s``, ``failures``). Times are seconds from the fault's
    injection; the load's recovery is 0 when no request failed (the load-based
    time to recover counts from the revert, which on Swarm only waits).
    """
    evs = list(events)
    replicas = [e for e in evs if e.get("kind") == "swarm.replicas"]
    if not replicas:
        return None
    # The platform whose replica count this is, as its observer names it (Swarm's does not).
    platform = str(replicas[0].get("platform") or "Swarm")
    applies = {e["key"]: e for e in evs if e.get("kind") == "fault.apply" and e.get("ok")}
    reverts = {e["key"]: e for e in evs if e.get("kind") == "fault.revert"}
    rows = []
    for f in faults:
        apply = applies.get(f["key"])
        if apply is None or f.get("injected_s") is None:
            continue
        injected_wall = t0_wall + float(f["injected_s"])
        series = sorted(
            (e for e in replicas if e.get("service") == apply.get("service")),
            key=lambda e: float(e["wall"]),
        )
        desired, restored, dipped = _replica_recovery(series, injected_wall)
        to_desired = (restored - injected_wall) if restored is not None else None
        if desired is not None and not dipped:
            to_desired = 0.0  # the count never fell below the desired one
        recovered_at = f.get("recovered_at_s")
        load = None if recovered_at is None else float(recovered_at) - float(f["injected_s"])
        if f.get("failures") == 0:
            load = 0.0  # no request failed: the clients never lost the service
        note = _disagreement(load, to_desired, desired, tolerance, platform)
        rows.append(
            {
                "key": f["key"],
                "service": apply.get("service"),
                "desired": desired,
                "replica_dip": dipped,
                "time_to_desired_s": to_desired,
                "load_recovery_s": load,
                "disagree": note is not None,
                "note": note or "",
                "replaced": list((reverts.get(f["key"]) or {}).get("replaced") or []),
            }
        )
    return rows


def _disagreement(
    load: float | None,
    to_desired: float | None,
    desired: int | None,
    tolerance: float,
    platform: str = "Swarm",
) -> str | None:
    if desired is None:
        return "the replica count before the fault is unknown"
    if load is None and to_desired is None:
        return None  # neither recovered: the checks already say so
    if load is None:
        return f"replicas back to {desired} after {to_desired:.1f} s, but the load never recovered"
    if to_desired is None:
        return (
            f"load recovered after {load:.1f} s, but {platform} never got back to "
            f"{desired} replicas"
        )
    if abs(load - to_desired) <= tolerance:
        return None
    if load < to_desired:
        return (
            f"load recovered after {load:.1f} s, {to_desired - load:.1f} s before {platform} "
            f"was back to {desired} replicas (the load balancer hid the loss)"
        )
    return (
        f"{platform} was back to {desired} replicas after {to_desired:.1f} s, but the load "
        f"recovered only after {load:.1f} s"
    )


def replaced_text(row: Mapping[str, Any], t0_wall: float) -> str:
    """``app.2: task k3f… (container 1a2b…) running at +14.2 s`` per replaced task."""
    parts = []
    for r in row.get("replaced") or []:
        at = float(r.get("running_wall") or 0.0)
        when = f"+{at - t0_wall:.1f} s" if at else "?"
        who = str(r["name"]) if r.get("name") else f"task {str(r.get('task'))[:12]}"
        parts.append(
            f"{r.get('service')}.{r.get('slot')}: {who} "
            f"(container {r.get('container')}) running at {when}"
        )
    return "; ".join(parts)
