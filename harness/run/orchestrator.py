"""One run, start to finish: deploy, load, faults on schedule, always-revert, teardown, evidence.

Ordering guarantees:
- nothing touches Docker before the scenario (and its compose file) validated;
- every fault that was applied is reverted, newest first, on every exit path
  (normal end, error, SIGINT, SIGTERM, SIGHUP, SIGQUIT), and only then is the
  stack torn down;
- each cleanup step runs even when an earlier one raised (whatever the
  exception), and a raising progress or notice view never skips one;
- the run folder always gets run.json and whatever report can be rendered.

The parts, each in its module, share one :class:`~harness.run.context.RunContext`:
:mod:`~harness.run.deploy`, :mod:`~harness.run.scheduler` (faults on time, stop
conditions), :mod:`~harness.run.teardown` and :mod:`~harness.run.record`
(run.json). This module wires them.
"""

from __future__ import annotations

import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from harness.clock import REAL_CLOCK, Clock
from harness.engine.port import StackEngine
from harness.errors import HarnessError, Interrupted
from harness.evidence.events import EventLog
from harness.evidence.folder import new_run_dir, new_run_id, project_name
from harness.ports import reserve_loopback_port
from harness.records import EV_PHASE, EV_RUN_END, EV_RUN_START
from harness.report.pipeline import RunSummary
from harness.run import load_workers
from harness.run.context import (
    Collaborators,
    NoticeFn,
    ProgressFn,
    RunContext,
    RunOptions,
    guard_view,
)
from harness.run.deploy import deploy, load_driver
from harness.run.guards import AbortWatch
from harness.run.isolation import IsolationProber
from harness.run.monitoring import annotate, end_export, export_final, exporter_for, start_export
from harness.run.record import RunRecord
from harness.run.scheduler import FaultScheduler, check_steady
from harness.run.signals import SignalGuard
from harness.run.teardown import teardown
from harness.scenario.models import Scenario
from harness.scenario.plan import Plan

