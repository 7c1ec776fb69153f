"""Orchestration order with small fakes for Docker, Locust and the report.

Docker behaviour itself is tested on the real engine (tests/integration, tests/e2e);
these tests pin the run's ordering guarantees: faults fire on time, and every
exit path reverts faults before the stack is torn down. Time is virtual (a FakeClock
injected into the orchestrator, fault actions run inline), so a loaded machine
cannot make them fail: they assert the order of events and virtual offsets.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from harness.errors import FaultError, Interrupted
from harness.load.driver import LoadResult, LoadSnapshot
from harness.report.pipeline import RunSummary
from harness.run import orchestrator as orch
from harness.run.clock import FakeClock
from harness.scenario.models import Scenario
from harness.scenario.plan import build_plan

CALLS: list[tuple[str, float]] = []
CLOCK = FakeClock()


def _log(name: str) -> None:
    CALLS.append((name, CLOCK.mono()))


class InlineExecutor:
    """Runs each submitted action at once, so it sees the virtual time it was fired at."""

    def __init__(self, **_: Any) -> None:
        pass

    def submit(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> Future[None]:
        fut: Future[None] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


class FakeStack:
    def __init__(self, file: Path, project: str, env: dict[str, str]) -> None:
        self.project = project

    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        _log("up")

    def down(self) -> None:
        _log("down")

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", 18080)


class FakeFaults:
    fail_apply = False

    def __init__(self, **_: Any) -> None:
        self._active: list[str] = []

    def heal_leftovers(self) -> list[str]:
        return []

    def preflight(self, steps: Any) -> None:
        _log("preflight")

    def apply(self, step: Any, *, planned_wall: float) -> None:
        _log(f"apply {step.key}")
        CALLS.append(("apply-lag", CLOCK.wall() - planned_wall))
        if self.fail_apply:
            raise FaultError(f"{step.key}: did not apply")
        self._active.append(step.key)

    def revert(self, step: Any, *, planned_wall: float | None = None) -> None:
        _log(f"revert {step.key}")
        self._active.remove(step.key)

    def revert_all(self) -> list[Any]:
        _log(f"revert_all {len(self._active)}")
        self._active.clear()
        return []

    def active(self) -> list[str]:
        return list(self._active)


class FakeLoad:
    def __init__(self, plan: Any) -> None:
        pass

    def start(self) -> None:
        _log("load.start")

    def running(self) -> bool:
        return True

    def snapshot(self) -> LoadSnapshot:
        return LoadSnapshot(0.0, 0, 0.0, 0.0, None, 0.0)

    def stop(self, timeout: float = 30.0) -> LoadResult:
        _log("load.stop")
        return LoadResult(Path("samples.parquet"), 0, 0, 0, False, 0.0, 1)


def fake_render(run_dir: Path, formats: Any = None) -> RunSummary:
    outcome = json.loads((run_dir / "run.json").read_text())["outcome"]
    verdict = {"completed": "pass", "interrupted": "interrupted"}.get(outcome, "error")
    return RunSummary(verdict, [], None, None, 0, run_dir / "report.html", run_dir / "s.json")


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    global CLOCK  # noqa: PLW0603 - fresh virtual time per test, like CALLS
    CALLS.clear()
    CLOCK = FakeClock()
    FakeFaults.fail_apply = False
    monkeypatch.setattr(orch, "ThreadPoolExecutor", InlineExecutor)
    monkeypatch.setattr(orch, "ComposeProject", FakeStack)
    monkeypatch.setattr(orch, "FaultRunner", FakeFaults)
    monkeypatch.setattr(orch, "LoadDriver", FakeLoad)
    monkeypatch.setattr(orch, "render_run", fake_render)
    monkeypatch.setattr(orch, "wait_ready", lambda *a, **k: 0.0)
    monkeypatch.setattr(orch.environment, "collect", lambda *a, **k: {})
    src = tmp_path / "s.yaml"
    src.write_text("# fake\n")
    data = {
        "version": 1,
        "name": "fake",
        "stack": {"compose": "compose.yaml", "target": {"service": "lb", "port": 8080}},
        "load": {"model": "open", "rps": 1},
        "timing": {"warmup": 0.1, "duration": 1.2, "cooldown": 0.1},
        "faults": [
            {"type": "kill", "target": {"service": "app", "index": 1}, "at": 0.2, "for": 0.5}
        ],
    }
    return Scenario.model_validate(data).model_copy(update={"source": src})


def _run(scenario: Scenario, tmp_path: Path) -> orch.RunOutcome:
    plan = build_plan(scenario, {"app": 3, "lb": 1})
    o = orch.Orchestrator(scenario, plan, orch.RunOptions(out_root=tmp_path / "out"), clock=CLOCK)
    outcome = o.run()
    assert CLOCK.sleeps < 1000  # the schedule loop advanced virtual time, it did not spin
    return outcome


def _names() -> list[str]:
    return [name for name, _ in CALLS if name != "apply-lag"]


def test_normal_run_fires_on_time_and_reverts_before_teardown(
    scenario: Scenario, tmp_path: Path
) -> None:
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "pass"
    assert _names() == [
        "preflight",
        "up",
        "load.start",
        "apply kill-1#0",
        "revert kill-1#0",
        "load.stop",
        "revert_all 0",
        "down",
    ]
    times = dict(CALLS)
    start = times["load.start"]  # warmup 0.1 s, then the fault at t = 0.2 s for 0.5 s
    assert times["apply kill-1#0"] - start == pytest.approx(0.3, abs=1e-9)
    assert times["revert kill-1#0"] - start == pytest.approx(0.8, abs=1e-9)
    assert times["load.stop"] - start == pytest.approx(1.4, abs=1e-9)  # 0.1 + 1.2 + 0.1
    assert times["apply-lag"] == pytest.approx(0.0, abs=1e-9)  # fired at its planned wall time
    phases = [
        e["phase"]
        for e in map(json.loads, (outcome.run_dir / "events.jsonl").read_text().splitlines())
        if e["kind"] == "phase"
    ]
    assert phases == ["warmup", "run", "cooldown"]


def test_fault_that_does_not_apply_is_an_error_and_still_cleans_up(
    scenario: Scenario, tmp_path: Path
) -> None:
    FakeFaults.fail_apply = True
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "error"
    assert any("did not apply" in e for e in outcome.errors)
    names = _names()
    assert "revert kill-1#0" not in names
    assert names[-3:] == ["revert_all 0", "load.stop", "down"]


def test_interruption_reverts_active_faults_then_stops_load_then_tears_down(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt_once_applied(self: FakeLoad) -> bool:
        # what the SIGTERM handler does, at a moment when the fault is active
        if any(n.startswith("apply") for n in _names()):
            raise Interrupted(signum=signal.SIGTERM)
        return True

    monkeypatch.setattr(FakeLoad, "running", interrupt_once_applied)
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "interrupted"
    assert outcome.signal == signal.SIGTERM
    assert _names()[-4:] == ["apply kill-1#0", "revert_all 1", "load.stop", "down"]
    meta = json.loads((outcome.run_dir / "run.json").read_text())
    assert (meta["outcome"], meta["signal"]) == ("interrupted", "SIGTERM")
