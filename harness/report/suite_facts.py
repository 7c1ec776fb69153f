"""The figures of one run that a suite report shows, read from its summary.

This is the ONLY module of the suite report that reads the summary (the typed model of
summary.json): when the summary changes, `run_facts` is the one function to port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.analysis.summary_model import Summary

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
    host_note: str = ""  # "host busy: load 15 on 2 cores during the faults", or ""
    # Timeline: each bucket's start (s since t0), requests and failed requests in it;
    # a bucket is step_s seconds (1 up to 2 h runs, wider beyond: analysis.metrics).
    step_s: int = 1
    t: tuple[float, ...] = ()
    requests_per_s: tuple[int, ...] = ()
    failed_per_s: tuple[int, ...] = ()
    windows: tuple[tuple[float, float], ...] = field(default=())  # fault windows, s since t0


def run_facts(summary: Summary) -> RunFacts:
    """The facts of a run's summary (the model of summary.json, schema ``hachaos.summary``)."""
    applied = [f for f in summary.faults if f.applied]
    ttrs = [f.ttr_s for f in applied if f.ttr_s is not None]
    durability, isolation, audit = summary.durability, summary.isolation, summary.audit
    counts = None
    if audit is not None and not audit.error:
        counts = {s: (audit.counts or {}).get(s, 0) for s in SEVERITIES}
    series = summary.timeseries
    return RunFacts(
        verdict=summary.verdict,
        reasons=tuple(summary.verdict_reasons),
        run_id=summary.run.run_id or "",
        requests=summary.headline.requests,
        availability=summary.headline.availability,
        p99_ms=summary.headline.p99_ms,
        latency_kind=summary.latency_kind,
        faults=len(summary.faults),
        unrecovered=sum(1 for f in applied if not f.recovered),
        worst_ttr_s=max(ttrs) if ttrs else None,
        checks_passed=summary.checks_passed,
        checks_failed=summary.checks_failed,
        lost_writes=durability.lost if durability else None,
        corrupt_writes=durability.corrupt if durability else None,
        acked_writes=durability.acked if durability else None,
        durability_error=durability.error if durability else None,
        isolation_checked=isolation is not None,
        denied_open=len(isolation.denied_open) if isolation else 0,
        allowed_closed=len(isolation.allowed_closed) if isolation else 0,
        audit=counts,
        audit_error=audit.error if audit is not None and audit.error else None,
        end_s=summary.end_s,
        host_note=summary.host.note if summary.host is not None else "",
        step_s=series.step_s,
        t=tuple(float(t) for t in series.t),
        requests_per_s=tuple(series.requests),
        failed_per_s=tuple(series.failed),
        windows=tuple((f.injected_s, f.window_end_s) for f in applied),
    )
