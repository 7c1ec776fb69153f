"""The SLOs one capacity step must meet, taken from the scenario."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.scenario.models import Scenario

DEFAULT_AVAILABILITY = 0.99
# Corrected latency is send lag + response time: once the generator's own lag takes this
# share of the latency budget, a broken latency SLO may be the generator's doing.
LAG_SHARE = 0.2
DEFAULT_MAX_LAG_MS = 50.0


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LatencyBound(_Frozen):
    """Percentile ``percentile`` of corrected latency must stay at or below ``max_ms``."""

    percentile: float
    max_ms: float


class StepSlo(_Frozen):
    """What makes a step good, and when the generator's figures void it."""

    availability: float  # ok / requests sent
    latency: tuple[LatencyBound, ...]
    max_error_rate: float  # (failed + dropped) / scheduled arrivals
    max_lag_ms: float  # p99 of (start - intended) of the requests sent

    def percentiles(self) -> tuple[float, ...]:
        """The percentiles a step reports: p50, p90, p99 and every bound's."""
        return tuple(sorted({50.0, 90.0, 99.0, *(b.percentile for b in self.latency)}))


def step_slo(scenario: Scenario) -> StepSlo:
    """The SLOs of ``scenario``'s capacity steps (docs/capacity.md#step-verdicts).

    Availability: ``checks.availability.overall`` (default 99 %); latency: every
    ``checks.latency`` bound; error rate: ``experiment.capacity.max_error_rate``,
    default ``1 - availability``; generator lag: ``experiment.capacity.max_lag``, default
    ``LAG_SHARE`` of the tightest latency bound (``DEFAULT_MAX_LAG_MS`` without one).
    """
    if scenario.experiment is None:
        raise ValueError("step_slo needs a scenario with an experiment")
    capacity = scenario.experiment.capacity
    availability = scenario.checks.availability.overall
    if availability is None:
        availability = DEFAULT_AVAILABILITY
    error_rate = capacity.max_error_rate
    latency = tuple(
        LatencyBound(percentile=c.percentile, max_ms=c.max * 1000.0)
        for c in scenario.checks.latency
    )
    if capacity.max_lag is not None:
        max_lag_ms = capacity.max_lag * 1000.0
    elif latency:
        max_lag_ms = LAG_SHARE * min(b.max_ms for b in latency)
    else:
        max_lag_ms = DEFAULT_MAX_LAG_MS
    return StepSlo(
        availability=availability,
        latency=latency,
        max_error_rate=round(1.0 - availability, 12) if error_rate is None else error_rate,
        max_lag_ms=max_lag_ms,
    )
