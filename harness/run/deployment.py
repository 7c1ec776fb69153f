"""One configuration of an experiment: a run context whose stack is deployed once.

An experiment deploys each configuration (a variant at a replica count) through
the run's own deploy and teardown (:mod:`harness.run.deploy`,
:mod:`harness.run.teardown`), under a project of its own, with its own run id,
fault journal and event log in its own folder, so `hachaos cleanup` finds and
removes what a killed experiment left, exactly as for a run. The held faults
are the context's plan.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.clock import Clock
from harness.engine.port import StackEngine
from harness.errors import RevertError
from harness.evidence.events import EventLog
from harness.ports import reserve_loopback_port
from harness.run.context import Collaborators, RunContext, RunOptions
from harness.run.record import RunRecord
from harness.scenario.models import Scenario
from harness.scenario.plan import Plan

DEPLOYMENT_FILE = "deployment.json"  # the configuration's run.json: project, target, facts

NoticeFn = Callable[[str], None]


def configuration_context(
    scenario: Scenario,
    engine: StackEngine,
    plan: Plan,
    folder: Path,
    run_id: str,
    *,
    keep: bool,
    use: Collaborators,
    clock: Clock,
    notice: NoticeFn,
) -> RunContext:
    """The run context of one configuration (``engine`` with its files and replicas)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = reserve_loopback_port()  # held until teardown: no concurrent run gets it
    engine = engine.with_env(HACHAOS_PORT=str(port.port), HACHAOS_PROJECT=engine.project)
    record = RunRecord(folder)
    record.path = folder / DEPLOYMENT_FILE  # not a run folder: `hachaos report` leaves it be
    record.meta = {"project": engine.project, "run_id": run_id, "target_url": ""}
    return RunContext(
        scenario=scenario,
        plan=plan,
        options=RunOptions(keep=keep),
        use=use,
        clock=clock,
        view=lambda _progress: None,
        notice=notice,
        project=engine.project,
        run_id=run_id,
        run_dir=folder,
        port=port,
        engine=engine,
        events=EventLog(folder / "events.jsonl"),
        record=record,
    )


def hold_faults(ctx: RunContext) -> tuple[str, ...]:
    """Apply every planned fault now; they stay in effect until :func:`release_faults`."""
    now = ctx.clock.wall()
    for step in ctx.plan.steps:
        ctx.faults.apply(step, planned_wall=now)
    return tuple(step.key for step in ctx.plan.steps)


def release_faults(ctx: RunContext) -> None:
    """Revert every held fault, newest first; RevertError when one is still in effect."""
    failures = ctx.faults.revert_all()
    if failures:
        raise RevertError("; ".join(str(f) for f in failures))
