"""One configuration of an experiment: its stack deployed once, its faults held, torn down.

An experiment deploys each configuration (a variant at a replica count) under a
project of its own, with its own run id, fault journal and event log in its own
folder, so `hachaos cleanup` finds and removes what a killed experiment left,
exactly as for a run. Nothing here decides anything by an engine's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.port import StackEngine
from harness.errors import EngineError, RevertError, ScenarioError
from harness.evidence.events import EventLog
from harness.evidence.folder import write_json_atomic
from harness.faults.runner import FaultRunner
from harness.ports import PortReservation, port_taken, reserve_loopback_port
from harness.run.orchestrator import Collaborators
from harness.scenario.models import Scenario, ServicePort
from harness.scenario.plan import Plan

DEPLOY_ATTEMPTS = 3  # deploy again with a new port when a process took the reserved one

NoticeFn = Callable[[str], None]


@dataclass
class Deployment:
    """A configuration's stack; :meth:`down` is owed from the moment :meth:`up` starts."""

    scenario: Scenario
    engine: StackEngine  # overrides and replica count already applied
    plan: Plan  # the held faults, resolved for this configuration's replica counts
    folder: Path
    run_id: str
    notice: NoticeFn
    keep: bool = False
    use: Collaborators = field(default_factory=Collaborators)  # fakes in unit tests
    port: PortReservation = field(default_factory=reserve_loopback_port)
    target_url: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    deployed: bool = False
    events: EventLog = field(init=False)
    faults: FaultRunner = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine = self.engine.with_env(
            HACHAOS_PORT=str(self.port.port), HACHAOS_PROJECT=self.engine.project
        )
        self.events = EventLog(self.folder / "events.jsonl")
        self.faults = self.use.fault_runner(
            project=self.engine.project,
            run_id=self.run_id,
            run_dir=self.folder,
            events=self.events,
            select=lambda service, replicas: self.engine.select(service, replicas),  # noqa: PLW0108
            engine=self.engine.kind,
        )

    @property
    def project(self) -> str:
        return self.engine.project

    # ------------------------------------------------------------------ up
    def up(self) -> None:
        """Heal leftovers, check the faults can run, deploy, wait until the target answers."""
        for healed in self.faults.heal_leftovers():
            self.notice(f"healed leftover from an earlier run: {healed}")
        self.faults.preflight(self.plan.steps)
        found = self.engine.existing()
        if found is not None:
            raise ScenarioError(
                f"stack {self.project!r} already exists ({found}); an experiment deploys"
                " each configuration itself, so nothing was started",
                hint="if an earlier hachaos run left it, `hachaos cleanup` removes it",
            )
        record = self.engine.journal_record()
        self.faults.journal.stack(**record, created=True, keep=self.keep)
        self.deployed = True  # teardown is owed even if the deploy fails half-way
        self._deploy()
        if self.engine.journal_record() != record:  # e.g. the deploy created the swarm
            self.faults.journal.stack(**self.engine.journal_record())
        self.target_url = self._target()
        stack = self.scenario.stack
        self.use.wait_ready(
            self.target_url.rstrip("/") + stack.ready_path, timeout=stack.ready_timeout
        )
        self.facts = self.use.environment(self.engine, self._scenario_file)
        write_json_atomic(
            self.folder / "deployment.json",
            {
                "project": self.project,
                "run_id": self.run_id,
                "target_url": self.target_url,
                "environment": self.facts,
            },
        )

    def _deploy(self) -> None:
        for attempt in range(1, DEPLOY_ATTEMPTS + 1):
            try:
                self.engine.deploy(ready_timeout=self.scenario.stack.ready_timeout)
                return
            except EngineError as exc:
                if attempt == DEPLOY_ATTEMPTS or not port_taken(exc.message, self.port.port):
                    raise
                taken = self.port.port
            self.port.release()
            self.port = reserve_loopback_port()
            self.notice(f"port {taken} was taken meanwhile; deploying on {self.port.port}")
            self.engine = self.engine.with_env(HACHAOS_PORT=str(self.port.port))

    def _target(self) -> str:
        target = self.scenario.stack.target
        if not isinstance(target, ServicePort):
            return target
        host, port = self.engine.published_port(target.service, target.port)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"{target.scheme}://{host}:{port}"

    @property
    def _scenario_file(self) -> Path:
        assert self.scenario.source is not None
        return self.scenario.source

    # ------------------------------------------------------------------ faults
    def hold_faults(self, planned_wall: float) -> tuple[str, ...]:
        """Apply every planned fault now; they stay in effect until :meth:`release_faults`."""
        for step in self.plan.steps:
            self.faults.apply(step, planned_wall=planned_wall)
        return tuple(step.key for step in self.plan.steps)

    def release_faults(self) -> None:
        """Revert every held fault, newest first; raises RevertError when one is still in effect."""
        failures = self.faults.revert_all()
        if failures:
            raise RevertError("; ".join(str(f) for f in failures))

    # ------------------------------------------------------------------ down
    def down(self) -> list[str]:
        """Revert, then tear down what this configuration created; every step runs, and
        what failed is returned (never raised)."""
        errors = [f"REVERT FAILED: {f}" for f in self._quietly(self.faults.revert_all) or []]
        if self.deployed and self.keep:
            self.notice(f"--keep: the stack is still up as {self.project}")
        elif self.deployed:
            errors += self._remove()
        self.port.release()
        self.events.close()
        return errors

    def _remove(self) -> list[str]:
        try:
            try:
                self.engine.teardown()
            except EngineError as exc:  # e.g. an object vanished mid-way: sweep by label
                self.engine.sweep()
                self.notice(f"teardown failed ({exc.message}); removed by label instead")
            self.faults.journal.stack(removed=True)
            for notice in self.engine.finish():
                self.notice(notice)
        except Exception as exc:  # a teardown that failed must not hide the others
            return [f"teardown of {self.project} failed: {exc}; `hachaos cleanup` removes it"]
        return []

    def _quietly(self, step: Callable[[], list[Any]]) -> list[Any] | None:
        try:
            return step()
        except Exception as exc:
            return [exc]
