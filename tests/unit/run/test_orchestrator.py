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
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.engine.compose.project import ProjectObjects
from harness.errors import EngineError, FaultError, Interrupted
from harness.faults.catalog import Scenario
from harness.load.driver import LoadResult, LoadSnapshot
from harness.load.roster import Roster
from harness.report.pipeline import RunSummary
from harness.run import orchestrator as orch
from harness.run.clock import FakeClock
from harness.scenario.plan import build_plan

CALLS: list[tuple[str, float]] = []
EXISTING = ProjectObjects()  # what the fake engine already has of the run's project
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
        self.file = file

    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        _log("up")

    def down(self) -> None:
        _log("down")

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", 18080)


class FakeEngine:
    """The engine port over a FakeStack (the orchestrator receives it as its engine)."""

    kind = "compose"
    stack_cls: ClassVar[type[FakeStack]] = FakeStack
    found: ClassVar[ProjectObjects] = ProjectObjects()  # what already exists of the project

    def __init__(self, file: Path, project: str, env: dict[str, str]) -> None:
        self.file, self.project, self.env = file, project, env
        self._stack: FakeStack | None = None

    @property
    def stack(self) -> FakeStack:
        """Made on first use, like the real adapter's `docker compose` calls."""
        if self._stack is None:
            self._stack = self.stack_cls(self.file, self.project, self.env)
        return self._stack

    def with_env(self, **env: str) -> FakeEngine:
        return FakeEngine(self.file, self.project, {**self.env, **env})

    def existing(self) -> str | None:
        return None if self.found.empty() else self.found.describe()

    def deploy(self, *, ready_timeout: float) -> None:
        self.stack.up(wait_timeout=ready_timeout)

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        return self.stack.published_port(service, port)

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Any]:
        return []

    def teardown(self) -> None:
        self.stack.down()

    def sweep(self) -> str:
        _log(f"sweep {self.project}")
        return ""

    def environment(self) -> dict[str, Any]:
        return {}

    def journal_record(self) -> dict[str, Any]:
        return {"compose": str(self.file)}

    def observe(self, emit: Any) -> None:
        pass

    def stop_observing(self) -> None:
        pass

    def finish(self) -> list[str]:
        return []


def fake_engine(scenario: Scenario, project: str, run_id: str) -> FakeEngine:
    return FakeEngine(scenario.resolve_path(scenario.stack.compose), project, {})


class FakeJournal:
    def stack(self, **fields: Any) -> None:
        _log("journal.stack " + " ".join(f"{k}={v}" for k, v in sorted(fields.items())))


class FakeFaults:
    fail_apply = False

    def __init__(self, **_: Any) -> None:
        self._active: list[str] = []
        self.journal = FakeJournal()

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
    target_url: str | None = None
    closed = 0
    remote_workers = 0  # local workers only: no roster to show

    def __init__(self, plan: Any) -> None:
        self.released = False

    def prespawn(self) -> None:
        _log("load.prespawn")

    def start(self, target_url: str | None = None) -> None:
        self.released = True
        FakeLoad.target_url = target_url
        _log("load.start")

    def abandon(self) -> None:
        _log("load.abandon")

    def close(self) -> None:
        FakeLoad.closed += 1  # not in CALLS: it always comes last, after the teardown

    def running(self) -> bool:
        return True

    def snapshot(self) -> LoadSnapshot:
        return LoadSnapshot(0.0, 0, 0.0, 0.0, None, 0.0)

    def live_watermark(self) -> float | None:
        return None  # no watermark: the newest live sample is the monitor's horizon

    def roster(self) -> Roster:
        return Roster()  # the master wrote no roster

    def finish_schedule(self) -> bool:
        _log("load.finish_schedule")
        return True

    def stop(self, timeout: float = 30.0, *, reap_master: bool = True) -> LoadResult:
        _log("load.stop")
        return LoadResult(Path("samples.parquet"), 0, 0, 0, False, 0.0, 1)


def fake_render(run_dir: Path, formats: Any = None) -> RunSummary:
    outcome = json.loads((run_dir / "run.json").read_text())["outcome"]
    verdict = {"completed": "pass", "interrupted": "interrupted"}.get(outcome, "error")
    return RunSummary(verdict, [], None, None, 0, run_dir / "report.html", run_dir / "s.json")


