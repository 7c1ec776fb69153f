"""The consistency workload's rules, without Locust: settings, keys, values, outcomes, rows.

The driver hands ``checks.consistency`` to the Locust children through
``LoadConfig.extra`` (``consistency_extra``); the Locust side
(:mod:`harness.load.workloads.consistency`) asks this module which key and
value to use, how an answer becomes a Jepsen outcome and what row to record.
History rows are the columns :func:`harness.analysis.consistency.history.from_rows`
reads; each worker appends them to ``samples/history/<worker>-<seq>.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.evidence.durable import replace_durably
from harness.scenario.consistency import ConsistencyCas, ConsistencyCheck, ConsistencyRead
from harness.scenario.models import Load
from harness.scenario.templates import parse_json_path, scalar_text

EXTRA_CONSISTENCY = "consistency"
EXTRA_KEY_PERIOD = "consistency_key_period_s"
HISTORY_DIR = "history"  # under the samples folder
MAX_WORKER_SLOTS = 64  # values are n * 64 + slot: unique across up to 64 workers
MAX_LIST = 100_000  # elements a list read may hold before it is refused (bounded input)


def consistency_extra(load: Load, spec: ConsistencyCheck | None) -> dict[str, Any]:
    """``LoadConfig.extra`` entries of the consistency workload (none without the check)."""
    if spec is None:
        return {}
    return {
        EXTRA_CONSISTENCY: spec.model_dump(mode="json", by_alias=True),
        EXTRA_KEY_PERIOD: key_period(load, spec),
    }


def key_period(load: Load, spec: ConsistencyCheck) -> float:
    """Seconds a key stays in use: about ``ops_per_key`` operations on each of ``keys`` keys.

    At the peak arrival rate: a slower stage gives a key fewer operations, never more.
    """
    peak = max([load.rps or 0.0, *(s.target for s in load.stages)])
    rate = peak * spec.share
    if rate <= 0:
        return 60.0
    return max(spec.ops_per_key * spec.keys / rate, 0.1)


def key_of(run_id: str, elapsed_s: float, period_s: float, keys: int, pick: int) -> str:
    """The key for an operation ``elapsed_s`` after the load started (``pick`` in [0, keys)).

    ``k<8 hex of the run id>-<n>``: short, safe in a path, and never the key of another run.
    """
    epoch = max(math.floor(elapsed_s / period_s), 0)
    run = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return f"k{run}-{epoch * keys + pick}"


def value_of(counter: int, slot: int) -> str:
    """A value unique across the run's workers: the worker slot in the low bits."""
    return str(counter * MAX_WORKER_SLOTS + slot % MAX_WORKER_SLOTS + 1)


@dataclass(frozen=True)
class Outcome:
    """Jepsen's result of one operation, and what was read."""

    type: str  # ok | fail | info
    mismatch: bool = False
    value: Any = None  # a read's value (text or None), or its elements (tuple of text)
    error: str = ""


def outcome(
    spec: ConsistencyCheck, f: str, status: int, body: bytes | None, refused: bool = False
) -> Outcome:
    """The outcome of an answer (``status`` 0: none; ``refused``: the connection was refused)."""
    if status == 0:
        return (
            Outcome("fail", error="connection refused")
            if refused
            else Outcome("info", error="no response")
        )
    op = spec.read if f == "read" else getattr(spec, f)
    if isinstance(op, ConsistencyCas) and status in op.mismatch:
        return Outcome("fail", mismatch=True)
    if isinstance(op, ConsistencyRead) and status in op.missing:
        return Outcome("ok", value=() if spec.model == "list-append" else None)
    ok = status in op.expect if op.expect is not None else 200 <= status < 300
    if ok:
        if isinstance(op, ConsistencyRead):
            return read_outcome(spec.model, op, body)
        return Outcome("ok")
    error = f"HTTP {status}: {_snippet(body)}" if body else f"HTTP {status}"
    if status in op.fail_statuses():
        return Outcome("fail", error=error)
    return Outcome("info", error=error)


