"""Analyse a run into the typed summary every report renders (docs/summary-schema.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from harness import __version__
from harness.analysis.abort import abort_reason, abort_record
from harness.analysis.containers import analyse_containers
from harness.analysis.expectation import gave_expected
from harness.analysis.host import host_load
from harness.analysis.inputs import RunInputs
from harness.analysis.isolation import analyse_isolation, read_isolation
from harness.analysis.latency import PERCENTILES
from harness.analysis.measure import Measured, end_of_run, measure, measured_end, series_span
from harness.analysis.phases import (
    PHASES,
    FaultWindow,
    Phases,
    fault_windows,
    infrastructure_errors,
)
from harness.analysis.sample_file import ReadErrors, SampleFile
from harness.analysis.slo import CheckResult, durability_unchecked, evaluate
from harness.analysis.stack_metrics import analyse_stack_metrics
from harness.analysis.steady import steady_checks, steady_rounds
from harness.analysis.summary_model import (
    SUMMARY_SCHEMA,
    SUMMARY_SCHEMA_VERSION,
    AbortRecord,
    Audit,
    Check,
    Consistency,
    ContainerMetrics,
    Durability,
    Environment,
    Expectation,
    FailureSpan,
    FaultRecord,
    Generator,
    Headline,
    HostLoad,
    Isolation,
    LatencyDistribution,
    PhaseMetrics,
    RunInfo,
    StackMetrics,
    SteadyResult,
    Summary,
    SummaryError,
    SwarmRecovery,
    Timeseries,
    Verdict,
    problems,
)
from harness.analysis.swarm import swarm_recovery
from harness.scenario.models import RecoveryChecks, Scenario

__all__ = [
    "SUMMARY_SCHEMA",
    "SUMMARY_SCHEMA_VERSION",
    "VERDICTS",
    "Summary",
    "analyse",
    "end_of_run",
    "measured_end",
    "series_span",
]

VERDICTS = ("error", "interrupted", "aborted", "fail", "unchecked", "pass")
"""Every verdict, the one that wins first: the order in which ``_verdict`` tests them."""

NO_CHECKS = "the scenario defines no checks, so nothing was judged; add `checks:` to get pass/fail"


def _verdict(
    meta: dict[str, Any],
    errors: list[str],
    checks: list[CheckResult],
    scenario: Scenario | None,
    abort: dict[str, Any] | None = None,
) -> tuple[Verdict, list[str]]:
    if meta.get("outcome") == "running":  # never finished: kill -9, power loss, or still going
        errors = [*errors, "the run did not finish (its process died or still runs)"]
    if errors or meta.get("outcome") == "error" or scenario is None:
        reasons = list(errors) or ["the run ended with an infrastructure error"]
        if scenario is None:
            reasons.append("the scenario could not be read, so no check could run")
        return "error", reasons
    if meta.get("outcome") == "interrupted":
        return "interrupted", [f"interrupted by {meta.get('signal') or 'a signal'}"]
    if abort is not None:  # a stop condition held: exit 1, whatever the checks say
        failed = [f"check failed: {c.name}" for c in checks if not c.passed]
        return "aborted", [abort_reason(abort), *failed]
    unchecked = [c for c in checks if durability_unchecked(c)]
    if unchecked:  # required, but no acknowledged write could be read back
        return "error", [f"{c.name}: {c.detail}" for c in unchecked]
    failed = [c.name for c in checks if not c.passed]
    if failed:
        return "fail", [f"check failed: {name}" for name in failed]
    if not checks:  # a green PASS over unjudged numbers would be a lie
        return "unchecked", [NO_CHECKS]
    return "pass", []


def _warnings(inputs: RunInputs, measured: int, faults: list[FaultRecord]) -> list[str]:
    warnings = list(inputs.missing)
    # What the engine let the deploy go on past without being able to check it.
    warnings += [f"engine: {w}" for w in inputs.meta.get("engine_warnings") or []]
    generator = inputs.meta.get("generator") or {}
    if generator.get("saturated"):
        warnings.append(
            "the load generator was saturated (CPU bound): latency includes generator delay"
        )
    if measured == 0:
        warnings.append("no measured request: every metric is empty")
    for fault in faults:
        if fault.recovery_note:
            warnings.append(f"fault {fault.key}: {fault.recovery_note}")
    d = inputs.durability
    if d is not None and not d.get("error"):
        if not d.get("acked"):
            warnings.append(
                "durability: no acknowledged write was recorded; does the workload fill "
                "the samples' item column?"
            )
        vague = int(d.get("unknown") or 0) + int(d.get("unchecked") or 0)
        if vague:
            warnings.append(
                f"durability: {vague} of {d.get('selected')} read-backs gave no definite "
                "answer (error, timeout or time budget); they are not counted as lost"
            )
    return warnings


def _percentiles(scenario: Scenario | None) -> tuple[float, ...]:
    extra = {c.percentile for c in scenario.checks.latency} if scenario else set()
    return tuple(sorted(set(PERCENTILES) | extra))


def _isolation(
    inputs: RunInputs, scenario: Scenario | None, windows: list[FaultWindow], t0: float
) -> tuple[dict[str, Any] | None, list[CheckResult]]:
    """checks.isolation's matrix and checks; a missing isolation.json fails them (never passes)."""
    if scenario is None or scenario.checks.isolation is None:
        return None, []
    data = read_isolation(inputs.run_dir) or {"rounds": []}
    return analyse_isolation(data, windows, t0)


