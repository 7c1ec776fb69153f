"""Undo what dead runs left behind, from their journals (``hachaos cleanup``).

Every step (each journal, each helper, each stack) runs in its own ``try`` that
catches every exception and records a failure line: one broken journal or one
container that vanished between list and inspect never stops the rest. Every
step is idempotent, so cleanup may run twice, or again after being killed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.engine import helpers
from harness.engine import registry as engines
from harness.engine.capabilities import LoadWorkerPlatform
from harness.engine.registry import LeftStack
from harness.errors import HarnessError
from harness.evidence.journal import JournalFile, Pending, append_to, read_journal, state_dir
from harness.faults import registry
from harness.faults.base import FaultContext

# Backoff between the attempts to revert one fault (a busy engine, a container
# that is still restarting): bounded, about 1.5 s per stubborn fault.
REVERT_BACKOFF = (0.5, 1.0)


@dataclass
class CleanupResult:
    """What a cleanup did: one line per action, and the failures."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _revert_one(
    jf: JournalFile, p: Pending, sleep: Callable[[float], None]
) -> tuple[str, HarnessError | None]:
    """Undo one pending fault, retrying with backoff until it is verifiably gone; returns its
    target names and the error of a release that failed after that (a helper left behind,
    which the helper sweep removes: the fault itself is reverted)."""
    waits = iter(REVERT_BACKOFF)
    engine = jf.stack.engine if jf.stack is not None else engines.default().name
    ctx = FaultContext(project=jf.project, run_id=jf.run_id, engine=engine)
    while True:
        try:
            fault = registry.get(p.type)(ctx, dict(p.state))
            released = fault.undo()
            return str(fault.names()), released
        except Exception:
            wait = next(waits, None)
            if wait is None:
                raise
            sleep(wait)


def _undo(jf: JournalFile, result: CleanupResult, sleep: Callable[[float], None]) -> None:
    ok = True
    for p in jf.pending:  # newest first
        try:
            names, released = _revert_one(jf, p, sleep)
        except Exception as exc:
            ok = False
            result.failed.append(f"run {jf.run_id}: {p.key} ({p.type}) not reverted: {exc}")
            append_to(jf.path, {"op": "revert_failed", "seq": p.seq, "error": str(exc)})
            continue
        append_to(jf.path, {"op": "reverted", "seq": p.seq, "by": "cleanup"})
        result.done.append(f"run {jf.run_id}: reverted {p.key} ({p.type}) on {names}")
        if released is not None:
            why = f"its release failed ({released}); the helper sweep follows"
            result.done.append(f"run {jf.run_id}: {p.key}: {why}")
    if ok:
        append_to(jf.path, {"op": "closed", "by": "cleanup"})


def _remove_workers(jf: JournalFile, result: CleanupResult) -> None:
    """Remove the load workers a dead run placed (before its stack: they use its network)."""
    assert jf.workers is not None
    engine = engines.get(str(jf.workers.get("engine") or ""))
    if not isinstance(engine.platform, LoadWorkerPlatform):
        raise HarnessError(f"engine {engine.name} places no load workers")
    done = engine.platform.remove_left_workers(jf.project, jf.run_id)
    append_to(jf.path, {"op": "workers", "removed": True, "by": "cleanup"})
    result.done += [f"run {jf.run_id}: {line}" for line in done]


def _remove_all_workers(journals: _Journals, result: CleanupResult) -> None:
    for jf in journals.dead:
        if jf.workers is not None and not jf.workers.get("removed"):
            try:
                _remove_workers(jf, result)
            except Exception as exc:
                result.failed.append(f"run {jf.run_id}: load workers not removed: {exc}")


def _left(jf: JournalFile) -> LeftStack:
    assert jf.stack is not None
    return LeftStack(jf.project, jf.run_id, dict(jf.stack.details))


def _remove_stack(jf: JournalFile, result: CleanupResult) -> None:
    assert jf.stack is not None
    done = engines.get(jf.stack.engine).remove_left(_left(jf))
    append_to(jf.path, {"op": "stack", "removed": True, "by": "cleanup"})
    result.done += [f"run {jf.run_id}: {line}" for line in done]


@dataclass
class _Journals:
    """The journals a cleanup looks at: dead runs, and what live runs hold."""

    dead: list[JournalFile] = field(default_factory=list)
    live_runs: set[str] = field(default_factory=set)
    live_projects: set[str] = field(default_factory=set)


