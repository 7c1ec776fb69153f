"""The typed run summary: what ``analyse`` returns and what ``summary.json`` holds.

Field names and order are those of summary.json (docs/summary-schema.md), so
``Summary.to_json_dict()`` writes the same document the untyped dict did. The
parts copied from run.json / durability.json (environment, generator, audit,
durability) keep the keys the file had: their fields are optional and only the
keys that were there are written back (``exclude_unset``). The same holds for the
few fields added within version 1 (``audit``, ``isolation``, ``durability``, a
fault's ``mechanism``): an older summary.json reads and writes back unchanged.
Every model forbids unknown keys: a typo or a foreign document is a
``SummaryError``, never a silently missing value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ScenarioError

SUMMARY_SCHEMA = "hachaos.summary"
SUMMARY_SCHEMA_VERSION = 1

Verdict = Literal["pass", "fail", "aborted", "unchecked", "error", "interrupted"]
Number = int | float  # kept as written: an int stays an int in summary.json

LatencyStats = dict[str, Number | None]
"""``count``, ``p50``, ``p90``, ``p95``, ``p99``, ``p99.9``, any percentile a check asks
for (``p97.5``), ``max``: keys depend on the scenario's checks, so a mapping."""


class SummaryError(ScenarioError):
    """A summary.json that is not a summary this hachaos can read (exit 2)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunInfo(_Model):
    """The run's identity and timing, from run.json (null when run.json lacks it)."""

    run_id: str | None
    scenario: str | None
    scenario_file: str | None
    scenario_sha256: str | None
    seed: int | None
    project: str | None
    target_url: str | None
    load_model: str | None
    t0_wall: float | None
    warmup: Number | None
    duration: Number | None
    cooldown: Number | None
    started_wall: float | None
    ended_wall: float | None
    outcome: str | None
    signal: str | None
    load_arrivals: str | None = None  # added within version 1: open model, uniform | poisson


class Environment(_Model):
    """run.json ``environment``: what the run ran on; only the keys run.json had."""

    hachaos: str | None = None
    git_commit: str | None = None
    engine_version: str | None = None
    compose_version: str | None = None
    images: dict[str, str] | None = None
    host_cores: int | None = None
    python: str | None = None
    platform: str | None = None
    # The engine port's facts (docs/engines.md); Swarm runs add the swarm's.
    engine: str | None = None
    swarm_nodes: int | None = None
    swarm_created_by_run: bool | None = None
    ipvs: bool | None = None
    # Kubernetes runs: the cluster they ran on.
    cluster_nodes: int | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    local_cluster: bool | None = None


class Generator(_Model):
    """run.json ``generator``: the load generator's own health; only the keys it had."""

    saturated: bool | None = None
    cpu_max: Number | None = None
    workers: int | None = None
    dropped: int | None = None
    late: int | None = None
    sending_from_wall: Number | None = None
    sending_until_wall: Number | None = None


class AuditFinding(_Model):
    rule: str
    severity: str
    service: str
    message: str
    fix: str
    file: str | None = None
    line: int | None = None


class Audit(_Model):
    """run.json ``audit``: the live audit of the deployed stack, or ``{error}``."""

    compose_file: str | None = None
    mode: str | None = None
    services: list[str] | None = None
    counts: dict[str, int] | None = None
    findings: list[AuditFinding] | None = None
    error: str | None = None


class IsolationOverhead(_Model):
    rounds: int
    probes: int
    helpers: int
    round_mean_s: float | None
    round_max_s: float | None
    errors: list[str]


class Isolation(_Model):
    """checks.isolation: {phase: {rule: {state: count}}} and the violations."""

    matrix: dict[str, dict[str, dict[str, int]]]
    denied_open: list[str]
    allowed_closed: list[str]
    allowed_closed_in_window: int
    overhead: IsolationOverhead


class HostLoad(_Model):
    """The host's own noise while the faults were in effect (analysis/host.py): from the
    ``host`` samples of the event log; null for runs made before it was sampled."""

    samples: int
    window: str  # "during the faults" | "during the run"
    cores: int | None
    load_max: float | None  # highest 1-minute load average
    load_mean: float | None
    steal: float | None  # CPU steal, fraction of the host's CPU time
    other_cpu: float | None  # cores used by processes outside hachaos and containers
    busy: bool
    note: str  # "host busy: load 15 on 2 cores during the faults", or ""


