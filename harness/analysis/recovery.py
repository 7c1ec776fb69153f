"""Client-side detection, outage and time-to-recover of each fault.

All functions look only at requests that reached the system (``dropped``
requests are the generator's problem, not the stack's) in start-time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis.samples import BoolArray, FloatArray, Timeline


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
    n = len(reqs.t)
    failures = np.flatnonzero(~reqs.ok)
    if len(failures) == 0:
        return 0.0, None
    cum_ok = np.concatenate(([0], np.cumsum(reqs.ok, dtype=np.int64)))
    ahead = np.searchsorted(reqs.t, reqs.t + window, side="left")
    good = cum_ok[ahead] - cum_ok[np.arange(n)]
    back = np.flatnonzero(reqs.ok & (2 * good > ahead - np.arange(n)))
    best, best_start = -1.0, None
    i = int(failures[0])
    while True:
        k = int(np.searchsorted(back, i, side="right"))
        if k < len(back):
            end_index = int(back[k])
            end_t = float(reqs.t[end_index])
        else:  # never back: the outage spans to the last failure
            end_index = n
            end_t = float(reqs.t[failures[-1]])
        start_t = float(reqs.t[i])
        under_way = start_t >= starting_in[0] or end_t > starting_in[0]
        if start_t < starting_in[1] and under_way and end_t - start_t > best:
            best, best_start = end_t - start_t, start_t
        nxt = int(np.searchsorted(failures, end_index, side="left"))
        if nxt >= len(failures):
            break
        i = int(failures[nxt])
    return (0.0, None) if best_start is None else (best, best_start)


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
    fail = ~reqs.ok
    if not fail.any():
        return 0.0, None
    padded = np.concatenate(([False], fail, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # first index after the run
    n = len(reqs.t)
    end_t = np.where(ends < n, reqs.t[np.minimum(ends, n - 1)], reqs.t[ends - 1])
    spans = end_t - reqs.t[starts]
    if starting_in is not None:
        first = reqs.t[starts]
        keep = (first < starting_in[1]) & ((first >= starting_in[0]) | (end_t > starting_in[0]))
        if not keep.any():
            return 0.0, None
        spans = np.where(keep, spans, -1.0)
    best = int(np.argmax(spans))
    return float(spans[best]), float(reqs.t[starts[best]])


def time_to_recover(
    reqs: Requests, from_s: float, window: float, slo: float, end_s: float
) -> float | None:
    """Seconds from ``from_s`` to the start of the first window meeting the SLO.

    Candidate windows ``[s, s + window)`` start at ``from_s`` itself or at any
    request start after it, must end by ``end_s`` and hold at least one request
    with ``ok / requests >= slo``. None means the stack never recovered.
    """
    lo = int(np.searchsorted(reqs.t, from_s, side="left"))
    starts = np.concatenate(([from_s], reqs.t[lo:]))
    starts = starts[starts + window <= end_s + 1e-9]
    if len(starts) == 0:
        return None
    cum_ok = np.concatenate(([0], np.cumsum(reqs.ok, dtype=np.int64)))
    first = np.searchsorted(reqs.t, starts, side="left")
    last = np.searchsorted(reqs.t, starts + window, side="left")
    total = last - first
    good = cum_ok[last] - cum_ok[first]
    # Compare in integers-ish form to avoid 0.99 * n rounding surprises at exact SLOs.
    meets = (total > 0) & (good >= slo * total - 1e-9)
    hits = np.flatnonzero(meets)
    return None if len(hits) == 0 else float(starts[hits[0]] - from_s)
