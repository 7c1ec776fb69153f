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


Zone = tuple[float, float, object]  # (start, end, value): forward [f, s] or backward [s, f]


def check_key(key: str, ops: Sequence[Op], *, max_conflicts: int = 10) -> ZoneResult:
    """The fast linearizability check of one key's register history (reads and writes)."""
    result = ZoneResult(key, len(ops))
    writes, failed, reads = _split(ops)
    first_end: dict[object, float] = {}  # per read value: the earliest read completion
    last_start: dict[object, float] = {}  # and the latest read invocation
    for read in reads:
        value = read.value
        write = writes.get(value)
        conflict = _impossible_read(read, write, failed.get(value))
        if conflict is not None:
            result.conflicts.append(conflict)
        elif value in first_end:
            first_end[value] = min(first_end[value], read.complete)
            last_start[value] = max(last_start[value], read.invoke)
        else:
            first_end[value], last_start[value] = read.complete, read.invoke
    forward, backward = _zones(writes, first_end, last_start)
    _zone_conflicts(forward, backward, result, _Witness(writes, reads))
    del result.conflicts[max_conflicts:]
    return result


def _split(ops: Sequence[Op]) -> tuple[dict[object, Op], dict[object, Op], list[Op]]:
    """Writes by value (acknowledged or unknown), failed writes by value, successful reads."""
    writes: dict[object, Op] = {}
    failed: dict[object, Op] = {}
    reads: list[Op] = []
    for op in ops:
        kind = op.f
        if kind == "write":
            value = op.value
            if value in writes or value in failed:
                raise ValueError(
                    f"value {value!r} is written twice: the fast check needs unique values"
                )
            if op.type == "fail":
                failed[value] = op
            else:
                writes[value] = op
        elif kind == "read":
            if op.type == "ok":
                reads.append(op)
        else:
            raise ValueError(
                f"the fast check takes reads and writes only, found {kind} (op {op.index})"
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


def _zones(
    writes: dict[object, Op], first_end: dict[object, float], last_start: dict[object, float]
) -> tuple[list[Zone], list[Zone]]:
    """The forward and backward zones of every cluster (a write and the reads that saw it)."""
    forward: list[Zone] = []
    backward: list[Zone] = []
    for value, read_end in first_end.items():
        start = last_start[value]
        write = writes.get(value)
        if write is None:  # the initial value (nil), written before everything
            end = NEG_INF
        else:
            end = min(read_end, write.complete if write.type == "ok" else INFINITY)
            start = max(start, write.invoke)
        if end < start:
            forward.append((end, start, value))
        else:
            backward.append((start, end, value))
    for value, write in writes.items():  # unread writes: only those that surely happened
        if value not in first_end and write.type == "ok":
            backward.append((write.invoke, write.complete, value))
    return forward, backward


@dataclass
class _Witness:
    """The operations behind a zone, found only when a conflict needs them."""

    writes: dict[object, Op]
    reads: list[Op]

    def of(self, value: object) -> tuple[Op, ...]:
        """The write, the earliest-completing and the latest-invoked operation of a cluster."""
        members = [r for r in self.reads if r.value == value]
        write = self.writes.get(value)
        if write is not None:
            members.append(write)
        ender = min(members, key=lambda o: (o.end, o.index))
        starter = max(members, key=lambda o: (o.invoke, -o.index))
        ops = [o for o in (write, ender, starter) if o is not None]
        return tuple(dict.fromkeys(ops))


def _zone_conflicts(
    forward: list[Zone], backward: list[Zone], result: ZoneResult, witness: _Witness
) -> None:
    """Overlapping forward zones, and backward zones inside a forward zone (sort + sweep)."""
    forward.sort(key=lambda z: z[0])
    # forward zones overlap iff, sorted by start, one starts before the furthest end so far
    reach: Zone | None = None
    for zone in forward:
        if reach is not None and zone[0] < reach[1]:
            result.conflicts.append(
                Conflict(
                    "overlap",
                    witness.of(reach[2]) + witness.of(zone[2]),
                    f"the values {_name(reach[2])} and {_name(zone[2])} were each current"
                    " while the other was: no order of the writes explains the reads",
                )
            )
        if reach is None or zone[1] > reach[1]:
            reach = zone
    if not forward:
        return
    starts = [z[0] for z in forward]
    best: list[Zone] = []  # the furthest-reaching forward zone starting at or before each one
    for zone in forward:
        best.append(zone if not best or zone[1] > best[-1][1] else best[-1])
    for lo, hi, value in backward:
        i = bisect_left(starts, lo) - 1  # forward zones starting strictly before lo
        if i >= 0 and hi < best[i][1]:
            outer = best[i]
            result.conflicts.append(
                Conflict(
                    "contained",
                    witness.of(outer[2]) + witness.of(value),
                    f"{_name(value)} was written while {_name(outer[2])} had to stay current"
                    " (a stale read)",
                )
            )


def _name(value: object) -> str:
    return "nil" if value is None else repr(value)