class Headline(_Model):
    requests: int
    availability: float | None
    p99_ms: float | None
    throughput_rps: float | None
    warmup_requests: int


class LatencyByKind(_Model):
    raw: LatencyStats
    corrected: LatencyStats | None

    def of(self, kind: str) -> LatencyStats:
        """The stats of ``kind`` (raw|corrected); empty when there are none."""
        return (self.corrected if kind == "corrected" else self.raw) or {}


class PhaseMetrics(_Model):
    requests: int
    ok: int
    failed: int
    dropped: int
    duration_s: Number  # an empty phase lasts int 0
    availability: float | None
    throughput_rps: float | None
    outcomes: dict[str, int]
    error_rate: dict[str, float | None]
    latency_ms: LatencyByKind


class FaultRecord(_Model):
    """One occurrence of one fault and what it did; times are seconds since t0."""

    key: str
    name: str
    type: str
    index: int | None
    occurrence: int
    targets: list[str]
    planned_s: float | None
    applied: bool
    self_healing: bool
    mechanism: str | None = None  # absent from summaries written before it existed
    error: str | None
    injected_s: float
    in_effect_s: float
    reverted_s: float | None
    revert_ok: bool | None
    window_end_s: float
    recovery_from_s: float | None
    recovered: bool
    recovered_at_s: float | None
    ttr_s: float | None
    recovery_note: str
    detection_s: float | None
    failures: int
    failures_in_window: int
    requests: int
    outage_s: float
    outage_start_s: float | None
    p99_ms: float | None
    p99_inflation: float | None


class ReplacedTask(_Model):
    """A Swarm task that took over a slot during a fault (fault.revert ``replaced``)."""

    service: str
    slot: int
    old_task: str | None = None
    task: str
    container: str
    running_wall: float  # epoch s: when Swarm says it became running (Kubernetes: Ready)
    name: str | None = None  # the replacement's own name where it has one (a Kubernetes pod)


class SwarmRecovery(_Model):
    """One fault of a Swarm run: time to the desired replica count beside the load's
    recovery, both in seconds from the injection (harness/analysis/swarm.py)."""

    key: str
    service: str | None
    desired: int | None
    replica_dip: bool
    time_to_desired_s: float | None
    load_recovery_s: float | None
    disagree: bool
    note: str
    replaced: list[ReplacedTask]


class FailureSpan(_Model):
    seconds: float
    start_s: float | None


class Durability(_Model):
    """durability.json as written (docs/metrics.md#durability); only the keys it had."""

    run_id: str | None = None
    acked: int = 0
    selected: int = 0
    checked: int = 0
    ok: int = 0
    lost: int = 0
    corrupt: int = 0
    unknown: int = 0
    unchecked: int = 0
    sampled: bool = False
    elapsed_s: float | None = None
    lost_ids: list[str] = Field(default_factory=list)
    corrupt_ids: list[str] = Field(default_factory=list)
    unknown_reasons: dict[str, int] = Field(default_factory=dict)
    # generic check only: writes that got no response, looked up by their key
    timed_out: int = 0
    timed_out_landed: int = 0
    timed_out_not_landed: int = 0
    timed_out_unknown: int = 0
    error: str | None = None
    notes: list[str] = Field(default_factory=list)


class ConsistencyCheckRow(_Model):
    """One check of consistency.json: its anomaly count, or why it is undecided."""

    check: str
    anomalies: int
    unknown: str | None = None


class Consistency(_Model):
    """consistency.json as written (docs/consistency.md); only the keys it had."""

    model: str
    error: str | None = None
    operations: int = 0
    keys: int = 0
    processes: int = 0
    types: dict[str, int] = Field(default_factory=dict)
    functions: dict[str, int] = Field(default_factory=dict)
    checks: list[ConsistencyCheckRow] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    anomalies: dict[str, int] = Field(default_factory=dict)
    # {"reads", "stale", "ms": {"p50", "p99", "max"}, "versions": {...}}
    stale: dict[str, Any] | None = None
    # each: kind, key, text, ops (rows with invoke_ns/complete_ns), edges (cycles), extras
    witnesses: list[dict[str, Any]] = Field(default_factory=list)
    linearizability: dict[str, Any] | None = None  # register: checker, illegal/unknown keys
    dependency_graph: dict[str, Any] | None = None  # list-append: nodes, edges, cycles
    elapsed_s: float | None = None
    total_s: float | None = None
    max_anomalies: int | None = None
    t0_mono_ns: int | None = None  # the run's t = 0 on the history's monotonic clock
    history_file: str | None = None
    final_read_keys: int | None = None  # keys with an ok final read (after the faults)
    final_reads: dict[str, Any] | None = None  # what the final-read phase did (run layer)


