"""Builds PlannedFaults and runners for the fault tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from harness.evidence.events import EventLog, read_events
from harness.faults.catalog import FaultSpec
from harness.faults.runner import FaultRunner
from harness.scenario.plan import PlannedFault

_ADAPTER: TypeAdapter[Any] = TypeAdapter(FaultSpec)


_INDEX: dict[str, int] = {}


def planned(
    fault_type: str,
    service: str,
    replicas: tuple[int, ...] = (1,),
    *,
    window: float | None = 10.0,
    name: str | None = None,
    **spec: Any,
) -> PlannedFault:
    body: dict[str, Any] = {"type": fault_type, "target": {"service": service}, "at": 0, **spec}
    if window is not None:
        body["for"] = window
    model = _ADAPTER.validate_python(body)
    label = name or f"{fault_type}-1"
    # The runner keys active faults by (fault index, occurrence): one index per label.
    index = _INDEX.setdefault(label, len(_INDEX))
    return PlannedFault(index, 0, label, fault_type, model, service, replicas, 0.0, window)


OPEN_LOGS: list[EventLog] = []


def runner(project: str, run_dir: Path, *, run_id: str | None = None) -> FaultRunner:
    """A FaultRunner writing into ``run_dir``; its event log is closed after the test."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = EventLog(run_dir / "events.jsonl")
    OPEN_LOGS.append(log)
    return FaultRunner(
        project=project,
        run_id=run_id or f"t{int(time.time() * 1000)}",
        run_dir=run_dir,
        events=log,
    )


def close_logs() -> None:
    while OPEN_LOGS:
        OPEN_LOGS.pop().close()


def events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == kind]
