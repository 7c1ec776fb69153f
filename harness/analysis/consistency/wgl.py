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


class _Links:
    """The call and return entries as a doubly linked list (index ``head``: the sentinel
    before the first); lifting an operation unlinks its call and its return."""

    def __init__(self, calls: Sequence[Call]) -> None:
        entries = _entries(calls)
        size = len(entries)
        self.head = size
        self.nxt: list[int] = [*range(1, size), -1, 0]
        self.prv: list[int] = [size, *range(size - 1), -1]
        self.op_of: list[int] = [e[2] for e in entries]
        self.is_call = [e[1] == 0 for e in entries]
        ret_pos = [0] * len(calls)
        for pos, e in enumerate(entries):
            if e[1] == 1:
                ret_pos[e[2]] = pos
        self.match = [ret_pos[self.op_of[p]] if self.is_call[p] else -1 for p in range(size)]

    def lift(self, p: int) -> None:
        nxt, prv = self.nxt, self.prv
        a, b = prv[p], nxt[p]
        nxt[a] = b
        prv[b] = a  # a call always has its return after it: b != -1
        m = self.match[p]
        a, b = prv[m], nxt[m]
        nxt[a] = b
        if b != -1:
            prv[b] = a

    def unlift(self, p: int) -> None:
        nxt, prv = self.nxt, self.prv
        m = self.match[p]
        a, b = prv[m], nxt[m]
        nxt[a] = m
        if b != -1:
            prv[b] = m
        a, b = prv[p], nxt[p]
        nxt[a] = p
        prv[b] = p


class _Search:
    """One key's search: the linked entries, the configuration and the choices made."""

    def __init__(self, calls: Sequence[Call], init: Hashable, step: Step, bounds: Bounds) -> None:
        self.links = _Links(calls)
        self.inputs = [c.input for c in calls]
        self.pure = [c.pure for c in calls]
        self.bit = [1 << i for i in range(len(calls))]
        self.twin = _twins(calls)
        self.step, self.bounds = step, bounds
        self.state: Hashable = init
        self.linearized = 0
        self.cache: set[tuple[int, Hashable]] = set()
        # (entry, state before, forced): a forced (pure-first) choice has no alternative
        self.stack: list[tuple[int, Hashable, bool]] = []

    def ready(self, o: int) -> bool:
        """Its twin (if any) is linearized already."""
        t = self.twin[o]
        return t < 0 or bool(self.linearized & self.bit[t])

    def legal_pure(self) -> int:
        """The first entry that is a pure call legal now, else the first return."""
        links = self.links
        p = links.nxt[links.head]
        while links.is_call[p]:
            o = links.op_of[p]
            legal = self.pure[o] and self.ready(o)
            if legal and self.step(self.state, self.inputs[o]) is not ILLEGAL:
                return p
            p = links.nxt[p]
        return p

    def push(self, p: int, new: Hashable, forced: bool) -> None:
        """Linearize the call at entry ``p``, leaving state ``new``."""
        self.stack.append((p, self.state, forced))
        self.state = new
        self.linearized |= self.bit[self.links.op_of[p]]
        self.links.lift(p)

    def backtrack(self) -> int | None:
        """Undo choices up to the last one with an alternative: the entry to go on from
        (None: nothing left to try, the history is not linearizable)."""
        while self.stack:
            p, self.state, forced = self.stack.pop()
            self.linearized ^= self.bit[self.links.op_of[p]]
            self.links.unlift(p)
            if not forced:
                return self.links.nxt[p]
        return None

    def run(self) -> SearchResult:
        nxt, is_call, op_of, head = (
            self.links.nxt, self.links.is_call, self.links.op_of, self.links.head
        )  # fmt: skip
        cache, bounds, steps = self.cache, self.bounds, 0
        entry: int | None = nxt[head]
        while nxt[head] != -1:
            steps += 1
            if steps % CHECK_EVERY == 0 and bounds.clock() > bounds.deadline:
                return SearchResult("unknown", len(cache), steps, "time bound reached")
            if entry == nxt[head]:  # a fresh configuration: a legal pure call goes first
                p = self.legal_pure()
                if is_call[p]:
                    key = (self.linearized | self.bit[op_of[p]], self.state)
                    if key not in cache:
                        cache.add(key)
                        self.push(p, self.state, forced=True)
                        entry = nxt[head]
                        continue
                    entry = -2  # this configuration cannot succeed: backtrack
            if entry is not None and entry >= 0 and is_call[entry]:
                o = op_of[entry]
                if not self.pure[o] and self.ready(o):
                    new = self.step(self.state, self.inputs[o])
                    key = (self.linearized | self.bit[o], new)
                    if new is not ILLEGAL and key not in cache:
                        if len(cache) >= bounds.max_configurations:
                            return SearchResult(
                                "unknown", len(cache), steps, "configuration bound reached"
                            )
                        cache.add(key)
                        self.push(entry, new, forced=False)
                        entry = nxt[head]
                        continue
                entry = nxt[entry]
                continue
            entry = self.backtrack()  # a return (or a dead configuration)
            if entry is None:
                return SearchResult("illegal", len(cache), steps)
        return SearchResult(
            "ok", len(cache), steps, order=tuple(op_of[p] for p, _, _ in self.stack)
        )


def linearizable(
    calls: Sequence[Call], init: Hashable, step: Step, bounds: Bounds | None = None
) -> SearchResult:
    """Whether ``calls`` have a linearization under the model ``(init, step)``.

    ``step(state, input)`` returns the next state, or ``ILLEGAL`` when the
    operation (with its recorded output, part of ``input``) cannot happen in
    ``state``. States must be hashable.
    """
    if not calls:
        return SearchResult("ok", 0, 0)
    return _Search(calls, init, step, bounds or Bounds()).run()