class Check(_Model):
    """One SLO verdict; ``measured`` is null when nothing could be measured."""

    name: str
    phase: str
    measured: Number | None
    threshold: Number
    unit: str
    passed: bool
    detail: str


class Expectation(_Model):
    """The scenario's ``expect:`` and whether this run gave it (analysis/expectation.py)."""

    verdict: Literal["pass", "fail", "aborted"]
    met: bool


class AbortRecord(_Model):
    """The stop condition that aborted the run (docs/guards.md); times are s since t0."""

    condition: str | None
    type: str | None
    index: int | None
    measured: Number | None
    detail: str | None
    condition_s: float
    aborted_s: float
    reverted_s: float | None
    detection_s: float  # condition → abort
    revert_s: float | None  # condition → every fault reverted
    reverted: list[str]
    revert_ok: bool
    cancelled: list[str]


class SteadyResult(_Model):
    """One steady-state probe of one round (``before`` the faults or ``after`` the cooldown)."""

    probe: str
    ok: bool
    saw: str
    status: int
    latency_ms: Number


class Timeseries(_Model):
    """Series per bucket of ``step_s`` seconds, of equal length (raw latency).

    ``step_s`` is 1 (and left out of summary.json) up to 2 h of load; longer runs get
    wider buckets so the series stays at most 7200 long (analysis.metrics.series_step).
    """

    step_s: int = Field(default=1, ge=1)
    t: list[int]
    requests: list[int]
    failed: list[int]
    dropped: list[int]
    error_rate: list[float | None]
    p50_ms: list[float | None]
    p90_ms: list[float | None]
    p99_ms: list[float | None]
    max_ms: list[float | None]


class LatencyDistribution(_Model):
    """``[[percentile, ms], …]`` of every measured request."""

    raw: list[tuple[float, float]] | None
    corrected: list[tuple[float, float]] | None


class SpanStats(_Model):
    """One service's container metrics over a span (a phase or a fault window)."""

    seconds: Number
    rows: int  # one per replica per sampler round
    up_rows: int  # of which the replica ran with a fresh reading
    cpu_pct: dict[str, float | None]  # p50, p95, max (% of one core, per replica)
    cpu_pct_sum: dict[str, float | None]  # p95, max of the service's total per round
    mem_bytes: dict[str, float | None]  # p50, max
    net_rx_bps: float | None
    net_tx_bps: float | None
    blk_read_bps: float | None
    blk_write_bps: float | None


class ServiceContainers(_Model):
    phases: dict[str, SpanStats]  # "overall" and each phase
    faults: dict[str, SpanStats]  # by fault key (the fault window)


class ReplicaRecord(_Model):
    """One replica (compose container number or swarm slot) over the measured run."""

    service: str
    replica: int
    containers: list[str]  # container ids (12 hex) in the order seen: a replacement adds one
    rounds: int
    up_rounds: int
    first_s: float
    last_s: float
    down: list[tuple[float, float]]  # spans it was not running (metrics stopped)
    restarts: int  # restarts by the engine's restart policy
    health: list[tuple[float, str]]  # [t, status] at each change


class ReplicaSeries(_Model):
    service: str
    replica: int
    cpu_pct: list[float | None]
    mem_mib: list[float | None]


class ContainerTimeseries(_Model):
    step_s: int = Field(default=1, ge=1)  # as Timeseries.step_s: above 1 only past 2 h
    t: list[int]
    replicas: list[ReplicaSeries]


class ContainerMetrics(_Model):
    """Container metrics from the engine's stats API (docs/metrics.md#container-metrics)."""

    rows: int
    interval_s: float | None
    replicas: list[ReplicaRecord]
    services: dict[str, ServiceContainers]
    timeseries: ContainerTimeseries


class SeriesSpan(_Model):
    min: float | None
    max: float | None
    first: float | None
    last: float | None


