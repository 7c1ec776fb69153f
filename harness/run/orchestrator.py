"""One run, start to finish: deploy, load, faults on schedule, always-revert, teardown, evidence.

Ordering guarantees:
- nothing touches Docker before the scenario (and its compose file) validated;
- every fault that was applied is reverted, newest first, on every exit path
  (normal end, error, SIGINT, SIGTERM, SIGHUP, SIGQUIT), and only then is the
  stack torn down;
- each cleanup step runs even when an earlier one raised (whatever the
  exception), and a raising progress or notice view never skips one;
- the run folder always gets run.json and whatever report can be rendered.
"""

from __future__ import annotations

import logging
import shutil
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.analysis.abort import Trip
from harness.analysis.annotations import window_annotations
from harness.analysis.phases import fault_windows
from harness.analysis.steady import ProbeResult, first_failure, not_steady_message
from harness.audit.live import run_audit
from harness.engine.compose import ComposeProject
from harness.engine.compose_engine import ComposeEngine
from harness.engine.port import StackEngine
from harness.engine.swarm import SwarmEngine
from harness.errors import (
    EngineError,
    FaultError,
    HarnessError,
    Interrupted,
    LoadError,
    NotSteady,
    ScenarioError,
)
from harness.evidence.events import EventLog, read_events
from harness.evidence.folder import new_run_dir, new_run_id, project_name, write_json_atomic
from harness.faults.runner import FaultRunner
from harness.load.driver import LoadDriver, LoadPlan, LoadResult, resolve_workers
from harness.ports import port_taken, reserve_loopback_port
from harness.records import (
    EV_ABORT,
    EV_ABORT_REVERTED,
    EV_ANNOTATION,
    EV_PHASE,
    EV_RUN_END,
    EV_RUN_START,
    EV_STEADY,
    RUN_META_SCHEMA,
)
from harness.report.pipeline import RunSummary, render_run
from harness.run import environment
from harness.run.clock import REAL_CLOCK, Clock
from harness.run.durability import verify_run
from harness.run.exporter import LiveExporter
from harness.run.guards import AbortWatch, Endpoints, steady_round
from harness.run.isolation import IsolationProber
from harness.run.progress import Progress
from harness.run.ready import wait_ready
from harness.run.schedule import Action, actions_for
from harness.run.signals import SignalGuard
from harness.run.telemetry import RunTelemetry
from harness.scenario.models import Scenario, ServicePort
from harness.scenario.plan import Plan

ProgressFn = Callable[[Progress], None]
NoticeFn = Callable[[str], None]

_TICK = 1.0  # progress refresh period, s
_DEPLOY_ATTEMPTS = 3  # `compose up` again with a new port when the host port was taken
_log = logging.getLogger(__name__)

T = TypeVar("T")


def _guard_view(fn: Callable[[T], None]) -> Callable[[T], None]:
    """A view callback that can never raise into the run (and so never skip a cleanup step).

    ``Interrupted`` still passes: the signal handler raises it in whatever frame
    runs, a callback included, and the run must unwind on it.
    """

    def call(arg: T) -> None:
        try:
            fn(arg)
        except Interrupted:
            raise
        except Exception:
            _log.warning("a progress/notice callback failed; ignored", exc_info=True)

    return call


@dataclass(frozen=True)
class RunOptions:
    """Command-line choices that are not part of the scenario."""

    keep: bool = False
    out_root: Path | None = None
    project: str | None = None
    adopt_existing: bool = False  # run against a compose project that already exists
    metrics_port: int | None = None  # live OpenMetrics endpoint on 127.0.0.1 (0: any free port)
    pushgateway: str | None = None  # push the live metrics there when the run ends


@dataclass
class RunOutcome:
    """What the CLI needs to print a verdict and pick an exit code."""

    run_dir: Path
    project: str
    verdict: str  # pass | fail | aborted | unchecked | error | interrupted
    summary: RunSummary | None
    errors: list[str] = field(default_factory=list)
    signal: int | None = None
    aborted: str | None = None  # the stop condition that held, and when (verdict aborted)


