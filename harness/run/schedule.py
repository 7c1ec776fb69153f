"""The ordered list of fault actions (apply/revert) a run executes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.scenario.plan import PlannedFault


@dataclass(frozen=True)
class Action:
    """Apply or revert one planned fault at an offset from t = 0."""

    at: float
    kind: Literal["apply", "revert"]
    step: PlannedFault


def actions_for(steps: tuple[PlannedFault, ...]) -> list[Action]:
    """Every apply and revert, by time; at equal times reverts go first."""
    actions: list[Action] = []
    for step in steps:
        actions.append(Action(step.start, "apply", step))
        if step.end is not None:
            actions.append(Action(step.end, "revert", step))
    return sorted(actions, key=lambda a: (a.at, 0 if a.kind == "revert" else 1, a.step.key))
