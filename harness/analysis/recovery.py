"""Client-side detection, outage and time-to-recover of each fault.

All functions look only at requests that reached the system (``dropped``
requests are the generator's problem, not the stack's) in start-time order.

Each figure is computed by a small streaming operator fed the requests chunk by
chunk, in start order (:class:`RecoverySearch`, :class:`BackFlags`,
:class:`FailureRuns`, :class:`Longest`); it keeps only the few seconds of requests
its definition looks ahead over, so a run of any length is analysed in bounded
memory. The plain functions below feed a whole array in one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.analysis.latency import FloatArray
from harness.analysis.samples import BoolArray, Timeline

_NO_T = np.zeros(0, dtype=np.float64)
_NO_OK = np.zeros(0, dtype=np.bool_)


@dataclass(frozen=True)
class Requests:
    """The counted requests of a timeline: start times and success flags."""

    t: FloatArray
    ok: BoolArray

    @classmethod
    def of(cls, tl: Timeline) -> Requests:
        counted = tl.counted
        return cls(tl.t[counted], tl.ok[counted])

    def between(self, start: float, end: float) -> Requests:
        lo, hi = np.searchsorted(self.t, [start, end], side="left")
        return Requests(self.t[lo:hi], self.ok[lo:hi])


def detection(reqs: Requests, injected_s: float, until_s: float) -> float | None:
    """Seconds from injection to the first failed request started in [injection, until)."""
    part = reqs.between(injected_s, until_s)
    failed = np.flatnonzero(~part.ok)
    return None if len(failed) == 0 else float(part.t[failed[0]] - injected_s)


OUTAGE_WINDOW_S = 1.0
"""How far ahead a success looks to decide that the service is back (see :func:`outage`)."""


# ------------------------------------------------------------------ runs of failures
@dataclass
class FailureRuns:
    """Runs of failures, in start order, each ended by the next *ender* request.

    A run starts at a failure and ends at the first later request marked as an
    ender; requests that are neither (successes that do not end a run) are passed
    over. A run that no ender ends spans to its last failure (:meth:`finish`).
    With every success an ender these are runs of consecutive failures; with only
    the successes after which the service is back (:class:`BackFlags`), outages.
    """

    open_start: float | None = None  # start of the run still under way
    last_failure: float | None = None

    def feed(
        self, t: FloatArray, failed: BoolArray, ender: BoolArray
    ) -> tuple[FloatArray, FloatArray]:
        """The runs that ended in this chunk: (start times, end times)."""
        relevant = failed | ender
        tt, ff = t[relevant], failed[relevant]
        if len(tt) == 0:
            return _NO_T, _NO_T
        before = np.concatenate(([self.open_start is not None], ff[:-1]))
        starts = tt[ff & ~before]
        ends = tt[~ff & before]
        if self.open_start is not None:
            starts = np.concatenate(([self.open_start], starts))
        if ff[-1]:  # the chunk ends inside a run
            self.open_start, starts = float(starts[-1]), starts[:-1]
        else:
            self.open_start = None
        if ff.any():
            self.last_failure = float(tt[ff][-1])
        return starts, ends

    def finish(self) -> tuple[FloatArray, FloatArray]:
        """The run still under way, spanning to its last failure."""
        if self.open_start is None or self.last_failure is None:
            return _NO_T, _NO_T
        start, self.open_start = self.open_start, None
        return np.array([start]), np.array([self.last_failure])


@dataclass
class Longest:
    """The longest run (span, start) among runs that start in ``[a, b)`` or are under way
    at ``a``; the first of equally long ones. No filter when ``starting_in`` is None."""

    starting_in: tuple[float, float] | None = None
    span: float = -1.0
    start: float | None = None

    def add(self, starts: FloatArray, ends: FloatArray) -> None:
        if len(starts) == 0:
            return
        spans = ends - starts
        if self.starting_in is not None:
            a, b = self.starting_in
            keep = (starts < b) & ((starts >= a) | (ends > a))
            spans = np.where(keep, spans, -1.0)
        best = int(np.argmax(spans))
        if spans[best] > self.span:  # strictly: an earlier run of the same span wins
            self.span, self.start = float(spans[best]), float(starts[best])

    def result(self) -> tuple[float, float | None]:
        return (0.0, None) if self.start is None else (self.span, self.start)


@dataclass
class BackFlags:
    """Marks each request with whether the service is back after it: it succeeded and
    more requests succeeded than failed among those started in ``[t, t + window)``,
    itself and the later ones (the requests started before it at the same instant
    excluded, as in one pass over the whole run).

    A request is decided once a request at or after ``t + window`` was seen; until
    then it waits in a buffer of ``window`` seconds of requests.
    """

    window: float = OUTAGE_WINDOW_S
    _t: FloatArray = field(default_factory=lambda: _NO_T)
    _ok: BoolArray = field(default_factory=lambda: _NO_OK)

    def feed(self, t: FloatArray, ok: BoolArray) -> tuple[FloatArray, BoolArray, BoolArray]:
        """The requests decided so far: (t, ok, back)."""
        self._t = np.concatenate((self._t, t))
        self._ok = np.concatenate((self._ok, ok))
        if len(self._t) == 0:
            return _NO_T, _NO_OK, _NO_OK
        decided = int(np.searchsorted(self._t + self.window, self._t[-1], side="right"))
        return self._flags(decided)

    def finish(self) -> tuple[FloatArray, BoolArray, BoolArray]:
        return self._flags(len(self._t))

    def _flags(self, decided: int) -> tuple[FloatArray, BoolArray, BoolArray]:
        t, ok = self._t, self._ok
        n = np.arange(decided)
        cum_ok = np.concatenate(([0], np.cumsum(ok, dtype=np.int64)))
        ahead = np.searchsorted(t, t[:decided] + self.window, side="left")
        good = cum_ok[ahead] - cum_ok[n]
        back = ok[:decided] & (2 * good > ahead - n)
        out = (t[:decided], ok[:decided], back)
        self._t, self._ok = t[decided:], ok[decided:]
        return out


def outage(
    reqs: Requests, starting_in: tuple[float, float], window: float = OUTAGE_WINDOW_S
) -> tuple[float, float | None]:
    """Longest outage (span in s, its start; None if no failure) among those that start in
    ``starting_in`` = [a, b) or are still under way at a.

    An outage starts at a failed request and ends at the first later successful request
    ``s`` after which the service is back: more successes than failures among the requests
    started in ``[s, s + window)``, ``s`` included. Failures before that belong to the same
    outage, so a lone lucky request amid failures does not cut it in two (a plain run of
    consecutive failures would, and which run is the longest would then depend on where
    such requests land). An outage that no success ends spans to its last failure.
    """
    flags, runs, best = BackFlags(window), FailureRuns(), Longest(starting_in)
    for t, ok, back in (flags.feed(reqs.t, reqs.ok), flags.finish()):
        best.add(*runs.feed(t, ~ok, back))
    best.add(*runs.finish())
    return best.result()


def longest_failure_span(
    reqs: Requests, starting_in: tuple[float, float] | None = None
) -> tuple[float, float | None]:
    """Longest run of consecutive failures: (span in s, start of the run; None if no failure).

    A run's span goes from its first failure to the next successful request
    (the client saw only failures meanwhile); a run that no success ends spans
    to its last failure. ``starting_in`` = (a, b) keeps only runs that start in
    [a, b) or are still under way at a: a request sent just before a fault and
    failed by it must not hide the whole outage from that fault.
    """
    runs, best = FailureRuns(), Longest(starting_in)
    best.add(*runs.feed(reqs.t, ~reqs.ok, reqs.ok))
    best.add(*runs.finish())
    return best.result()


# ------------------------------------------------------------------ time to recover
@dataclass
class RecoverySearch:
    """Time to recover from ``from_s``, fed the counted requests chunk by chunk.

    Candidate windows ``[s, s + window)`` start at ``from_s`` itself or at any
    request start after it, must end by the end of the run and hold at least one
    request with ``ok / requests >= slo``; the first such ``s`` gives the answer.
    A candidate is judged once a request at or after its window's end was seen, so
    the buffer holds about ``window`` seconds of requests. ``end_s``: the end of the
    run, when it is known before the requests are (else it is given to :meth:`finish`).
    """

    from_s: float
    window: float
    slo: float
    end_s: float = np.inf
    ttr: float | None = None
    found: bool = False
    _t: FloatArray = field(default_factory=lambda: _NO_T)
    _ok: BoolArray = field(default_factory=lambda: _NO_OK)
    _next: int = 0  # buffer index of the next request that is a candidate start
    _from_judged: bool = False  # the candidate at from_s itself was judged

    def feed(self, t: FloatArray, ok: BoolArray) -> None:
        if self.found:
            return
        lo = int(np.searchsorted(t, self.from_s, side="left"))  # earlier ones never count
        if lo == len(t):
            return
        self._t = np.concatenate((self._t, t[lo:]))
        self._ok = np.concatenate((self._ok, ok[lo:]))
        self._judge(seen=float(self._t[-1]), end_s=self.end_s)

    def finish(self, end_s: float) -> float | None:
        """The answer, once every request was fed; None: never recovered."""
        if not self.found:
            self._judge(seen=np.inf, end_s=end_s)
        return self.ttr

    def _judge(self, seen: float, end_s: float) -> None:
        """Judge the candidates whose window ends by ``seen`` (complete) and by the end."""
        t = self._t
        starts = t[self._next :]
        if not self._from_judged:
            starts = np.concatenate(([self.from_s], starts))
        ends = starts + self.window
        starts = starts[(ends <= seen) & (ends <= end_s + 1e-9)]
        if len(starts) == 0:
            return
        cum_ok = np.concatenate(([0], np.cumsum(self._ok, dtype=np.int64)))
        first = np.searchsorted(t, starts, side="left")
        last = np.searchsorted(t, starts + self.window, side="left")
        total = last - first
        good = cum_ok[last] - cum_ok[first]
        # Compare in integers-ish form to avoid 0.99 * n rounding surprises at exact SLOs.
        meets = (total > 0) & (good >= self.slo * total - 1e-9)
        hits = np.flatnonzero(meets)
        if len(hits):
            self.ttr, self.found = float(starts[hits[0]] - self.from_s), True
            self._t, self._ok = _NO_T, _NO_OK
            return
        judged = len(starts) - (0 if self._from_judged else 1)
        self._from_judged = True
        self._next += judged
        if len(t) == 0:
            return
        # Keep what later windows can still hold: from the next candidate (or the
        # newest request, which a request at the same instant may yet join).
        keep_from = float(t[self._next]) if self._next < len(t) else float(t[-1])
        cut = int(np.searchsorted(t, keep_from, side="left"))
        self._t, self._ok, self._next = t[cut:], self._ok[cut:], self._next - cut


def time_to_recover(
    reqs: Requests, from_s: float, window: float, slo: float, end_s: float
) -> float | None:
    """Seconds from ``from_s`` to the start of the first window meeting the SLO.

    Candidate windows ``[s, s + window)`` start at ``from_s`` itself or at any
    request start after it, must end by ``end_s`` and hold at least one request
    with ``ok / requests >= slo``. None means the stack never recovered.
    """
    search = RecoverySearch(from_s, window, slo, end_s)
    search.feed(reqs.t, reqs.ok)
    return search.finish(end_s)
