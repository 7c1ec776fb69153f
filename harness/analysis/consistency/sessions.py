"""Session guarantees per process (Terry et al., 1994) and stale reads, over one key.

Only what real time proves counts. A register value ``u`` is **older** than
``v`` when the write of ``u`` completed before the write of ``v`` was invoked
(or ``u`` is the initial nil): every linearization orders them so. A list read
**misses** an element whose append completed before the read was invoked.

- read-your-writes: a process reads an older value than its own last write
  (a list: its read lacks an element it appended);
- monotonic reads: a process reads an older value than it read before (a list:
  an element it saw is gone);
- monotonic writes: after a read saw a process's later write, a read (invoked
  after that one completed) sees its earlier one (a list: a read holds a
  process's later append but not its earlier one);
- stale read: a read misses a value (or element) that a write which completed
  before the read was invoked made current: how stale in ms (since that write
  completed) and in versions (how many such writes it missed).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from harness.analysis.consistency.anomaly import Anomaly, of, present
from harness.analysis.consistency.history import Op

NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class Stale:
    """One stale read: how long and by how many versions it was behind."""

    read: Op
    behind_ms: float
    behind_versions: int
    newer: Op  # the earliest-completing write (or append) it missed


def _writes(ops: Sequence[Op]) -> dict[str | None, Op]:
    """Value -> the operation that wrote it (ok or info writes and cas swaps)."""
    out: dict[str | None, Op] = {}
    for op in ops:
        if op.f == "write" and op.type != "fail":
            out[op.value] = op
        elif op.f == "cas" and op.type != "fail" and not op.mismatch:
            out[op.value[1]] = op
    return out


def _older(u: Op | None, v: Op | None) -> bool:
    """Value written by ``u`` is surely older than the one by ``v`` (None: the initial nil)."""
    if v is None:
        return False
    return u is None or u.precedes(v)


def register_sessions(key: str, ops: Sequence[Op]) -> list[Anomaly]:
    """Read-your-writes, monotonic reads and monotonic writes of one register key."""
    writer = _writes(ops)
    out: list[Anomaly] = []
    procs: dict[str, list[Op]] = {}
    for op in sorted(ops, key=lambda o: (o.invoke, o.index)):
        procs.setdefault(op.process, []).append(op)
    for seq in procs.values():
        last_write: Op | None = None
        last_read: Op | None = None
        for op in seq:
            if op.f in ("write", "cas") and op.type == "ok" and not op.mismatch:
                last_write = op
                continue
            if (
                op.f != "read"
                or op.type != "ok"
                or (op.value not in writer and op.value is not None)
            ):
                continue
            seen = writer.get(op.value)
            if last_write is not None and seen is not last_write and _older(seen, last_write):
                out.append(
                    of(
                        "read-your-writes",
                        key,
                        f"process {op.process} wrote {last_write.describe()} then"
                        f" {op.describe()}, an older value",
                        [*present(seen), last_write, op],
                    )
                )
            if last_read is not None and _older(seen, writer.get(last_read.value)):
                before = writer.get(last_read.value)
                out.append(
                    of(
                        "monotonic-reads",
                        key,
                        f"process {op.process} read {last_read.value!r} then an older value:"
                        f" {op.describe()}",
                        [*present(seen, before), last_read, op],
                    )
                )
            last_read = op
    out += _monotonic_writes(key, ops, writer)
    return out


def _monotonic_writes(key: str, ops: Sequence[Op], writer: dict[str | None, Op]) -> list[Anomaly]:
    """A read sees a process's earlier write after another read saw its later one."""
    order: dict[int, tuple[str, int]] = {}  # write op index -> (process, position)
    counts: dict[str, int] = {}
    for op in sorted(writer.values(), key=lambda o: (o.invoke, o.index)):
        position = counts.get(op.process, 0)
        counts[op.process] = position + 1
        order[op.index] = (op.process, position)
    reads = [o for o in ops if o.f == "read" and o.type == "ok" and o.value in writer]
    by_end = sorted(reads, key=lambda o: o.complete)
    latest: dict[str, tuple[int, Op]] = {}  # process -> (latest position seen, the read)
    out: list[Anomaly] = []
    i = 0
    for read in sorted(reads, key=lambda o: (o.invoke, o.index)):
        while i < len(by_end) and by_end[i].complete < read.invoke:
            seen = by_end[i]
            proc, pos = order[writer[seen.value].index]
            if pos > latest.get(proc, (-1, seen))[0]:
                latest[proc] = (pos, seen)
            i += 1
        proc, pos = order[writer[read.value].index]
        if proc in latest and latest[proc][0] > pos:
            earlier = latest[proc][1]
            out.append(
                of(
                    "monotonic-writes",
                    key,
                    f"{earlier.describe()} saw a later write of process {proc}, then"
                    f" {read.describe()} saw its earlier write",
                    [writer[read.value], writer[earlier.value], earlier, read],
                )
            )
    return out


