"""capacity.json: every configuration's searches, steps, curves, scaling, headroom, checks.

``harness.run`` fills it in as the experiment goes (so an interrupted experiment
still leaves what it measured) and the report layer renders it. Every model
forbids unknown keys, so a foreign file is an error, not missing numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.analysis.capacity.curve import Bend, bend
from harness.analysis.capacity.generator import GeneratorAdvice, advise
from harness.analysis.capacity.headroom import Headroom, headroom
from harness.analysis.capacity.scaling import ScalingPoint, ScalingRow, scaling_rows
from harness.analysis.capacity.search import (
    Phase,
    SearchLimits,
    SearchResult,
    SearchStep,
    StopReason,
)
from harness.analysis.capacity.slo import StepSlo
from harness.analysis.capacity.step import GeneratorHealth, StepMeasure, StepVerdict
from harness.analysis.slo import CheckResult
from harness.errors import ScenarioError

CAPACITY_SCHEMA = "hachaos.capacity"
CAPACITY_SCHEMA_VERSION = 1
CAPACITY_FILE = "capacity.json"

Condition = Literal["healthy", "degraded"]
Verdict = Literal["pass", "fail", "unchecked", "error", "interrupted"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepRecord(_Model):
    """One load step as run: its rate, what it measured, the generator, the verdict."""

    index: int  # 1-based within its search
    rate: float
    phase: Phase
    started_wall: float
    took_s: float  # load start to verdict, start and stop of the generator included
    samples: str  # the step's samples.parquet, relative to the experiment folder
    measure: StepMeasure
    generator: GeneratorHealth
    verdict: StepVerdict
    rested_s: float = 0.0  # no load before it: after a bad step, until the stack served again


class SearchRecord(_Model):
    """One search on one configuration, healthy or with the faults held."""

    condition: Condition
    faults: tuple[str, ...] = ()  # the faults held (degraded)
    stop: StopReason
    capacity: float | None
    first_bad: float | None
    generator_rate: float | None
    lower_bound_only: bool
    steps: tuple[StepRecord, ...]
    bend: Bend | None
    generator_advice: GeneratorAdvice | None
    took_s: float
    unrecovered_s: float | None = None  # stop "unrecovered": how long it had no load in vain

    def search_steps(self) -> list[SearchStep]:
        """The steps as the search saw them (the N+1 judge reads these)."""
        return [
            SearchStep(rate=s.rate, verdict=s.verdict.verdict, phase=s.phase) for s in self.steps
        ]


class Configuration(_Model):
    """One deployment: a variant at a replica count."""

    variant: str  # "default" without variants
    replicas: int | None  # the scaled service's count; None without scaling
    label: str  # "cache @ 2 replicas"
    healthy: SearchRecord | None = None
    degraded: SearchRecord | None = None
    headroom: Headroom | None = None
    error: str | None = None


class ScalingTable(_Model):
    """One variant's capacity at each replica count."""

    variant: str
    rows: tuple[ScalingRow, ...]


class HostNoise(_Model):
    """How busy the machine was: the other processes share the CPU with the stack."""

    cores: int
    load_before: float | None
    load_after: float | None


class CapacityDocument(_Model):
    """The whole experiment."""

    schema_: str = CAPACITY_SCHEMA
    version: int = CAPACITY_SCHEMA_VERSION
    scenario: str
    run_id: str
    started_wall: float
    ended_wall: float | None = None
    outcome: Literal["running", "completed", "error", "interrupted"] = "running"
    errors: tuple[str, ...] = ()
    slo: StepSlo
    limits: SearchLimits
    peak: float | None = None
    workers: int
    scaled_service: str | None = None
    host: HostNoise
    configurations: tuple[Configuration, ...] = ()
    scaling: tuple[ScalingTable, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    verdict: Verdict = "unchecked"
    verdict_reasons: tuple[str, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        """The file's text (``schema`` written under that name)."""
        data = self.model_dump(mode="json")
        data = {"schema": data.pop("schema_"), **data}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> CapacityDocument:
        """Read a capacity.json; a file that is not one is a ScenarioError (exit 2)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or raw.get("schema") != CAPACITY_SCHEMA:
                raise ValueError(f"not a {CAPACITY_SCHEMA} document")
            raw["schema_"] = raw.pop("schema")
            return cls.model_validate(raw)
        except (OSError, ValueError, ValidationError) as exc:
            raise ScenarioError(
                f"{path} is not a capacity.json this hachaos can read: {exc}",
                hint="give the folder of a `hachaos capacity` run",
            ) from exc


# --------------------------------------------------------------------------- assembly
def search_record(
    condition: Condition,
    result: SearchResult,
    steps: Sequence[StepRecord],
    *,
    faults: Sequence[str] = (),
    goal_rps: float,
    cores: int,
    took_s: float,
    unrecovered_s: float | None = None,
) -> SearchRecord:
    """A finished search with its curve's bend and, when the generator was the limit,
    how many workers ``goal_rps`` needs."""
    measured = [s.measure for s in steps if s.verdict.verdict != "generator"]
    advice = None
    bound = [s for s in steps if s.verdict.verdict == "generator"]
    if bound:
        step = bound[-1]
        advice = advise(
            step.measure.throughput_rps or step.rate,  # what the workers really sent
            step.generator.workers,
            step.generator.cpu_max,
            goal_rps,
            cores,
            step.generator.host_load,
        )
    return SearchRecord(
        condition=condition,
        faults=tuple(faults),
        stop=result.stop,
        capacity=result.capacity,
        first_bad=result.first_bad,
        generator_rate=result.generator_rate,
        lower_bound_only=result.lower_bound_only,
        steps=tuple(steps),
        bend=bend(measured),
        generator_advice=advice,
        took_s=took_s,
        unrecovered_s=unrecovered_s,
    )


def configuration_headroom(
    healthy: SearchRecord | None, degraded: SearchRecord | None, peak: float | None
) -> Headroom | None:
    """Capacity with and without the faults side by side (None without a degraded search)."""
    if degraded is None:
        return None
    return headroom(
        healthy.capacity if healthy else None,
        degraded.capacity,
        peak,
        degraded.search_steps(),
    )


def scaling_tables(configurations: Sequence[Configuration]) -> tuple[ScalingTable, ...]:
    """Per variant, the healthy capacity at each replica count against linear."""
    tables = []
    for variant in dict.fromkeys(c.variant for c in configurations):
        points = [
            ScalingPoint(
                replicas=c.replicas,
                capacity=c.healthy.capacity,
                lower_bound=c.healthy.lower_bound_only,
            )
            for c in configurations
            if c.variant == variant and c.replicas is not None and c.healthy is not None
        ]
        if points:
            tables.append(ScalingTable(variant=variant, rows=tuple(scaling_rows(points))))
    return tuple(tables)