# Every collaborator of a run, faked: nothing here talks to Docker, Locust or the network.
FAKES = orch.Collaborators(
    engine_for=fake_engine,
    fault_runner=FakeFaults,
    load_driver=FakeLoad,
    wait_ready=lambda *a, **k: 0.0,
    environment=lambda *a, **k: {},
    audit=lambda *a, **k: {},
    render=fake_render,
    pool=InlineExecutor,
)


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    global CLOCK  # noqa: PLW0603 - fresh virtual time per test, like CALLS
    CALLS.clear()
    CLOCK = FakeClock()
    FakeFaults.fail_apply = False
    monkeypatch.setattr(FakeEngine, "stack_cls", FakeStack)
    monkeypatch.setattr(FakeEngine, "found", EXISTING)
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


def _run(
    scenario: Scenario, tmp_path: Path, use: orch.Collaborators = FAKES, **options: Any
) -> orch.RunOutcome:
    plan = build_plan(scenario, {"app": 3, "lb": 1})
    o = orch.Orchestrator(
        scenario,
        plan,
        orch.RunOptions(out_root=tmp_path / "out", **options),
        clock=CLOCK,
        collaborators=use,
    )
    outcome = o.run()
    assert CLOCK.sleeps < 1000  # the schedule loop advanced virtual time, it did not spin
    return outcome


def _names(journal: bool = False) -> list[str]:
    return [
        name
        for name, _ in CALLS
        if name != "apply-lag" and (journal or not name.startswith("journal."))
    ]