def _read(
    project: str | None, run_id: str | None, exclude_run: str | None, result: CleanupResult
) -> _Journals:
    found = _Journals()
    folder = state_dir()
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        try:
            jf = read_journal(path)
            if (project and jf.project != project) or (run_id and jf.run_id != run_id):
                continue
            if jf.run_id == exclude_run:
                found.live_runs.add(jf.run_id)
            elif jf.alive():
                found.live_runs.add(jf.run_id)
                found.live_projects.add(jf.project)
                result.skipped.append(
                    f"run {jf.run_id} is still running (pid {jf.pid}); left alone"
                )
            else:
                found.dead.append(jf)
        except Exception as exc:
            result.failed.append(f"journal {path}: {exc!r}")
    return found


def _remove_helpers(
    journals: _Journals,
    project: str | None,
    run_id: str | None,
    exclude_run: str | None,
    result: CleanupResult,
) -> None:
    dead_runs = {jf.run_id for jf in journals.dead}
    try:
        found = helpers.list_helpers(run_id=run_id, project=project)
    except Exception as exc:
        result.failed.append(f"listing helper containers failed: {exc}")
        found = []
    for h in found:
        if h["run"] in journals.live_runs or (exclude_run and h["run"] == exclude_run):
            continue
        # A helper of a run we have no journal for (another user's state folder)
        # is only touched when asked about its project or run; its own deadline
        # ends it anyway.
        if h["run"] not in dead_runs and not (project or run_id) and h["state"] == "running":
            continue
        try:
            helpers.remove_helper(h["id"])
        except Exception as exc:
            result.failed.append(f"helper {h['name']} of run {h['run']} not removed: {exc}")
            continue
        result.done.append(f"removed orphan helper {h['name']} of run {h['run']}")


def _remove_stacks(journals: _Journals, stacks: bool, result: CleanupResult) -> list[JournalFile]:
    """Remove the dead runs' stacks; returns the dead runs whose engine may now be finished
    (their stack is gone or was never up: not kept, not shared with a live run)."""
    owed: list[JournalFile] = []
    for jf in journals.dead:
        st = jf.stack
        if st is None or not st.created:
            continue  # never deployed, or adopted (not ours to remove)
        if not stacks or st.keep:
            why = "--keep-stacks" if not stacks else "the run was started with --keep"
            result.skipped.append(f"run {jf.run_id}: stack {jf.project} left up ({why})")
            continue
        if jf.project in journals.live_projects:
            result.skipped.append(
                f"run {jf.run_id}: stack {jf.project} left up: a live run uses that project"
            )
            continue
        try:
            if not st.removed:
                _remove_stack(jf, result)
            owed.append(jf)
        except Exception as exc:
            result.failed.append(f"run {jf.run_id}: stack {jf.project} not removed: {exc}")
    return owed


def _finish_engines(owed: list[JournalFile], result: CleanupResult) -> None:
    """After every dead stack is gone: what an engine set up for them (a swarm one of them
    created), once per engine, so that one dead run's stack never keeps another's swarm."""
    by_engine: dict[str, list[JournalFile]] = {}
    for jf in owed:
        assert jf.stack is not None
        by_engine.setdefault(jf.stack.engine, []).append(jf)
    for name, runs in sorted(by_engine.items()):
        try:
            engine = engines.get(name)
            if engine.finish_left is None:
                continue
            for run, line in engine.finish_left([_left(jf) for jf in runs]):
                result.done.append(f"run {run}: {line}")
        except Exception as exc:
            result.failed.append(f"{name}: finishing after the dead runs failed: {exc}")


def heal(
    *,
    project: str | None = None,
    run_id: str | None = None,
    exclude_run: str | None = None,
    stacks: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> CleanupResult:
    """Revert the pending faults of dead runs, remove their orphan helpers and their stacks,
    then what their engine set up for them (e.g. a swarm a dead run created).

    Runs whose process is still alive are skipped (and reported as such). A
    stack is removed only when its journal says hachaos created it and the
    run did not ask to keep it; ``stacks=False`` (``--keep-stacks``) leaves
    every stack up. Never raises: failures are lines in the result.
    """
    result = CleanupResult()
    journals = _read(project, run_id, exclude_run, result)
    for jf in journals.dead:
        try:
            if not jf.closed:
                _undo(jf, result, sleep)
        except Exception as exc:
            result.failed.append(f"journal {jf.path}: {exc!r}")
    _remove_helpers(journals, project, run_id, exclude_run, result)
    _remove_all_workers(journals, result)
    _finish_engines(_remove_stacks(journals, stacks, result), result)
    return result
