"""The resolved timeline of a scenario: which fault hits which replicas, when.

The plan is a pure function of (scenario, replica counts, seed). Replicas are
named by their compose container number (``com.docker.compose.container-number``),
so the same plan maps to the same containers on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.models import Fault


@dataclass(frozen=True)
class PlannedFault:
    """One occurrence of one fault, with resolved targets and times."""

    fault_index: int  # position in scenario.faults
    occurrence: int  # 0-based repeat number
    name: str  # report label, e.g. "kill-1" or the fault's name
    type: str  # the fault's `type`
    spec: Fault  # the validated fault model
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