class StackSeries(_Model):
    """One selected series of a stack.metrics endpoint (docs/metrics.md#stack-metrics)."""

    endpoint: int
    selector: str
    service: str
    replica: int
    name: str
    labels: dict[str, str]
    phases: dict[str, SeriesSpan]
    faults: dict[str, SeriesSpan]
    changes: list[tuple[float, float]]  # [t, value] where the value changed
    t: list[float]
    values: list[float]


class EndpointStatus(_Model):
    index: int
    service: str
    port: int
    path: str
    scrapes: int
    failed: int
    samples: int
    targets: int
    last_error: str | None


class StackMetrics(_Model):
    endpoints: list[EndpointStatus]
    series: list[StackSeries]


class Summary(_Model):
    """summary.json, version 1 (docs/summary-schema.md)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="hachaos run summary (summary.json)",
    )

    schema_: Literal["hachaos.summary"] = Field(alias="schema")
    schema_version: Literal[1]
    generated_by: str
    verdict: Verdict
    verdict_reasons: list[str]
    run: RunInfo
    errors: list[str]
    warnings: list[str]
    environment: Environment
    generator: Generator
    # Added within version 1: absent (not null) in summaries written before they existed.
    audit: Audit | None = None
    isolation: Isolation | None = None
    # Guards (scenario `abort`, `steady_state`), added within version 1 like audit.
    abort: AbortRecord | None = None
    steady_state: dict[str, list[SteadyResult]] | None = None
    # Added within version 1: the scenario's `expect:` (null when the scenario is unreadable).
    expect: Expectation | None = None
    end_s: float
    latency_kind: Literal["raw", "corrected"]
    headline: Headline
    phases: dict[str, list[tuple[float, float]]]
    metrics: dict[str, PhaseMetrics]  # "overall" and each of analysis.phases.PHASES
    faults: list[FaultRecord]
    swarm: list[SwarmRecovery] | None = None  # added within version 1: Swarm runs only
    longest_failure_span: FailureSpan
    durability: Durability | None = None  # added within version 1, like audit
    consistency: Consistency | None = None  # added within version 1 (checks.consistency)
    host: HostLoad | None = None  # added within version 1: the host's noise during the run
    checks: list[Check]
    checks_passed: int
    checks_failed: int
    timeseries: Timeseries
    latency_distribution: LatencyDistribution
    # Added within version 1: absent in summaries written before they existed, and in
    # runs that sampled no container (stack.container_metrics: false) or scraped nothing.
    containers: ContainerMetrics | None = None
    stack_metrics: StackMetrics | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The summary.json document: by alias, only the blob keys the run's files had."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def summary_json_schema() -> dict[str, Any]:
    """The JSON Schema of summary.json (what ``hachaos schema --summary`` prints)."""
    return Summary.model_json_schema(by_alias=True, mode="serialization")


def parse_summary(data: object, source: str = "summary.json") -> Summary:
    """A summary document as the model; a ``SummaryError`` naming the bad keys otherwise."""
    if not isinstance(data, dict) or data.get("schema") != SUMMARY_SCHEMA:
        raise SummaryError(
            f'{source} is not a hachaos summary (no "schema": "{SUMMARY_SCHEMA}")',
            hint="point at a run folder made by `hachaos run`, or run `hachaos report RUN_DIR`",
        )
    try:
        return Summary.model_validate(data)
    except ValidationError as exc:
        version = data.get("schema_version")
        raise SummaryError(
            f"{source} (schema_version {version}) does not match the summary this hachaos "
            f"reads (version {SUMMARY_SCHEMA_VERSION}): {problems(exc)}",
            hint="re-create it from the run's raw data with `hachaos report RUN_DIR`",
        ) from exc


def problems(exc: ValidationError, limit: int = 5) -> str:
    """``where: what`` of the first ``limit`` errors of a validation, for a message."""
    text = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
        for e in exc.errors()[:limit]
    )
    return text + (f" (+{exc.error_count() - limit} more)" if exc.error_count() > limit else "")


def read_summary(path: Path) -> Summary:
    """summary.json of a run folder as the model (``SummaryError`` if unreadable or foreign)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SummaryError(
            f"cannot read {path}: {exc}", hint=f"run `hachaos report {path.parent}` first"
        ) from exc
    return parse_summary(data, str(path))
