"""One run, start to finish: deploy, load, faults on schedule, always-revert, teardown, evidence.

Ordering guarantees:
- nothing touches Docker before the scenario (and its compose file) validated;
- every fault that was applied is reverted, newest first, on every exit path
  (normal end, error, SIGINT, SIGTERM), and only then is the stack torn down;
- the run folder always gets run.json and whatever report can be rendered.
"""

from __future__ import annotations

import shutil
import signal
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.compose import ComposeProject, free_loopback_port
from harness.errors import FaultError, HarnessError, Interrupted, LoadError
from harness.faults.runner import FaultRunner
from harness.load.driver import LoadDriver, LoadPlan, LoadResult, resolve_workers
from harness.records import (
    EV_PHASE,
    EV_RUN_END,
    EV_RUN_START,
    RUN_META_SCHEMA,
)
from harness.report.pipeline import RunSummary, render_run
from harness.run import environment
from harness.run.clock import REAL_CLOCK, Clock
from harness.run.durability import verify_run
from harness.run.events import EventLog
from harness.run.folder import new_run_dir, project_name, utc_stamp, write_json_atomic
from harness.run.progress import Progress
from harness.run.ready import wait_ready
from harness.run.schedule import Action, actions_for
from harness.run.signals import SignalGuard
from harness.scenario.models import Scenario, ServicePort
from harness.scenario.plan import Plan

ProgressFn = Callable[[Progress], None]
NoticeFn = Callable[[str], None]

_TICK = 1.0  # progress refresh period, s


@dataclass(frozen=True)
class RunOptions:
    """Command-line choices that are not part of the scenario."""

    keep: bool = False
    out_root: Path | None = None
    project: str | None = None


