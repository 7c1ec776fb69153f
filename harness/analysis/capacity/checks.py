"""The experiment's checks (``min_capacity``, ``n_plus_1``) and its verdict."""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.capacity.document import Configuration, Verdict
from harness.analysis.slo import CheckResult


def _min_capacity(config: Configuration, minimum: float) -> CheckResult:
    search = config.healthy
    measured = search.capacity if search else None
    detail = ""
    if search is None:
        detail = "the search did not run"
    elif search.stop == "generator" and (measured is None or measured < minimum):
        detail = (
            f"the generator was the limit at {search.generator_rate:g}/s: the stack was not"
            " measured beyond that"
        )
    elif measured is None:
        detail = "no rate met the SLOs"
    return CheckResult(
        name=f"capacity {config.label} >= {minimum:g}/s",
        phase="healthy",
        measured=measured,
        threshold=minimum,
        unit="rps",
        passed=measured is not None and measured >= minimum,
        detail=detail,
    )


def _n_plus_1(config: Configuration, peak: float) -> CheckResult:
    room = config.headroom
    verdict = room.n_plus_1 if room else None
    return CheckResult(
        name=f"N+1 {config.label}: carries {peak:g}/s with the faults held",
        phase="degraded",
        measured=room.degraded if room else None,
        threshold=peak,
        unit="rps",
        passed=verdict == "holds",
        detail=(room.evidence if room else "the degraded search did not run"),
    )


def capacity_checks(
    configurations: Sequence[Configuration],
    *,
    min_capacity: float | None,
    n_plus_1: bool,
    peak: float | None,
) -> list[CheckResult]:
    """One check per configuration for each of ``min_capacity`` and ``n_plus_1``."""
    out = []
    for config in configurations:
        if min_capacity is not None:
            out.append(_min_capacity(config, min_capacity))
        if n_plus_1 and peak is not None:
            out.append(_n_plus_1(config, peak))
    return out


def experiment_verdict(
    outcome: str,
    errors: Sequence[str],
    configurations: Sequence[Configuration],
    checks: Sequence[CheckResult],
) -> tuple[Verdict, tuple[str, ...]]:
    """error (a configuration or the experiment failed), interrupted, fail (a check
    failed), unchecked (no check asked), else pass; with the reasons."""
    broken = [f"{c.label}: {c.error}" for c in configurations if c.error]
    if outcome == "error" or errors or broken:
        return "error", tuple([*errors, *broken]) or ("the experiment failed",)
    if outcome == "interrupted":
        return "interrupted", ("interrupted by a signal",)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        return "fail", tuple(failed)
    if not checks:
        return "unchecked", ("the scenario sets neither checks.min_capacity nor n_plus_1",)
    return "pass", ()
