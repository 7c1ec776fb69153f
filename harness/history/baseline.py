"""The gate against the history: a run judged by its scenario's recent runs in the store."""

from __future__ import annotations

from harness.analysis.gate import GatePolicy, GateResult, judge
from harness.analysis.runrecord import RunRecord
from harness.history.store import HistoryStore

# Read more runs than the window: busy-host and unexpected-verdict runs are dropped later.
_READ_FACTOR = 5


def judge_against_history(store: HistoryStore, run: RunRecord, policy: GatePolicy) -> GateResult:
    """``run``'s figures against the runs recorded before it (never against itself)."""
    candidates = store.runs(
        run.scenario,
        before=run.started_at,
        env_class=run.env_class,
        limit=max(policy.window * _READ_FACTOR, 100),
    )
    return judge(run, candidates, policy)