def _blob(data: Any) -> dict[str, Any]:
    """A run.json object as given; anything else (absent, null) as empty."""
    return data if isinstance(data, dict) else {}


RUN_KEYS = tuple(RunInfo.model_fields)


def analyse(inputs: RunInputs) -> Summary:
    """The whole analysis of a run, as the typed summary (``to_json_dict`` for summary.json).

    run.json's environment/generator/audit and durability.json are copied into the
    summary: one that does not fit its model (written by another hachaos, or edited)
    is a ``SummaryError`` naming the key, not a traceback.
    """
    try:
        return _analyse(inputs)
    except ValidationError as exc:
        raise SummaryError(
            f"{inputs.run_dir}: run.json or durability.json does not fit the summary of this "
            f"hachaos: {exc.title}.{problems(exc)}",
            hint="re-run the scenario with this hachaos, or report it with the one that ran it",
        ) from exc


@dataclass(frozen=True)
class _Measured:
    """The numbers of a run: the figures of its requests, its faults and their windows."""

    figures: Measured
    abort: dict[str, Any] | None
    windows: list[FaultWindow]
    faults: list[FaultRecord]  # with p99_inflation

    @property
    def end_s(self) -> float:
        return self.figures.end_s

    @property
    def kind(self) -> str:
        return self.figures.kind

    @property
    def phase_map(self) -> Phases:
        return self.figures.phase_map

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.figures.metrics


@dataclass(frozen=True)
class _Judged:
    """What the checks made of the numbers: the checks, the verdict and the errors."""

    checks: list[CheckResult]
    verdict: Verdict
    reasons: list[str]
    errors: list[str]
    isolation: dict[str, Any] | None
    steady: dict[str, list[dict[str, Any]]]
    span: tuple[float, float | None]  # the longest failure span (s) and its start


def _figures(
    inputs: RunInputs, windows: list[FaultWindow], abort: dict[str, Any] | None
) -> Measured:
    """The figures of the requests; a file that turns out unreadable half-way counts as none."""
    scenario = inputs.scenario
    recovery = scenario.checks.recovery if scenario else RecoveryChecks()
    percentiles = _percentiles(scenario)
    try:
        with inputs.samples.in_order() as samples:
            return measure(samples, inputs.meta, windows, abort, recovery, percentiles)
    except ReadErrors as exc:
        inputs.missing.append(f"samples.parquet is unreadable ({exc}); metrics are empty")
        return measure(SampleFile(None), inputs.meta, windows, abort, recovery, percentiles)


def _measure(inputs: RunInputs) -> _Measured:
    t0 = float(inputs.meta["t0_wall"])
    abort = abort_record(inputs.events, t0)
    windows = fault_windows(inputs.events, t0)
    figures = _figures(inputs, windows, abort)
    baseline_p99 = (figures.metrics["baseline"]["latency_ms"].get(figures.kind) or {}).get("p99")
    faults = [
        f.model_copy(
            update={
                "p99_inflation": None
                if f.p99_ms is None or not baseline_p99
                else f.p99_ms / baseline_p99
            }
        )
        for f in figures.faults
    ]
    return _Measured(figures, abort, windows, faults)


def _judge(inputs: RunInputs, m: _Measured) -> _Judged:
    meta, scenario = inputs.meta, inputs.scenario
    span = m.figures.longest_failure_span
    checks = (
        evaluate(
            scenario,
            m.metrics,
            [f.model_dump() for f in m.faults],
            span[0],
            inputs.durability,
            inputs.consistency,
        )
        if scenario
        else []
    )
    isolation, iso_checks = _isolation(inputs, scenario, m.windows, float(meta["t0_wall"]))
    checks += iso_checks
    # Guards (abort, steady_state): kept together so the typed-summary port is one block.
    steady = steady_rounds(inputs.events)
    if scenario is not None and scenario.steady_state is not None:
        finished = meta.get("outcome") in ("completed", "aborted")
        checks += steady_checks(steady, expected=finished)
    errors = list(meta.get("errors") or []) + infrastructure_errors(inputs.events)
    errors = list(dict.fromkeys(errors))
    verdict, reasons = _verdict(meta, errors, checks, scenario, m.abort)
    return _Judged(checks, verdict, reasons, errors, isolation, steady, span)


def _expectation(scenario: Scenario | None, verdict: str) -> Expectation | None:
    if scenario is None:
        return None
    return Expectation(verdict=scenario.expect, met=gave_expected(verdict, scenario.expect))


