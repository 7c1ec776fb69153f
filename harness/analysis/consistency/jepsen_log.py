"""Read a Jepsen register log (``INFO jepsen.util - 3 :invoke :cas [1 4]``) into a history.

The format of Jepsen's etcd tests, which Porcupine and Knossos check: each
line is one event of one process; the line number is the time. ``:fail`` of a
``cas`` means its comparison failed (a definite, pure outcome); an ``:info``
(timed out) operation never returns; a read that timed out tells nothing. Lines
of any other shape are ignored, as Porcupine does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from harness.analysis.consistency.history import Op, OpType

_LINE = re.compile(
    r"^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$"
)
_CAS = re.compile(r"^\[(\d+)\s+(\d+)\]$")


def parse_register_log(lines: Iterable[str]) -> list[Op]:
    """The operations of a Jepsen register log, in invoke order (times are line numbers)."""
    pending: dict[str, tuple[int, str, object]] = {}  # process -> (invoke line, f, value)
    ops: list[Op] = []
    last = 0
    for n, line in enumerate(lines):
        last = n
        m = _LINE.match(line)
        if m is None:
            continue
        process, kind, f, arg = m.groups()
        if kind == "invoke":
            pending[process] = (n, f, _value(f, arg))
            continue
        if process not in pending:
            continue
        invoke, f0, value = pending.pop(process)
        result: OpType = "ok"
        mismatch = False
        if kind == "info" or (kind == "fail" and f0 == "read"):
            result = "info"
        elif kind == "fail":  # a cas whose comparison failed
            result, mismatch = "fail", True
        elif f0 == "read":
            value = None if arg == "nil" else arg
        ops.append(Op(len(ops), process, f0, "r", value, result, invoke, n, mismatch))
    for process, (invoke, f0, value) in pending.items():  # never completed: info
        ops.append(Op(len(ops), process, f0, "r", value, "info", invoke, last + 1))
    ops.sort(key=lambda o: (o.invoke, o.index))
    return [
        Op(i, o.process, o.f, o.key, o.value, o.type, o.invoke, o.complete, o.mismatch)
        for i, o in enumerate(ops)
    ]


def _value(f: str, arg: str) -> object:
    if f == "read":
        return None
    if f == "cas":
        m = _CAS.match(arg)
        if m is None:
            raise ValueError(f"a cas needs [from to], found {arg!r}")
        return (m.group(1), m.group(2))
    return arg