def _snippet(body: bytes, limit: int = 120) -> str:
    """The start of an error answer, printable, for the history's ``error`` column."""
    text = body[:limit].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in text)


def read_outcome(model: str, read: ConsistencyRead, body: bytes | None) -> Outcome:
    """A successful read's value at the ``value`` JSON path; unreadable = ``info``."""
    try:
        document = json.loads(body or b"null")
    except ValueError:
        return Outcome("info", error="the read's body is not JSON")
    found, value = parse_json_path(read.value).find(document)
    if not found or value is None:
        return Outcome("ok", value=() if model == "list-append" else None)
    if model == "list-append":
        if not isinstance(value, list) or len(value) > MAX_LIST:
            return Outcome("info", error=f"{read.value} is not a list")
        elements = [scalar_text(v) for v in value]
        if any(e is None for e in elements):
            return Outcome("info", error=f"{read.value} holds a value that is not text or a number")
        return Outcome("ok", value=tuple(e for e in elements if e is not None))
    text = scalar_text(value)
    if text is None:
        return Outcome("info", error=f"{read.value} is not text or a number")
    return Outcome("ok", value=text)


def invoke_row(
    *,
    op: str,
    process: str,
    f: str,
    key: str,
    value: str | None,
    expected: str | None,
    invoke_ns: int,
) -> dict[str, Any]:
    """The invoke event of one operation, written before its request is sent: an
    operation still in flight when the load ends is then known (and ``info``)."""
    row: dict[str, Any] = {
        "op": op,
        "event": "invoke",
        "process": process,
        "f": f,
        "key": key,
        "invoke_ns": invoke_ns,
    }
    if f != "read":
        row["value"] = value
    if f == "cas":
        row["expected"] = expected
    return row


def complete_row(
    *, op: str, f: str, result: Outcome, complete_ns: int, status: int, model: str
) -> dict[str, Any]:
    """The completion event of one operation: its outcome (and what a read saw)."""
    row: dict[str, Any] = {
        "op": op,
        "event": "complete",
        "type": result.type,
        "complete_ns": complete_ns,
        "status": status,
    }
    if f == "read":
        if model == "list-append":
            row["elements"] = list(result.value) if result.type == "ok" else None
        else:
            row["value"] = result.value if result.type == "ok" else None
    if f == "cas":
        row["mismatch"] = result.mismatch
    if result.error:
        row["error"] = result.error
    return row


def pair_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One history row per operation from its invoke and complete events, in invoke order.

    An invoke without a completion (in flight when the load ended, or its worker
    died) is ``info``: it may or may not have happened.
    """
    invokes: dict[str, dict[str, Any]] = {}
    completes: dict[str, dict[str, Any]] = {}
    last = 0
    for event in events:
        kind = event.get("event")
        if kind == "invoke":
            invokes[str(event["op"])] = event
            last = max(last, int(event["invoke_ns"]))
        elif kind == "complete":
            completes[str(event["op"])] = event
            last = max(last, int(event["complete_ns"]))
    rows = []
    for op, invoke in invokes.items():
        row = {k: v for k, v in invoke.items() if k != "event"}
        done = completes.get(op)
        if done is None:
            row.update(type="info", complete_ns=last, status=0, error="no answer before the end")
        else:
            row.update({k: v for k, v in done.items() if k not in ("event", "op")})
        rows.append(row)
    rows.sort(key=lambda r: (r["invoke_ns"], r["op"]))
    return rows


def write_history_chunk(rows: list[dict[str, Any]], directory: Path, worker: str, seq: int) -> Path:
    """Write rows as one JSON-lines chunk, atomically (a reader never sees half of it)."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{worker}-{seq:06d}.jsonl"
    tmp = directory / f".{final.name}.tmp"
    with tmp.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    replace_durably(tmp, final)
    return final
