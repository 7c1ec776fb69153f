"""Abort and steady_state in the orchestrator, on virtual time with the fakes of test_orchestrator.

The load is a fake that answers 10 requests/s at S + 0.02 + k/10 (S: when the load
started), all successful until the first fault is applied and all failed after, so
the instant the availability condition holds is known exactly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import test_orchestrator as base

from harness.analysis.steady import ProbeResult
from harness.faults.catalog import Scenario
from harness.run import orchestrator as orch
from harness.run.clock import FakeClock
from harness.scenario.plan import build_plan


class FailingAfterFault(base.FakeLoad):
    """Live samples: ok before the first apply, failed after it."""

    started = 0.0
    failing_from: float | None = None

    def start(self, target_url: str | None = None) -> None:
        super().start(target_url)
        type(self).started = base.CLOCK.wall()
        self._next = 0

    def live_samples(self) -> list[tuple[int, float, bool]]:
        out = []
        now = base.CLOCK.wall()
        if not hasattr(self, "_next"):
            return out
        while (t := self.started + 0.02 + self._next / 10) <= now:
            fail_from = type(self).failing_from
            ok = fail_from is None or t < fail_from
            out.append((round(t * 1e6), 5.0, ok))
            self._next += 1
        return out


class RecordingFaults(base.FakeFaults):
    def apply(self, step: Any, *, planned_wall: float) -> None:
        super().apply(step, planned_wall=planned_wall)
        if FailingAfterFault.failing_from is None:
            FailingAfterFault.failing_from = base.CLOCK.wall()


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    base.CALLS.clear()
    base.CLOCK = FakeClock()
    base.FakeFaults.fail_apply = False
    FailingAfterFault.failing_from = None
    monkeypatch.setattr(base.FakeEngine, "stack_cls", base.FakeStack)
    monkeypatch.setattr(base.FakeEngine, "found", base.EXISTING)
    src = tmp_path / "s.yaml"
    src.write_text("# fake\n")
    return {
        "version": 1,
        "name": "fake",
        "stack": {"compose": "compose.yaml", "target": {"service": "lb", "port": 8080}},
        "load": {"model": "open", "rps": 10},
        "timing": {"warmup": 1, "duration": 10, "cooldown": 2},
        "faults": [
            {"type": "kill", "name": "first", "target": {"service": "app"}, "at": 2, "for": 5},
            {"type": "kill", "name": "later", "target": {"service": "app"}, "at": 8, "for": 1},
        ],
        "abort": {
            "conditions": [
                {"type": "availability", "below": "50%", "over": "1s", "min_requests": 5}
            ]
        },
        "source": src,
    }


def _run(
    data: dict[str, Any], tmp_path: Path, **fakes: Any
) -> tuple[orch.RunOutcome, list[dict[str, Any]]]:
    """Run ``data`` with base.FAKES, the guards' load and faults, and ``fakes`` on top."""
    src = data.pop("source")
    scenario = Scenario.model_validate(data).model_copy(update={"source": src})
    plan = build_plan(scenario, {"app": 1, "lb": 1})
    use = replace(base.FAKES, fault_runner=RecordingFaults, load_driver=FailingAfterFault, **fakes)
    o = orch.Orchestrator(
        scenario,
        plan,
        orch.RunOptions(out_root=tmp_path / "out"),
        clock=base.CLOCK,
        collaborators=use,
    )
    outcome = o.run()
    assert base.CLOCK.sleeps < 1000
    lines = (outcome.run_dir / "events.jsonl").read_text().splitlines()
    return outcome, [json.loads(x) for x in lines]


