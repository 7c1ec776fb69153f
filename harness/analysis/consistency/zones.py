"""Fast linearizability check of a register whose writes are unique (Gibbons and Korach).

With every value written at most once, each read names the write it saw (the
read-mapping is known), and linearizability of a register is decidable in
O(n log n) (Gibbons & Korach, *Testing Shared Memories*, SIAM J. Comput. 1997).
A **cluster** is one write and the reads that saw it; the initial value (nil)
is a write before everything. Let ``f`` be the earliest completion and ``s``
the latest invocation among a cluster's operations:

- ``f < s``: a **forward zone** ``[f, s]``: the write happened by ``f`` and
  its value was still there at ``s``: no other write fits inside;
- otherwise a **backward zone** ``[s, f]``: the whole cluster fits at any
  single moment of it.

The history is linearizable iff no read precedes its write, no read sees a
value never written, no two forward zones overlap, and no backward zone lies
inside a forward zone (open intervals: touching ends are concurrent, as
``a precedes b`` means ``a`` completed strictly before ``b`` was invoked).

An ``info`` write never completes: it counts only if some read saw its value.
A ``fail`` write did not happen: a read of its value is an anomaly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.analysis.consistency.history import INFINITY, Op

NEG_INF = float("-inf")


@dataclass(frozen=True)
class Conflict:
    """One reason the key's history is not linearizable, with the operations that prove it."""

    kind: str  # "never-written", "read-before-write", "overlap", "contained"
    ops: tuple[Op, ...]
    text: str


@dataclass
class ZoneResult:
    """The fast check of one key: linearizable iff no conflict."""

    key: str
    operations: int
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def linearizable(self) -> bool:
        return not self.conflicts


@dataclass
class _Cluster:
    value: str | None
    write: Op | None  # None: the initial value
    first_end: float = INFINITY  # f: earliest completion
    last_start: float = NEG_INF  # s: latest invocation
    ender: Op | None = None  # the op completing at f
    starter: Op | None = None  # the op invoked at s
    reads: int = 0

    def add(self, op: Op, end: float) -> None:
        if end < self.first_end:
            self.first_end, self.ender = end, op
        if op.invoke > self.last_start:
            self.last_start, self.starter = op.invoke, op

    @property
    def forward(self) -> bool:
        return self.first_end < self.last_start

    def witness(self) -> tuple[Op, ...]:
        ops = [o for o in (self.write, self.ender, self.starter) if o is not None]
        return tuple(dict.fromkeys(ops))


def check_key(key: str, ops: Sequence[Op], *, max_conflicts: int = 10) -> ZoneResult:
    """The fast linearizability check of one key's register history (reads and writes)."""
    result = ZoneResult(key, len(ops))
    writes, failed, reads = _split(ops)
    clusters: dict[str | None, _Cluster] = {}
    for read in reads:
        value = read.value
        write = writes.get(value) if value is not None else None
        conflict = _impossible_read(read, write, failed.get(value) if value is not None else None)
        if conflict is not None:
            result.conflicts.append(conflict)
            continue
        cluster = clusters.get(value)
        if cluster is None:
            cluster = clusters[value] = _Cluster(value, write)
            if write is None:  # the initial value, written before everything
                cluster.first_end = NEG_INF
            else:
                cluster.add(write, write.end)
        cluster.add(read, read.complete)
        cluster.reads += 1
    for value, write in writes.items():  # unread writes: only those that surely happened
        if value not in clusters and write.type == "ok":
            cluster = clusters[value] = _Cluster(value, write)
            cluster.add(write, write.end)
    _zone_conflicts(list(clusters.values()), result)
    del result.conflicts[max_conflicts:]
    return result


def _split(ops: Sequence[Op]) -> tuple[dict[str, Op], dict[str, Op], list[Op]]:
    """Writes by value (acknowledged or unknown), failed writes by value, successful reads."""
    writes: dict[str, Op] = {}
    failed: dict[str, Op] = {}
    reads: list[Op] = []
    for op in ops:
        if op.f == "write":
            if op.value in writes or op.value in failed:
                raise ValueError(
                    f"value {op.value!r} is written twice: the fast check needs unique values"
                )
            if op.type == "fail":
                failed[op.value] = op
            else:
                writes[op.value] = op
        elif op.f == "read" and op.type == "ok":
            reads.append(op)
        elif op.f != "read":
            raise ValueError(
                f"the fast check takes reads and writes only, found {op.f} (op {op.index})"
            )
    return writes, failed, reads


def _impossible_read(read: Op, write: Op | None, bad: Op | None) -> Conflict | None:
    """A read of a value no write gave, or one that ended before its write began."""
    if read.value is not None and write is None:
        why = "a failed write" if bad else "a value never written"
        return Conflict(
            "never-written",
            (read,) if bad is None else (bad, read),
            f"{read.describe()} saw {why}",
        )
    if write is not None and read.complete < write.invoke:
        return Conflict(
            "read-before-write",
            (write, read),
            f"{read.describe()} completed before {write.describe()} was invoked",
        )
    return None


def _zone_conflicts(clusters: list[_Cluster], result: ZoneResult) -> None:
    """Overlapping forward zones, and backward zones inside a forward zone (sort + sweep)."""
    forward = sorted((c for c in clusters if c.forward), key=lambda c: c.first_end)
    # forward zones overlap iff, sorted by start, one starts before the previous one ends
    reach: _Cluster | None = None  # the forward zone reaching furthest so far
    for c in forward:
        if reach is not None and c.first_end < reach.last_start:
            result.conflicts.append(
                Conflict(
                    "overlap",
                    reach.witness() + c.witness(),
                    f"the values {_name(reach)} and {_name(c)} were each current while the"
                    " other was: no order of the writes explains the reads",
                )
            )
        if reach is None or c.last_start > reach.last_start:
            reach = c
    if not forward:
        return
    starts = [c.first_end for c in forward]
    # the furthest end of the forward zones starting at or before each one
    best: list[_Cluster] = []
    for c in forward:
        best.append(c if not best or c.last_start > best[-1].last_start else best[-1])
    for c in clusters:
        if c.forward:
            continue
        lo, hi = c.last_start, c.first_end  # backward zone [s, f]
        i = bisect_left(starts, lo) - 1  # forward zones starting strictly before lo
        if i >= 0 and hi < best[i].last_start:
            outer = best[i]
            result.conflicts.append(
                Conflict(
                    "contained",
                    outer.witness() + c.witness(),
                    f"{_name(c)} was written while {_name(outer)} had to stay current"
                    " (a stale read)",
                )
            )


def _name(c: _Cluster) -> str:
    return "nil" if c.value is None else repr(c.value)