__all__ = ["Collaborators", "Orchestrator", "RunOptions", "RunOutcome"]


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
        use = collaborators or Collaborators()
        project = (
            engine.project
            if engine is not None
            else project_name(scenario.name, options.project, scenario.stack.project)
        )
        run_id = new_run_id(project)
        run_dir = new_run_dir(options.out_root or Path(scenario.report.dir), scenario.name)
        port = reserve_loopback_port()
        self.ctx = RunContext(
            scenario=scenario,
            plan=plan,
            options=options,
            use=use,
            clock=clock,
            view=guard_view(on_progress or (lambda _p: None)),
            notice=guard_view(on_notice or (lambda _m: None)),
            project=project,
            run_id=run_id,
            run_dir=run_dir,
            port=port,
            engine=(engine or use.engine_for(scenario, project, run_id)).with_env(
                HACHAOS_PORT=str(port.port), HACHAOS_PROJECT=project
            ),
            events=EventLog(run_dir / "events.jsonl"),
            record=RunRecord(run_dir),
        )
        self.ctx.exporter = exporter_for(self.ctx)

    @property
    def run_dir(self) -> Path:
        return self.ctx.run_dir

    @property
    def project(self) -> str:
        return self.ctx.project

    # ------------------------------------------------------------------ public
    def run(self) -> RunOutcome:
        """Run the scenario; never raises HarnessError (it becomes the outcome)."""
        ctx = self.ctx
        ctx.record.start(ctx.scenario, run_id=ctx.run_id, project=ctx.project, seed=ctx.plan.seed)
        outcome, signum = "completed", None
        with SignalGuard(self._on_signal) as guard:
            try:
                start_export(ctx)
                deploy(ctx)
                self._drive()
            except Interrupted as exc:
                outcome, signum = "interrupted", exc.signum
            except HarnessError as exc:
                outcome = "error"
                ctx.errors.append(str(exc))
            except Exception as exc:  # a bug must still not skip the rollback
                outcome = "error"
                ctx.errors.append(f"internal error: {exc!r}\n{traceback.format_exc()}")
            finally:
                guard.cleaning()
                teardown(ctx)
            if guard.received is not None and signum is None:
                outcome, signum = "interrupted", guard.received
            elif outcome == "completed" and ctx.tripped is not None:
                outcome = "aborted"
        ctx.step("writing run.json", lambda: self._finish(outcome, signum))
        summary = self._render()
        end_export(ctx)
        verdict = summary.verdict if summary else ("interrupted" if signum else "error")
        aborted = None
        if ctx.tripped is not None:
            t = ctx.tripped.at - float(ctx.record.meta.get("t0_wall") or ctx.tripped.at)
            aborted = f"{ctx.tripped.condition} at t={t:.2f}s ({ctx.tripped.detail})"
        return RunOutcome(ctx.run_dir, ctx.project, verdict, summary, ctx.errors, signum, aborted)

    # ------------------------------------------------------------------ phases
    def _drive(self) -> None:
        """Start the guards and the load, run the schedule, stop the load."""
        ctx = self.ctx
        timing = ctx.scenario.timing
        if ctx.load is None:
            ctx.load = load_driver(ctx)
        if ctx.scenario.checks.isolation is not None:
            ctx.isolation = IsolationProber(
                ctx.scenario.checks.isolation, ctx.project, ctx.run_id, ctx.run_dir
            )
            ctx.isolation.start()  # its first round is the baseline, during warmup
        if ctx.scenario.abort is not None:
            ctx.load.live_samples()  # starts the collection before the first sample
        ctx.load.start(ctx.target_url)
        start_wall, start_mono = ctx.clock.wall(), ctx.clock.mono()
        load_workers.clock_notice(ctx)
        t0_wall, t0_mono = start_wall + timing.warmup, start_mono + timing.warmup
        ctx.t0_mono = t0_mono
        if ctx.scenario.abort is not None:
            ctx.watch = self._abort_watch(t0_wall)
            ctx.watch.start()
        ctx.record.meta.update(t0_wall=t0_wall, started_wall=start_wall)
        if ctx.exporter is not None:
            ctx.exporter.set_t0(t0_wall)
        ctx.record.write()
        ctx.events.emit(
            EV_RUN_START,
            t0_wall=t0_wall,
            t0_mono=t0_mono,
            warmup=timing.warmup,
            duration=timing.duration,
            cooldown=timing.cooldown,
            target_url=ctx.target_url,
            project=ctx.project,
        )
        ctx.events.emit(EV_PHASE, phase="warmup", wall=start_wall, mono=start_mono)
        scheduler = FaultScheduler(
            ctx, t0_wall=t0_wall, t0_mono=t0_mono, end_mono=start_mono + ctx.total
        )
        try:
            scheduler.run()
        finally:
            if ctx.watch is not None:
                ctx.watch.stop()
        check_steady(ctx, "after")
        if ctx.tripped is None and not ctx.load.finish_schedule():
            ctx.notice(
                "warning: the load's last arrivals were not all recorded before it stopped "
                "(a worker's watermark stayed behind the schedule's end)"
            )
        ctx.load_result = ctx.load.stop(reap_master=False)  # its master is reaped at teardown
        export_final(ctx)

    def _abort_watch(self, t0_wall: float) -> AbortWatch:
        ctx = self.ctx
        assert ctx.scenario.abort is not None
        return AbortWatch(
            ctx.scenario.abort,
            start_wall=t0_wall,
            end_wall=t0_wall + ctx.scenario.timing.duration,
            endpoints=ctx.endpoints(),
            cwd=ctx.scenario_file.parent,
            env={
                "HACHAOS_TARGET_URL": ctx.target_url,
                "HACHAOS_PROJECT": ctx.project,
                "HACHAOS_RUN_ID": ctx.run_id,
            },
        )

    def _finish(self, outcome: str, signum: int | None) -> None:
        ctx = self.ctx
        ctx.record.finish(
            outcome, signum, target_url=ctx.target_url, errors=ctx.errors, load=ctx.load_result
        )
        annotate(ctx)
        ctx.events.emit(EV_RUN_END, outcome=outcome, errors=len(ctx.errors))
        ctx.events.close()

    def _render(self) -> RunSummary | None:
        ctx = self.ctx
        ctx.emit_progress("report", 0.0, "writing the report")
        try:
            return ctx.use.render(ctx.run_dir, ctx.scenario.report.formats)
        except Exception as exc:  # HarnessError, or a bug: the outcome is still returned
            ctx.errors.append(f"report failed: {exc}")
            ctx.notice(f"report failed: {exc}")
            return None

    def _on_signal(self, signum: int, cleaning: bool) -> None:
        self.ctx.signalled = True
        name = signal.Signals(signum).name
        if cleaning:
            self.ctx.notice(f"{name} received during cleanup: reverting faults first, please wait")
        else:
            self.ctx.notice(f"{name} received: reverting every fault, then tearing down")