def test_abort_reverts_at_once_cancels_the_rest_and_keeps_the_cooldown(
    guarded: dict[str, Any], tmp_path: Path
) -> None:
    outcome, events = _run(guarded, tmp_path)
    names = [n for n, _ in base.CALLS if n != "apply-lag" and not n.startswith("journal.")]
    # The first fault applies at t = 2; the abort reverts it (revert_all 1) long before
    # its planned revert at t = 7; the later fault is never applied.
    assert names == ["preflight", "load.prespawn", "up", "load.start", "apply first#0",
                     "revert_all 1", "load.stop", "revert_all 0", "down"]  # fmt: skip
    times = dict(base.CALLS)
    start = times["load.start"]
    # Fails from S + 3.0 on: window (T-1, T] holds 10 requests; at T = S + 3.5 the
    # failures 3.02 … 3.42 are 5 of 10 (not below 50%); at S + 3.75, 3.02 … 3.72 are 8.
    # The loop sees it within one 0.25 s step.
    [abort] = [e for e in events if e["kind"] == "abort"]
    s_wall = FailingAfterFault.started
    assert abort["condition_wall"] == pytest.approx(s_wall + 3.75, abs=1e-5)
    assert abort["measured"] == pytest.approx(0.2)
    assert 0.0 <= abort["wall"] - abort["condition_wall"] <= 0.25 + 1e-6
    assert times["revert_all 1"] - start == pytest.approx(abort["wall"] - s_wall, abs=1e-6)
    assert abort["cancelled"] == ["later#0"] and abort["active"] == ["first#0"]
    [done] = [e for e in events if e["kind"] == "abort.reverted"]
    assert done["ok"] and done["reverted"] == ["first#0"]
    # The cooldown (2 s) still runs in full after the abort, and the run ends there.
    phases = [e["phase"] for e in events if e["kind"] == "phase"]
    assert phases == ["warmup", "run", "cooldown"]
    assert [e["kind"] for e in events][-3:] == ["abort.reverted", "phase", "run.end"]
    assert times["load.stop"] - times["revert_all 1"] == pytest.approx(2.0, abs=0.25 + 1e-6)
    meta = json.loads((outcome.run_dir / "run.json").read_text())
    assert meta["outcome"] == "aborted"
    assert (
        outcome.aborted
        == "availability < 50% over 1s at t=2.75s (availability 20.0% of 10 requests)"
    )


def test_no_abort_when_the_condition_never_holds(guarded: dict[str, Any], tmp_path: Path) -> None:
    # A 20 s window from t = 0: at worst (the last instant) 20 ok of 98, above 10%.
    guarded["abort"]["conditions"][0]["below"] = "10%"
    guarded["abort"]["conditions"][0]["over"] = "20s"
    outcome, events = _run(guarded, tmp_path)
    assert not [e for e in events if e["kind"].startswith("abort")]
    names = [n for n, _ in base.CALLS if n.startswith(("apply", "revert "))]
    assert names == ["apply first#0", "apply-lag", "revert first#0", "apply later#0", "apply-lag",
                     "revert later#0"]  # fmt: skip
    assert json.loads((outcome.run_dir / "run.json").read_text())["outcome"] == "completed"
    assert outcome.aborted is None


def test_unsteady_before_the_faults_injects_nothing(
    guarded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.pop("abort")
    guarded["steady_state"] = {"probes": [{"name": "jobs", "path": "/api/status"}]}
    rounds: list[float] = []

    def unsteady(probes: Any, endpoints: Any) -> list[ProbeResult]:
        rounds.append(base.CLOCK.mono())
        return [ProbeResult("jobs", False, "status 503, expected 200", 503, 2.0)]

    outcome, events = _run(guarded, tmp_path, steady_round=unsteady)
    names = [n for n, _ in base.CALLS if n != "apply-lag" and not n.startswith("journal.")]
    assert names == [
        "preflight", "load.prespawn", "up", "load.start", "revert_all 0", "load.stop", "down"
    ]  # fmt: skip
    assert rounds == [pytest.approx(dict(base.CALLS)["load.start"] + 1.0, abs=1e-9)]  # t = 0
    assert outcome.errors[0].startswith("system not steady: jobs: status 503, expected 200")
    [steady] = [e for e in events if e["kind"] == "steady"]
    assert steady["stage"] == "before" and not steady["ok"]
    assert json.loads((outcome.run_dir / "run.json").read_text())["outcome"] == "error"


def test_steady_rounds_before_the_first_fault_and_after_the_cooldown(
    guarded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded.pop("abort")
    guarded["steady_state"] = {"probes": [{"path": "/api/status"}]}

    def steady(probes: Any, endpoints: Any) -> list[ProbeResult]:
        base.CALLS.append(("steady", base.CLOCK.mono()))
        return [ProbeResult("/api/status", True, "status 200 in 2.0 ms", 200, 2.0)]

    outcome, events = _run(guarded, tmp_path, steady_round=steady)
    names = [
        n
        for n, _ in base.CALLS
        if n.startswith(("steady", "apply ", "load.")) and n != "load.prespawn"
    ]
    assert names == ["load.start", "steady", "apply first#0", "apply later#0", "steady",
                     "load.finish_schedule", "load.stop"]  # fmt: skip
    at = [t - dict(base.CALLS)["load.start"] for n, t in base.CALLS if n == "steady"]
    assert at == [pytest.approx(1.0, abs=1e-9), pytest.approx(13.0, abs=1e-9)]
    assert [e["stage"] for e in events if e["kind"] == "steady"] == ["before", "after"]
    assert not outcome.errors
