"""Fault windows from the events log, and the phases of a run.

Times are seconds since t0 (end of warmup). The phases partition the measured
run (warmup is excluded) in this priority order:

1. ``during_faults``: inside any applied fault's window, from injection
   (``fault.apply`` ``wall_start``) to the revert's ``wall_start``;
2. ``recovery``: from a fault's revert (or injection, for self-healing faults)
   until that fault recovered, or until the end if it never did;
3. ``baseline``: before the first injection;
4. ``after_recovery``: everything else.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from harness.records import EV_FAULT_APPLY, EV_FAULT_ERROR, EV_FAULT_REVERT

PHASES: tuple[str, ...] = ("baseline", "during_faults", "recovery", "after_recovery")


@dataclass(frozen=True)
class FaultWindow:
    """One occurrence of one fault, as it really happened."""

    name: str
    type: str
    index: int | None  # position in scenario.faults
    occurrence: int
    targets: tuple[str, ...]
    planned_s: float | None
    applied: bool  # the apply verified the fault in effect
    injected_s: float  # apply started
    in_effect_s: float  # apply finished and verified
    reverted_s: float | None  # revert started; None when no revert was logged
    revert_ok: bool | None
    self_healing: bool
    error: str | None
    mechanism: str | None = None  # how it was made where a type has a choice (netem|proxy)

    @property
    def key(self) -> str:
        """Stable id of the occurrence, e.g. ``kill-1#0``."""
        return f"{self.name}#{self.occurrence}"

    @property
    def recovery_from(self) -> float | None:
        """When recovery starts counting: the revert, or injection for self-healing faults."""
        if self.reverted_s is not None:
            return self.reverted_s
        return self.injected_s if self.self_healing else None

    def window_end(self, end_s: float) -> float:
        """End of the fault window; a missing revert keeps it open until the end."""
        if self.reverted_s is not None:
            return self.reverted_s
        if self.self_healing:
            return max(self.in_effect_s, self.injected_s)
        return end_s


def _offset(event: Mapping[str, Any], key: str, t0_wall: float) -> float | None:
    value = event.get(key)
    return None if value is None else float(value) - t0_wall


def fault_windows(events: Iterable[Mapping[str, Any]], t0_wall: float) -> list[FaultWindow]:
    """Pair every ``fault.apply`` with its ``fault.revert`` (by fault name and occurrence)."""
    reverts: dict[tuple[str, int], Mapping[str, Any]] = {}
    applies: list[Mapping[str, Any]] = []
    for ev in events:
        if ev.get("kind") == EV_FAULT_APPLY:
            applies.append(ev)
        elif ev.get("kind") == EV_FAULT_REVERT:
            reverts[(str(ev.get("fault")), int(ev.get("occurrence", 0)))] = ev
    windows = []
    for ev in applies:
        name, occurrence = str(ev.get("fault")), int(ev.get("occurrence", 0))
        injected = _offset(ev, "wall_start", t0_wall)
        if injected is None:
            injected = _offset(ev, "wall", t0_wall) or 0.0
        in_effect = _offset(ev, "wall_end", t0_wall)
        revert = reverts.get((name, occurrence))
        index = ev.get("index")
        windows.append(
            FaultWindow(
                name=name,
                type=str(ev.get("type", "?")),
                index=None if index is None else int(index),
                occurrence=occurrence,
                targets=tuple(str(t) for t in ev.get("targets") or ()),
                planned_s=None if ev.get("planned") is None else float(ev["planned"]),
                applied=bool(ev.get("ok", False)),
                injected_s=injected,
                in_effect_s=injected if in_effect is None else in_effect,
                reverted_s=None if revert is None else _offset(revert, "wall_start", t0_wall),
                revert_ok=None if revert is None else bool(revert.get("ok", False)),
                self_healing=bool(ev.get("self_healing", False)),
                error=ev.get("error"),
                mechanism=ev.get("mechanism"),
            )
        )
    return sorted(windows, key=lambda w: (w.injected_s, w.key))


def infrastructure_errors(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why the run cannot be trusted: faults not applied, reverts failed, fault errors."""
    errors = []
    for ev in events:
        kind, label = ev.get("kind"), f"{ev.get('fault')}#{ev.get('occurrence', 0)}"
        detail = f": {ev['error']}" if ev.get("error") else ""
        if kind == EV_FAULT_APPLY and not ev.get("ok", False):
            errors.append(f"fault {label} was not applied{detail}")
        elif kind == EV_FAULT_REVERT and not ev.get("ok", False):
            errors.append(f"fault {label} could not be reverted{detail}")
        elif kind == EV_FAULT_ERROR:
            errors.append(f"fault {label} failed{detail or ': ' + str(ev.get('message', ''))}")
    return errors


@dataclass(frozen=True)
class Phases:
    """The partition of [0, end) into phases, as elementary segments."""

    breaks: npt.NDArray[np.float64]  # segment i is [breaks[i], breaks[i+1])
    labels: npt.NDArray[np.int8]  # index into PHASES, one per segment

    def label_of(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
        """Phase index of every time (times must lie in [0, end))."""
        seg = np.searchsorted(self.breaks, t, side="right") - 1
        seg = np.clip(seg, 0, max(len(self.labels) - 1, 0))
        if len(self.labels) == 0:
            return np.zeros(len(t), dtype=np.int8)
        return self.labels[seg]

    def intervals(self, phase: str) -> list[tuple[float, float]]:
        """Merged [start, end) intervals of a phase."""
        code = PHASES.index(phase)
        out: list[tuple[float, float]] = []
        for i, label in enumerate(self.labels):
            if label != code:
                continue
            a, b = float(self.breaks[i]), float(self.breaks[i + 1])
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def duration(self, phase: str) -> float:
        """Total seconds the phase lasted."""
        return sum(b - a for a, b in self.intervals(phase))


def phases(
    faults: Sequence[FaultWindow], recovered_at: Mapping[str, float | None], end_s: float
) -> Phases:
    """Split [0, end_s) into phases given each fault's recovery time (None: never)."""
    applied = [f for f in faults if f.applied]
    fault_spans = [(f.injected_s, f.window_end(end_s)) for f in applied]
    recovery_spans = []
    for f in applied:
        start = f.recovery_from
        if start is not None:
            until = recovered_at.get(f.key)
            recovery_spans.append((start, end_s if until is None else until))
    first = min((a for a, _ in fault_spans), default=end_s)
    points = {0.0, end_s, first}
    for a, b in fault_spans + recovery_spans:
        points.update((a, b))
    breaks = np.array(sorted(p for p in points if 0.0 <= p <= end_s), dtype=np.float64)

    def inside(m: float, spans: list[tuple[float, float]]) -> bool:
        return any(a <= m < b for a, b in spans)

    labels = []
    for a, b in itertools.pairwise(breaks):
        m = (a + b) / 2
        if inside(m, fault_spans):
            labels.append(1)
        elif inside(m, recovery_spans):
            labels.append(2)
        elif m < first:
            labels.append(0)
        else:
            labels.append(3)
    return Phases(breaks, np.array(labels, dtype=np.int8))
