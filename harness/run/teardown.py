"""The end of every run, whatever ended it: revert, stop the load, check, tear down.

Each step runs even when an earlier one raised (whatever the exception): a fault
is reverted before the stack is touched, and the stack is removed even when the
load or a check failed. Only what hachaos created is removed.
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.run import load_workers
from harness.run.consistency import chunk_events
from harness.run.consistency import verify_run as check_consistency
from harness.run.context import RunContext
from harness.run.durability import verify_run
from harness.run.engine_terms import kept_notice, removal_hint
from harness.run.final_reads import history_keys, read_finally
from harness.run.monitoring import export_final
from harness.run.ready import wait_ready


def teardown(ctx: RunContext) -> None:
    """Revert every active fault (newest first), stop the load, tear the stack down."""
    ctx.emit_progress("teardown", 0.0, "reverting faults")
    ctx.step("reverting faults", lambda: ctx.revert_failed(ctx.faults.revert_all()))
    ctx.step("stopping the load", lambda: _stop_load(ctx))
    ctx.step("recording the load workers", lambda: load_workers.record(ctx))
    ctx.step("removing the load workers", lambda: load_workers.remove(ctx))
    ctx.step("isolation probes", lambda: _stop_isolation(ctx))
    ctx.step("durability read-back", lambda: _check_durability(ctx))
    ctx.step("consistency final reads", lambda: _final_reads(ctx))
    ctx.step("stopping the engine observer", ctx.engine.stop_observing)
    ctx.step("stopping the metrics", lambda: _stop_telemetry(ctx))
    ctx.step("teardown", lambda: _remove_stack(ctx))
    # Only after the stack's teardown ended (even in failure): e.g. leave the swarm this
    # run created, which the engine refuses while any service is left on it.
    ctx.step("leaving the engine as it was found", lambda: _finish_engine(ctx))
    ctx.step("consistency check", lambda: _check_consistency(ctx))
    if ctx.load is not None:  # the Locust master exited during the steps above
        ctx.step("ending the load master", ctx.load.close)
    ctx.port.release()


def _finish_engine(ctx: RunContext) -> None:
    if ctx.deployed:
        for notice in ctx.engine.finish():
            ctx.notice(notice)


def _stop_load(ctx: RunContext) -> None:
    if ctx.load is not None and not ctx.load.released:
        ctx.load.abandon()  # pre-spawned, never released: no load ran, no result
    elif ctx.load is not None and ctx.load_result is None:
        try:
            ctx.load_result = ctx.load.stop(reap_master=False)
        except HarnessError as exc:
            ctx.errors.append(f"stopping the load failed: {exc}")
        export_final(ctx)


def _stop_telemetry(ctx: RunContext) -> None:
    if ctx.telemetry is not None:
        ctx.telemetry.stop()
        ctx.record.meta["telemetry"] = ctx.telemetry.record()


def _stop_isolation(ctx: RunContext) -> None:
    if ctx.isolation is not None:  # faults reverted: the final round is "after recovery"
        ctx.isolation.stop(final_round=not ctx.signalled and ctx.deployed)


def _check_consistency(ctx: RunContext) -> None:
    """Merge the history and check it (checks.consistency); the stack is no longer needed."""
    spec = ctx.scenario.checks.consistency
    if spec is None or ctx.load_result is None:
        return
    ctx.emit_progress("report", 0.0, "checking the consistency history")
    result = check_consistency(
        ctx.run_dir,
        spec,
        t0_mono=ctx.t0_mono,
        events=ctx.events,
        final_reads=ctx.final_reads,
    )
    if result.get("error"):
        ctx.notice(f"consistency: {result['error']}")


def _final_reads(ctx: RunContext) -> None:
    """Read every key of the history once more (Jepsen's final reads): faults reverted,
    stack still up; the tries join the history the consistency check merges."""
    spec = ctx.scenario.checks.consistency
    if spec is None or spec.final_reads is None or ctx.load_result is None:
        return
    if not ctx.deployed or not ctx.target_url:
        return
    if ctx.signalled:
        ctx.notice("interrupted: skipping the consistency final reads")
        return
    keys = history_keys(chunk_events(ctx.run_dir))
    ctx.emit_progress("teardown", 0.0, f"final reads of {len(keys)} consistency key(s)")
    ready_url = ctx.target_url.rstrip("/") + ctx.scenario.stack.ready_path
    result = read_finally(
        ctx.run_dir,
        spec,
        keys,
        ctx.target_url,
        ctx.run_id,
        read_timeout=ctx.scenario.load.timeout,
        wait=lambda timeout: wait_ready(ready_url, timeout=timeout),
        cancelled=lambda: ctx.signalled,
    )
    ctx.final_reads = result.to_dict()


def _check_durability(ctx: RunContext) -> None:
    """Read acknowledged writes back (checks.durability): faults reverted, stack still up."""
    spec = ctx.scenario.checks.durability
    samples = ctx.run_dir / "samples.parquet"
    if spec is None or not ctx.deployed or not ctx.target_url or not samples.exists():
        return
    if ctx.signalled:
        ctx.notice("interrupted: skipping the durability read-back")
        return
    ctx.emit_progress("teardown", 0.0, "reading acknowledged writes back (durability)")
    result = verify_run(
        ctx.run_dir,
        ctx.target_url,
        ctx.run_id,
        spec,
        ready_url=ctx.target_url.rstrip("/") + ctx.scenario.stack.ready_path,
        seed=ctx.plan.seed,
        events=ctx.events,
    )
    if result.error:
        ctx.notice(f"durability: {result.error}")


def _remove_stack(ctx: RunContext) -> None:
    if ctx.deployed and ctx.adopted:
        ctx.notice(
            f"--adopt-existing: project {ctx.project} existed before the run, so it is "
            "left up as it is (faults reverted); hachaos removes only what it created"
        )
    elif ctx.deployed and not ctx.options.keep:
        ctx.emit_progress("teardown", 0.0, f"{ctx.engine.kind} teardown ({ctx.project})")
        try:
            try:
                ctx.engine.teardown()
            except HarnessError as exc:  # e.g. an object vanished mid-way: sweep by label
                ctx.engine.sweep()
                ctx.notice(f"teardown failed ({exc.message}); removed by label instead")
            ctx.faults.journal.stack(removed=True)
        except HarnessError as exc:
            ctx.errors.append(f"teardown failed: {exc}")
            ctx.notice(f"teardown failed; remove it with {removal_hint(ctx.engine)}")
    elif ctx.deployed:
        ctx.notice(kept_notice(ctx.engine))
