"""The ``experiment`` block: a capacity search, a scaling curve, stack variants.

A scenario with ``experiment`` is not one timed run but a series of load steps
on each deployed configuration (variant x replica count): the open-model rate
steps up until a step breaks the SLOs, then a search narrows the limit down
(docs/capacity.md). ``timing`` and ``load.rps`` are not needed there: a
before-validator of :class:`harness.scenario.models.Scenario` fills them from
the capacity settings, so every other reader still finds a complete scenario.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.scenario.base import MAX_NAME, MAX_RPS, MAX_TEXT, Strict
from harness.scenario.units import Duration, Fraction

MAX_STEPS = 200  # load steps of one search
MAX_REPLICA_COUNTS = 16
MAX_REPLICAS_SCALED = 64  # replicas of one configuration
MAX_VARIANTS = 8
MAX_OVERRIDES = 8  # files layered over the stack file, per variant or for the stack
MAX_CONFIGURATIONS = 32  # variants x replica counts
DEFAULT_START_RPS = 10.0
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Variant(Strict):
    """A named change of the stack: files layered over the stack file (and ``overrides``).

    Compose and Swarm read them as extra compose files (``-f``/``-c``, later files
    win); the same experiment runs on each variant and one report compares them.
    """

    name: str = Field(max_length=MAX_NAME, pattern=NAME_PATTERN, description="label in reports")
    overrides: list[str] = Field(
        default_factory=list,
        max_length=MAX_OVERRIDES,
        description="files layered over the stack for this variant, relative to the scenario",
    )
    description: str = Field(default="", max_length=MAX_TEXT, description="free text")


class Capacity(Strict):
    """The capacity search: ramp up the open-model rate, then narrow down the limit.

    Each step offers one rate for ``settle`` (not measured) plus ``hold``
    (measured); it is good when it meets every SLO: availability
    (``checks.availability.overall``, default 99 %), every ``checks.latency``
    bound on latency corrected for coordinated omission, and
    ``max_error_rate`` over every scheduled arrival (failed or dropped).
    """

    start: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RPS,
        description=f"rate of the first step (requests/s); default load.rps, else"
        f" {DEFAULT_START_RPS:g}",
    )
    step: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RPS,
        description="requests/s added per step of the ramp; default `start`",
    )
    factor: float | None = Field(
        default=None,
        gt=1,
        le=10,
        description="multiply the rate by this per step instead of adding `step`",
    )
    max_rps: float = Field(
        gt=0, le=MAX_RPS, description="never offer more than this; reaching it ends the ramp"
    )
    settle: Duration = Field(
        default=3.0, le=600, description="load at the step's rate before measuring"
    )
    hold: Duration = Field(default=10.0, ge=1, le=3600, description="measured time of each step")
    resolution: Fraction = Field(
        default=0.05,
        ge=0.005,
        description="stop narrowing down once (first bad - last good) <= this x first bad",
    )
    max_steps: int = Field(
        default=30, ge=1, le=MAX_STEPS, description="steps per search, ramp and narrowing"
    )
    max_time: Duration = Field(
        default=1800.0, ge=10, description="no step starts after this long into one search"
    )
    max_error_rate: Fraction | None = Field(
        default=None,
        description="failed or dropped share of the scheduled arrivals a good step may have;"
        " default 1 - the availability SLO",
    )
    max_lag: Duration | None = Field(
        default=None,
        gt=0,
        le=60,
        description="p99 of how far behind schedule requests were sent above which the step"
        " measured the generator, not the stack; default a fifth of the tightest latency"
        " bound (50ms without one)",
    )
    peak: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RPS,
        description="the rate the stack must carry with the faults of `faults` held (N+1)",
    )
    recover: Duration = Field(
        default=0.0,
        ge=0,
        le=600,
        description="no load for this long after a bad step, before the next one: a stack's"
        " queues drain, so the next step does not inherit the bad step's backlog",
    )
    recover_max: Duration = Field(
        default=60.0,
        ge=0,
        le=600,
        description="after `recover`, wait at most this long, probing, until the stack serves"
        " again (3 answers in a row within the loosest latency bound, and the steady-state"
        " probes); one that does not is metastable and the search stops there. 0: no probing",
    )
    repeat_bad: int = Field(
        default=0,
        ge=0,
        le=3,
        description="measure a bad step again up to this many times before believing it"
        " (a busy host)",
    )

    @model_validator(mode="after")
    def _ramp(self) -> Capacity:
        if self.step is not None and self.factor is not None:
            raise ValueError("give `step` (added per step) or `factor` (multiplied), not both")
        if self.start is not None and self.start > self.max_rps:
            raise ValueError(f"`start` ({self.start:g}/s) is above `max_rps` ({self.max_rps:g}/s)")
        return self

    def first_rate(self, load_rps: float | None) -> float:
        """The first step's rate: ``start``, else ``load.rps``, else the default (capped)."""
        return min(self.start or load_rps or DEFAULT_START_RPS, self.max_rps)

    def step_seconds(self) -> float:
        """Load time of one step."""
        return self.settle + self.hold


class Scaling(Strict):
    """Capacity at each replica count of one service, against linear scaling."""

    service: str = Field(
        min_length=1,
        max_length=MAX_NAME,
        description="the service scaled (compose --scale, swarm service scale)",
    )
    replicas: list[int] = Field(
        min_length=1,
        max_length=MAX_REPLICA_COUNTS,
        description="replica counts, each measured on a fresh deployment",
    )

    @model_validator(mode="after")
    def _counts(self) -> Scaling:
        if any(not 1 <= n <= MAX_REPLICAS_SCALED for n in self.replicas):
            raise ValueError(f"every replica count must lie in 1..{MAX_REPLICAS_SCALED}")
        if len(set(self.replicas)) != len(self.replicas):
            raise ValueError("replica counts must differ from each other")
        return self

    def counts(self) -> list[int]:
        """The replica counts, smallest first."""
        return sorted(self.replicas)


class Experiment(Strict):
    """What to measure on each configuration of the stack."""

    capacity: Capacity = Field(description="the capacity search (every experiment has one)")
    scaling: Scaling | None = Field(
        default=None, description="measure capacity at each of these replica counts"
    )


def experiment_defaults(data: Any) -> Any:
    """Raw scenario data with what an experiment sets itself filled in.

    The search sets the rate, so ``load`` needs no ``rps`` (the first step's rate
    is filled in, and the open model), and each step has its own timing, so
    ``timing`` may be left out (filled with one step's). Anything given is kept,
    so a dumped scenario reads back the same.
    """
    if not isinstance(data, dict) or not isinstance(data.get("experiment"), dict):
        return data
    capacity = data["experiment"].get("capacity")
    capacity = capacity if isinstance(capacity, dict) else {}
    out = dict(data)
    if "timing" not in out:
        out["timing"] = {
            "warmup": capacity.get("settle", 3.0),
            "duration": capacity.get("hold", 10.0),
            "cooldown": 0,
        }
    load = out.get("load")
    if isinstance(load, dict):
        load = dict(load)
        load.setdefault("model", "open")
        if load["model"] == "open" and "rps" not in load and not load.get("stages"):
            start, top = capacity.get("start"), capacity.get("max_rps")
            rate = start if isinstance(start, int | float) else DEFAULT_START_RPS
            load["rps"] = min(rate, top) if isinstance(top, int | float) else rate
        out["load"] = load
    return out
