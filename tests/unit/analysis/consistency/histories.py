"""Tiny hand-made histories and a brute-force linearizability oracle for the checker tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from harness.analysis.consistency.history import Op


def op(
    index: int,
    f: str,
    value: object,
    invoke: int,
    complete: int,
    *,
    process: str = "",
    key: str = "k",
    type: str = "ok",
    mismatch: bool = False,
) -> Op:
    """One operation; the process defaults to one per operation."""
    return Op(index, process or f"p{index}", f, key, value, type, invoke, complete, mismatch)  # type: ignore[arg-type]


def brute_force_register(ops: Sequence[Op]) -> bool:
    """Linearizable by trying every order (tiny histories only): the oracle of the tests.

    ``ok`` operations must take effect within their window; an ``info`` write or cas
    may take effect at any time after its invoke, or never; ``fail`` ones never; a
    cas mismatch happened and saw another value; reads that did not complete are ignored.
    """
    must = [o for o in ops if o.type == "ok" or o.mismatch]
    maybe = [o for o in ops if o.type == "info" and o.f != "read"]
    for k in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, k):
            chosen = must + list(extra)
            for order in itertools.permutations(chosen):
                if _respects_real_time(order) and _legal(order):
                    return True
    return False


def _respects_real_time(order: Sequence[Op]) -> bool:
    for i, a in enumerate(order):
        for b in order[:i]:  # b is placed before a
            if (a.type == "ok" or a.mismatch) and a.complete < b.invoke:
                return False
    return True


def _legal(order: Sequence[Op]) -> bool:
    state: object = None
    for o in order:
        if o.f == "read":
            if o.value != state:
                return False
        elif o.f == "write":
            state = o.value
        elif o.mismatch:
            if state == o.value[0]:
                return False
        elif o.type == "ok":
            if state != o.value[0]:
                return False
            state = o.value[1]
        elif state == o.value[0]:  # an info cas that took effect
            state = o.value[1]
    return True