def test_normal_run_fires_on_time_and_reverts_before_teardown(
    scenario: Scenario, tmp_path: Path
) -> None:
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "pass"
    assert _names() == [
        "preflight",
        "load.prespawn",  # Locust starts up while the stack deploys...
        "up",
        "load.start",  # ...and is released once it is ready
        "apply kill-1#0",
        "revert kill-1#0",
        "load.finish_schedule",  # the schedule's last arrivals are in before it stops
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


def test_an_existing_project_is_refused_before_anything_is_deployed(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeEngine, "found", ProjectObjects(volumes=("victim_data",)))
    outcome = _run(scenario, tmp_path, project="victim")
    assert outcome.verdict == "error"
    assert "'victim' already exists (1 volume (victim_data))" in outcome.errors[0]
    assert "--adopt-existing" in outcome.errors[0]
    assert _names(journal=True) == ["preflight", "revert_all 0"]  # no stack line, no up


def test_an_adopted_project_is_deployed_but_never_torn_down(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeEngine, "found", ProjectObjects(containers=("victim-db-1",)))
    outcome = _run(scenario, tmp_path, project="victim", adopt_existing=True)
    assert outcome.verdict == "pass", outcome.errors
    names = _names(journal=True)
    assert names[1].startswith("journal.stack compose=") and names[1].endswith(
        "created=False keep=False"
    )
    assert "up" in names and "down" not in names


def test_a_created_project_is_journaled_before_up_and_after_down(
    scenario: Scenario, tmp_path: Path
) -> None:
    _run(scenario, tmp_path)
    names = _names(journal=True)
    stack_lines = [n for n in names if n.startswith("journal.stack")]
    assert stack_lines[0].endswith("created=True keep=False")
    assert stack_lines[1] == "journal.stack removed=True"
    assert names.index(stack_lines[0]) < names.index("up")
    assert names.index("down") < names.index(stack_lines[1])


def test_a_failed_compose_down_falls_back_to_removal_by_label(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(self: FakeStack) -> None:
        _log("down")
        raise EngineError("`docker compose down` failed: No such container: 9a3c")

    monkeypatch.setattr(FakeStack, "down", down)
    outcome = _run(scenario, tmp_path, project="p-down")
    assert outcome.errors == []
    names = _names(journal=True)
    assert names[-3:] == ["down", "sweep p-down", "journal.stack removed=True"]


# ---------------------------------------------------------------- cleanup cannot be cut short
def _interrupt_when_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    def running(self: FakeLoad) -> bool:
        if any(n.startswith("apply") for n in _names()):
            raise Interrupted(signum=signal.SIGHUP)
        return True

    monkeypatch.setattr(FakeLoad, "running", running)


def test_a_raising_view_never_skips_the_rollback(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_when_applied(monkeypatch)

    def broken(_: Any) -> None:
        raise RuntimeError("the terminal is gone")

    plan = build_plan(scenario, {"app": 3, "lb": 1})
    options = orch.RunOptions(out_root=tmp_path / "out")
    o = orch.Orchestrator(
        scenario, plan, options, on_progress=broken, on_notice=broken, collaborators=FAKES
    )
    outcome = o.run()
    assert outcome.verdict == "interrupted" and outcome.signal == signal.SIGHUP
    assert _names()[-4:] == ["apply kill-1#0", "revert_all 1", "load.stop", "down"]


def test_every_cleanup_step_runs_whatever_the_previous_one_raised(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_when_applied(monkeypatch)

    def bug(name: str, exc: Exception) -> Any:
        def step(*_: Any, **__: Any) -> Any:
            _log(name)
            raise exc

        return step

    monkeypatch.setattr(FakeFaults, "revert_all", bug("revert_all", RuntimeError("bug 1")))
    monkeypatch.setattr(FakeLoad, "stop", bug("load.stop", KeyError("bug 2")))
    monkeypatch.setattr(FakeStack, "down", bug("down", OSError("bug 3")))
    outcome = _run(scenario, tmp_path, replace(FAKES, render=bug("render", ValueError("bug 4"))))
    assert _names()[-4:] == ["revert_all", "load.stop", "down", "render"]
    assert outcome.verdict == "interrupted" and outcome.signal == signal.SIGHUP
    for n in range(1, 5):
        assert any(f"bug {n}" in e for e in outcome.errors), n
    meta = json.loads((outcome.run_dir / "run.json").read_text())
    assert (meta["outcome"], meta["signal"]) == ("interrupted", "SIGHUP")
    assert any("bug 3" in e for e in meta["errors"])


# ---------------------------------------------------------------- port taken at deploy
class PortClashStack(FakeStack):
    """The first `up` finds its host port taken by a process that is not hachaos."""

    envs: ClassVar[list[dict[str, str]]] = []

    def __init__(self, file: Path, project: str, env: dict[str, str]) -> None:
        super().__init__(file, project, env)
        self.file, self.env = file, env
        PortClashStack.envs.append(dict(env))

    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        _log("up")
        if len(PortClashStack.envs) == 1:
            port = self.env["HACHAOS_PORT"]
            raise EngineError(f"Bind for 127.0.0.1:{port} failed: port is already allocated")


def test_a_port_taken_at_deploy_is_replaced_and_deployed_again(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    PortClashStack.envs.clear()
    monkeypatch.setattr(FakeEngine, "stack_cls", PortClashStack)
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "pass", outcome.errors
    assert _names()[:4] == ["preflight", "load.prespawn", "up", "up"]
    first, second = (int(e["HACHAOS_PORT"]) for e in PortClashStack.envs)
    assert first != second
    assert PortClashStack.envs[1]["HACHAOS_PROJECT"] == outcome.project


# ---------------------------------------------------------------- pre-spawned load
class FailingUpStack(FakeStack):
    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        _log("up")
        raise EngineError("deploying compose.yaml failed: app is unhealthy")


def test_a_failed_deploy_abandons_the_prespawned_load_and_leaves_no_load_result(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeEngine, "stack_cls", FailingUpStack)
    outcome = _run(scenario, tmp_path)
    assert outcome.verdict == "error"
    assert _names() == ["preflight", "load.prespawn", "up", "revert_all 0", "load.abandon", "down"]
    meta = json.loads((outcome.run_dir / "run.json").read_text())
    assert meta["generator"] == {}  # no load ran, so none is reported


def test_the_prespawned_load_is_released_with_the_resolved_target(
    scenario: Scenario, tmp_path: Path
) -> None:
    FakeLoad.target_url, FakeLoad.closed = None, 0
    _run(scenario, tmp_path)
    assert FakeLoad.target_url == "http://127.0.0.1:18080"  # FakeStack.published_port
    assert FakeLoad.closed == 1  # the master, left exiting by stop(), is reaped at cleanup
