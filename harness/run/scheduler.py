"""The fault scheduler: each fault action at its time, the stop conditions, the abort.

Everything that is due at a moment sits in one time-ordered queue (a heap): the
phase changes, the steady-state round before the first fault, each apply and
revert, the progress ticks and the end of the run. Each pass of the loop takes
what is due, checks the stop conditions after the bookkeeping and before any
fault action, and then sleeps until the next entry, at most 0.25 s so that a stop
condition is seen that soon. Fault actions run in worker threads, so a slow one
delays no other; a failed one ends the run on the next pass.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from harness.analysis.abort import Trip
from harness.analysis.steady import first_failure, not_steady_message
from harness.errors import FaultError, HarnessError, LoadError, NotSteady
from harness.records import EV_ABORT, EV_ABORT_REVERTED, EV_PHASE, EV_STEADY
from harness.run.context import RunContext
from harness.run.progress import Progress
from harness.run.schedule import Action, actions_for

TICK_S = 1.0  # progress refresh period
MAX_NAP_S = 0.25  # longest sleep between passes: how late a stop condition may be seen
_log = logging.getLogger(__name__)


class Kind(IntEnum):
    """What a queue entry is; at one instant, entries run in this order."""

    PHASE = 0  # warmup -> run -> cooldown
    STEADY = 1  # the steady-state round before the first fault (stop conditions come next)
    ACTION = 2  # apply or revert one fault
    END = 3  # the run's load ends (never before the last action)
    TICK = 4  # refresh the progress display


@dataclass(order=True, frozen=True)
class Due:
    at: float  # monotonic s
    kind: Kind
    seq: int  # at one instant and kind: the order of entry
    item: Any = field(compare=False, default=None)


class Timeline:
    """A time-ordered queue of what is due, by (time, kind, order of entry)."""

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = itertools.count()

    def add(self, at: float, kind: Kind, item: Any = None) -> None:
        heapq.heappush(self._heap, Due(at, kind, next(self._seq), item))

    def due(self, now: float) -> Due | None:
        """The first entry due at ``now``, left in the queue."""
        return self._heap[0] if self._heap and self._heap[0].at <= now else None

    def pop(self) -> Due:
        return heapq.heappop(self._heap)

    def next_at(self) -> float:
        return self._heap[0].at

    def drop(self, kind: Kind) -> list[Due]:
        """Remove every entry of ``kind``; returns them in time order."""
        gone = sorted(d for d in self._heap if d.kind == kind)
        self._heap = [d for d in self._heap if d.kind != kind]
        heapq.heapify(self._heap)
        return gone


def check_steady(ctx: RunContext, stage: str) -> None:
    """One steady-state round; before the faults, a failure stops the run (NotSteady)."""
    spec = ctx.scenario.steady_state
    if spec is None:
        return
    results = ctx.use.steady_round(spec.probes, ctx.endpoints())
    failed = first_failure(results)
    ctx.events.emit(
        EV_STEADY,
        stage=stage,
        ok=failed is None,
        wall=ctx.clock.wall(),
        results=[r.to_dict() for r in results],
    )
    if failed is None:
        return
    if stage == "before":
        raise NotSteady(
            not_steady_message(failed),
            hint="nothing was injected; fix the stack or the steady_state probes and re-run",
        )
    ctx.notice(f"not steady after the cooldown: {failed.probe}: {failed.saw}")


class FaultScheduler:
    """Runs the schedule of one run from its t0 (wall and monotonic) to its end."""

    def __init__(self, ctx: RunContext, *, t0_wall: float, t0_mono: float, end_mono: float):
        self.ctx = ctx
        self.t0_wall, self.t0_mono = t0_wall, t0_mono
        self.timeline = Timeline()
        self.applies: dict[tuple[int, int], Future[None]] = {}  # by (fault index, occurrence)
        self.running: list[Future[None]] = []
        timing = ctx.scenario.timing
        actions = actions_for(ctx.plan.steps)
        self.timeline.add(t0_mono, Kind.PHASE, "run")
        self.timeline.add(t0_mono + timing.duration, Kind.PHASE, "cooldown")
        if ctx.scenario.steady_state is not None:  # before the first action at t >= 0
            self.timeline.add(t0_mono, Kind.STEADY)
        for action in actions:
            self.timeline.add(t0_mono + action.at, Kind.ACTION, action)
        self.timeline.add(max([end_mono] + [t0_mono + a.at for a in actions]), Kind.END)
        self.timeline.add(ctx.clock.mono(), Kind.TICK)

    def run(self) -> None:
        """Until the end: fire what is due; a failed action or a dead load raises."""
        clock = self.ctx.clock
        pool = self.ctx.use.pool(max_workers=4, thread_name_prefix="fault")
        try:
            while True:
                now = clock.mono()
                self._raise_failures()
                due = self.timeline.due(now)
                if due is not None and due.kind < Kind.ACTION:
                    self._bookkeeping(self.timeline.pop())
                    continue
                if self._stop_condition_held(now):
                    continue
                if due is not None:
                    entry = self.timeline.pop()
                    if entry.kind == Kind.END:
                        break
                    if entry.kind == Kind.ACTION:
                        self.running.append(self._fire(pool, entry.item))
                    else:
                        self._tick(now)
                        self.timeline.add(now + TICK_S, Kind.TICK)
                    continue
                self._check_load()
                clock.sleep(max(0.0, min(self.timeline.next_at() - clock.mono(), MAX_NAP_S)))
            for fut in self.running:
                fut.result()  # surfaces a late failure before we call the run complete
        finally:
            # After an interruption no queued action may still start; the cleanup
            # that follows reverts whatever is active.
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ entries
    def _bookkeeping(self, entry: Due) -> None:
        if entry.kind == Kind.PHASE:
            self.ctx.events.emit(EV_PHASE, phase=entry.item)
        else:
            check_steady(self.ctx, "before")

    def _fire(self, pool: Executor, action: Action) -> Future[None]:
        planned_wall = self.t0_wall + action.at
        if action.kind == "apply":
            fut = pool.submit(self.ctx.faults.apply, action.step, planned_wall=planned_wall)
            self.applies[(action.step.fault_index, action.step.occurrence)] = fut
            return fut
        return pool.submit(self._revert_after_apply, action, planned_wall)

    def _revert_after_apply(self, action: Action, planned_wall: float) -> None:
        apply = self.applies.get((action.step.fault_index, action.step.occurrence))
        if apply is not None:
            try:
                apply.result()
            except HarnessError:
                return  # the apply failure is reported by its own future
        self.ctx.faults.revert(action.step, planned_wall=planned_wall)

    def _raise_failures(self) -> None:
        for fut in self.running:
            if fut.done() and fut.exception() is not None:
                exc = fut.exception()
                if isinstance(exc, HarnessError):
                    raise exc
                raise FaultError(f"fault action crashed: {exc!r}") from exc

    def _check_load(self) -> None:
        load = self.ctx.load
        if load is not None and not load.running():
            raise LoadError(
                "the load generator stopped before the run ended: "
                f"{load.stopped_child() or 'it was stopped'}",
                hint="see the Locust logs in the run folder (samples/logs/*.log)",
            )

    def _tick(self, now: float) -> None:
        ctx = self.ctx
        timing = ctx.scenario.timing
        if now < self.t0_mono:
            phase = "warmup"
        elif now < self.t0_mono + timing.duration and ctx.tripped is None:
            phase = "run"
        else:
            phase = "cooldown"
        snap = ctx.load.snapshot() if ctx.load is not None else None
        ctx.progress(
            Progress(
                phase=phase,
                elapsed=now - (self.t0_mono - timing.warmup),
                warmup=timing.warmup,
                total=ctx.total,
                rps=snap.rps if snap else 0.0,
                error_rate=snap.error_rate if snap else 0.0,
                p99_ms=snap.p99_ms if snap else None,
                requests=snap.requests if snap else 0,
                active_faults=tuple(ctx.faults.active()),
            )
        )

    # ------------------------------------------------------------------ abort
    def _stop_condition_held(self, now: float) -> bool:
        """Whether a stop condition just held: then every fault is reverted, no more applied,
        and the cooldown (which still runs whole) starts at once."""
        ctx = self.ctx
        if ctx.watch is None or ctx.tripped is not None or now < self.t0_mono:
            return False
        assert ctx.load is not None
        samples = ctx.load.live_samples()  # before the watermark: it covers what was read
        trip = ctx.watch.check(samples, ctx.load.live_watermark())
        if trip is None:
            return False
        self._abort(trip, [d.item for d in self.timeline.drop(Kind.ACTION)])
        after = ctx.clock.mono()
        if self.timeline.drop(Kind.PHASE):  # straight into the cooldown
            ctx.events.emit(EV_PHASE, phase="cooldown")
        end = min(d.at for d in self.timeline.drop(Kind.END))
        self.timeline.add(min(end, after + ctx.scenario.timing.cooldown), Kind.END)
        return True

    def _abort(self, trip: Trip, pending: list[Action]) -> None:
        """Revert every active fault now; the pending applies are cancelled."""
        ctx = self.ctx
        ctx.tripped = trip
        if ctx.exporter is not None:
            ctx.exporter.abort()
        cancelled = sorted({a.step.key for a in pending if a.kind == "apply"})
        active = ctx.faults.active()
        ctx.events.emit(
            EV_ABORT,
            **trip.to_dict(),
            condition_wall=trip.at,
            wall=ctx.clock.wall(),
            cancelled=cancelled,
            active=active,
        )
        ctx.notice(f"ABORT: {trip.condition} ({trip.detail}); reverting every fault")
        failures = ctx.faults.revert_all()
        # An action already under way (an apply waiting for the runner's lock) may
        # still land: wait for those, then revert whatever they left in effect.
        for fut in self.running:
            try:
                fut.result(timeout=300)
            except Exception:  # reported by _raise_failures on the next pass
                _log.debug("fault action failed during an abort", exc_info=True)
        if ctx.faults.active():
            failures += ctx.faults.revert_all()
        ctx.revert_failed(failures)
        ctx.events.emit(EV_ABORT_REVERTED, wall=ctx.clock.wall(), reverted=active, ok=not failures)
