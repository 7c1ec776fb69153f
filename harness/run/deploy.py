"""Deploy a run's stack: claim the project, start it, wait until it answers, gather facts.

Locust's imports overlap the engine's deploy: the load is spawned first and waits
at its gate until the run releases it (:mod:`harness.load.gate`).
"""

from __future__ import annotations

from harness.engine.port import DeployWarnings, LiveAudit
from harness.errors import EngineError, ScenarioError
from harness.load.driver import LoadDriver
from harness.ports import port_taken, reserve_loopback_port
from harness.run import load_workers
from harness.run.context import RunContext
from harness.run.engine_terms import stack_noun
from harness.scenario.models import ServicePort

DEPLOY_ATTEMPTS = 3  # deploy again with a new port when the host port was taken


def deploy(ctx: RunContext, *, prespawn_load: bool = True) -> None:
    """Everything before the load starts; the stack is owed a teardown once it may exist.

    ``prespawn_load=False``: no run load (a capacity experiment starts one per step).
    """
    ctx.emit_progress("deploy", 0.0, "healing leftovers and checking fault support")
    for healed in ctx.faults.heal_leftovers():
        ctx.notice(f"healed leftover from an earlier run: {healed}")
    ctx.faults.preflight(ctx.plan.steps)
    claim_project(ctx)
    ctx.emit_progress("deploy", 0.0, f"{ctx.engine.kind} deploy ({ctx.project})")
    # Cleanup after a kill -9 removes only what this line says hachaos created.
    record = ctx.engine.journal_record()
    ctx.faults.journal.stack(**record, created=not ctx.adopted, keep=ctx.options.keep)
    ctx.deployed = True  # from here on, teardown is owed even if `up` fails half-way
    # Locust's imports overlap `compose up`; the load waits at its gate until the drive.
    if prespawn_load and load_workers.prespawns(ctx):
        ctx.load = load_driver(ctx)
        ctx.load.prespawn()
        load_workers.announce(ctx)
    up(ctx)
    warn_about_deploy(ctx)
    if ctx.engine.journal_record() != record:  # e.g. the deploy created the swarm
        ctx.faults.journal.stack(**ctx.engine.journal_record())
    ctx.target_url = resolve_target(ctx)
    if prespawn_load and ctx.load is None:  # workers the engine places beside the stack
        ctx.load = load_driver(ctx)
        ctx.load.prespawn()
        load_workers.place(ctx)
    ctx.use.wait_ready(
        ctx.target_url.rstrip("/") + ctx.scenario.stack.ready_path,
        timeout=ctx.scenario.stack.ready_timeout,
    )
    gather_facts(ctx)
    ctx.engine.observe(ctx.events.emit)
    ctx.telemetry = ctx.use.telemetry(ctx.scenario.stack, ctx.engine, ctx.run_dir, ctx.events.emit)
    ctx.telemetry.start()
    ctx.record.write()


def warn_about_deploy(ctx: RunContext) -> None:
    """Show and record what the engine could not check (the report lists it as a warning)."""
    if not isinstance(ctx.engine, DeployWarnings):
        return
    for line in ctx.engine.warnings():
        ctx.notice(f"warning: {line}")
        ctx.record.meta.setdefault("engine_warnings", []).append(line)


def claim_project(ctx: RunContext) -> None:
    """Refuse a project that already exists, unless --adopt-existing."""
    found = ctx.engine.existing()
    if found is None:
        return
    if not ctx.options.adopt_existing:
        raise ScenarioError(
            f"{stack_noun(ctx.engine)} {ctx.project!r} already exists ({found}); "
            "hachaos never takes over a stack it did not deploy, so nothing was started",
            hint=(
                "drop --project/stack.project to get a fresh random project, or pick an "
                "unused name; if an earlier hachaos run left it, `hachaos cleanup` removes "
                "it; to run against it anyway, pass --adopt-existing (it is then left up, "
                "volumes included)"
            ),
        )
    ctx.adopted = True
    ctx.notice(
        f"--adopt-existing: running against existing project {ctx.project} "
        f"({found}); it will be left up afterwards"
    )


def load_driver(ctx: RunContext) -> LoadDriver:
    """The run's load; its target URL is handed over by ``start``."""
    return ctx.use.load_driver(load_workers.base_plan(ctx))


def up(ctx: RunContext) -> None:
    """Deploy; when a process that is not hachaos took the reserved port, a new one."""
    for attempt in range(1, DEPLOY_ATTEMPTS + 1):
        try:
            ctx.engine.deploy(ready_timeout=ctx.scenario.stack.ready_timeout)
            return
        except EngineError as exc:
            if attempt == DEPLOY_ATTEMPTS or not port_taken(exc.message, ctx.port.port):
                raise
            taken = ctx.port.port
        ctx.port.release()
        ctx.port = reserve_loopback_port()
        ctx.notice(f"port {taken} was taken meanwhile; deploying on {ctx.port.port}")
        ctx.engine = ctx.engine.with_env(HACHAOS_PORT=str(ctx.port.port))


def resolve_target(ctx: RunContext) -> str:
    """The URL the load and the probes use (a service port as published on the host)."""
    target = ctx.scenario.stack.target
    if isinstance(target, ServicePort):
        host, port = ctx.engine.published_port(target.service, target.port)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        url = f"{target.scheme}://{host}:{port}"
    else:
        url = target
    ctx.record.meta["target_url"] = url
    return url


def gather_facts(ctx: RunContext) -> None:
    """The environment table and the live review, side by side (both mostly wait on the engine)."""
    pool = ctx.use.pool(max_workers=2, thread_name_prefix="facts")
    try:
        facts = pool.submit(ctx.use.environment, ctx.engine, ctx.scenario_file)
        audit = (
            pool.submit(ctx.use.audit, *ctx.engine.audited_project())
            if isinstance(ctx.engine, LiveAudit)
            else None
        )
        ctx.record.meta["environment"] = facts.result()
        if audit is not None:
            ctx.record.meta["audit"] = audit.result()
    finally:
        pool.shutdown(wait=True)
