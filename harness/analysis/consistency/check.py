"""Every consistency check of one history, as one JSON-ready result (``consistency.json``).

Register histories: linearizability per key (the fast Gibbons-Korach check
when values are unique and there is no cas, else the general search, bounded),
stale reads and the three session guarantees. List-append histories: Elle's
checks (lost appends, incompatible orders, duplicates, never-acknowledged
reads, dependency cycles), stale reads and the session guarantees.

Each check counts anomalies; a check whose search hit its bound is
``unknown`` (never a pass). Witnesses are kept for the first few anomalies of
each class.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.analysis.consistency import lists, sessions, zones
from harness.analysis.consistency.anomaly import Anomaly, of
from harness.analysis.consistency.history import Op, by_key
from harness.analysis.consistency.models import register_calls, register_step
from harness.analysis.consistency.wgl import Bounds, linearizable
from harness.analysis.consistency.witness import minimise

Model = Literal["register", "list-append"]
WITNESSES_PER_CLASS = 5

# check name -> the anomaly classes it counts, per model
REGISTER_CHECKS: dict[str, tuple[str, ...]] = {
    "linearizability": ("non-linearizable",),
    "stale reads": ("stale-read",),
    "read-your-writes": ("read-your-writes",),
    "monotonic reads": ("monotonic-reads",),
    "monotonic writes": ("monotonic-writes",),
}
LIST_CHECKS: dict[str, tuple[str, ...]] = {
    "lost appends": ("lost-append",),
    "incompatible orders": ("incompatible-order",),
    "duplicates": ("duplicate",),
    "never-acknowledged reads": ("never-acknowledged",),
    "dependency cycles": lists.CYCLE_CLASSES,
    "stale reads": ("stale-read",),
    "read-your-writes": ("read-your-writes",),
    "monotonic reads": ("monotonic-reads",),
    "monotonic writes": ("monotonic-writes",),
}


@dataclass(frozen=True)
class Limits:
    """Bounds of the checks: the search's time over all keys and configurations per key."""

    time_s: float = 60.0
    configurations: int = 2_000_000
    witness_s: float = 2.0  # shrinking one general-search witness
    witnesses: int = WITNESSES_PER_CLASS


@dataclass
class _Found:
    anomalies: list[Anomaly] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    unknown: dict[str, str] = field(default_factory=dict)  # check -> why it is unknown
    skipped: dict[str, str] = field(default_factory=dict)  # check -> why it does not apply
    stale: list[sessions.Stale] = field(default_factory=list)

    def add(self, anomaly: Anomaly, limit: int) -> None:
        self.counts[anomaly.kind] += 1
        if self.counts[anomaly.kind] <= limit:
            self.anomalies.append(anomaly)


