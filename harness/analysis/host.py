"""Was the host busy while the faults were in effect? From the samples of host.jsonl.

A run is flagged **busy** when, in that window, the 1-minute load average reached
BUSY_LOAD_PER_CORE times the cores, or CPU steal averaged BUSY_STEAL, or processes
other than hachaos and the containers used BUSY_OTHER_SHARE of the cores on average.
Its timing figures are then suspect, and the gate can leave it out of baselines.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from harness.analysis.summary_model import HostLoad

BUSY_LOAD_PER_CORE = 2.0
BUSY_STEAL = 0.10
BUSY_OTHER_SHARE = 0.5


def _numbers(samples: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [float(v) for s in samples if isinstance(v := s.get(key), int | float)]


def host_load(
    samples: Sequence[Mapping[str, Any]],
    windows: Sequence[tuple[float, float]],
    t0: float,
    end_s: float,
) -> HostLoad | None:
    """The host's noise during ``windows`` (s since t0; the whole run when there is none)."""
    if not samples:
        return None

    def inside(s: Mapping[str, Any], spans: Sequence[tuple[float, float]]) -> bool:
        wall = s.get("wall")
        if not isinstance(wall, int | float):
            return False
        return any(a <= wall - t0 <= b for a, b in spans)

    label, chosen = "during the faults", [s for s in samples if inside(s, windows)]
    if not windows or not chosen:  # no fault, or one shorter than a sampling interval
        label, chosen = "during the run", [s for s in samples if inside(s, [(0.0, end_s)])]
    if not chosen:
        return None
    loads, steal, other = (_numbers(chosen, k) for k in ("load1", "steal", "other_cores"))
    cores_seen = _numbers(chosen, "cores")
    cores = int(cores_seen[0]) if cores_seen else None
    load_max = max(loads) if loads else None
    steal_mean = statistics.fmean(steal) if steal else None
    other_mean = statistics.fmean(other) if other else None
    reasons = []
    if cores and load_max is not None and load_max >= BUSY_LOAD_PER_CORE * cores:
        reasons.append(f"load {load_max:.1f} on {cores} cores")
    if steal_mean is not None and steal_mean >= BUSY_STEAL:
        reasons.append(f"CPU steal {steal_mean:.0%}")
    if cores and other_mean is not None and other_mean >= BUSY_OTHER_SHARE * cores:
        reasons.append(f"other processes used {other_mean:.1f} of {cores} cores")
    return HostLoad(
        samples=len(chosen),
        window=label,
        cores=cores,
        load_max=load_max,
        load_mean=statistics.fmean(loads) if loads else None,
        steal=steal_mean,
        other_cpu=other_mean,
        busy=bool(reasons),
        note=f"host busy: {', '.join(reasons)} {label}" if reasons else "",
    )
