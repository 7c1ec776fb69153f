"""The figures of one run that a suite report shows, read from its summary.

This is the ONLY module of the suite report that knows the summary's layout: when the
summary becomes a typed model, `run_facts` is the one function to port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class RunFacts:
    """Headline figures of one run, with ``None`` where the run measured nothing."""

    verdict: str
    reasons: tuple[str, ...] = ()
    run_id: str = ""
    requests: int = 0
    availability: float | None = None
    p99_ms: float | None = None
    latency_kind: str = ""
    faults: int = 0  # fault occurrences
    unrecovered: int = 0  # applied but not recovered before the run ended
    worst_ttr_s: float | None = None
    checks_passed: int = 0
    checks_failed: int = 0
    lost_writes: int | None = None  # None: no durability check ran
    corrupt_writes: int | None = None
    acked_writes: int | None = None
    durability_error: str | None = None  # the read-back itself failed
    isolation_checked: bool = False
    denied_open: int = 0
    allowed_closed: int = 0
    audit: Mapping[str, int] | None = None  # findings per severity
    audit_error: str | None = None
    end_s: float = 0.0
    # Per-second timeline: seconds since t0, requests and failed requests in that second.
    t: tuple[float, ...] = ()
    requests_per_s: tuple[int, ...] = ()
    failed_per_s: tuple[int, ...] = ()
    windows: tuple[tuple[float, float], ...] = field(default=())  # fault windows, s since t0


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(_int(v) or 0 for v in values) if isinstance(values, Sequence) else ()


def run_facts(summary: Mapping[str, Any]) -> RunFacts:
    """The facts of a run's summary (summary.json, schema ``hachaos.summary`` v1)."""
    headline = summary.get("headline") or {}
    faults = [f for f in summary.get("faults") or [] if isinstance(f, Mapping)]
    applied = [f for f in faults if f.get("applied")]
    ttrs = [t for t in (_num(f.get("ttr_s")) for f in applied) if t is not None]
    durability = summary.get("durability")
    durable = durability if isinstance(durability, Mapping) else {}
    isolation = summary.get("isolation")
    isolated = isolation if isinstance(isolation, Mapping) else {}
    audit = summary.get("audit")
    counts: dict[str, int] | None = None
    audit_error = None
    if isinstance(audit, Mapping):
        if audit.get("error"):
            audit_error = str(audit["error"])
        else:
            raw = audit.get("counts") or {}
            counts = {s: _int(raw.get(s)) or 0 for s in SEVERITIES}
    series = summary.get("timeseries") or {}
    windows = tuple(
        (float(f["injected_s"]), float(_num(f.get("window_end_s")) or f["injected_s"]))
        for f in applied
        if _num(f.get("injected_s")) is not None
    )
    return RunFacts(
        verdict=str(summary.get("verdict") or "error"),
        reasons=tuple(str(r) for r in summary.get("verdict_reasons") or ()),
        run_id=str((summary.get("run") or {}).get("run_id") or ""),
        requests=_int(headline.get("requests")) or 0,
        availability=_num(headline.get("availability")),
        p99_ms=_num(headline.get("p99_ms")),
        latency_kind=str(summary.get("latency_kind") or ""),
        faults=len(faults),
        unrecovered=sum(1 for f in applied if not f.get("recovered")),
        worst_ttr_s=max(ttrs) if ttrs else None,
        checks_passed=_int(summary.get("checks_passed")) or 0,
        checks_failed=_int(summary.get("checks_failed")) or 0,
        lost_writes=_int(durable.get("lost")),
        corrupt_writes=_int(durable.get("corrupt")),
        acked_writes=_int(durable.get("acked")),
        durability_error=str(durable["error"]) if durable.get("error") else None,
        isolation_checked=isinstance(isolation, Mapping),
        denied_open=len(isolated.get("denied_open") or []),
        allowed_closed=len(isolated.get("allowed_closed") or []),
        audit=counts,
        audit_error=audit_error,
        end_s=_num(summary.get("end_s")) or 0.0,
        t=tuple(_num(v) or 0.0 for v in series.get("t") or ()),
        requests_per_s=_ints(series.get("requests")),
        failed_per_s=_ints(series.get("failed")),
        windows=windows,
    )
