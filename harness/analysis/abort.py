"""Stop conditions, judged live: windowed stats over the newest samples, consecutive failures.

Pure: the orchestrator feeds request samples (wall time of the send, latency,
success) and probe/command results; :meth:`AbortMonitor.advance` walks a fixed
grid of instants up to the newest sample and reports the first instant at which
a windowed condition holds. That instant, not the moment the code noticed it, is
the condition's time; the gap between the two is the detection latency.

Window at instant ``t``: the requests sent in ``(t - over, t]``, warmup excluded
(as in every metric: a window never reaches before t = 0). Availability is
the share with outcome ``ok``; error rate its complement; p99 is the nearest-rank
99th percentile (the value at rank ``ceil(0.99 n)``) of the answered requests'
latencies. A window with fewer than ``min_requests`` requests is not judged.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.records import EV_ABORT, EV_ABORT_REVERTED
from harness.scenario.guards import (
    AbortCondition,
    AvailabilityBelow,
    CommandFails,
    ErrorRateAbove,
    P99Above,
    ProbeFails,
)

GRID_S = 0.25  # resolution of the condition time


@dataclass(frozen=True)
class LiveSample:
    """One request as the live stream gives it."""

    t: float  # wall s when it was sent
    latency_ms: float  # NaN: no answer (still counted as a failure)
    ok: bool


@dataclass(frozen=True)
class WindowFigures:
    requests: int
    availability: float | None
    p99_ms: float | None
    error_rate: float | None = None  # failed / requests (not 1 - availability: exact at bounds)


@dataclass(frozen=True)
class Trip:
    """A stop condition that held."""

    index: int  # position in ``abort.conditions``
    type: str
    condition: str  # human text, e.g. "availability < 50% over 10s"
    at: float  # wall s when it held
    measured: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(cond: AbortCondition) -> str:
    """The condition as one line of text."""
    if isinstance(cond, AvailabilityBelow):
        return f"availability < {cond.below * 100:g}% over {cond.over:g}s"
    if isinstance(cond, ErrorRateAbove):
        return f"error rate > {cond.above * 100:g}% over {cond.over:g}s"
    if isinstance(cond, P99Above):
        return f"p99 > {cond.above * 1000:g} ms over {cond.over:g}s"
    if isinstance(cond, ProbeFails):
        where = f"{cond.service}:{cond.port}" if cond.service else "target"
        return f"probe {where}{cond.path} failed {cond.failures}x in a row"
    return f"command {' '.join(cond.argv)[:200]} failed {cond.failures}x in a row"


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The value at rank ``ceil(q/100 * n)`` of the sorted values (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def _send_time(sample: LiveSample) -> float:
    return sample.t


class SampleWindow:
    """Samples ordered by send time; figures over any ``(end - over, end]``."""

    def __init__(self) -> None:
        self._t: list[float] = []
        self._rows: list[LiveSample] = []

    def add(self, samples: Iterable[LiveSample]) -> None:
        """Take in a chunk (in any order); a sample lands after those of the same time."""
        rows = sorted(samples, key=_send_time)  # stable: equal times keep their order
        if not rows:
            return
        i = bisect.bisect_right(self._t, rows[0].t)  # only the tail after it moves
        if i < len(self._rows):
            rows = list(heapq.merge(self._rows[i:], rows, key=_send_time))
            del self._t[i:], self._rows[i:]
        self._t.extend(r.t for r in rows)
        self._rows.extend(rows)

    def forget_before(self, t: float) -> None:
        i = bisect.bisect_left(self._t, t)
        del self._t[:i], self._rows[:i]

    def __len__(self) -> int:
        return len(self._t)

    def figures(self, end: float, over: float, since: float = -math.inf) -> WindowFigures:
        """Over the requests sent in ``(end - over, end]`` and not before ``since``."""
        lo = max(bisect.bisect_right(self._t, end - over), bisect.bisect_left(self._t, since))
        hi = bisect.bisect_right(self._t, end)
        rows = self._rows[lo:hi]
        if not rows:
            return WindowFigures(0, None, None)
        ok = sum(1 for r in rows if r.ok)
        lats = [r.latency_ms for r in rows if not math.isnan(r.latency_ms)]
        n = len(rows)
        return WindowFigures(n, ok / n, nearest_rank(lats, 99), (n - ok) / n)


def _judge(cond: AbortCondition, fig: WindowFigures) -> tuple[bool, float | None, str]:
    """(holds, measured value, detail) of one windowed condition over one window."""
    if isinstance(cond, AvailabilityBelow | ErrorRateAbove) and fig.availability is not None:
        if isinstance(cond, AvailabilityBelow):
            value, holds = fig.availability, fig.availability < cond.below
            return holds, value, f"availability {value * 100:.1f}% of {fig.requests} requests"
        value = fig.error_rate if fig.error_rate is not None else 1.0 - fig.availability
        holds = value > cond.above
        return holds, value, f"error rate {value * 100:.1f}% of {fig.requests} requests"
    if isinstance(cond, P99Above) and fig.p99_ms is not None:
        holds = fig.p99_ms > round(cond.above * 1000.0, 6)  # s → ms exactly at the bound
        return holds, fig.p99_ms, f"p99 {fig.p99_ms:.1f} ms of {fig.requests} requests"
    return False, None, ""


class AbortMonitor:
    """Judges every condition; the first that holds wins and the monitor stops judging."""

    def __init__(self, conditions: Sequence[AbortCondition], start: float, end: float) -> None:
        """Judge instants in ``[start, end)`` (wall s: t = 0 to the end of ``duration``)."""
        self.conditions = list(conditions)
        self.start, self.end = start, end
        self.window = SampleWindow()
        self.next_instant = start
        self.horizon = -math.inf  # newest send time seen
        self.complete_before: float | None = None  # the feed's watermark, when it gives one
        self.tripped: Trip | None = None
        self._streak: dict[int, int] = {}
        self._keep = max(
            (
                c.over
                for c in self.conditions
                if isinstance(c, AvailabilityBelow | ErrorRateAbove | P99Above)
            ),
            default=0.0,
        )

    def feed(self, samples: Iterable[LiveSample], complete_before: float | None = None) -> None:
        """Take in samples; ``complete_before``: every request sent before it is in.

        With a watermark, an instant is judged only once the watermark has passed it,
        so a window is never judged before a slower worker's samples (or a request
        still waiting for its answer) have come in. Without one, the newest sample is
        the horizon (a feed that delivers in send order).
        """
        rows = list(samples)
        if rows:
            self.horizon = max(self.horizon, *(r.t for r in rows))
        if self.tripped is None:  # later samples fall in no judged window: never kept
            self.window.add(r for r in rows if r.t < self.end)
        if complete_before is not None:
            self.complete_before = max(self.complete_before or -math.inf, complete_before)

    def _judgeable(self, at: float) -> bool:
        if at >= self.end:
            return False
        if self.complete_before is not None:
            return at < self.complete_before
        return at <= self.horizon

    def advance(self) -> Trip | None:
        """Judge the windowed conditions at each grid instant up to the newest sample."""
        windowed = [
            (i, c)
            for i, c in enumerate(self.conditions)
            if isinstance(c, AvailabilityBelow | ErrorRateAbove | P99Above)
        ]
        while self.tripped is None and self._judgeable(self.next_instant):
            at = self.next_instant
            for i, cond in windowed:
                fig = self.window.figures(at, cond.over, since=self.start)
                if fig.requests < cond.min_requests:
                    continue
                holds, measured, detail = _judge(cond, fig)
                if holds:
                    self.tripped = Trip(i, cond.type, describe(cond), at, measured, detail)
                    break
            self.next_instant = round(at + GRID_S, 6)
        self.window.forget_before(self.next_instant - self._keep - GRID_S)
        return self.tripped

    def result(self, index: int, at: float, ok: bool, detail: str) -> Trip | None:
        """One probe or command result of condition ``index``; failures in a row trip it."""
        cond = self.conditions[index]
        if not isinstance(cond, ProbeFails | CommandFails):
            raise ValueError(f"condition {index} is not a probe or a command")
        if self.tripped is not None or not self.start <= at < self.end:
            return self.tripped
        streak = 0 if ok else self._streak.get(index, 0) + 1
        self._streak[index] = streak
        if streak >= cond.failures:
            self.tripped = Trip(index, cond.type, describe(cond), at, float(streak), detail)
        return self.tripped


def abort_record(events: Sequence[Mapping[str, Any]], t0: float) -> dict[str, Any] | None:
    """The summary's ``abort`` object from the run's events (None when the run was not aborted).

    Times are seconds from t0; ``detection_s`` is condition → abort, ``revert_s``
    condition → every fault reverted.
    """
    trip = next((e for e in events if e.get("kind") == EV_ABORT), None)
    if trip is None:
        return None
    done = next((e for e in events if e.get("kind") == EV_ABORT_REVERTED), None)
    cond_wall = float(trip["condition_wall"])
    wall = float(trip["wall"])
    reverted_wall = float(done["wall"]) if done is not None else None
    return {
        "condition": trip.get("condition"),
        "type": trip.get("type"),
        "index": trip.get("index"),
        "measured": trip.get("measured"),
        "detail": trip.get("detail"),
        "condition_s": cond_wall - t0,
        "aborted_s": wall - t0,
        "reverted_s": None if reverted_wall is None else reverted_wall - t0,
        "detection_s": wall - cond_wall,
        "revert_s": None if reverted_wall is None else reverted_wall - cond_wall,
        "reverted": list(done.get("reverted") or []) if done is not None else [],
        "revert_ok": bool(done.get("ok")) if done is not None else False,
        "cancelled": list(trip.get("cancelled") or []),
    }


def abort_reason(record: Mapping[str, Any]) -> str:
    """The verdict reason of an aborted run."""
    return f"aborted at t={record['condition_s']:.2f}s: {record['condition']}" + (
        f" ({record['detail']})" if record.get("detail") else ""
    )
