"""FaultRunner: applies and reverts planned faults, journaled and timed.

Thread safety: one re-entrant lock serialises apply, revert and revert_all, so
the orchestrator may apply/revert from a scheduler thread while the main
thread calls revert_all on a signal. A fault is registered as active *before*
it is applied, so a half-applied fault is reverted too, and it leaves the
active set only after a verified revert: a revert that failed is retried by
revert_all, and the journal is closed only when nothing is left.

The active set is keyed by (fault index, occurrence), never by the report name,
so two faults can never overwrite each other's undo state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from harness.engine import containers as engine_containers
from harness.engine import helpers as engine_helpers
from harness.engine import registry as engines
from harness.engine.containers import Target
from harness.errors import FaultError, HarnessError, RevertError
from harness.evidence.events import EventLog
from harness.evidence.journal import Journal, state_dir
from harness.faults import heal as healing
from harness.faults import registry
from harness.faults.base import Fault, FaultContext
from harness.faults.ports import Containers, Helpers
from harness.records import (
    EV_FAULT_APPLY,
    EV_FAULT_ERROR,
    EV_FAULT_PREFLIGHT,
    EV_FAULT_REVERT,
    EV_TARGET_GONE,
)
from harness.scenario.plan import PlannedFault

Slot = tuple[int, int]  # (fault index, occurrence): unique within a plan
SelectFn = Callable[[str, tuple[int, ...]], list[Target]]  # (service, replicas) -> targets


def _slot(step: PlannedFault) -> Slot:
    return (step.fault_index, step.occurrence)


@dataclass
class _Active:
    step: PlannedFault
    fault: Fault[Any]
    seq: int


def _planned_mono(planned_wall: float) -> float:
    """The monotonic time that corresponds to a wall-clock time (same offset as now)."""
    return time.monotonic() - (time.time() - planned_wall)


@dataclass
class _Attempt:
    """One apply or revert of a step, timed from when it began; ends as one event."""

    kind: str  # EV_FAULT_APPLY or EV_FAULT_REVERT
    step: PlannedFault
    planned: float | None  # the plan's offset (s from t0)
    planned_wall: float
    wall_start: float = field(default_factory=time.time)
    mono_start: float = field(default_factory=time.monotonic)

    def fields(
        self, names: list[str], *, error: str | None = None, fault: Fault[Any] | None = None
    ) -> dict[str, Any]:
        """The event: the step, its targets, planned and actual times, the outcome."""
        step = self.step
        fields: dict[str, Any] = {
            "fault": step.name,
            "key": step.key,
            "type": step.type,
            "index": step.fault_index,
            "occurrence": step.occurrence,
            "service": step.service,
            "targets": names,
            "planned": self.planned,
            "planned_wall": self.planned_wall,
            "planned_mono": _planned_mono(self.planned_wall),
            "wall_start": self.wall_start,
            "wall_end": time.time(),
            "mono_start": self.mono_start,
            "mono_end": time.monotonic(),
            "ok": error is None,
            "error": error,
            "self_healing": registry.get(step.type).instant,
        }
        if fault is not None and "mechanism" in fault.state:
            fields["mechanism"] = fault.state["mechanism"]
        if fault is not None and "replaced" in fault.state:  # swarm: the tasks that took over
            fields["replaced"] = fault.state["replaced"]
        if fault is not None and fault.gone:
            fields["gone"] = sorted(fault.gone)
        return fields


class FaultRunner:
    """Applies, verifies and reverts the faults of one run."""

    def __init__(
        self,
        *,
        project: str,
        run_id: str,
        run_dir: Path,
        events: EventLog,
        margin: float = 30.0,
        containers: Containers | None = None,
        helpers: Helpers | None = None,
        heal: Callable[..., healing.CleanupResult] = healing.heal,
        select: SelectFn | None = None,
        engine: str | None = None,
    ) -> None:
        """``margin``: how long a network helper outlives its planned window (dead-man).

        ``containers``, ``helpers`` and ``heal`` are the engine access (the real
        modules by default); unit tests pass fakes. ``select``: the engine port's
        target selection (compose replicas through ``containers`` by default).
        """
        self._heal = heal
        self.project = project
        self.engine = engine or engines.default().name  # stack.engine
        kind = engines.get(self.engine)
        # The engine's own container and helper calls unless handed fakes (unit tests).
        self.containers: Containers = containers or cast(
            Containers, kind.containers or engine_containers
        )
        self.helpers: Helpers = helpers or cast(Helpers, kind.helpers or engine_helpers)
        self._select: SelectFn = select or (
            lambda service, replicas: self.containers.resolve(project, service, replicas)
        )
        self.margin = margin
        self.run_id = run_id
        self.events = events
        try:
            self.journal = Journal(
                run_id, project, [run_dir / "journal.jsonl", state_dir() / f"{run_id}.jsonl"]
            )
        except FileExistsError as exc:
            raise FaultError(
                f"a journal for run {run_id} already exists ({exc.filename})",
                hint="run ids are unique per run; start the run again",
            ) from exc
        self._lock = threading.RLock()
        self._active: dict[Slot, _Active] = {}
        self._current: PlannedFault | None = None

    # ------------------------------------------------------------------ context
    def _ctx(self) -> FaultContext:
        return FaultContext(
            project=self.project,
            run_id=self.run_id,
            on_gone=self._gone,
            margin=self.margin,
            containers=self.containers,
            helpers=self.helpers,
            engine=self.engine,
        )

    def _gone(self, name: str, phase: str, reason: str) -> None:
        step = self._current
        self.events.emit(
            EV_TARGET_GONE,
            fault=step.name if step else None,
            key=step.key if step else None,
            container=name,
            phase=phase,
            reason=reason,
        )

    # ------------------------------------------------------------------ API
    def preflight(self, steps: Sequence[PlannedFault]) -> None:
        """Check every fault can run here (helper image, netem...) before load starts."""
        classes = {s.type: registry.get(s.type) for s in steps}
        if any(c.uses_helper for c in classes.values()):
            self.helpers.ensure_image()
        ctx = self._ctx()
        for s in steps:
            classes[s.type].preflight(s, ctx)
            mechanism = classes[s.type].mechanism(s, ctx)
            if mechanism is not None:
                self.events.emit(
                    EV_FAULT_PREFLIGHT, fault=s.name, key=s.key, type=s.type, mechanism=mechanism
                )

    def heal_leftovers(self) -> list[str]:
        """Revert what dead runs of this project left behind; returns descriptions.

        Raises RevertError when something could not be undone.
        """
        result = self._heal(project=self.project, exclude_run=self.run_id)
        if result.failed:
            raise RevertError(
                "leftovers of a dead run could not be reverted: " + "; ".join(result.failed),
                hint="run `hachaos cleanup` and check the stack by hand",
            )
        return result.done

    def apply(self, step: PlannedFault, *, planned_wall: float) -> None:
        """Resolve targets, journal, apply and verify; emits fault.apply.

        Raises FaultError when the fault is not in effect (what was applied is undone).
        """
        with self._lock:
            if _slot(step) in self._active:
                # Never overwrite the undo state of a fault still in effect.
                raise FaultError(
                    f"{step.key}: fault {step.fault_index + 1} occurrence"
                    f" {step.occurrence + 1} is already applied",
                    hint="every fault needs a unique name; run `hachaos validate`",
                )
            self._current = step
            attempt = _Attempt(EV_FAULT_APPLY, step, step.start, planned_wall)
            names: list[str] = []
            cls = registry.get(step.type)
            try:
                targets = self._select(step.service, step.replicas)
                names = [t.name for t in targets]
                ctx = self._ctx()
                state = cls.plan(step, targets, ctx)
                seq = self.journal.intent(step.key, step.type, state)
                fault = cls(ctx, state)
                self._active[_slot(step)] = _Active(step, fault, seq)
                fault.apply()
                fault.verify()
            except HarnessError as exc:
                self._failed(attempt, names, "apply", exc)
                self._undo_failed_apply(step)
                if isinstance(exc, FaultError):
                    raise
                raise FaultError(f"{step.key}: {exc.message}", hint=exc.hint) from exc
            self.journal.mark("applied", seq)
            if cls.instant:
                self._active.pop(_slot(step), None)
                self.journal.mark("reverted", seq, self_healing=True)
            self.events.emit(attempt.kind, **attempt.fields(names, fault=fault))

    def revert(self, step: PlannedFault, *, planned_wall: float | None = None) -> None:
        """Revert and verify; emits fault.revert. No-op when the fault is not active.

        Raises RevertError when the fault could not be undone.
        """
        with self._lock:
            entry = self._active.get(_slot(step))
            if entry is None:
                return
            self._revert(entry, planned_wall)
            del self._active[_slot(step)]  # only once the revert is verified

    def revert_all(self) -> list[RevertError]:
        """Revert every active fault, newest first. Never raises; returns the failures."""
        failures: list[RevertError] = []
        with self._lock:
            for slot in sorted(self._active, key=lambda k: self._active[k].seq, reverse=True):
                entry = self._active[slot]
                try:
                    self._revert(entry, None)
                except RevertError as exc:
                    failures.append(exc)
                    continue
                except Exception as exc:  # revert_all must never raise
                    failures.append(
                        RevertError(f"{entry.step.key}: unexpected error on revert: {exc!r}")
                    )
                    continue
                del self._active[slot]
            try:
                # Writes `closed` only when every intent of the run has a `reverted` line.
                if not self._active and not self.journal.close():
                    failures.append(
                        RevertError(
                            "the journal still lists faults whose revert was never confirmed",
                            hint=f"run `hachaos cleanup --run {self.run_id}`",
                        )
                    )
            except OSError as exc:
                failures.append(RevertError(f"could not close the journal: {exc}"))
        return failures

    def active(self) -> list[str]:
        """Keys of the faults currently in effect (or whose revert failed).

        Never waits for the lock: the scheduler asks while a revert holds it (a Swarm
        task replacement may take a minute), and its ticks, phase events and stop
        conditions must not wait that long. Copying the values is one C call under the
        GIL, so the answer is a consistent snapshot.
        """
        return [a.step.key for a in list(self._active.values())]

    # ------------------------------------------------------------------ internals
    def _revert(self, entry: _Active, planned_wall: float | None) -> None:
        step, fault = entry.step, entry.fault
        self._current = step
        planned = planned_wall if planned_wall is not None else time.time()
        attempt = _Attempt(EV_FAULT_REVERT, step, step.end, planned)
        self.journal.mark("revert", entry.seq)

        def reverted() -> None:
            self.journal.mark("reverted", entry.seq)
            self.events.emit(attempt.kind, **attempt.fields(fault.names(), fault=fault))

        try:
            released = fault.undo(verified=reverted)
        except HarnessError as exc:
            self.journal.mark("revert_failed", entry.seq, error=str(exc))
            self._failed(attempt, fault.names(), "revert", exc)
            raise RevertError(
                f"{step.key} ({step.type}) was NOT reverted on {fault.names()}: {exc.message}",
                hint="the stack may still be degraded; run `hachaos cleanup --run "
                f"{self.run_id}` and check it by hand",
            ) from exc
        self._release_failed(step, released)

    def _failed(self, attempt: _Attempt, names: list[str], phase: str, exc: HarnessError) -> None:
        """A failed apply or revert: its event (ok false) and a fault.error."""
        step = attempt.step
        self.events.emit(attempt.kind, **attempt.fields(names, error=str(exc)))
        self.events.emit(EV_FAULT_ERROR, fault=step.name, key=step.key, phase=phase, error=str(exc))

    def _release_failed(self, step: PlannedFault, error: HarnessError | None) -> None:
        """The fault is verified gone; a stuck helper is reported, not fatal."""
        if error is not None:
            self.events.emit(
                EV_FAULT_ERROR, fault=step.name, key=step.key, phase="release", error=str(error)
            )

    def _undo_failed_apply(self, step: PlannedFault) -> None:
        entry = self._active.get(_slot(step))
        if entry is None:
            return
        try:
            released = entry.fault.undo()
        except Exception as exc:
            # Stays active (revert_all retries it) and pending in the journal
            # (so `hachaos cleanup` retries it if this process dies).
            self.journal.mark("revert_failed", entry.seq, error=str(exc))
            self.events.emit(
                EV_FAULT_ERROR,
                fault=step.name,
                key=step.key,
                phase="revert",
                error=f"undo of failed apply: {exc}",
            )
            return
        del self._active[_slot(step)]
        self.journal.mark("reverted", entry.seq, after="failed apply")
        self._release_failed(step, released)
