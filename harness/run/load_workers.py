"""Where a run's Locust workers run (``load.workers``, docs/load.md#distributed-workers).

- ``local: N`` (or ``load.processes``): child processes of this host, as always;
- ``remote: {count, listen}``: started by hand (``hachaos worker --master ADDRESS:PORT``);
  the master listens on exactly ``listen`` from the deploy on, so they may join early;
- ``<engine>: {replicas}``: placed by the stack's engine beside the stack (a Swarm
  service...). The master listens on the address of this host that the engine's workers
  reach (or ``listen``); the placement is journaled before it is made, so ``hachaos
  cleanup`` removes it after a ``kill -9``; it is removed when the load stops, before
  the stack (the workers use its network).

Whatever the placement, the load waits (bounded) until every worker joined and its
clock offset was measured, and a worker lost mid-run stops the run with exit 3.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from harness.engine.port import LoadWorkers, WorkerPlacement
from harness.errors import ScenarioError
from harness.load.bundle import worker_bundle
from harness.load.driver import LoadPlan, resolve_workers
from harness.load.roster import WorkerEntry
from harness.load.worker import LOCUSTFILE_SOURCE_ENV, MAX_LOCUSTFILE_BYTES, TARGET_ENV
from harness.run.context import RunContext
from harness.scenario.models import ServicePort
from harness.scenario.workers import PlacedWorkers, split_listen


def base_plan(ctx: RunContext) -> LoadPlan:
    """The run's load plan with its workers' topology; the target comes at ``start``."""
    load = ctx.scenario.load
    plan = LoadPlan(
        target_url="",
        load=load,
        total_seconds=ctx.total,
        seed=ctx.scenario.seed,
        out_dir=ctx.run_dir,
        locustfile=ctx.scenario.resolve_path(load.locustfile) if load.locustfile else None,
        workers=resolve_workers(load.worker_count()),
        run_id=ctx.run_id,
        durability=ctx.scenario.checks.durability,
        consistency=ctx.scenario.checks.consistency,
    )
    workers = load.workers
    if workers is not None and workers.remote is not None:
        address, port = split_listen(workers.remote.listen)
        plan = replace(
            plan,
            remote_workers=workers.remote.count,
            master_bind=address,
            master_port=port,
            join_timeout=workers.remote.join_timeout,
        )
    placed = placement(ctx)
    if placed is not None:
        spec = placed[1]
        plan = replace(
            plan,
            remote_workers=spec.replicas,
            master_bind=spec.listen or _port(ctx).worker_master_address(),
            join_timeout=spec.join_timeout,
        )
    return plan


def placement(ctx: RunContext) -> tuple[str, PlacedWorkers] | None:
    """(engine, spec) when the stack's engine places the workers."""
    workers = ctx.scenario.load.workers
    return workers.placement() if workers is not None else None


def prespawns(ctx: RunContext) -> bool:
    """Whether the load may start before the stack is deployed: not when the engine places
    the workers (their master address is known once the engine's platform runs)."""
    return placement(ctx) is None


def _port(ctx: RunContext) -> LoadWorkers:
    if not isinstance(ctx.engine, LoadWorkers):
        raise ScenarioError(
            f"the {ctx.engine.kind} engine cannot place load workers",
            hint="use `load.workers.local` or `load.workers.remote`",
        )
    return ctx.engine


def announce(ctx: RunContext) -> None:
    """Tell the user where the workers join (hand-started workers need the command)."""
    load = ctx.load
    workers = ctx.scenario.load.workers
    if load is None or workers is None or workers.remote is None:
        return
    address = f"{load.master_bind_host}:{load.master_port}"
    if ":" in load.master_bind_host:
        address = f"[{load.master_bind_host}]:{load.master_port}"
    ctx.notice(
        f"waiting up to {workers.remote.join_timeout:.0f} s for {workers.remote.count} load "
        f"worker(s) on {address}: start each with `hachaos worker --master {address}`"
        + (f" --locustfile {ctx.scenario.load.locustfile}" if ctx.scenario.load.locustfile else "")
    )


def _worker_target(ctx: RunContext, engine: LoadWorkers) -> str:
    target = ctx.scenario.stack.target
    if isinstance(target, ServicePort):
        return engine.worker_target(target.service, target.port, target.scheme)
    return target


