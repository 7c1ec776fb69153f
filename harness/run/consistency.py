"""checks.consistency after the load: merge the history, check it, write consistency.json.

(The final reads, made before this while the stack is still up, are
:mod:`harness.run.final_reads`; their tries are chunks like the workers'.)

The Locust workers wrote the invoke and complete events of their operations
as JSON-lines chunks under ``samples/history/``; they are paired into
``history.jsonl`` (one row per operation, in invoke order; an operation that
never completed is ``info``) and the chunks removed. The checks are the pure
ones of :mod:`harness.analysis.consistency.check`, bounded by the scenario's
``check_timeout`` and ``max_configurations``; their result, with the run's
t = 0 on the same monotonic clock (``t0_mono_ns``, so reports can place each
operation on the run's timeline), is ``consistency.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from harness.analysis.consistency.check import Limits, check_history
from harness.analysis.consistency.history import from_rows
from harness.errors import HarnessError
from harness.evidence.durable import replace_durably
from harness.evidence.events import EventLog
from harness.evidence.folder import write_json_atomic
from harness.load.workloads.consistency_config import HISTORY_DIR, pair_events
from harness.records import EV_CONSISTENCY
from harness.scenario.consistency import ConsistencyCheck

RESULT_FILE = "consistency.json"
HISTORY_FILE = "history.jsonl"
MAX_ROWS = 5_000_000  # a history larger than this is refused (bounded input)


def merge_history(run_dir: Path) -> list[dict[str, Any]]:
    """Merge ``samples/history/*.jsonl`` into ``history.jsonl`` (by invoke time); its rows.

    A chunk cut short (a torn last line after a crash) loses only that line.
    An existing history.jsonl with no chunks left (a re-check) is read as it is.
    """
    chunks = _chunks(run_dir)
    dest = run_dir / HISTORY_FILE
    if not chunks:
        return _read(dest) if dest.exists() else []
    rows = pair_events(chunk_events(run_dir))
    tmp = dest.with_name(f".{dest.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    replace_durably(tmp, dest)
    for chunk in chunks:
        chunk.unlink(missing_ok=True)
    return rows


def _chunks(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "samples" / HISTORY_DIR).glob("*.jsonl"))


def chunk_events(run_dir: Path) -> list[dict[str, Any]]:
    """The invoke and complete events the workers wrote so far (not yet merged)."""
    events: list[dict[str, Any]] = []
    for chunk in _chunks(run_dir):
        events += _read(chunk)
        if len(events) > 2 * MAX_ROWS:
            raise ValueError(f"the history holds more than {MAX_ROWS} operations")
    return events


def _read(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a torn last line
            if isinstance(row, dict):
                rows.append(row)
            if len(rows) > MAX_ROWS:
                raise ValueError(f"the history holds more than {MAX_ROWS} operations")
    return rows


def verify_run(
    run_dir: Path,
    spec: ConsistencyCheck,
    *,
    t0_mono: float | None,
    events: EventLog | None = None,
    final_reads: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge, check and write consistency.json; never raises (an error lands in ``error``)."""
    started = time.monotonic()
    result: dict[str, Any]
    try:
        rows = merge_history(run_dir)
        ops = from_rows(rows)
        limits = Limits(time_s=spec.check_timeout, configurations=spec.max_configurations)
        result = check_history(ops, spec.model, limits)
        result["error"] = None
    except (OSError, ValueError, HarnessError) as exc:
        result = {"model": spec.model, "error": f"the consistency check failed: {exc}"}
    except Exception as exc:  # a bug here must not skip the report
        result = {"model": spec.model, "error": f"internal error in the check: {exc!r}"}
    result["max_anomalies"] = spec.max_anomalies
    result["final_reads"] = final_reads  # what the final-read phase did (None: none ran)
    result["t0_mono_ns"] = None if t0_mono is None else int(t0_mono * 1e9)
    result["history_file"] = HISTORY_FILE
    result["total_s"] = round(time.monotonic() - started, 3)
    write_json_atomic(run_dir / RESULT_FILE, result)
    if events is not None:
        events.emit(
            EV_CONSISTENCY,
            operations=result.get("operations"),
            anomalies=result.get("anomalies"),
            error=result.get("error"),
        )
    return result
