"""A consistency history: one row per operation, as Jepsen records it.

Every operation has an invoke and a complete time on one monotonic clock
(nanoseconds), the process that ran it and a result type:

- ``ok``: it happened, with the value shown;
- ``fail``: it definitely did not happen (e.g. a 4xx that refused it);
- ``info``: unknown (a timeout, a 5xx after sending): it may or may not have
  happened, at any time after its invoke. Its ``complete`` is when the client
  gave up; the checkers treat it as never completing.

Functions (``f``) and their values:

- ``write`` (register): the value written;
- ``cas`` (register): ``(expected, new)``; a ``fail`` that says the comparison
  failed is a definite ``cas`` with ``mismatch=True``: it happened, and saw
  another value than ``expected``;
- ``append`` (list): the element appended;
- ``read``: the value seen (``None``: the key had none) for a register, the
  tuple of elements for a list; ``None`` for a read that did not complete.

Values are text, compared as text; a workload makes them unique per key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OpType = Literal["ok", "fail", "info"]
OP_TYPES: tuple[OpType, ...] = ("ok", "fail", "info")
FUNCTIONS = ("read", "write", "cas", "append")
INFINITY = float("inf")

Value = Any  # str | None | tuple[str | None, str] | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a history (see the module docstring)."""

    index: int
    process: str
    f: str
    key: str
    value: Value
    type: OpType
    invoke: int  # ns, monotonic
    complete: int  # ns; for an info op, when the client gave up
    mismatch: bool = False  # a cas whose comparison failed (a definite, pure outcome)
    final: bool = False  # a final read, made after the faults were reverted (phase "final")

    @property
    def ok(self) -> bool:
        return self.type == "ok"

    @property
    def end(self) -> float:
        """When the operation surely took effect by: its complete time, never for ``info``."""
        return self.complete if self.type == "ok" else INFINITY

    def precedes(self, other: Op) -> bool:
        """Real-time order: this one completed before ``other`` was invoked."""
        return self.type == "ok" and self.complete < other.invoke

    def describe(self) -> str:
        """``write(k, 3)``-style text for witnesses."""
        if self.f == "cas":
            expected, new = self.value
            text = f"cas({self.key}, {_show(expected)}→{_show(new)})"
            return text + (" mismatch" if self.mismatch else "")
        if self.f == "read":
            shown = "?" if self.type != "ok" else _show(self.value)
            return f"read({self.key}) → {shown}"
        return f"{self.f}({self.key}, {_show(self.value)})"

    def to_row(self) -> dict[str, Any]:
        """The operation as a JSON-ready witness row (times in ns)."""
        return {
            "index": self.index,
            "process": self.process,
            "f": self.f,
            "key": self.key,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
            "type": self.type,
            "mismatch": self.mismatch,
            "invoke_ns": self.invoke,
            "complete_ns": self.complete,
            "final": self.final,
            "text": self.describe(),
        }


def _show(value: Value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, tuple):
        inner = " ".join(_show(v) for v in value[:12])
        return f"[{inner}{' …' if len(value) > 12 else ''}]"
    return str(value)


def by_key(ops: Iterable[Op]) -> dict[str, list[Op]]:
    """The operations of each key, in history order (P-compositionality: keys are independent)."""
    keys: dict[str, list[Op]] = {}
    for op in ops:
        keys.setdefault(op.key, []).append(op)
    return keys


def by_process(ops: Iterable[Op]) -> dict[str, list[Op]]:
    """The operations of each process, in invoke order."""
    procs: dict[str, list[Op]] = {}
    for op in sorted(ops, key=lambda o: (o.invoke, o.index)):
        procs.setdefault(op.process, []).append(op)
    return procs


def from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Op]:
    """Operations from history rows (history.jsonl/parquet columns), in invoke order.

    Row keys: ``process``, ``f``, ``key``, ``type``, ``invoke_ns``, ``complete_ns``,
    ``value`` (text or null), ``expected`` (cas), ``elements`` (list reads),
    ``mismatch`` (cas), ``phase`` (``final``: a final read). Raises ValueError naming
    the first bad row.
    """
    ops: list[Op] = []
    for n, row in enumerate(rows):
        try:
            ops.append(_op(n, row))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"history row {n}: {exc}") from exc
    ops.sort(key=lambda o: (o.invoke, o.index))
    return [_renumber(op, i) for i, op in enumerate(ops)]


def _op(n: int, row: Mapping[str, Any]) -> Op:
    f, kind = str(row["f"]), str(row["type"])
    if f not in FUNCTIONS:
        raise ValueError(f"unknown function {f!r}")
    if kind not in OP_TYPES:
        raise ValueError(f"unknown type {kind!r}")
    invoke, complete = int(row["invoke_ns"]), int(row["complete_ns"])
    if complete < invoke:
        raise ValueError("completes before it is invoked")
    value: Value = row.get("value")
    elements = row.get("elements")
    if f == "read" and elements is not None:
        value = tuple(str(e) for e in elements) if kind == "ok" else None
    elif f == "read" and kind != "ok":
        value = None
    elif f == "cas":
        value = (row.get("expected"), value)
    return Op(
        index=n,
        process=str(row["process"]),
        f=f,
        key=str(row["key"]),
        value=value,
        type=kind,  # checked against OP_TYPES above
        invoke=invoke,
        complete=complete,
        mismatch=bool(row.get("mismatch") or False),
        final=row.get("phase") == "final",
    )


def _renumber(op: Op, index: int) -> Op:
    if op.index == index:
        return op
    return Op(
        index,
        op.process,
        op.f,
        op.key,
        op.value,
        op.type,
        op.invoke,
        op.complete,
        op.mismatch,
        op.final,
    )


def witness(ops: Sequence[Op]) -> list[dict[str, Any]]:
    """Witness rows of ``ops``, in invoke order, each once."""
    seen: dict[int, Op] = {op.index: op for op in ops}
    return [seen[i].to_row() for i in sorted(seen, key=lambda i: (seen[i].invoke, i))]
