"""The figures of a run's requests: two passes over its samples, chunk by chunk, in start order.

Peak memory does not depend on the run's length (docs/performance.md). What each
pass keeps:

1. **Recovery.** Each fault's time to recover (:class:`RecoverySearch`: the requests of
   one recovery window) and the last request's time, which together fix the end of
   the run, every fault's impact and so the phases.
2. **Everything else**, the phases now known: per phase, per fault and overall a
   :class:`Tally` (counts per outcome and two HdrHistograms, merged exactly chunk by
   chunk); per fault its failures, detection and longest outage (:class:`BackFlags`
   holds one second of requests, :class:`FailureRuns` one open run); the longest
   failure span; the series (:class:`SeriesBuilder`: one bucket of requests, 1 s up to 2 h runs).

Every figure equals the one computed over all requests at once: the operators are
the definitions of docs/metrics.md, fed in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.analysis.latency import PERCENTILES, FloatArray
from harness.analysis.metrics import Indexed, SeriesBuilder, Tally
from harness.analysis.phases import PHASES, FaultWindow, Phases, phases
from harness.analysis.recovery import BackFlags, FailureRuns, Longest, RecoverySearch
from harness.analysis.sample_file import SampleFile
from harness.analysis.samples import Timeline
from harness.analysis.summary_model import FaultRecord
from harness.scenario.models import RecoveryChecks


def measured_end(meta: dict[str, Any], abort: dict[str, Any] | None = None) -> float:
    """Seconds from t0 to the planned end of measurement, cut short by an early stop.

    An aborted run measures one cooldown after its faults were reverted, then ends.
    """
    end = float(meta.get("duration", 0.0)) + float(meta.get("cooldown", 0.0))
    ended = meta.get("ended_wall")
    if ended is not None and meta.get("outcome") != "completed":
        end = min(end, float(ended) - float(meta["t0_wall"]))
    if abort is not None:
        reverted = abort["reverted_s"] if abort["reverted_s"] is not None else abort["aborted_s"]
        end = min(end, float(reverted) + float(meta.get("cooldown", 0.0)))
    return max(end, 0.0)


def end_after(
    meta: dict[str, Any], last_t: float | None, abort: dict[str, Any] | None = None
) -> float:
    """:func:`measured_end`, moved out past the last measured request if one started later."""
    end = measured_end(meta, abort)
    if last_t is not None:
        end = max(end, last_t + 1e-6)
    return end


def end_of_run(meta: dict[str, Any], tl: Timeline, abort: dict[str, Any] | None = None) -> float:
    """:func:`end_after` the last request of a whole timeline."""
    return end_after(meta, float(tl.t[-1]) if len(tl) else None, abort)


def series_span(
    meta: dict[str, Any], end_s: float, abort: dict[str, Any] | None = None
) -> tuple[float, float]:
    """Seconds from t0 during which the load was sending and being measured.

    From t0 (or the generator's first send, if later) to the planned end of
    measurement (or the generator's last send, if earlier). Runs whose run.json
    has no generator span, or no timing, fall back to ``[0, end_s]``.
    """
    t0 = float(meta["t0_wall"])
    gen = meta.get("generator") or {}
    planned = measured_end(meta, abort)
    lo, hi = 0.0, planned if planned > 0 else end_s
    if gen.get("sending_from_wall") is not None:
        lo = max(lo, float(gen["sending_from_wall"]) - t0)
    if gen.get("sending_until_wall") is not None:
        hi = min(hi, float(gen["sending_until_wall"]) - t0)
    return lo, hi


@dataclass(frozen=True)
class Measured:
    """Every figure the summary takes from the requests."""

    end_s: float
    has_schedule: bool  # open model: corrected latency is the headline
    requests_measured: int  # rows at or after t0, dropped ones included
    warmup_requests: int
    faults: list[FaultRecord]  # p99_inflation not set yet
    phase_map: Phases
    metrics: dict[str, dict[str, Any]]  # overall and per phase
    longest_failure_span: tuple[float, float | None]
    series: dict[str, Any]  # SeriesBuilder.finish()
    distribution: dict[str, list[list[float]] | None]

    @property
    def kind(self) -> str:
        return "corrected" if self.has_schedule else "raw"


@dataclass
class _Recovery:
    """Pass 1: the last request, the schedule flag, each fault's time to recover."""

    searches: dict[str, RecoverySearch]
    count: int = 0
    warmup: int = 0
    has_schedule: bool = False
    last_t: float | None = None

    def feed(self, tl: Timeline) -> None:
        self.count += len(tl)
        self.warmup += tl.warmup_requests
        self.has_schedule |= tl.has_schedule
        if len(tl):
            self.last_t = float(tl.t[-1])
        if self.searches:
            counted = tl.counted
            t, ok = tl.t[counted], tl.ok[counted]
            for search in self.searches.values():
                search.feed(t, ok)


# What the fault record copies from the event log's window as it is.
_AS_HAPPENED = (
    "key",
    "name",
    "type",
    "index",
    "occurrence",
    "planned_s",
    "applied",
    "self_healing",
    "mechanism",
    "error",
    "injected_s",
    "in_effect_s",
    "reverted_s",
    "revert_ok",
)


@dataclass
class _Fault:
    """Pass 2, one fault: its impact ``[injected, impact_end)`` and window figures."""

    window: FaultWindow
    ttr: float | None
    recovered_at: float | None
    impact_end: float
    window_end: float
    tally: Tally = field(default_factory=Tally)
    failures_in_window: int = 0
    detected: float | None = None
    outage: Longest = field(default_factory=Longest)

    def __post_init__(self) -> None:
        self.outage = Longest((self.window.injected_s, self.impact_end))

    def feed(self, chunk: Indexed, t: FloatArray, ok: np.ndarray) -> None:
        """A chunk, and its counted requests (start time, success)."""
        f = self.window
        self.tally.add(chunk, chunk.tl.span(f.injected_s, self.impact_end))
        lo, hi = np.searchsorted(t, [f.injected_s, self.window_end], side="left")
        self.failures_in_window += int((~ok[lo:hi]).sum())
        if f.applied and self.detected is None:
            lo, hi = np.searchsorted(t, [f.injected_s, self.impact_end], side="left")
            failed = np.flatnonzero(~ok[lo:hi])
            if len(failed):
                self.detected = float(t[lo + failed[0]] - f.injected_s)

    def record(self, kind: str, has_schedule: bool) -> FaultRecord:
        f, start = self.window, self.window.recovery_from
        if not f.applied:
            note = "fault was not applied"
        elif start is None:
            note = "no revert was logged (run stopped early or revert failed)"
        elif self.ttr is None:
            note = "not recovered before the run ended"
        else:
            note = ""
        figures = self.tally.metrics(self.impact_end - f.injected_s, has_schedule)
        span, span_start = self.outage.result()
        return FaultRecord(
            **{name: getattr(f, name) for name in _AS_HAPPENED},
            targets=list(f.targets),
            window_end_s=self.window_end,
            recovery_from_s=start,
            recovered=self.recovered_at is not None,
            recovered_at_s=self.recovered_at,
            ttr_s=self.ttr,
            recovery_note=note,
            detection_s=self.detected,
            failures=figures["failed"],
            failures_in_window=self.failures_in_window,
            requests=figures["requests"],
            outage_s=span,
            outage_start_s=span_start,
            p99_ms=(figures["latency_ms"].get(kind) or {}).get("p99"),
            p99_inflation=None,  # set once the baseline is known
        )


def measure(
    samples: SampleFile,
    meta: dict[str, Any],
    windows: list[FaultWindow],
    abort: dict[str, Any] | None,
    recovery: RecoveryChecks,
    percentiles: tuple[float, ...] = PERCENTILES,
) -> Measured:
    """Every figure of the requests, reading ``samples`` (in start order) twice."""
    t0 = float(meta["t0_wall"])
    first = _Recovery(
        {
            f.key: RecoverySearch(f.recovery_from, recovery.window, recovery.slo)
            for f in windows
            if f.applied and f.recovery_from is not None
        }
    )
    for tl in samples.timelines(t0):
        first.feed(tl)
    end_s = end_after(meta, first.last_t, abort)
    faults = []
    for f in windows:
        search = first.searches.get(f.key)
        ttr = None if search is None else search.finish(end_s)
        start = f.recovery_from
        recovered_at = None if ttr is None or start is None else start + ttr
        impact_end = end_s if recovered_at is None else max(recovered_at, f.window_end(end_s))
        faults.append(_Fault(f, ttr, recovered_at, impact_end, f.window_end(end_s)))
    phase_map = phases(windows, {f.window.key: f.recovered_at for f in faults}, end_s)
    sending = series_span(meta, end_s, abort)
    second = _Figures(faults, phase_map, SeriesBuilder(end_s=sending[1], start_s=sending[0]))
    for tl in samples.timelines(t0):
        second.feed(tl)
        del tl  # before the next chunk is read: one at a time
    second.finish()

    has, kind = first.has_schedule, "corrected" if first.has_schedule else "raw"
    tallies = second.tallies
    metrics = {"overall": tallies["overall"].metrics(end_s, has, percentiles)}
    for name in PHASES:
        metrics[name] = tallies[name].metrics(phase_map.duration(name), has, percentiles)
    return Measured(
        end_s=end_s,
        has_schedule=has,
        requests_measured=first.count,
        warmup_requests=first.warmup,
        faults=[f.record(kind, has) for f in faults],
        phase_map=phase_map,
        metrics=metrics,
        longest_failure_span=second.longest.result(),
        series=second.series.finish(),
        distribution=tallies["overall"].distribution(has),
    )


class _Figures:
    """The second pass: per phase, per fault and overall, the longest failure span and
    the per-second series, the phases being known."""

    def __init__(self, faults: list[_Fault], phase_map: Phases, series: SeriesBuilder) -> None:
        self.faults, self.phase_map, self.series = faults, phase_map, series
        self.tallies = {name: Tally() for name in ("overall", *PHASES)}
        self.consecutive, self.longest = FailureRuns(), Longest()
        self.flags, self.outages = BackFlags(), FailureRuns()

    def feed(self, tl: Timeline) -> None:
        chunk = Indexed.of(tl)
        self.tallies["overall"].add(chunk, slice(None))
        labels = self.phase_map.label_of(tl.t)
        for code, name in enumerate(PHASES):
            self.tallies[name].add(chunk, labels == code)
        counted = tl.counted
        t, ok = tl.t[counted], tl.ok[counted]
        self.longest.add(*self.consecutive.feed(t, ~ok, ok))
        self._outage_runs(*self.flags.feed(t, ok))
        for fault in self.faults:
            fault.feed(chunk, t, ok)
        self.series.feed(chunk)

    def finish(self) -> None:
        self.longest.add(*self.consecutive.finish())
        self._outage_runs(*self.flags.finish())
        starts, ends = self.outages.finish()
        for fault in self.faults:
            fault.outage.add(starts, ends)

    def _outage_runs(self, t: FloatArray, ok: np.ndarray, back: np.ndarray) -> None:
        starts, ends = self.outages.feed(t, ~ok, back)
        for fault in self.faults:
            fault.outage.add(starts, ends)