@dataclass
class RunOutcome:
    """What the CLI needs to print a verdict and pick an exit code."""

    run_dir: Path
    project: str
    verdict: str  # pass | fail | error | interrupted
    summary: RunSummary | None
    errors: list[str] = field(default_factory=list)
    signal: int | None = None


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
    ) -> None:
        if scenario.source is None:
            raise ValueError("the scenario must come from a file (loader sets `source`)")
        self.scenario = scenario
        self.plan = plan
        self.options = options
        self._progress = on_progress or (lambda _p: None)
        self._notice = on_notice or (lambda _m: None)
        self.clock = clock  # the schedule's time source; tests inject a FakeClock
        self.project = project_name(scenario.name, options.project, scenario.stack.project)
        self.run_id = f"{utc_stamp()}-{self.project}"
        root = options.out_root or Path(scenario.report.dir)
        self.run_dir = new_run_dir(root, scenario.name)
        self.stack = ComposeProject(
            scenario.resolve_path(scenario.stack.compose),
            self.project,
            env={"HACHAOS_PORT": str(free_loopback_port()), "HACHAOS_PROJECT": self.project},
        )
        self.events = EventLog(self.run_dir / "events.jsonl")
        self.faults = FaultRunner(
            project=self.project, run_id=self.run_id, run_dir=self.run_dir, events=self.events
        )
        self.load: LoadDriver | None = None
        self.load_result: LoadResult | None = None
        self.target_url = ""
        self.errors: list[str] = []
        self.meta: dict[str, Any] = {}
        self._deployed = False
        self._signalled = False  # a signal arrived: cleanup does only what is owed

    # ------------------------------------------------------------------ public
    def run(self) -> RunOutcome:
        """Run the scenario; never raises HarnessError (it becomes the outcome)."""
        self._write_inputs()
        outcome, signum = "completed", None
        with SignalGuard(self._on_signal) as guard:
            try:
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
        self._finish_meta(outcome, signum)
        summary = self._render()
        verdict = summary.verdict if summary else ("interrupted" if signum else "error")
        return RunOutcome(self.run_dir, self.project, verdict, summary, self.errors, signum)

    # ------------------------------------------------------------------ phases
    def _deploy(self) -> None:
        self._emit_progress("deploy", 0.0, "healing leftovers and checking fault support")
        for healed in self.faults.heal_leftovers():
            self._notice(f"healed leftover from an earlier run: {healed}")
        self.faults.preflight(self.plan.steps)
        self._emit_progress("deploy", 0.0, f"docker compose up ({self.project})")
        self._deployed = True  # from here on, teardown is owed even if `up` fails half-way
        self.stack.up(wait_timeout=self.scenario.stack.ready_timeout)
        self.target_url = self._resolve_target()
        wait_ready(
            self.target_url.rstrip("/") + self.scenario.stack.ready_path,
            timeout=self.scenario.stack.ready_timeout,
        )
        self.meta["environment"] = environment.collect(self.stack, self._scenario_file)
        self._write_meta()

    def _drive(self) -> None:
        timing = self.scenario.timing
        total = timing.warmup + timing.duration + timing.cooldown
        self.load = LoadDriver(
            LoadPlan(
                target_url=self.target_url,
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
            )
        )
        self.load.start()
        start_wall, start_mono = self.clock.wall(), self.clock.mono()
        t0_wall, t0_mono = start_wall + timing.warmup, start_mono + timing.warmup
        self.meta.update(t0_wall=t0_wall, started_wall=start_wall)
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
        self._schedule_loop(t0_wall, t0_mono, start_mono + total)
        self.load_result = self.load.stop()

    def _schedule_loop(self, t0_wall: float, t0_mono: float, end_mono: float) -> None:
        """Fire each action at its time (in worker threads, so a slow one delays no other)."""
        timing = self.scenario.timing
        actions = actions_for(self.plan.steps)
        applies: dict[str, Future[None]] = {}
        running: list[Future[None]] = []
        phases = [(t0_mono, "run"), (t0_mono + timing.duration, "cooldown")]
        next_tick = self.clock.mono()
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fault")
        try:
            i = 0
            while True:
                now = self.clock.mono()
                self._raise_failures(running)
                while phases and now >= phases[0][0]:
                    self.events.emit(EV_PHASE, phase=phases.pop(0)[1])
                if now >= end_mono and i >= len(actions):
                    break
                if i < len(actions) and now >= t0_mono + actions[i].at:
                    action = actions[i]
                    i += 1
                    planned_wall = t0_wall + action.at
                    if action.kind == "apply":
                        fut = pool.submit(self.faults.apply, action.step, planned_wall=planned_wall)
                        applies[action.step.key] = fut
                    else:
                        fut = pool.submit(self._revert_after_apply, action, applies, planned_wall)
                    running.append(fut)
                    continue
                if self.load is not None and not self.load.running():
                    raise LoadError(
                        "the load generator stopped before the run ended",
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

    def _revert_after_apply(
        self, action: Action, applies: dict[str, Future[None]], planned_wall: float
    ) -> None:
        apply = applies.get(action.step.key)
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

    def _cleanup(self) -> None:
        """Revert every active fault (newest first), stop the load, tear the stack down."""
        self._emit_progress("teardown", 0.0, "reverting faults")
        for failure in self.faults.revert_all():
            self.errors.append(f"REVERT FAILED: {failure}")
            self._notice(f"REVERT FAILED: {failure}")
        if self.load is not None and self.load_result is None:
            try:
                self.load_result = self.load.stop()
            except HarnessError as exc:
                self.errors.append(f"stopping the load failed: {exc}")
        self._check_durability()
        if self._deployed and not self.options.keep:
            self._emit_progress("teardown", 0.0, f"docker compose down ({self.project})")
            try:
                self.stack.down()
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
            return render_run(self.run_dir, self.scenario.report.formats)
        except HarnessError as exc:
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
                }
                if result
                else {}
            ),
        )
        self._write_meta()
        self.events.emit(EV_RUN_END, outcome=outcome, errors=len(self.errors))
        self.events.close()

    def _write_meta(self) -> None:
        write_json_atomic(self.run_dir / "run.json", self.meta)

    # ------------------------------------------------------------------ helpers
    def _resolve_target(self) -> str:
        target = self.scenario.stack.target
        if isinstance(target, ServicePort):
            host, port = self.stack.published_port(target.service, target.port)
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
        elif now < t0_mono + timing.duration:
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