def default_engine(scenario: Scenario, project: str, run_id: str) -> StackEngine:
    """The engine adapter that ``stack.engine`` names, with ``stack.overrides`` layered on."""
    file = scenario.resolve_path(scenario.stack.compose)
    engine: StackEngine
    if scenario.stack.engine == "swarm":
        engine = SwarmEngine(file, project, run_id)
    else:
        engine = ComposeEngine(ComposeProject(file, project))
    overrides = [scenario.resolve_path(f) for f in scenario.stack.overrides]
    return engine.with_overrides(overrides) if overrides else engine


@dataclass(frozen=True)
class Collaborators:
    """What a run works with besides its engine; unit tests hand in fakes."""

    engine_for: Callable[[Scenario, str, str], StackEngine] = default_engine
    fault_runner: Callable[..., FaultRunner] = FaultRunner
    load_driver: Callable[[LoadPlan], LoadDriver] = LoadDriver
    wait_ready: Callable[..., float] = wait_ready
    environment: Callable[[StackEngine, Path], dict[str, Any]] = environment.collect
    audit: Callable[[Path, str], dict[str, Any]] = run_audit
    steady_round: Callable[[Sequence[Any], Endpoints], list[ProbeResult]] = steady_round
    render: Callable[[Path, Sequence[str] | None], RunSummary] = render_run
    pool: Callable[..., Executor] = ThreadPoolExecutor
    telemetry: Callable[..., RunTelemetry] = RunTelemetry


