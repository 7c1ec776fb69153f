"""Jepsen's final reads: read every key of the consistency history once more, after the faults.

After the faults are reverted and the target answers its ready path again, and
after ``settle`` seconds more, each key the workload used is read with the
scenario's ``read`` (or ``final_reads.read``), until one read is ``ok`` or the
key's ``attempts`` are spent. Every try is an operation of the history like
the others: an invoke event before it is sent and a complete event after the
answer, on the same monotonic clock as the Locust workers (one host), with its
own process and ``phase: final``. They land in one chunk under
``samples/history/`` that the check merges with the workers' chunks.

Bounded: at most ``max_keys`` keys (history order), ``attempts`` tries each,
``concurrency`` at a time, for ``timeout`` seconds; keys left when the time
runs out (or a signal arrives) are ``unread``. Traffic goes only to the run's
target URL, which must be on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.load.workloads.consistency_config import (
    HISTORY_DIR,
    complete_row,
    invoke_row,
    outcome,
    write_history_chunk,
)
from harness.load.workloads.requests_config import request_kwargs
from harness.run.loopback import KeepAlive, loopback_base
from harness.scenario.consistency import ConsistencyCheck, FinalReads

PHASE = "final"  # the history rows' ``phase`` of a final read
WORKER = "final"  # the chunk's worker name and the processes' prefix
RETRY_PAUSE_S = 0.5  # before a key's second try; doubled for each further one
MAX_RETRY_PAUSE_S = 4.0  # a load balancer whose backends flap after a fault needs seconds
SETTLE_POLL_S = 0.25  # how often the settle wait looks for a signal


@dataclass
class FinalReadResult:
    """What the final-read phase did; ``ok + failed + unread == selected``."""

    keys: int = 0  # keys in the history
    selected: int = 0  # of those, the ones to read (at most max_keys)
    ok: int = 0  # keys with an ``ok`` final read
    failed: int = 0  # keys whose every try failed (fail or info)
    unread: int = 0  # keys not (fully) tried when the time ran out or a signal came
    tries: int = 0  # reads sent
    waited_s: float = 0.0  # for the ready path, then the settle time
    elapsed_s: float = 0.0  # the reads themselves
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def final_read_spec(spec: ConsistencyCheck) -> ConsistencyCheck:
    """The check with ``read`` replaced by the final reads' own request, when they have one."""
    final = spec.final_reads
    if final is None or final.read is None:
        return spec
    return spec.model_copy(update={"read": final.read})


