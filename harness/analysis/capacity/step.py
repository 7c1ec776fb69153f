"""One load step of a capacity search: what it measured, and whether it was good.

A step offers one open-model rate. Its measured window holds the arrivals
*scheduled* in ``[start, end)`` (the ``intended_us`` column), so the count is the
offered rate times the hold, whatever the stack or the generator did with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from harness.analysis.capacity.slo import StepSlo
from harness.analysis.latency import percentile_key, summarize, to_us
from harness.analysis.metrics import ratio
from harness.records import SUCCESS

LATE_MS = 10.0  # a request sent later than this after its intended start is late
SATURATED_CPU = 90.0  # % of one core: a load worker this busy measures itself

Verdict = Literal["good", "bad", "generator"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepMeasure(_Frozen):
    """Counts and corrected latency of the arrivals scheduled in one step's window."""

    offered_rps: float
    hold_s: float
    arrivals: int  # scheduled in the window: requests + dropped
    requests: int  # sent to the stack
    ok: int
    failed: int  # sent, not ok
    dropped: int  # never sent: the generator's in-flight cap was reached
    late: int  # sent over LATE_MS behind schedule
    lag_p99_ms: float | None  # p99 of how far behind schedule requests were sent
    outcomes: dict[str, int]
    latency_ms: dict[str, float | None]  # corrected: p50, p90, p99, the SLO's, max

    @property
    def achieved_rps(self) -> float:
        """Successful answers per second of the window."""
        return self.ok / self.hold_s

    @property
    def throughput_rps(self) -> float:
        """Requests sent per second of the window (answered or not)."""
        return self.requests / self.hold_s

    @property
    def availability(self) -> float | None:
        return ratio(self.ok, self.requests)

    @property
    def error_rate(self) -> float | None:
        """Failed or dropped share of the scheduled arrivals."""
        return ratio(self.failed + self.dropped, self.arrivals)

    @property
    def late_fraction(self) -> float | None:
        return ratio(self.late, self.requests)


class GeneratorHealth(_Frozen):
    """How the load generator fared during the step."""

    workers: int
    cpu_max: float  # highest CPU % of one worker process over the step
    saturated: bool  # a worker stayed above SATURATED_CPU for consecutive samples
    host_load: float | None = None  # 1-minute load average when the step ended


class StepVerdict(_Frozen):
    """good: every SLO met; bad: one broken; generator: the generator could not keep up,
    so the step says nothing about the stack."""

    verdict: Verdict
    reasons: tuple[str, ...]  # why bad or generator-bound; empty when good
    slo_broken: tuple[str, ...]  # the SLOs broken, also when generator-bound


def measure_step(
    samples: pd.DataFrame,
    start_us: int,
    end_us: int,
    offered_rps: float,
    percentiles: tuple[float, ...],
) -> StepMeasure:
    """Measure the arrivals scheduled in ``[start_us, end_us)`` (epoch µs) of ``samples``.

    Latency is corrected for coordinated omission: ``latency + (start - intended)``.
    """
    intended = samples["intended_us"].to_numpy(dtype=np.int64, na_value=0)
    rows = samples[(intended >= start_us) & (intended < end_us)]
    outcome = rows["outcome"].astype(str).to_numpy()
    sent = outcome != "dropped"
    ok = outcome == SUCCESS
    lag_us = (
        rows["start_us"].to_numpy(dtype=np.int64, na_value=0)
        - rows["intended_us"].to_numpy(dtype=np.int64, na_value=0)
    )[sent]
    latency = to_us(rows["latency_ms"].to_numpy(dtype=np.float64, na_value=np.nan)[sent])
    lag = np.maximum(lag_us, 0)
    corrected = latency + lag
    stats = summarize(corrected, percentiles)
    lag_p99 = summarize(lag, (99.0,))["p99"]
    values, counts = np.unique(outcome, return_counts=True)
    return StepMeasure(
        offered_rps=offered_rps,
        hold_s=(end_us - start_us) / 1e6,
        arrivals=len(rows),
        requests=int(sent.sum()),
        ok=int(ok.sum()),
        failed=int(sent.sum() - ok.sum()),
        dropped=int((~sent).sum()),
        late=int((lag_us > LATE_MS * 1000).sum()),
        lag_p99_ms=None if lag_p99 is None else float(lag_p99),
        outcomes={str(v): int(c) for v, c in zip(values, counts, strict=True)},
        latency_ms={k: (None if v is None else float(v)) for k, v in stats.items() if k != "count"},
    )


STEP_COLUMNS = ["intended_us", "start_us", "latency_ms", "outcome"]


def measure_step_file(
    samples: Path, start_us: int, end_us: int, offered_rps: float, percentiles: tuple[float, ...]
) -> StepMeasure:
    """:func:`measure_step` over a step's ``samples.parquet``."""
    frame = pq.read_table(samples, columns=STEP_COLUMNS).to_pandas()
    return measure_step(frame, start_us, end_us, offered_rps, percentiles)


def _pct(value: float) -> str:
    return f"{value * 100:.2f} %"


def slo_breaches(measure: StepMeasure, slo: StepSlo) -> list[str]:
    """Each SLO the step broke, as ``measured vs bound`` text."""
    if measure.requests == 0:
        return ["no request was sent"]
    broken = []
    availability = measure.availability
    if availability is not None and availability < slo.availability:
        broken.append(f"availability {_pct(availability)} < {_pct(slo.availability)}")
    for bound in slo.latency:
        value = measure.latency_ms.get(percentile_key(bound.percentile))
        if value is not None and value > bound.max_ms:
            key = percentile_key(bound.percentile)
            broken.append(f"{key} {value:g} ms > {bound.max_ms:g} ms")
    error_rate = measure.error_rate
    if error_rate is not None and error_rate > slo.max_error_rate:
        broken.append(f"error rate {_pct(error_rate)} > {_pct(slo.max_error_rate)}")
    return broken


def generator_problems(measure: StepMeasure, slo: StepSlo, health: GeneratorHealth) -> list[str]:
    """Why the generator's figures void the step, or nothing."""
    problems = []
    if measure.arrivals == 0:
        problems.append("no arrival was scheduled in the measured window")
    if health.saturated:
        problems.append(
            f"a load worker ran above {SATURATED_CPU:g} % CPU (max {health.cpu_max:.0f} %)"
        )
    lag = measure.lag_p99_ms
    if lag is not None and lag > slo.max_lag_ms:
        problems.append(
            f"requests were sent up to {lag:g} ms behind schedule (p99; limit"
            f" {slo.max_lag_ms:g} ms): the generator could not keep its schedule"
        )
    return problems


def judge_step(measure: StepMeasure, slo: StepSlo, health: GeneratorHealth) -> StepVerdict:
    """The step's verdict: generator-bound first (its figures are not the stack's), then
    bad when any SLO broke, else good."""
    broken = tuple(slo_breaches(measure, slo))
    generator = generator_problems(measure, slo, health)
    if generator:
        return StepVerdict(verdict="generator", reasons=tuple(generator), slo_broken=broken)
    return StepVerdict(verdict="bad" if broken else "good", reasons=broken, slo_broken=broken)
