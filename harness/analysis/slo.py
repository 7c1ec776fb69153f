"""SLO checks of a scenario, evaluated against the analysed metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.analysis.latency import percentile_key
from harness.scenario.models import Checks, Scenario


@dataclass(frozen=True)
class CheckResult:
    """One SLO verdict: the measured value against the threshold, in one phase."""

    name: str
    phase: str
    measured: float | None  # None: nothing to measure (e.g. no requests, never recovered)
    threshold: float
    unit: str
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


def _availability(checks: Checks, metrics: Mapping[str, Any]) -> list[CheckResult]:
    out = []
    for phase, threshold in checks.availability.model_dump().items():
        if threshold is None:
            continue
        measured = metrics.get(phase, {}).get("availability")
        detail = "" if measured is not None else f"no requests in phase {phase}"
        out.append(
            CheckResult(
                name=f"availability {phase} >= {threshold * 100:g}%",
                phase=phase,
                measured=measured,
                threshold=threshold,
                unit="ratio",
                passed=measured is not None and measured >= threshold,
                detail=detail,
            )
        )
    return out


def _latency(checks: Checks, metrics: Mapping[str, Any]) -> list[CheckResult]:
    out = []
    for check in checks.latency:
        lat = metrics.get(check.phase, {}).get("latency_ms", {})
        kind = "corrected" if check.corrected and lat.get("corrected") else "raw"
        values = lat.get(kind) or {}
        measured = values.get(percentile_key(check.percentile))
        detail = "" if measured is not None else f"no requests in phase {check.phase}"
        # s -> ms in floats is inexact (0.000249 * 1000 < 0.249): round, so a measured
        # value (whole µs) exactly at the max passes.
        threshold = round(check.max * 1000.0, 6)
        out.append(
            CheckResult(
                name=f"latency {percentile_key(check.percentile)} ({kind}) {check.phase} "
                f"<= {threshold:g} ms",
                phase=check.phase,
                measured=measured,
                threshold=threshold,
                unit="ms",
                passed=measured is not None and measured <= threshold,
                detail=detail,
            )
        )
    return out


def _recovery(scenario: Scenario, faults: Sequence[Mapping[str, Any]]) -> list[CheckResult]:
    out = []
    for fault in faults:
        if not fault["applied"]:
            continue
        index = fault.get("index")
        override = None
        if index is not None and 0 <= index < len(scenario.faults):
            override = scenario.faults[index].max_recovery
        threshold = override if override is not None else scenario.checks.recovery.max
        if threshold is None:
            continue
        ttr = fault.get("ttr_s")
        out.append(
            CheckResult(
                name=f"time to recover {fault['key']} <= {threshold:g} s",
                phase=f"fault:{fault['key']}",
                measured=ttr,
                threshold=threshold,
                unit="s",
                passed=ttr is not None and ttr <= threshold,
                detail=fault.get("recovery_note", "") if ttr is None else "",
            )
        )
    return out


def durability_check(max_lost: int, durability: Mapping[str, Any] | None) -> CheckResult:
    """Lost + corrupt acknowledged writes against ``max_lost`` (durability.json's counts).

    Reads that ended in an error or timed out (``unknown``) or were never made
    (``unchecked``) are not counted as lost; when no read gave a definite answer
    the check could not be made: ``measured`` is None and it fails.
    """
    name = f"durability: lost acknowledged writes <= {max_lost}"
    d = durability or {}
    acked = int(d.get("acked") or 0)
    conclusive = sum(int(d.get(k) or 0) for k in ("ok", "lost", "corrupt"))
    measured: float | None = float(int(d.get("lost") or 0) + int(d.get("corrupt") or 0))
    detail = ""
    if durability is None:
        measured, detail = None, "could not check: durability.json is missing"
    elif d.get("error"):
        measured, detail = None, f"could not check: {d['error']}"
    elif acked and not conclusive:
        measured = None
        detail = f"could not check: none of {d.get('selected', acked)} reads got an answer"
    else:
        parts = [f"{acked} acknowledged, {conclusive} read back"]
        parts += [f"{d[k]} {k}" for k in ("lost", "corrupt", "unknown", "unchecked") if d.get(k)]
        if not acked:
            parts.append("no acknowledged write was recorded (item column empty)")
        detail = ", ".join(parts)
    return CheckResult(
        name=name,
        phase="after",
        measured=measured,
        threshold=float(max_lost),
        unit="writes",
        passed=measured is not None and measured <= max_lost,
        detail=detail,
    )


MIN_OK_OPERATIONS = 10  # a history with fewer successful operations proves nothing


def consistency_checks(max_anomalies: int, data: Mapping[str, Any] | None) -> list[CheckResult]:
    """One check per consistency check of consistency.json: its anomalies <= ``max_anomalies``.

    A check whose search could not decide (``unknown``) fails with no measured
    value: an undecided history is never a pass. A missing or failed
    consistency.json fails one check that says why.
    """
    succeeded = int(((data or {}).get("types") or {}).get("ok") or 0)
    if data is None or data.get("error") or succeeded < MIN_OK_OPERATIONS:
        why = "consistency.json is missing" if data is None else data.get("error")
        why = why or (
            f"only {succeeded} of {(data or {}).get('operations', 0)} operations succeeded"
            f" (fewer than"
            f" {MIN_OK_OPERATIONS}): the history shows nothing about consistency"
        )
        return [
            CheckResult(
                name="consistency: history checked",
                phase="overall",
                measured=None,
                threshold=float(max_anomalies),
                unit="anomalies",
                passed=False,
                detail=f"could not check: {why}",
            )
        ]
    model = data.get("model", "")
    out = []
    for row in data["checks"]:
        unknown = row.get("unknown")
        measured = None if unknown else float(row.get("anomalies") or 0)
        detail = f"unknown: {unknown}" if unknown else f"{model}, {data.get('operations', 0)} ops"
        out.append(
            CheckResult(
                name=f"consistency: {row['check']} <= {max_anomalies} anomalies",
                phase="overall",
                measured=measured,
                threshold=float(max_anomalies),
                unit="anomalies",
                passed=measured is not None and measured <= max_anomalies,
                detail=detail,
            )
        )
    return out


def durability_unchecked(check: CheckResult) -> bool:
    """The durability check could not be made at all (no definite read)."""
    return check.name.startswith("durability:") and check.measured is None


def evaluate(
    scenario: Scenario,
    metrics: Mapping[str, Any],
    faults: Sequence[Mapping[str, Any]],
    longest_failure_span_s: float,
    durability: Mapping[str, Any] | None = None,
    consistency: Mapping[str, Any] | None = None,
) -> list[CheckResult]:
    """Every check the scenario asks for, in a stable order."""
    checks = scenario.checks
    results = _availability(checks, metrics) + _latency(checks, metrics)
    results += _recovery(scenario, faults)
    if checks.max_failure_span is not None:
        results.append(
            CheckResult(
                name=f"longest failure span <= {checks.max_failure_span:g} s",
                phase="overall",
                measured=longest_failure_span_s,
                threshold=checks.max_failure_span,
                unit="s",
                passed=longest_failure_span_s <= checks.max_failure_span,
            )
        )
    if checks.durability is not None:
        results.append(durability_check(checks.durability.max_lost, durability))
    if checks.consistency is not None:
        results += consistency_checks(checks.consistency.max_anomalies, consistency)
    return results
