"""Shrink a non-linearizable register history to a minimal witness.

A witness is a subset of the key's operations that is not linearizable by
itself and from which no operation can be removed (or, when the time budget
runs out first, the smallest such set found so far). A write (or cas) whose
value a remaining operation reads or expects is never removed unless another
remaining write gives that value: dropping it would make the subset illegal
for a reason the history does not have.

The search first cuts the history to its shortest non-linearizable prefix (by
completion time, with the writes its reads need), then tries to drop each
remaining operation, latest first.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence

from harness.analysis.consistency.history import Op
from harness.analysis.consistency.models import register_calls, register_step
from harness.analysis.consistency.wgl import Bounds, linearizable

TRIAL_CONFIGURATIONS = 20_000  # one trial's search bound: unknown counts as "not proven"


def proven_illegal(ops: Sequence[Op], deadline: float, clock: Callable[[], float]) -> bool:
    """The register history ``ops`` is surely not linearizable (within a small search)."""
    calls, _ = register_calls(ops)
    bounds = Bounds(deadline=deadline, max_configurations=TRIAL_CONFIGURATIONS, clock=clock)
    return linearizable(calls, None, register_step, bounds).verdict == "illegal"


def _written(op: Op) -> object:
    """The value a write or a swapping cas leaves (a sentinel for the others)."""
    if op.f == "write" and op.type != "fail":
        return op.value
    if op.f == "cas" and op.type != "fail" and not op.mismatch:
        return op.value[1]
    return _NOTHING


_NOTHING = object()


def _used(op: Op) -> object:
    """The value an operation needs to have been written (a read's, an ok cas's expected)."""
    if op.f == "read" and op.type == "ok":
        return op.value
    if op.f == "cas" and op.type == "ok" and not op.mismatch:
        return op.value[0]
    return _NOTHING


def _closed(ops: Sequence[Op], pool: Sequence[Op]) -> list[Op]:
    """``ops`` plus the writes from ``pool`` of every value they use that they do not write."""
    have = {_written(o) for o in ops}
    out = list(ops)
    for value in {_used(o) for o in ops} - have - {None, _NOTHING}:
        out += [o for o in pool if _written(o) == value]
    return out


def _removable(op: Op, ops: Sequence[Op]) -> bool:
    value = _written(op)
    if value is _NOTHING:
        return True
    writers = Counter(_written(o) for o in ops)
    return writers[value] > 1 or all(_used(o) != value for o in ops if o is not op)


def minimise(
    ops: Sequence[Op], budget_s: float, clock: Callable[[], float] = time.monotonic
) -> tuple[list[Op], bool]:
    """A minimal non-linearizable subset of ``ops`` (itself not linearizable), and whether
    every removal was tried (False: the budget ran out first)."""
    deadline = clock() + budget_s
    ordered = sorted(ops, key=lambda o: (o.end, o.index))
    current = ordered
    lo, hi = 1, len(ordered)  # the shortest illegal prefix is at most hi long
    while lo < hi and clock() < deadline:
        mid = (lo + hi) // 2
        prefix = _closed(ordered[:mid], ordered)
        if proven_illegal(prefix, deadline, clock):
            hi, current = mid, prefix
        else:
            lo = mid + 1
    for op in sorted(current, key=lambda o: (o.end, o.index), reverse=True):
        if clock() >= deadline:
            return sorted(current, key=lambda o: o.index), False
        if not _removable(op, current):
            continue
        trial = [o for o in current if o is not op]
        if trial and proven_illegal(trial, deadline, clock):
            current = trial
    return sorted(current, key=lambda o: o.index), True