class Orchestrator:
    """Executes one validated scenario. Create one per run."""

    def __init__(
        self,
        scenario: Scenario,
        plan: Plan,
        options: RunOptions,
        *,
        on_progress: ProgressFn | None = None,
        on_notice: NoticeFn | None = None,
        clock: Clock = REAL_CLOCK,
        engine: StackEngine | None = None,
        collaborators: Collaborators | None = None,
    ) -> None:
        """``engine``: the stack's engine adapter; default: the one ``stack.engine`` names."""
        if scenario.source is None:
            raise ValueError("the scenario must come from a file (loader sets `source`)")
        self.scenario = scenario
        self.plan = plan
        self.options = options
        self._view: ProgressFn = _guard_view(on_progress or (lambda _p: None))
        self._notice: NoticeFn = _guard_view(on_notice or (lambda _m: None))
        self.clock = clock  # the schedule's time source; tests inject a FakeClock
        self.use = collaborators or Collaborators()
        self.project = (
            engine.project
            if engine is not None
            else project_name(scenario.name, options.project, scenario.stack.project)
        )
        self.run_id = new_run_id(self.project)
        root = options.out_root or Path(scenario.report.dir)
        self.run_dir = new_run_dir(root, scenario.name)
        # Held until the stack is torn down, so no concurrent run gets this port.
        self._port = reserve_loopback_port()
        self.engine: StackEngine = (
            engine or self.use.engine_for(scenario, self.project, self.run_id)
        ).with_env(HACHAOS_PORT=str(self._port.port), HACHAOS_PROJECT=self.project)
        self.events = EventLog(self.run_dir / "events.jsonl")
        self.faults = self.use.fault_runner(
            project=self.project,
            run_id=self.run_id,
            run_dir=self.run_dir,
            events=self.events,
            # Late-bound: a port clash at deploy replaces self.engine.
            select=lambda service, replicas: self.engine.select(service, replicas),  # noqa: PLW0108
            engine=self.engine.kind,
        )
        self.load: LoadDriver | None = None
        self.load_result: LoadResult | None = None
        self.target_url = ""
        self.errors: list[str] = []
        self.meta: dict[str, Any] = {}
        self._deployed = False
        self._adopted = False  # the project existed before: never torn down by hachaos
        self._signalled = False  # a signal arrived: cleanup does only what is owed
        self.isolation: IsolationProber | None = None
        self.watch: AbortWatch | None = None
        self.tripped: Trip | None = None  # the stop condition that aborted the run
        self.telemetry: RunTelemetry | None = None  # container and stack metrics
        self.exporter: LiveExporter | None = None
        if options.metrics_port is not None or options.pushgateway:
            info = {"run_id": self.run_id, "scenario": scenario.name, "project": self.project}
            self.exporter = LiveExporter(options.metrics_port or 0, self.run_dir / "samples", info)

    def _progress(self, progress: Progress) -> None:
        self._view(progress)
        if self.exporter is not None:
            self.exporter.update(progress)

    # ------------------------------------------------------------------ public
    def run(self) -> RunOutcome:
        """Run the scenario; never raises HarnessError (it becomes the outcome)."""
        self._write_inputs()
        outcome, signum = "completed", None
        with SignalGuard(self._on_signal) as guard:
            try:
                self._export()
                self._deploy()
                self._drive()
            except Interrupted as exc:
                outcome, signum = "interrupted", exc.signum
            except HarnessError as exc:
                outcome = "error"
                self.errors.append(str(exc))
            except Exception as exc:  # a bug must still not skip the rollback
                outcome = "error"
                self.errors.append(f"internal error: {exc!r}\n{traceback.format_exc()}")
            finally:
                guard.cleaning()
                self._cleanup()
            if guard.received is not None and signum is None:
                outcome, signum = "interrupted", guard.received
            elif outcome == "completed" and self.tripped is not None:
                outcome = "aborted"
        self._cleanup_step("writing run.json", lambda: self._finish_meta(outcome, signum))
        summary = self._render()
        self._end_export()
        verdict = summary.verdict if summary else ("interrupted" if signum else "error")
        aborted = None
        if self.tripped is not None:
            t = self.tripped.at - float(self.meta.get("t0_wall") or self.tripped.at)
            aborted = f"{self.tripped.condition} at t={t:.2f}s ({self.tripped.detail})"
        return RunOutcome(
            self.run_dir, self.project, verdict, summary, self.errors, signum, aborted
        )

    # ------------------------------------------------------------------ phases
    def _deploy(self) -> None:
        self._emit_progress("deploy", 0.0, "healing leftovers and checking fault support")
        for healed in self.faults.heal_leftovers():
            self._notice(f"healed leftover from an earlier run: {healed}")
        self.faults.preflight(self.plan.steps)
        self._claim_project()
        self._emit_progress("deploy", 0.0, f"{self.engine.kind} deploy ({self.project})")
        # Cleanup after a kill -9 removes only what this line says hachaos created.
        record = self.engine.journal_record()
        self.faults.journal.stack(**record, created=not self._adopted, keep=self.options.keep)
        self._deployed = True  # from here on, teardown is owed even if `up` fails half-way
        # Locust's imports overlap `compose up`; the load waits at its gate until _drive.
        t = self.scenario.timing
        self.load = self._load_driver(t.warmup + t.duration + t.cooldown)
        self.load.prespawn()
        self._up()
        if self.engine.journal_record() != record:  # e.g. the deploy created the swarm
            self.faults.journal.stack(**self.engine.journal_record())
        self.target_url = self._resolve_target()
        self.use.wait_ready(
            self.target_url.rstrip("/") + self.scenario.stack.ready_path,
            timeout=self.scenario.stack.ready_timeout,
        )
        compose_file = self.scenario.resolve_path(self.scenario.stack.compose)
        pool = self.use.pool(max_workers=2, thread_name_prefix="facts")
        try:  # independent, both mostly waiting on the engine: side by side
            facts = pool.submit(self.use.environment, self.engine, self._scenario_file)
            # the audit reads compose projects' containers
            audit = (
                pool.submit(self.use.audit, compose_file, self.project)
                if self.engine.kind == "compose"
                else None
            )
            self.meta["environment"] = facts.result()
            if audit is not None:
                self.meta["audit"] = audit.result()
        finally:
            pool.shutdown(wait=True)
        self.engine.observe(self.events.emit)
        self.telemetry = self.use.telemetry(
            self.scenario.stack, self.engine, self.run_dir, self.events.emit
        )
        self.telemetry.start()
        self._write_meta()

    def _claim_project(self) -> None:
        """Refuse a compose project that already exists, unless --adopt-existing."""
        found = self.engine.existing()
        if found is None:
            return
        if not self.options.adopt_existing:
            what = "compose project" if self.engine.kind == "compose" else "swarm stack"
            raise ScenarioError(
                f"{what} {self.project!r} already exists ({found}); "
                "hachaos never takes over a stack it did not deploy, so nothing was started",
                hint=(
                    "drop --project/stack.project to get a fresh random project, or pick an "
                    "unused name; if an earlier hachaos run left it, `hachaos cleanup` removes "
                    "it; to run against it anyway, pass --adopt-existing (it is then left up, "
                    "volumes included)"
                ),
            )
        self._adopted = True
        self._notice(
            f"--adopt-existing: running against existing project {self.project} "
            f"({found}); it will be left up afterwards"
        )

    def _drive(self) -> None:
        timing = self.scenario.timing
        total = timing.warmup + timing.duration + timing.cooldown
        if self.load is None:
            self.load = self._load_driver(total)
        if self.scenario.checks.isolation is not None:
            self.isolation = IsolationProber(
                self.scenario.checks.isolation, self.project, self.run_id, self.run_dir
            )
            self.isolation.start()  # its first round is the baseline, during warmup
        if self.scenario.abort is not None:
            self.load.live_samples()  # starts the collection before the first sample
        self.load.start(self.target_url)
        start_wall, start_mono = self.clock.wall(), self.clock.mono()
        t0_wall, t0_mono = start_wall + timing.warmup, start_mono + timing.warmup
        if self.scenario.abort is not None:
            self.watch = AbortWatch(
                self.scenario.abort,
                start_wall=t0_wall,
                end_wall=t0_wall + timing.duration,
                endpoints=self._endpoints(),
                cwd=self._scenario_file.parent,
                env={
                    "HACHAOS_TARGET_URL": self.target_url,
                    "HACHAOS_PROJECT": self.project,
                    "HACHAOS_RUN_ID": self.run_id,
                },
            )
            self.watch.start()
        self.meta.update(t0_wall=t0_wall, started_wall=start_wall)
        if self.exporter is not None:
            self.exporter.set_t0(t0_wall)
        self._write_meta()
        self.events.emit(
            EV_RUN_START,
            t0_wall=t0_wall,
            t0_mono=t0_mono,
            warmup=timing.warmup,
            duration=timing.duration,
            cooldown=timing.cooldown,
            target_url=self.target_url,
            project=self.project,
        )
        self.events.emit(EV_PHASE, phase="warmup", wall=start_wall, mono=start_mono)
        try:
            self._schedule_loop(t0_wall, t0_mono, start_mono + total)
        finally:
            if self.watch is not None:
                self.watch.stop()
        self._steady("after")
        self.load_result = self.load.stop(reap_master=False)  # its master is reaped in _cleanup
        self._export_final()

    def _load_driver(self, total: float) -> LoadDriver:
        """The run's load; its target URL is handed over by ``start``."""
        return self.use.load_driver(
            LoadPlan(
                target_url="",
                load=self.scenario.load,
                total_seconds=total,
                seed=self.scenario.seed,
                out_dir=self.run_dir,
                locustfile=(
                    self.scenario.resolve_path(self.scenario.load.locustfile)
                    if self.scenario.load.locustfile
                    else None
                ),
                workers=resolve_workers(self.scenario.load.processes),
                run_id=self.run_id,
                durability=self.scenario.checks.durability,
            )
        )

    def _schedule_loop(self, t0_wall: float, t0_mono: float, end_mono: float) -> None:
        """Fire each action at its time (in worker threads, so a slow one delays no other)."""
        timing = self.scenario.timing
        actions = actions_for(self.plan.steps)
        applies: dict[tuple[int, int], Future[None]] = {}  # by (fault index, occurrence)
        running: list[Future[None]] = []
        phases = [(t0_mono, "run"), (t0_mono + timing.duration, "cooldown")]
        steady_pending = self.scenario.steady_state is not None
        next_tick = self.clock.mono()
        pool = self.use.pool(max_workers=4, thread_name_prefix="fault")
        try:
            i = 0
            while True:
                now = self.clock.mono()
                self._raise_failures(running)
                while phases and now >= phases[0][0]:
                    self.events.emit(EV_PHASE, phase=phases.pop(0)[1])
                if steady_pending and now >= t0_mono:  # before the first action at t >= 0
                    steady_pending = False
                    self._steady("before")
                if self.watch is not None and self.tripped is None and now >= t0_mono:
                    assert self.load is not None
                    trip = self.watch.check(self.load.live_samples())
                    if trip is not None:
                        self._abort(trip, actions[i:], running)
                        i = len(actions)  # the faults still to come are cancelled
                        after = self.clock.mono()
                        if phases:  # straight into the cooldown, which still runs whole
                            phases.clear()
                            self.events.emit(EV_PHASE, phase="cooldown")
                        end_mono = min(end_mono, after + timing.cooldown)
                        continue
                if now >= end_mono and i >= len(actions):
                    break
                if i < len(actions) and now >= t0_mono + actions[i].at:
                    action = actions[i]
                    i += 1
                    planned_wall = t0_wall + action.at
                    if action.kind == "apply":
                        fut = pool.submit(self.faults.apply, action.step, planned_wall=planned_wall)
                        applies[(action.step.fault_index, action.step.occurrence)] = fut
                    else:
                        fut = pool.submit(self._revert_after_apply, action, applies, planned_wall)
                    running.append(fut)
                    continue
                if self.load is not None and not self.load.running():
                    raise LoadError(
                        "the load generator stopped before the run ended: "
                        f"{self.load.stopped_child() or 'it was stopped'}",
                        hint="see the Locust logs in the run folder (samples/logs/*.log)",
                    )
                if now >= next_tick:
                    self._tick(now - (t0_mono - timing.warmup), t0_mono, now)
                    next_tick = now + _TICK
                nxt = min(next_tick, end_mono)
                if i < len(actions):
                    nxt = min(nxt, t0_mono + actions[i].at)
                if phases:  # wake for a phase change too, so its event is on time
                    nxt = min(nxt, phases[0][0])
                self.clock.sleep(max(0.0, min(nxt - self.clock.mono(), 0.25)))
            for fut in running:
                fut.result()  # surfaces a late failure before we call the run complete
        finally:
            # After an interruption no queued action may still start; the cleanup
            # that follows reverts whatever is active.
            pool.shutdown(wait=True, cancel_futures=True)

    def _abort(self, trip: Trip, pending: list[Action], running: list[Future[None]]) -> None:
        """A stop condition held: revert every active fault now; nothing more is applied."""
        self.tripped = trip
        if self.exporter is not None:
            self.exporter.abort()
        cancelled = sorted({a.step.key for a in pending if a.kind == "apply"})
        active = self.faults.active()
        self.events.emit(
            EV_ABORT,
            **trip.to_dict(),
            condition_wall=trip.at,
            wall=self.clock.wall(),
            cancelled=cancelled,
            active=active,
        )
        self._notice(f"ABORT: {trip.condition} ({trip.detail}); reverting every fault")
        failures = self.faults.revert_all()
        # An action already under way (an apply waiting for the runner's lock) may
        # still land: wait for those, then revert whatever they left in effect.
        for fut in running:
            try:
                fut.result(timeout=300)
            except Exception:  # reported by _raise_failures on the next loop
                _log.debug("fault action failed during an abort", exc_info=True)
        if self.faults.active():
            failures += self.faults.revert_all()
        for failure in failures:
            self.errors.append(f"REVERT FAILED: {failure}")
            self._notice(f"REVERT FAILED: {failure}")
        self.events.emit(
            EV_ABORT_REVERTED, wall=self.clock.wall(), reverted=active, ok=not failures
        )

    def _steady(self, stage: str) -> None:
        """One steady-state round; before the faults, a failure stops the run (NotSteady)."""
        spec = self.scenario.steady_state
        if spec is None:
            return
        results = self.use.steady_round(spec.probes, self._endpoints())
        failed = first_failure(results)
        self.events.emit(
            EV_STEADY,
            stage=stage,
            ok=failed is None,
            wall=self.clock.wall(),
            results=[r.to_dict() for r in results],
        )
        if failed is None:
            return
        if stage == "before":
            raise NotSteady(
                not_steady_message(failed),
                hint="nothing was injected; fix the stack or the steady_state probes and re-run",
            )
        self._notice(f"not steady after the cooldown: {failed.probe}: {failed.saw}")

    def _endpoints(self) -> Endpoints:
        return Endpoints(self.target_url, self.engine.published_port)

    def _revert_after_apply(
        self, action: Action, applies: dict[tuple[int, int], Future[None]], planned_wall: float
    ) -> None:
        apply = applies.get((action.step.fault_index, action.step.occurrence))
        if apply is not None:
            try:
                apply.result()
            except HarnessError:
                return  # the apply failure is reported by its own future
        self.faults.revert(action.step, planned_wall=planned_wall)

    @staticmethod
    def _raise_failures(running: list[Future[None]]) -> None:
        for fut in running:
            if fut.done() and fut.exception() is not None:
                exc = fut.exception()
                if isinstance(exc, HarnessError):
                    raise exc
                raise FaultError(f"fault action crashed: {exc!r}") from exc

    def _up(self) -> None:
        """Deploy; when a process that is not hachaos took the reserved port, a new one."""
        for attempt in range(1, _DEPLOY_ATTEMPTS + 1):
            try:
                self.engine.deploy(ready_timeout=self.scenario.stack.ready_timeout)
                return
            except EngineError as exc:
                if attempt == _DEPLOY_ATTEMPTS or not port_taken(exc.message, self._port.port):
                    raise
                taken = self._port.port
            self._port.release()
            self._port = reserve_loopback_port()
            self._notice(f"port {taken} was taken meanwhile; deploying on {self._port.port}")
            self.engine = self.engine.with_env(HACHAOS_PORT=str(self._port.port))

    def _cleanup_step(self, what: str, step: Callable[[], None]) -> None:
        """Run one cleanup step; any exception is recorded, never raised, so the next runs."""
        try:
            step()
        except HarnessError as exc:
            self.errors.append(f"{what} failed: {exc}")
        except Exception as exc:  # a bug in one step must not skip the next
            self.errors.append(f"{what} failed: internal error: {exc!r}\n{traceback.format_exc()}")

    def _cleanup(self) -> None:
        """Revert every active fault (newest first), stop the load, tear the stack down."""
        self._emit_progress("teardown", 0.0, "reverting faults")
        self._cleanup_step("reverting faults", self._revert_all)
        self._cleanup_step("stopping the load", self._stop_load)
        self._cleanup_step("isolation probes", self._stop_isolation)
        self._cleanup_step("durability read-back", self._check_durability)
        self._cleanup_step("stopping the engine observer", self.engine.stop_observing)
        self._cleanup_step("stopping the metrics", self._stop_telemetry)
        self._cleanup_step("teardown", self._teardown)
        if self.load is not None:  # the Locust master exited during the steps above
            self._cleanup_step("ending the load master", self.load.close)
        self._port.release()

    def _revert_all(self) -> None:
        for failure in self.faults.revert_all():
            self.errors.append(f"REVERT FAILED: {failure}")
            self._notice(f"REVERT FAILED: {failure}")

    def _stop_load(self) -> None:
        if self.load is not None and not self.load.released:
            self.load.abandon()  # pre-spawned, never released: no load ran, no result
        elif self.load is not None and self.load_result is None:
            try:
                self.load_result = self.load.stop(reap_master=False)
            except HarnessError as exc:
                self.errors.append(f"stopping the load failed: {exc}")
            self._export_final()

    def _stop_isolation(self) -> None:
        if self.isolation is not None:  # faults reverted: the final round is "after recovery"
            self.isolation.stop(final_round=not self._signalled and self._deployed)

    # ------------------------------------------------------------------ live export
    def _export(self) -> None:
        """Start the live endpoint before anything is deployed (a taken port stops the run)."""
        if self.exporter is not None and self.options.metrics_port is not None:
            self.exporter.start()
            self._notice(f"live metrics: http://127.0.0.1:{self.exporter.port}/metrics")

    def _export_final(self) -> None:
        samples = self.run_dir / "samples.parquet"
        if self.exporter is not None and samples.exists():
            self.exporter.final(samples)

    def _end_export(self) -> None:
        """The run is over: a last push if asked for, then the endpoint closes."""
        if self.exporter is None:
            return
        self.exporter.done()
        if self.options.pushgateway:
            try:
                self.exporter.push(self.options.pushgateway, self.run_id)
            except Exception as exc:  # a gateway that is down never fails the run
                self._notice(f"pushing the metrics to {self.options.pushgateway} failed: {exc}")
        self.exporter.close()

    def _annotate(self) -> None:
        """One event-log line per fault window (Grafana annotation shaped)."""
        t0 = self.meta.get("t0_wall")
        if t0 is None:
            return
        ended = float(self.meta.get("ended_wall") or self.clock.wall())
        windows = fault_windows(read_events(self.events.path), float(t0))
        for note in window_annotations(
            windows, float(t0), ended - float(t0), self.run_id, self.scenario.name
        ):
            self.events.emit(EV_ANNOTATION, **note)

    def _stop_telemetry(self) -> None:
        if self.telemetry is not None:
            self.telemetry.stop()
            self.meta["telemetry"] = self.telemetry.record()

    def _teardown(self) -> None:
        if self._deployed and self._adopted:
            self._notice(
                f"--adopt-existing: project {self.project} existed before the run, so it is "
                "left up as it is (faults reverted); hachaos removes only what it created"
            )
        elif self._deployed and not self.options.keep:
            self._emit_progress("teardown", 0.0, f"{self.engine.kind} teardown ({self.project})")
            try:
                try:
                    self.engine.teardown()
                except HarnessError as exc:  # e.g. an object vanished mid-way: sweep by label
                    self.engine.sweep()
                    self._notice(f"teardown failed ({exc.message}); removed by label instead")
                self.faults.journal.stack(removed=True)
                for notice in self.engine.finish():
                    self._notice(notice)
            except HarnessError as exc:
                self.errors.append(f"teardown failed: {exc}")
                self._notice(
                    f"teardown failed; remove it with `docker compose -p {self.project} down -v`"
                )
        elif self._deployed:
            self._notice(f"--keep: the stack is still up as compose project {self.project}")

    def _check_durability(self) -> None:
        """Read acknowledged writes back (checks.durability): faults reverted, stack still up."""
        spec = self.scenario.checks.durability
        samples = self.run_dir / "samples.parquet"
        if spec is None or not self._deployed or not self.target_url or not samples.exists():
            return
        if self._signalled:
            self._notice("interrupted: skipping the durability read-back")
            return
        self._emit_progress("teardown", 0.0, "reading acknowledged writes back (durability)")
        result = verify_run(
            self.run_dir,
            self.target_url,
            self.run_id,
            spec,
            ready_url=self.target_url.rstrip("/") + self.scenario.stack.ready_path,
            seed=self.plan.seed,
            events=self.events,
        )
        if result.error:
            self._notice(f"durability: {result.error}")

    def _render(self) -> RunSummary | None:
        self._emit_progress("report", 0.0, "writing the report")
        try:
            return self.use.render(self.run_dir, self.scenario.report.formats)
        except Exception as exc:  # HarnessError, or a bug: the outcome is still returned
            self.errors.append(f"report failed: {exc}")
            self._notice(f"report failed: {exc}")
            return None

    # ------------------------------------------------------------------ records
    @property
    def _scenario_file(self) -> Path:
        assert self.scenario.source is not None
        return self.scenario.source

    def _write_inputs(self) -> None:
        shutil.copyfile(self._scenario_file, self.run_dir / "scenario.yaml")
        dumped = self.scenario.model_dump(mode="json", by_alias=True, exclude={"source"})
        write_json_atomic(self.run_dir / "scenario.json", dumped)
        timing = self.scenario.timing
        self.meta = {
            "schema": RUN_META_SCHEMA,
            "run_id": self.run_id,
            "scenario": self.scenario.name,
            "scenario_file": str(self._scenario_file),
            "scenario_sha256": environment.file_sha256(self._scenario_file),
            "seed": self.plan.seed,
            "project": self.project,
            "target_url": "",
            "load_model": self.scenario.load.model,
            "t0_wall": None,
            "warmup": timing.warmup,
            "duration": timing.duration,
            "cooldown": timing.cooldown,
            "started_wall": None,
            "ended_wall": None,
            "outcome": "running",
            "signal": None,
            "errors": [],
            "generator": {},
            "environment": {},
        }
        self._write_meta()

    def _finish_meta(self, outcome: str, signum: int | None) -> None:
        result = self.load_result
        self.meta.update(
            target_url=self.target_url,
            ended_wall=time.time(),
            outcome=outcome,
            signal=signal.Signals(signum).name if signum else None,
            errors=self.errors,
            generator=(
                {
                    "saturated": result.generator_saturated,
                    "cpu_max": result.worker_cpu_max,
                    "workers": result.workers,
                    "dropped": result.dropped,
                    "late": result.late,
                    # when it sent: the per-second series keep only whole seconds of it
                    "sending_from_wall": result.sending_from_wall,
                    "sending_until_wall": result.sending_until_wall,
                }
                if result
                else {}
            ),
        )
        self._write_meta()
        self._annotate()
        self.events.emit(EV_RUN_END, outcome=outcome, errors=len(self.errors))
        self.events.close()

    def _write_meta(self) -> None:
        write_json_atomic(self.run_dir / "run.json", self.meta)

    # ------------------------------------------------------------------ helpers
    def _resolve_target(self) -> str:
        target = self.scenario.stack.target
        if isinstance(target, ServicePort):
            host, port = self.engine.published_port(target.service, target.port)
            if host in ("0.0.0.0", "::", ""):
                host = "127.0.0.1"
            url = f"{target.scheme}://{host}:{port}"
        else:
            url = target
        self.meta["target_url"] = url
        return url

    def _tick(self, elapsed: float, t0_mono: float, now: float) -> None:
        timing = self.scenario.timing
        if now < t0_mono:
            phase = "warmup"
        elif now < t0_mono + timing.duration and self.tripped is None:
            phase = "run"
        else:
            phase = "cooldown"
        snap = self.load.snapshot() if self.load is not None else None
        self._progress(
            Progress(
                phase=phase,
                elapsed=elapsed,
                warmup=timing.warmup,
                total=timing.warmup + timing.duration + timing.cooldown,
                rps=snap.rps if snap else 0.0,
                error_rate=snap.error_rate if snap else 0.0,
                p99_ms=snap.p99_ms if snap else None,
                requests=snap.requests if snap else 0,
                active_faults=tuple(self.faults.active()),
            )
        )

    def _emit_progress(self, phase: str, elapsed: float, message: str) -> None:
        timing = self.scenario.timing
        total = timing.warmup + timing.duration + timing.cooldown
        self._progress(Progress(phase=phase, elapsed=elapsed, total=total, message=message))

    def _on_signal(self, signum: int, cleaning: bool) -> None:
        self._signalled = True
        name = signal.Signals(signum).name
        if cleaning:
            self._notice(f"{name} received during cleanup: reverting faults first, please wait")
        else:
            self._notice(f"{name} received: reverting every fault, then tearing down")