class _Reader:
    """Reads keys on ``concurrency`` keep-alive connections; records every try."""

    def __init__(
        self,
        spec: ConsistencyCheck,
        final: FinalReads,
        base: urllib.parse.SplitResult,
        run_id: str,
        *,
        read_timeout: float,
        deadline: float,
        clock: Clock,
        now_ns: Callable[[], int],
        cancelled: Callable[[], bool],
    ) -> None:
        self.spec, self.final, self.base, self.run_id = spec, final, base, run_id
        self.read_timeout, self.deadline = read_timeout, deadline
        self.clock, self.now_ns, self.cancelled = clock, now_ns, cancelled
        self.prefix = base.path.rstrip("/")
        self.lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []
        self.outcomes: dict[str, str] = {}  # key -> "ok" | "failed"
        self.tries = 0
        self._ids = count()
        self._pending: Iterator[str] = iter(())

    def run(self, keys: Sequence[str]) -> None:
        self._pending = iter(keys)
        threads = [
            threading.Thread(target=self._loop, name=f"final-read-{i}", daemon=True)
            for i in range(max(1, min(self.final.concurrency, len(keys))))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _left(self) -> float:
        return self.deadline - self.clock.mono()

    def _loop(self) -> None:
        client = KeepAlive(self.base)
        try:
            while True:
                with self.lock:
                    key = next(self._pending, None) if self._left() > 0 else None
                if key is None or self.cancelled():
                    return
                self._read_key(client, key)
        finally:
            client.close()

    def _read_key(self, client: KeepAlive, key: str) -> None:
        for attempt in range(self.final.attempts):
            if attempt:
                backoff = min(RETRY_PAUSE_S * 2 ** (attempt - 1), MAX_RETRY_PAUSE_S)
                pause = min(backoff, self._left())
                if pause > 0:
                    self.clock.sleep(pause)
            if self._left() <= 0 or self.cancelled():
                return  # unread, unless an earlier try failed
            if self._try(client, key) == "ok":
                with self.lock:
                    self.outcomes[key] = "ok"
                return
            with self.lock:
                self.outcomes[key] = "failed"

    def _try(self, client: KeepAlive, key: str) -> str:
        n = next(self._ids)
        op_id, process = f"{WORKER}:{n}", f"{WORKER}.{n}"
        values = {"key": key, "value": "", "expected": "", "process": process}
        values["run_id"] = self.run_id
        read = self.spec.read
        path, kwargs = request_kwargs(read, values)
        headers = dict(kwargs.get("headers") or {})
        body: bytes | None = None
        if "json" in kwargs:
            body = json.dumps(kwargs["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif "data" in kwargs:
            body = str(kwargs["data"]).encode()
        invoke = invoke_row(
            op=op_id, process=process, f="read", key=key, value=None, expected=None,
            invoke_ns=self.now_ns(),
        )  # fmt: skip
        invoke["phase"] = PHASE
        status, answer, refused = 0, b"", False
        try:
            status, answer = client.request(
                read.method, self.prefix + path, min(self.read_timeout, max(self._left(), 0.1)),
                headers, body,
            )  # fmt: skip
        except ConnectionRefusedError:
            refused = True
        except (OSError, http.client.HTTPException):
            pass
        done = self.now_ns()
        result = outcome(self.spec, "read", status, answer if status else None, refused)
        complete = complete_row(
            op=op_id, f="read", result=result, complete_ns=done, status=status,
            model=self.spec.model,
        )  # fmt: skip
        with self.lock:
            self.tries += 1
            self.rows += [invoke, complete]
        return result.type


def history_keys(events: Sequence[dict[str, Any]]) -> list[str]:
    """The keys of the workers' invoke events, first seen first (final reads left out)."""
    keys: dict[str, None] = {}
    for event in events:
        if event.get("event") == "invoke" and event.get("phase") != PHASE and "key" in event:
            keys.setdefault(str(event["key"]), None)
    return list(keys)


def read_finally(
    run_dir: Path,
    spec: ConsistencyCheck,
    keys: Sequence[str],
    target_url: str,
    run_id: str,
    *,
    read_timeout: float,
    wait: Callable[[float], float] | None = None,
    clock: Clock = REAL_CLOCK,
    now_ns: Callable[[], int] = time.monotonic_ns,
    cancelled: Callable[[], bool] = lambda: False,
) -> FinalReadResult:
    """Settle, read ``keys`` once more and write the tries as a history chunk.

    ``wait(timeout)`` waits for the target to be ready and returns the seconds
    waited (it may raise: the reads are made anyway, and fail if it is down).
    Raises ValueError for a target that is not on 127.0.0.1.
    """
    final = spec.final_reads
    if final is None:
        raise ValueError("the scenario turned the final reads off")
    base = loopback_base(target_url)
    result = FinalReadResult(keys=len(keys))
    chosen = list(keys[: final.max_keys])
    result.selected = len(chosen)
    if len(keys) > len(chosen):
        result.notes.append(f"{len(keys) - len(chosen)} key(s) past max_keys are not read")
    result.waited_s = _settle(final, result, wait, clock, cancelled)
    reads_started = clock.mono()
    reader = _Reader(
        final_read_spec(spec),
        final,
        base,
        run_id,
        read_timeout=read_timeout,
        deadline=reads_started + final.timeout,
        clock=clock,
        now_ns=now_ns,
        cancelled=cancelled,
    )
    try:
        reader.run(chosen)
    finally:
        if reader.rows:
            write_history_chunk(reader.rows, run_dir / "samples" / HISTORY_DIR, WORKER, 0)
    _tally(result, reader, final.timeout)
    result.elapsed_s = round(clock.mono() - reads_started, 3)
    return result


def _settle(
    final: FinalReads,
    result: FinalReadResult,
    wait: Callable[[float], float] | None,
    clock: Clock,
    cancelled: Callable[[], bool],
) -> float:
    """Wait for the target to be ready, then the settle time; the seconds it all took."""
    started = clock.mono()
    if wait is not None:
        try:
            wait(min(final.timeout, 60.0))
        except Exception as exc:  # read anyway: unreachable reads are recorded as such
            result.notes.append(f"the target was not ready before the final reads: {exc}")
    if final.settle > 0:  # a signal cuts the wait short (and the reads then stop at once)
        settled = clock.mono() + final.settle
        poll_until(
            lambda: cancelled() or clock.mono() >= settled, final.settle, SETTLE_POLL_S, clock
        )
    return round(clock.mono() - started, 3)


def _tally(result: FinalReadResult, reader: _Reader, timeout: float) -> None:
    result.tries = reader.tries
    result.ok = sum(1 for v in reader.outcomes.values() if v == "ok")
    result.failed = sum(1 for v in reader.outcomes.values() if v == "failed")
    result.unread = result.selected - result.ok - result.failed
    if result.unread:
        result.notes.append(
            f"{result.unread} key(s) unread: the final reads' timeout of {timeout:g} s"
            " ran out (or the run was interrupted)"
        )
