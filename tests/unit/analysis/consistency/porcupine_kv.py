"""Porcupine's key-value test histories and its kv model, as the general checker takes them.

The model is Porcupine's ``kvModel`` (porcupine_test.go): per key, ``put``
sets the text, ``append`` concatenates, ``get`` must return the text. A call
that never returned gets its return after the last line with an empty output,
exactly as Porcupine's ``parseKvLog`` does.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable

from harness.analysis.consistency.wgl import ILLEGAL, Call

_EVENT = re.compile(
    r'\{:process (\d+), :type :(invoke|ok), :f :(get|put|append), :key "(.*?)", '
    r':value (nil|"(.*)")\}'
)


def kv_step(state: Hashable, inp: Hashable) -> object:
    f, value = inp  # type: ignore[misc]
    if f == "get":
        return state if state == value else ILLEGAL
    if f == "put":
        return value
    return f"{state}{value}"


def parse_kv(lines: Iterable[str]) -> dict[str, list[Call]]:
    """The calls of each key (P-compositionality, as Porcupine's partitioned kvModel)."""
    pending: dict[str, tuple[int, str, str, str]] = {}
    done: list[tuple[str, Call]] = []
    last = 0
    for n, line in enumerate(lines):
        last = n
        m = _EVENT.search(line)
        if m is None:
            continue
        process, kind, f, key, _, value = m.groups()
        if kind == "invoke":
            pending[process] = (n, f, key, value or "")
            continue
        start, f0, key0, arg = pending.pop(process)
        output = (value or "") if f0 == "get" else arg
        done.append((key0, Call(start, n, (f0, output), f0 == "get")))
    for start, f0, key0, arg in pending.values():
        done.append((key0, Call(start, last + 1, (f0, "" if f0 == "get" else arg), f0 == "get")))
    keys: dict[str, list[Call]] = {}
    for key, call in done:
        keys.setdefault(key, []).append(call)
    return keys
