"""Undo what dead runs left behind, from their journals (``hachaos cleanup``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.engine import helpers
from harness.errors import HarnessError
from harness.faults import registry
from harness.faults.base import FaultContext
from harness.run.journal import JournalFile, append_to, state_journals


@dataclass
class CleanupResult:
    """What a cleanup did: one line per action, and the failures."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _undo(jf: JournalFile, result: CleanupResult) -> None:
    ok = True
    for p in jf.pending:  # newest first
        ctx = FaultContext(project=jf.project, run_id=jf.run_id)
        fault = registry.get(p.type)(ctx, dict(p.state))
        try:
            fault.revert()
            fault.verify_reverted()
            fault.release()
        except HarnessError as exc:
            ok = False
            result.failed.append(f"run {jf.run_id}: {p.key} ({p.type}) not reverted: {exc}")
            append_to(jf.path, {"op": "revert_failed", "seq": p.seq, "error": str(exc)})
            continue
        append_to(jf.path, {"op": "reverted", "seq": p.seq, "by": "cleanup"})
        result.done.append(f"run {jf.run_id}: reverted {p.key} ({p.type}) on {fault.names()}")
    if ok:
        append_to(jf.path, {"op": "closed", "by": "cleanup"})


def heal(
    *, project: str | None = None, run_id: str | None = None, exclude_run: str | None = None
) -> CleanupResult:
    """Revert the pending faults of dead runs and remove their orphan helpers.

    Runs whose process is still alive are skipped (and reported as such).
    """
    result = CleanupResult()
    live_runs: set[str] = set()
    dead_runs: set[str] = set()
    for jf in state_journals():
        if (project and jf.project != project) or (run_id and jf.run_id != run_id):
            continue
        if jf.run_id == exclude_run:
            live_runs.add(jf.run_id)
            continue
        if jf.alive():
            live_runs.add(jf.run_id)
            result.skipped.append(f"run {jf.run_id} is still running (pid {jf.pid}); left alone")
            continue
        dead_runs.add(jf.run_id)
        if not jf.closed:
            _undo(jf, result)
    for h in helpers.list_helpers(run_id=run_id, project=project):
        if h["run"] in live_runs or (exclude_run and h["run"] == exclude_run):
            continue
        # A helper of a run we have no journal for (another user's state folder)
        # is only touched when asked about its project or run; its own deadline
        # ends it anyway.
        if h["run"] not in dead_runs and not (project or run_id) and h["state"] == "running":
            continue
        helpers.remove_helper(h["id"])
        result.done.append(f"removed orphan helper {h['name']} of run {h['run']}")
    return result