def _analyse(inputs: RunInputs) -> Summary:
    meta = inputs.meta
    m = _measure(inputs)
    j = _judge(inputs, m)
    overall, kind, faults = m.metrics["overall"], m.kind, m.faults
    t0 = float(meta["t0_wall"])
    swarm = swarm_recovery(inputs.events, [f.model_dump() for f in faults], t0)
    spans = [(f.injected_s, f.window_end_s) for f in faults if f.applied]
    host = host_load(inputs.host, spans, t0, m.end_s)
    inside, more = _inside_the_stack(inputs, inputs.scenario, t0, m.end_s, m.phase_map, faults)
    return Summary(
        schema=SUMMARY_SCHEMA,
        schema_version=SUMMARY_SCHEMA_VERSION,
        generated_by=f"hachaos {__version__}",
        verdict=j.verdict,
        verdict_reasons=j.reasons,
        run=RunInfo.model_validate({k: meta.get(k) for k in RUN_KEYS}),
        errors=j.errors,
        warnings=_warnings(inputs, m.figures.requests_measured, faults)
        + _more_warnings(host, swarm)
        + more,
        environment=Environment.model_validate(_blob(meta.get("environment"))),
        generator=Generator.model_validate(_blob(meta.get("generator"))),
        expect=_expectation(inputs.scenario, j.verdict),
        end_s=m.end_s,
        latency_kind=kind,
        headline=Headline(
            requests=overall["requests"],
            availability=overall["availability"],
            p99_ms=(overall["latency_ms"].get(kind) or {}).get("p99"),
            throughput_rps=overall["throughput_rps"],
            warmup_requests=m.figures.warmup_requests,
        ),
        phases={name: list(m.phase_map.intervals(name)) for name in PHASES},
        metrics={name: PhaseMetrics.model_validate(x) for name, x in m.metrics.items()},
        faults=faults,
        swarm=None if swarm is None else [SwarmRecovery.model_validate(r) for r in swarm],
        longest_failure_span=FailureSpan(seconds=j.span[0], start_s=j.span[1]),
        host=host,
        checks=[Check.model_validate(c.to_dict()) for c in j.checks],
        checks_passed=sum(c.passed for c in j.checks),
        checks_failed=sum(not c.passed for c in j.checks),
        timeseries=Timeseries.model_validate(m.figures.series),
        latency_distribution=LatencyDistribution.model_validate(m.figures.distribution),
        **inside,
        **_sections(inputs, m, j),
    )


def _sections(inputs: RunInputs, m: _Measured, j: _Judged) -> dict[str, Any]:
    """The sections a run has only when it asked for them (None otherwise)."""
    audit = inputs.meta.get("audit")
    return {
        "audit": None if audit is None else Audit.model_validate(audit),
        "isolation": None if j.isolation is None else Isolation.model_validate(j.isolation),
        "abort": None if m.abort is None else AbortRecord.model_validate(m.abort),
        "steady_state": {
            stage: [SteadyResult.model_validate(r) for r in rs] for stage, rs in j.steady.items()
        }
        or None,
        "durability": None
        if inputs.durability is None
        else Durability.model_validate(inputs.durability),
        "consistency": None
        if inputs.consistency is None
        else Consistency.model_validate(inputs.consistency),
    }


def _more_warnings(host: HostLoad | None, swarm: list[dict[str, Any]] | None) -> list[str]:
    """A busy host, then each swarm fault whose two recovery measures disagree."""
    out = []
    if host is not None and host.busy:
        out.append(f"{host.note}: timing figures may be inflated by other work")
    return out + [f"fault {r['key']}: {r['note']}" for r in swarm or [] if r["disagree"]]


def _inside_the_stack(
    inputs: RunInputs,
    scenario: Scenario | None,
    t0: float,
    end_s: float,
    phase_map: Phases,
    faults: list[FaultRecord],
) -> tuple[dict[str, Any], list[str]]:
    """The ``containers`` and ``stack_metrics`` sections (null when the run has none), warnings."""
    spans = {"overall": [(0.0, end_s)]}
    spans.update({name: list(phase_map.intervals(name)) for name in PHASES})
    windows = {f.key: (f.injected_s, f.window_end_s) for f in faults if f.applied}
    telemetry = _blob(inputs.meta.get("telemetry"))
    warnings = [str(w) for w in telemetry.get("warnings") or []]
    out: dict[str, Any] = {"containers": None, "stack_metrics": None}
    containers = analyse_containers(inputs.containers, t0, end_s, spans, windows)
    if containers is not None:
        out["containers"] = ContainerMetrics.model_validate(containers)
    endpoints = scenario.stack.metrics if scenario is not None else []
    status = telemetry.get("stack_metrics") or []
    stack, more = analyse_stack_metrics(
        inputs.stack_metrics, endpoints, status, t0, end_s, spans, windows
    )
    if stack is not None:
        out["stack_metrics"] = StackMetrics.model_validate(stack)
    return out, warnings + more
