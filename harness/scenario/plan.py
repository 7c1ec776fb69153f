"""The resolved timeline of a scenario: which fault hits which replicas, when.

The plan is a pure function of (scenario, replica counts, seed). Replicas are
named by their compose container number (``com.docker.compose.container-number``),
so the same plan maps to the same containers on every run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from harness.errors import ScenarioError
from harness.scenario.models import FaultBase, Scenario, Selector


@dataclass(frozen=True)
class PlannedFault:
    """One occurrence of one fault, with resolved targets and times."""

    fault_index: int  # position in scenario.faults
    occurrence: int  # 0-based repeat number
    name: str  # report label, e.g. "kill-1" or the fault's name
    type: str  # the fault's `type`
    spec: FaultBase  # the validated fault model (its type's spec class)
    service: str
    replicas: tuple[int, ...]  # compose container numbers, resolved with the seed
    start: float  # offset in s from t = 0 (end of warmup), jitter applied
    end: float | None  # planned revert offset; None for instant faults

    @property
    def key(self) -> str:
        """Stable id of this occurrence, e.g. ``kill-1#0``."""
        return f"{self.name}#{self.occurrence}"


@dataclass(frozen=True)
class Plan:
    """All fault occurrences of a run, ordered by start time."""

    scenario: str
    seed: int
    steps: tuple[PlannedFault, ...]


def schedule_jitter(fault: FaultBase) -> float:
    """The +/- shift applied to each occurrence.

    A latency fault's own ``jitter`` is the variation of the added delay, not a
    schedule shift, so its occurrences are never shifted (its spec says so).
    """
    return fault.schedule_jitter()


def occurrence_bounds(fault: FaultBase, occurrence: int) -> tuple[float, float]:
    """Earliest start and latest end an occurrence can have, whatever the seed."""
    base = fault.at + occurrence * (fault.every or 0.0)
    jitter = schedule_jitter(fault)
    return base - jitter, base + jitter + fault.window()


def _rng(seed: int, fault_index: int, occurrence: int, purpose: str) -> random.Random:
    # One generator per (fault, occurrence, purpose), seeded from a string (hashed
    # with SHA-512, so stable across processes): editing one fault never
    # reshuffles the choices of another.
    return random.Random(f"{seed}:{fault_index}:{occurrence}:{purpose}")


def resolve_amount(selector: Selector, available: int) -> int:
    """How many of ``available`` replicas a selector takes.

    ``count`` is taken as is; ``percent`` rounds up (10% of 3 is 1) and so is
    0 only for 0%; ``all`` or ``pick: all`` take every replica; an ``index``
    takes one; nothing at all means one replica.
    """
    if selector.index is not None:
        return 1
    if selector.all or selector.pick == "all":
        return available
    if selector.count is not None:
        return selector.count
    if selector.percent is not None:
        # The small epsilon keeps 0.3 * 10 (= 3.0000000000000004) at 3.
        return math.ceil(selector.percent * available - 1e-9)
    return 1


def _selector_problem(selector: Selector, available: int, taken: int) -> str | None:
    service = selector.service
    have = f"service {service!r} has {available} replica{'s' if available != 1 else ''}"
    if selector.index is not None and selector.index > available:
        return f"index {selector.index} does not exist: {have}"
    if taken <= 0:
        return f"the selector resolves to zero containers ({have}); raise percent or use count"
    if taken > available:
        return f"the selector wants {taken} containers but {have}"
    return None


def resolve_replicas(selector: Selector, available: int, rng: random.Random) -> tuple[int, ...]:
    """Compose container numbers (1-based) a selector hits; ScenarioError if none fit."""
    taken = resolve_amount(selector, available)
    problem = _selector_problem(selector, available, taken)
    if problem is not None:
        raise ScenarioError(problem)
    if selector.index is not None:
        return (selector.index,)
    numbers = list(range(1, available + 1))
    if selector.pick == "random" and taken < available:
        return tuple(sorted(rng.sample(numbers, taken)))
    return tuple(numbers[:taken])


def selector_problem(selector: Selector, available: int) -> str | None:
    """Why a selector cannot be resolved against ``available`` replicas, or None."""
    return _selector_problem(selector, available, resolve_amount(selector, available))


def build_plan(scenario: Scenario, replicas: Mapping[str, int], seed: int | None = None) -> Plan:
    """The resolved timeline: a pure function of (scenario, replicas, seed).

    ``seed`` overrides ``scenario.seed``. Occurrence ``k`` of a fault starts at
    ``at + k * every`` shifted by a seeded uniform jitter in ``[-jitter, +jitter]``;
    windowed faults end ``window()`` later, instant ones (their spec class says
    ``instant``: crash, restart, rolling-restart) have ``end = None``. Raises
    ScenarioError when a service is unknown or a selector resolves to no container.
    """
    seed = scenario.seed if seed is None else seed
    steps: list[PlannedFault] = []
    for index, fault in enumerate(scenario.faults):
        service = fault.target.service
        if service not in replicas:
            raise ScenarioError(f"fault {scenario.fault_name(index)}: unknown service {service!r}")
        jitter = schedule_jitter(fault)
        for occurrence in range(fault.repeat):
            shift = 0.0
            if jitter > 0:
                shift = _rng(seed, index, occurrence, "jitter").uniform(-jitter, jitter)
            start = round(fault.at + occurrence * (fault.every or 0.0) + shift, 6)
            chosen = resolve_replicas(
                fault.target, replicas[service], _rng(seed, index, occurrence, "pick")
            )
            end = None if fault.instant else round(start + fault.window(), 6)
            steps.append(
                PlannedFault(
                    fault_index=index,
                    occurrence=occurrence,
                    name=scenario.fault_name(index),
                    type=fault.type,
                    spec=fault,
                    service=service,
                    replicas=chosen,
                    start=start,
                    end=end,
                )
            )
    steps.sort(key=lambda s: (s.start, s.fault_index, s.occurrence))
    return Plan(scenario=scenario.name, seed=seed, steps=tuple(steps))
