"""General linearizability check: Wing & Gong's search with Porcupine's memoisation.

The history of one key (P-compositionality: keys are checked apart) becomes a
list of call and return entries in time order, linked so that an operation can
be "lifted" out when it is linearized. The search walks the entries: at a call
it tries to linearize that operation (the model says whether it is legal in the
current state); at a return it must backtrack, since the operation returning
there was not linearized before its return. A configuration (set of linearized
operations, state) seen once is never explored again (Lowe's and Porcupine's
cache), which is what makes the search practical.

Two reductions keep the verdicts and cut the search (both are exchange
arguments on a valid linearization, see docs/consistency.md):

- **pure operations first**: a read (or a failed comparison) that is legal in
  the current configuration is linearized at once, with no alternative to try
  on backtrack: if a linearization exists, one exists that starts with it;
- **twins in order**: two operations with the same input and output, where one
  is called no later and returns no later than the other, are linearized in
  that order (swapping them in any linearization gives another one).

The search is bounded by a deadline and a number of cached configurations;
past either bound the verdict is ``unknown``, never ``ok``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["ok", "illegal", "unknown"]
ILLEGAL: object = object()  # what a model's step returns for an operation it refuses
INF = float("inf")
CHECK_EVERY = 4096  # search steps between two looks at the clock

Step = Callable[[Any, Any], object]


@dataclass(frozen=True, slots=True)
class Call:
    """One operation as the search sees it: its window, its input/output and purity.

    ``ret`` is ``INF`` for an operation that never returned (``info``): it may
    be linearized at any point after its call, including after every other one.
    ``pure``: it never changes the state (a read), which enables the eager step.
    """

    call: float
    ret: float
    input: Hashable
    pure: bool = False


@dataclass(frozen=True)
class SearchResult:
    """The verdict of one search and what it cost."""

    verdict: Verdict
    configurations: int  # cached (linearized set, state) pairs
    steps: int
    reason: str = ""  # why unknown
    order: tuple[int, ...] = ()  # ok: a linearization (indexes into the calls)


@dataclass(frozen=True)
class Bounds:
    """Limits of one search: wall-clock deadline (monotonic s) and cached configurations."""

    deadline: float = INF
    max_configurations: int = 2_000_000
    clock: Callable[[], float] = time.monotonic


def _entries(calls: Sequence[Call]) -> list[tuple[float, int, int]]:
    """(time, 0 call / 1 return, call index) in time order; calls first at equal times."""
    out = [(c.call, 0, i) for i, c in enumerate(calls)]
    out += [(c.ret, 1, i) for i, c in enumerate(calls)]
    out.sort()
    return out


def _twins(calls: Sequence[Call]) -> list[int]:
    """For each call, the call it must follow (same input, no later call and return), or -1."""
    groups: dict[Hashable, list[int]] = {}
    for i, c in enumerate(calls):
        groups.setdefault(c.input, []).append(i)
    before = [-1] * len(calls)
    for members in groups.values():
        members.sort(key=lambda i: (calls[i].call, calls[i].ret, i))
        for prev, cur in itertools.pairwise(members):
            if calls[prev].ret <= calls[cur].ret:
                before[cur] = prev
    return before


def linearizable(
    calls: Sequence[Call], init: Hashable, step: Step, bounds: Bounds | None = None
) -> SearchResult:
    """Whether ``calls`` have a linearization under the model ``(init, step)``.

    ``step(state, input)`` returns the next state, or ``ILLEGAL`` when the
    operation (with its recorded output, part of ``input``) cannot happen in
    ``state``. States must be hashable.
    """
    bounds = bounds or Bounds()
    n = len(calls)
    if n == 0:
        return SearchResult("ok", 0, 0)
    entries = _entries(calls)
    size = len(entries)
    head = size  # the sentinel before the first entry
    nxt = [*range(1, size), -1, 0]
    prv = [head, *range(size - 1), -1]
    op_of = [e[2] for e in entries]
    is_call = [e[1] == 0 for e in entries]
    ret_pos = [0] * n
    for pos, e in enumerate(entries):
        if e[1] == 1:
            ret_pos[e[2]] = pos
    match = [ret_pos[op_of[p]] if is_call[p] else -1 for p in range(size)]
    inputs = [c.input for c in calls]
    pure = [c.pure for c in calls]
    bit = [1 << i for i in range(n)]
    twin = _twins(calls)

    def lift(p: int) -> None:
        a, b = prv[p], nxt[p]
        nxt[a] = b
        prv[b] = a  # a call always has its return after it: b != -1
        m = match[p]
        a, b = prv[m], nxt[m]
        nxt[a] = b
        if b != -1:
            prv[b] = a

    def unlift(p: int) -> None:
        m = match[p]
        a, b = prv[m], nxt[m]
        nxt[a] = m
        if b != -1:
            prv[b] = m
        a, b = prv[p], nxt[p]
        nxt[a] = p
        prv[b] = p

    state: Hashable = init
    linearized = 0
    cache: set[tuple[int, Hashable]] = set()
    # (entry, state before, forced): a forced (pure-first) choice has no alternative
    stack: list[tuple[int, Hashable, bool]] = []
    steps = 0
    max_conf = bounds.max_configurations
    entry = nxt[head]
    while nxt[head] != -1:
        steps += 1
        if steps % CHECK_EVERY == 0 and bounds.clock() > bounds.deadline:
            return SearchResult("unknown", len(cache), steps, "time bound reached")
        if entry == nxt[head]:
            # a fresh configuration: linearize a legal pure call at once, if there is one
            p = entry
            while is_call[p]:
                o = op_of[p]
                if pure[o] and (twin[o] < 0 or linearized & bit[twin[o]]):
                    new = step(state, inputs[o])
                    if new is not ILLEGAL:
                        break
                p = nxt[p]
            if is_call[p]:
                o = op_of[p]
                key = (linearized | bit[o], state)
                if key in cache:
                    entry = -2  # this configuration cannot succeed: backtrack
                else:
                    cache.add(key)
                    stack.append((p, state, True))
                    linearized |= bit[o]
                    lift(p)
                    entry = nxt[head]
                    continue
        if entry >= 0 and is_call[entry]:
            o = op_of[entry]
            if not pure[o] and (twin[o] < 0 or linearized & bit[twin[o]]):
                new = step(state, inputs[o])
                if new is not ILLEGAL:
                    key = (linearized | bit[o], new)
                    if key not in cache:
                        if len(cache) >= max_conf:
                            return SearchResult(
                                "unknown", len(cache), steps, "configuration bound reached"
                            )
                        cache.add(key)
                        stack.append((entry, state, False))
                        state = new
                        linearized |= bit[o]
                        lift(entry)
                        entry = nxt[head]
                        continue
            entry = nxt[entry]
            continue
        # a return (or a dead configuration): undo the last choice that has an alternative
        while True:
            if not stack:
                return SearchResult("illegal", len(cache), steps)
            p, state, forced = stack.pop()
            linearized ^= bit[op_of[p]]
            unlift(p)
            if not forced:
                entry = nxt[p]
                break
    return SearchResult("ok", len(cache), steps, order=tuple(op_of[p] for p, _, _ in stack))
