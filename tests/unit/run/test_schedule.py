"""The ordered action list a run executes."""

from __future__ import annotations

from harness.faults.kill import KillFault
from harness.run.schedule import actions_for
from harness.scenario.models import Selector
from harness.scenario.plan import PlannedFault


def _step(name: str, start: float, end: float | None, occurrence: int = 0) -> PlannedFault:
    spec = KillFault(type="kill", target=Selector(service="app", count=1), at=start, **{"for": 5})
    return PlannedFault(0, occurrence, name, "kill", spec, "app", (1,), start, end)


def test_applies_and_reverts_are_ordered_by_time() -> None:
    steps = (_step("a", 10, 20), _step("b", 5, 12))
    got = [(a.at, a.kind, a.step.name) for a in actions_for(steps)]
    assert got == [(5, "apply", "b"), (10, "apply", "a"), (12, "revert", "b"), (20, "revert", "a")]


def test_revert_goes_before_apply_at_the_same_instant() -> None:
    steps = (_step("a", 0, 10), _step("b", 10, 15))
    got = [(a.at, a.kind, a.step.name) for a in actions_for(steps)]
    assert got[1:3] == [(10, "revert", "a"), (10, "apply", "b")]


def test_instant_faults_have_no_revert() -> None:
    got = [(a.kind, a.step.name) for a in actions_for((_step("crash", 3, None),))]
    assert got == [("apply", "crash")]
