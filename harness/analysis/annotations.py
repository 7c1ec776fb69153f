"""Fault windows as Grafana annotations (annotations.json, and one event-log line per fault).

Each annotation is the body Grafana's annotation API takes (``POST /api/annotations``):
``time`` and ``timeEnd`` in epoch milliseconds, ``tags`` and ``text``. The span is the
fault window of docs/metrics.md (injection to revert; to "in effect" for self-healing
faults; to the end of the run when no revert was logged).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.analysis.phases import FaultWindow

MAX_TAG = 100


def fault_annotation(
    key: str,
    fault_type: str,
    targets: Sequence[str],
    start_s: float,
    end_s: float,
    t0_wall: float,
    run_id: str,
    scenario: str,
) -> dict[str, Any]:
    """One fault window as a Grafana annotation."""
    tags = [
        "hachaos",
        f"run:{run_id}",
        f"scenario:{scenario}",
        f"fault:{key}",
        f"type:{fault_type}",
    ]
    on = f" on {', '.join(targets)}" if targets else ""
    return {
        "time": round((t0_wall + start_s) * 1000),
        "timeEnd": round((t0_wall + max(end_s, start_s)) * 1000),
        "tags": [t[:MAX_TAG] for t in tags],
        "text": f"hachaos {scenario}: {key} ({fault_type}){on}",
    }


def window_annotations(
    windows: Sequence[FaultWindow], t0_wall: float, end_s: float, run_id: str, scenario: str
) -> list[dict[str, Any]]:
    """The annotations of the applied fault windows of an event log."""
    return [
        fault_annotation(
            w.key, w.type, w.targets, w.injected_s, w.window_end(end_s), t0_wall, run_id, scenario
        )
        for w in windows
        if w.applied
    ]