def check_history(
    ops: Sequence[Op],
    model: Model,
    limits: Limits | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The result of every check of ``model`` over ``ops`` (see the module docstring)."""
    limits = limits or Limits()
    started = clock()
    found = _Found()
    keys = by_key(ops)
    extra: dict[str, Any] = {}
    if model == "register":
        extra["linearizability"] = _register(keys, limits, clock, found)
        checks = REGISTER_CHECKS
    else:
        extra["dependency_graph"] = _lists(ops, keys, limits, found)
        checks = LIST_CHECKS
    for stale in found.stale:
        found.add(
            of(
                "stale-read",
                stale.read.key,
                f"{stale.read.describe()} missed {stale.newer.describe()}, which completed"
                f" {stale.behind_ms:.1f} ms before ({stale.behind_versions} newer version(s))",
                [stale.newer, stale.read],
                behind_ms=round(stale.behind_ms, 3),
                behind_versions=stale.behind_versions,
            ),
            limits.witnesses,
        )
    result = {
        "model": model,
        "operations": len(ops),
        "keys": len(keys),
        "processes": len({o.process for o in ops}),
        "types": dict(sorted(Counter(o.type for o in ops).items())),
        "functions": dict(sorted(Counter(o.f for o in ops).items())),
        "checks": [
            {
                "check": name,
                "anomalies": sum(found.counts[k] for k in kinds),
                "unknown": found.unknown.get(name),
            }
            for name, kinds in checks.items()
            if name not in found.skipped
        ],
        "skipped": dict(found.skipped),
        "anomalies": dict(sorted(found.counts.items())),
        "stale": stale_figures(found.stale, sum(1 for o in ops if o.f == "read" and o.ok)),
        "witnesses": [a.to_dict() for a in found.anomalies],
        "final_read_keys": len({o.key for o in ops if o.final and o.f == "read" and o.ok}),
        **extra,
        "elapsed_s": round(clock() - started, 3),
    }
    return result


def _register(
    keys: dict[str, list[Op]], limits: Limits, clock: Callable[[], float], found: _Found
) -> dict[str, Any]:
    deadline = clock() + limits.time_s
    fast = all(_unique_without_cas(kops) for kops in keys.values())
    summary: dict[str, Any] = {
        "checker": "fast (Gibbons-Korach)" if fast else "general (Wing-Gong, memoised)",
        "illegal_keys": 0,
        "unknown_keys": 0,
        "max_configurations": 0,
    }
    unknown: list[str] = []
    unique = all(_unique_writes(kops) for kops in keys.values())
    if not unique:  # the session and stale checks need to know which write a read saw
        for name in REGISTER_CHECKS:
            if name != "linearizability":
                found.skipped[name] = "values are not unique per key"
    for key, kops in keys.items():
        if unique:
            found.stale += sessions.register_stale(kops)
            for anomaly in sessions.register_sessions(key, kops):
                found.add(anomaly, limits.witnesses)
        if fast:
            result = zones.check_key(key, kops)
            if not result.linearizable:
                summary["illegal_keys"] += 1
                conflict = result.conflicts[0]
                found.add(
                    of("non-linearizable", key, conflict.text, conflict.ops), limits.witnesses
                )
            continue
        calls, _ = register_calls(kops)
        bounds = Bounds(deadline=deadline, max_configurations=limits.configurations, clock=clock)
        search = linearizable(calls, None, register_step, bounds)
        summary["max_configurations"] = max(summary["max_configurations"], search.configurations)
        if search.verdict == "unknown":
            summary["unknown_keys"] += 1
            unknown.append(f"key {key}: {search.reason}")
        elif search.verdict == "illegal":
            summary["illegal_keys"] += 1
            _general_witness(key, kops, limits, clock, found)
    if unknown:
        found.unknown["linearizability"] = (
            f"{len(unknown)} key(s) undecided within the bounds ({unknown[0]}); raise"
            " checks.consistency.check_timeout or shorten keys (ops_per_key)"
        )
    return summary


def _general_witness(
    key: str, kops: list[Op], limits: Limits, clock: Callable[[], float], found: _Found
) -> None:
    if found.counts["non-linearizable"] >= limits.witnesses:  # counted, not shrunk
        found.counts["non-linearizable"] += 1
        return
    ops, minimal = minimise(kops, limits.witness_s, clock)
    steps = "; ".join(o.describe() for o in ops[:8])
    text = f"no order of these {len(ops)} operations explains them: {steps}"
    if not minimal:
        text += " (not fully shrunk: time budget)"
    found.add(of("non-linearizable", key, text, ops), limits.witnesses)


def _unique_writes(ops: Sequence[Op]) -> bool:
    values = [o.value for o in ops if o.f == "write"]
    values += [o.value[1] for o in ops if o.f == "cas"]
    return len(values) == len(set(values))


def _unique_without_cas(ops: Sequence[Op]) -> bool:
    return all(o.f in ("read", "write") for o in ops) and _unique_writes(ops)


def _lists(
    ops: Sequence[Op], keys: dict[str, list[Op]], limits: Limits, found: _Found
) -> dict[str, Any]:
    orders: dict[str, tuple[str, ...]] = {}
    for key, kops in keys.items():
        anomalies, orders[key] = lists.key_anomalies(key, kops)
        for anomaly in anomalies + sessions.list_sessions(key, kops):
            found.add(anomaly, limits.witnesses)
        found.stale += sessions.list_stale(kops)
    graph = lists.dependency_graph(ops, orders)
    cycles = lists.cycles(graph)
    for cycle in cycles:
        found.add(cycle, limits.witnesses)
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "cyclic_components": len(cycles),
    }


def stale_figures(stale: Sequence[sessions.Stale], reads: int) -> dict[str, Any]:
    """How many reads were stale, and how stale: ms and versions (max, p50, p99)."""
    ms = sorted(s.behind_ms for s in stale)
    versions = sorted(s.behind_versions for s in stale)
    return {
        "reads": reads,
        "stale": len(stale),
        "ms": _spread(ms),
        "versions": _spread([float(v) for v in versions]),
    }


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(values[(len(values) - 1) // 2], 3),
        "p99": round(values[min(len(values) - 1, int(0.99 * len(values)))], 3),
        "max": round(values[-1], 3),
    }