def _env(ctx: RunContext, engine: LoadWorkers) -> dict[str, str]:
    env = {TARGET_ENV: _worker_target(ctx, engine)}
    locustfile = ctx.scenario.load.locustfile
    if locustfile:
        data = ctx.scenario.resolve_path(locustfile).read_bytes()
        if len(data) > MAX_LOCUSTFILE_BYTES:
            raise ScenarioError(
                f"{locustfile} is {len(data)} bytes; placed workers carry at most "
                f"{MAX_LOCUSTFILE_BYTES} in their environment",
                hint="make the locustfile smaller, or bake it into `image`",
            )
        env[LOCUSTFILE_SOURCE_ENV] = base64.b64encode(data).decode()
    return env


def place(ctx: RunContext) -> None:
    """Place the engine's workers (journaled first); the driver's master already listens."""
    placed = placement(ctx)
    if placed is None or ctx.load is None:
        return
    engine = _port(ctx)
    spec = placed[1]
    address = ctx.load.master_bind_host
    master = (
        f"[{address}]:{ctx.load.master_port}"
        if ":" in address
        else (f"{address}:{ctx.load.master_port}")
    )
    fields: dict[str, Any] = {}
    if spec.image is None:
        bundle = worker_bundle()
        fields = {"bundle": bundle.files, "python": bundle.python, "digest": bundle.digest}
    work = WorkerPlacement(
        replicas=spec.replicas,
        command=("python3", "-m", "harness.load.worker", "--master", master),
        env=_env(ctx, engine),
        image=spec.image,
        near=ctx.scenario.stack.target.service
        if isinstance(ctx.scenario.stack.target, ServicePort)
        else None,
        **fields,
    )
    ctx.emit_progress("deploy", 0.0, f"placing {spec.replicas} load worker(s) ({placed[0]})")
    ctx.faults.journal.workers(**engine.worker_record(), replicas=spec.replicas, master=master)
    ctx.workers_placed = True
    engine.place_workers(work)
    ctx.load.explain_missing = lambda joined: explain_missing(engine, joined)
    ctx.record.meta["load_workers"] = {"placed_by": placed[0], "master": master}


def explain_missing(engine: LoadWorkers, joined: list[WorkerEntry]) -> str:
    """The placed workers that did not join, as the platform sees them."""
    hosts = {w.host for w in joined}
    try:
        tasks = engine.worker_tasks()
    except Exception as exc:  # the error is about the workers; the platform's view is extra
        return f"the platform's view of them could not be read: {exc}"
    missing = [t for t in tasks if t.host not in hosts]
    return "not joined: " + "; ".join(t.describe() for t in missing) if missing else ""


def remove(ctx: RunContext) -> None:
    """Remove placed workers (after the load stopped, before the stack); idempotent."""
    if not ctx.workers_placed:
        return
    engine = _port(ctx)
    what = engine.remove_workers()
    ctx.faults.journal.workers(removed=True)
    ctx.workers_placed = False
    if what:
        ctx.events.emit("load.workers_removed", detail=what)


def record(ctx: RunContext) -> None:
    """The workers as the master saw them (clock offsets included) into run.json."""
    if ctx.load is None:
        return
    roster = ctx.load.roster()
    if not roster.workers:
        return
    meta = ctx.record.meta.setdefault("load_workers", {})
    meta["workers"] = [
        {
            "worker": f"w{w.index}",
            "host": w.host,
            "local": w.local,
            "clock_offset_ms": w.first_offset_ms,
            "clock_uncertainty_ms": w.uncertainty_ms,
            "clock_corrected": w.offset_applied,
            "cpu_s": round(w.cpu_s, 3),
        }
        for w in roster.workers
    ]


def clock_notice(ctx: RunContext) -> None:
    """Show each remote worker's clock offset once the load started."""
    if ctx.load is None or not ctx.load.remote_workers:
        return
    roster = ctx.load.roster()
    parts = [f"{w.describe()} {w.clock()}" for w in roster.workers if not w.local]
    if parts:
        ctx.notice(f"load workers joined, clock offset to the master: {'; '.join(parts)}")
    record(ctx)
