"""Sequential specifications of the register and the list, for the general checker.

An operation's input for the search carries its recorded output too (a read's
value, a cas's outcome), so ``step(state, input)`` both checks and applies it.
A ``fail`` operation did not happen and is left out; a read that did not
complete tells nothing and is left out; an ``info`` write, append or cas may
have happened at any time after its invoke: it never returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.analysis.consistency.history import Op
from harness.analysis.consistency.wgl import ILLEGAL, INF, Call

READ, WRITE, CAS, CAS_UNKNOWN, CAS_MISMATCH, APPEND = range(6)


def register_step(state: Any, inp: Any) -> object:
    """A register with read, write and compare-and-set; ``None`` is the initial value."""
    kind, a, b = inp  # the 3-tuples of register_calls
    if kind == READ:
        return state if state == a else ILLEGAL
    if kind == WRITE:
        return a
    if kind == CAS:
        return b if state == a else ILLEGAL
    if kind == CAS_MISMATCH:
        return state if state != a else ILLEGAL
    return b if state == a else state  # CAS_UNKNOWN: swaps or not, as the value says


def list_step(state: Any, inp: Any) -> object:
    """A list with append and read-all; ``()`` is the initial value."""
    kind, a = inp  # the 2-tuples of list_calls
    if kind == READ:
        return state if state == a else ILLEGAL
    return (*state, a)


UNSEEN = ("unseen",)  # every written value that no operation ever reads or compares with


def register_calls(ops: Sequence[Op]) -> tuple[list[Call], list[Op]]:
    """The calls of one key's register history, and the operation behind each one.

    A value that no read returns and no cas expects is written as ``UNSEEN``:
    every such state behaves alike (no read or successful cas can follow it, a
    mismatch always can), so the search's cache merges what would otherwise be
    one configuration per value, with the same verdicts.

    An ``info`` write (or cas) of such a value, invoked after every mismatch
    completed, is left out: only a mismatch can follow the state it leaves, so a
    linearization that has it in the middle gives one without it (the unknown
    cas that found the unseen value moved to the end with it).
    """
    observed = {o.value for o in ops if o.f == "read" and o.type == "ok"}
    observed |= {o.value[0] for o in ops if o.f == "cas"}
    mismatched = max((o.complete for o in ops if o.mismatch), default=-INF)
    needed = _needed_by(ops)
    calls: list[Call] = []
    kept: list[Op] = []

    def seen(value: object) -> object:
        return value if value in observed else UNSEEN

    for op in ops:
        if op.f == "read":
            if op.type != "ok":
                continue
            inp: tuple[int, object, object] = (READ, op.value, None)
        elif op.f == "write":
            if op.type == "fail":
                continue
            inp = (WRITE, seen(op.value), None)
        elif op.f == "cas":
            expected, new = op.value
            if op.mismatch:
                inp = (CAS_MISMATCH, expected, None)
            elif op.type == "fail":
                continue
            else:
                inp = (CAS if op.type == "ok" else CAS_UNKNOWN, expected, seen(new))
        else:
            raise ValueError(f"a register has no {op.f!r} operation (op {op.index})")
        if op.type == "info" and inp[0] != CAS_MISMATCH and unseen(inp) and op.invoke > mismatched:
            continue
        pure = inp[0] in (READ, CAS_MISMATCH)
        ret = _ret(op, pure)
        if op.index in needed:  # its value's only writer: before the first one that saw it
            ret = max(min(ret, needed[op.index]), op.invoke)
        calls.append(Call(op.invoke, ret, inp, pure))
        kept.append(op)
    return calls, kept


def _needed_by(ops: Sequence[Op]) -> dict[int, float]:
    """For each operation that is the only one to write its value: the earliest completion
    of an operation that saw that value (an ok read of it, an ok cas expecting it).

    Exact: such an observer is linearized after the writer (nothing else gives the value)
    and before its own completion, so the writer is too, even an ``info`` one, which
    thereby stops being free to take effect at any later time. A writer invoked after an
    observer completed cannot be linearized at all: its window shrinks to its invoke.
    """
    writers: dict[object, list[Op]] = {}
    for op in ops:
        if op.type == "fail":
            continue
        if op.f == "write":
            writers.setdefault(op.value, []).append(op)
        elif op.f == "cas" and not op.mismatch:
            writers.setdefault(op.value[1], []).append(op)
    seen_by: dict[object, float] = {}
    for op in ops:
        if op.type != "ok" or op.mismatch:
            continue
        value = op.value if op.f == "read" else op.value[0] if op.f == "cas" else None
        if value is not None:
            seen_by[value] = min(seen_by.get(value, INF), op.complete)
    return {
        only[0].index: seen_by[value]
        for value, only in writers.items()
        if len(only) == 1 and value in seen_by
    }


def unseen(inp: tuple[int, object, object]) -> bool:
    """A write or cas that leaves an unseen value (a read never has one)."""
    return (inp[0] == WRITE and inp[1] is UNSEEN) or (
        inp[0] in (CAS, CAS_UNKNOWN) and inp[2] is UNSEEN
    )


def list_calls(ops: Sequence[Op]) -> tuple[list[Call], list[Op]]:
    """The calls of one key's list-append history, and the operation behind each one."""
    calls: list[Call] = []
    kept: list[Op] = []
    for op in ops:
        if op.type == "fail" or (op.f == "read" and op.type != "ok"):
            continue
        if op.f == "read":
            inp: tuple[int, object] = (READ, op.value)
        elif op.f == "append":
            inp = (APPEND, op.value)
        else:
            raise ValueError(f"a list has no {op.f!r} operation (op {op.index})")
        calls.append(Call(op.invoke, _ret(op, inp[0] == READ), inp, inp[0] == READ))
        kept.append(op)
    return calls, kept


def _ret(op: Op, definite: bool) -> float:
    """A call's return: its complete time, or never for an ``info`` (a mismatch is definite)."""
    return op.complete if op.type == "ok" or definite else INF