def register_stale(ops: Sequence[Op]) -> list[Stale]:
    """Reads that missed a write which surely superseded the value they returned."""
    writer = _writes(ops)
    done = sorted(
        (o for o in writer.values() if o.type == "ok"), key=lambda o: (o.complete, o.index)
    )
    ends = [o.complete for o in done]
    out: list[Stale] = []
    for read in ops:
        if read.f != "read" or read.type != "ok" or (read.value not in writer and read.value):
            continue
        seen = writer.get(read.value)
        newer = [w for w in done[: bisect_left(ends, read.invoke)] if _older(seen, w)]
        if newer:
            first = newer[0]
            out.append(Stale(read, (read.invoke - first.complete) / NS_PER_MS, len(newer), first))
    return out


def list_sessions(key: str, ops: Sequence[Op]) -> list[Anomaly]:
    """Read-your-writes, monotonic reads and monotonic writes of one list key."""
    out: list[Anomaly] = []
    appender = {o.value: o for o in ops if o.f == "append" and o.type == "ok"}
    procs: dict[str, list[Op]] = {}
    for op in sorted(ops, key=lambda o: (o.invoke, o.index)):
        procs.setdefault(op.process, []).append(op)
    for seq in procs.values():
        mine: list[Op] = []
        last_read: Op | None = None
        for op in seq:
            if op.f == "append" and op.type == "ok":
                mine.append(op)
                continue
            if op.f != "read" or op.type != "ok":
                continue
            have = set(op.value)
            lacking = [a for a in mine if a.value not in have]
            if lacking:
                out.append(
                    of(
                        "read-your-writes",
                        key,
                        f"process {op.process} appended {lacking[0].value!r}, then its read"
                        " lacks it",
                        [lacking[0], op],
                    )
                )
            if last_read is not None:
                gone = [e for e in last_read.value if e not in have]
                if gone:
                    out.append(
                        of(
                            "monotonic-reads",
                            key,
                            f"process {op.process} saw {gone[0]!r}, then a read without it",
                            [
                                *present(appender.get(gone[0])),
                                last_read,
                                op,
                            ],
                        )
                    )
            last_read = op
    out += _list_monotonic_writes(key, ops)
    return out


def _list_monotonic_writes(key: str, ops: Sequence[Op]) -> list[Anomaly]:
    """A read holds a process's later append but not its earlier (acknowledged) one."""
    out: list[Anomaly] = []
    by_proc: dict[str, list[Op]] = {}
    for op in sorted(ops, key=lambda o: (o.invoke, o.index)):
        if op.f == "append" and op.type == "ok":
            by_proc.setdefault(op.process, []).append(op)
    for read in ops:
        if read.f != "read" or read.type != "ok":
            continue
        have = set(read.value)
        for appends in by_proc.values():
            for earlier, later in itertools.pairwise(appends):
                if later.value in have and earlier.value not in have:
                    out.append(
                        of(
                            "monotonic-writes",
                            key,
                            f"{read.describe()} holds {later.value!r} but not {earlier.value!r},"
                            f" appended before it by process {earlier.process}",
                            [earlier, later, read],
                        )
                    )
                    break
    return out


def list_stale(ops: Sequence[Op]) -> list[Stale]:
    """List reads that miss an element whose append completed before the read was invoked."""
    done = sorted(
        (o for o in ops if o.f == "append" and o.type == "ok"), key=lambda o: (o.complete, o.index)
    )
    ends = [o.complete for o in done]
    out: list[Stale] = []
    for read in ops:
        if read.f != "read" or read.type != "ok":
            continue
        have = set(read.value)
        missed = [a for a in done[: bisect_left(ends, read.invoke)] if a.value not in have]
        if missed:
            first = missed[0]
            out.append(Stale(read, (read.invoke - first.complete) / NS_PER_MS, len(missed), first))
    return out
