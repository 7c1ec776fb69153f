"""Small hand-made capacity results for the analysis and report tests."""

from __future__ import annotations

from harness.analysis.capacity.document import (
    CapacityDocument,
    Configuration,
    HostNoise,
    SearchRecord,
    StepRecord,
    configuration_headroom,
    scaling_tables,
    search_record,
)
from harness.analysis.capacity.search import SearchLimits, SearchResult, SearchStep, StopReason
from harness.analysis.capacity.slo import LatencyBound, StepSlo
from harness.analysis.capacity.step import GeneratorHealth, StepMeasure, StepVerdict

SLO = StepSlo(
    availability=0.99,
    latency=(LatencyBound(percentile=99, max_ms=250.0),),
    max_error_rate=0.01,
    max_lag_ms=50.0,
)


def measure(rate: float, p99: float, ok_share: float = 1.0, hold: float = 10.0) -> StepMeasure:
    """A step at ``rate`` for ``hold`` s: every arrival sent, ``ok_share`` of them ok."""
    arrivals = round(rate * hold)
    ok = round(arrivals * ok_share)
    return StepMeasure(
        offered_rps=rate,
        hold_s=hold,
        arrivals=arrivals,
        requests=arrivals,
        ok=ok,
        failed=arrivals - ok,
        dropped=0,
        late=0,
        lag_p99_ms=1.0,
        outcomes={"ok": ok},
        latency_ms={"p50": p99 / 2, "p99": p99},
    )


def step(
    rate: float, verdict: str, phase: str = "ramp", cpu: float = 30.0, index: int = 1
) -> StepRecord:
    """A step record; a bad one has a 900 ms p99 and a reason."""
    reasons = () if verdict == "good" else ("p99 900 ms > 250 ms",)
    return StepRecord(
        index=index,
        rate=rate,
        phase=phase,  # type: ignore[arg-type]
        started_wall=1_700_000_000.0,
        took_s=12.0,
        samples=f"default/healthy/steps/{index:02d}/samples.parquet",
        measure=measure(rate, 10.0 if verdict == "good" else 900.0),
        generator=GeneratorHealth(workers=1, cpu_max=cpu, saturated=cpu > 90),
        verdict=StepVerdict(verdict=verdict, reasons=reasons, slo_broken=reasons),  # type: ignore[arg-type]
    )


def search(
    condition: str,
    capacity: float | None,
    steps: list[StepRecord],
    stop: StopReason = "converged",
    first_bad: float | None = None,
    generator_rate: float | None = None,
    faults: tuple[str, ...] = (),
) -> SearchRecord:
    """A finished search over ``steps``."""
    result = SearchResult(
        stop=stop,
        capacity=capacity,
        first_bad=first_bad,
        generator_rate=generator_rate,
        steps=tuple(
            SearchStep(rate=s.rate, verdict=s.verdict.verdict, phase=s.phase) for s in steps
        ),
    )
    return search_record(
        condition,  # type: ignore[arg-type]
        result,
        steps,
        faults=faults,
        goal_rps=400.0,
        cores=2,
        took_s=12.0 * len(steps),
    )


def configuration(
    variant: str, replicas: int | None, healthy: float, degraded: float | None, peak: float
) -> Configuration:
    """A configuration whose healthy search converged at ``healthy`` (first bad x1.05) and,
    with ``degraded``, whose degraded search did at ``degraded``."""
    h = search(
        "healthy",
        healthy,
        [
            step(healthy / 2, "good", index=1),
            step(healthy, "good", index=2),
            step(healthy * 1.05, "bad", phase="narrow", index=3),
        ],
        first_bad=healthy * 1.05,
    )
    d = None
    if degraded is not None:
        d = search(
            "degraded",
            degraded,
            [step(degraded, "good", index=1), step(degraded * 1.1, "bad", index=2)],
            first_bad=degraded * 1.1,
            faults=("stop-1",),
        )
    label = variant if replicas is None else f"{variant} @ {replicas} replicas"
    return Configuration(
        variant=variant,
        replicas=replicas,
        label=label,
        healthy=h,
        degraded=d,
        headroom=configuration_headroom(h, d, peak),
    )


def document(**changes: object) -> CapacityDocument:
    """Two variants at 1 and 2 replicas, the faults held at 2; no checks unless given."""
    configs = (
        configuration("plain", 1, 50.0, None, 60.0),
        configuration("plain", 2, 90.0, 50.0, 60.0),
        configuration("cache", 1, 120.0, None, 60.0),
        configuration("cache", 2, 200.0, 110.0, 60.0),
    )
    base = CapacityDocument(
        scenario="web-ha-capacity",
        run_id="run-1",
        started_wall=1_700_000_000.0,
        ended_wall=1_700_000_600.0,
        outcome="completed",
        slo=SLO,
        limits=SearchLimits(start=20, max_rps=400, step=20),
        peak=60.0,
        workers=2,
        scaled_service="app",
        host=HostNoise(cores=2, load_before=3.5, load_after=4.25),
        configurations=configs,
        scaling=scaling_tables(configs),
    )
    return base.model_copy(update=changes)
