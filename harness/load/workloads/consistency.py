"""The consistency workload in a Locust worker: Jepsen processes over rotating keys.

``ConsistencyUser`` joins the open model's user classes with the weight that
makes it ``checks.consistency.share`` of the arrivals. Each instance is one
Jepsen process: the open model hands an arrival only to an idle instance, so a
process has one operation in flight at a time. An operation whose outcome is
``info`` (timeout, 5xx) retires the process: the instance takes a new process
id. Invoke and complete times come from the host's monotonic clock (the same
for every process on the host). Rows are buffered and written once a second
as JSON-lines chunks under ``samples/history/`` (see consistency_config): an
invoke event before the request is sent, a complete event after its answer.
"""

from __future__ import annotations

import logging
import random
import time
from itertools import count
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, constant, task

from harness.load.config import LoadConfig
from harness.load.workloads.consistency_config import (
    EXTRA_CONSISTENCY,
    EXTRA_KEY_PERIOD,
    HISTORY_DIR,
    complete_row,
    invoke_row,
    key_of,
    outcome,
    value_of,
    write_history_chunk,
)
from harness.load.workloads.requests_config import request_kwargs
from harness.records import OUTCOME_CONTEXT_KEY
from harness.scenario.consistency import ConsistencyCheck, ConsistencyOp

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
_VALUES = count(1)
_OPS = count()
_PROCESSES = count()
_INSTANCES = count()


class HistoryWriter:
    """This worker's history rows, flushed once a second (never raises into Locust)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.directory: Path | None = None
        self.worker = "w0"
        self.seq = 0
        self._flusher: gevent.Greenlet | None = None

    def start(self, samples_dir: Path | None, worker: str) -> None:
        self.directory = None if samples_dir is None else samples_dir / HISTORY_DIR
        self.worker = worker
        if self._flusher is None:
            self._flusher = gevent.spawn(self._loop)

    def _loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()

    def flush(self) -> None:
        if not self.rows or self.directory is None:
            return
        rows, self.rows = self.rows, []
        seq, self.seq = self.seq, self.seq + 1
        try:
            write_history_chunk(rows, self.directory, self.worker, seq)
        except Exception:
            log.exception("hachaos: could not write %d history rows", len(rows))


HISTORY = HistoryWriter()


class ConsistencyUser(FastHttpUser):
    """One Jepsen process per instance (see the module docstring)."""

    spec: ClassVar[ConsistencyCheck | None] = None
    config: ClassVar[LoadConfig | None] = None
    key_period_s: ClassVar[float] = 60.0
    t0: ClassVar[float] = 0.0
    slot: ClassVar[int] = 0
    worker: ClassVar[str] = "w0"
    weight = 1
    wait_time = constant(0)
    network_timeout = 2.0
    connection_timeout = 2.0
    concurrency = 1

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        cfg = self.config
        seed = cfg.seed if cfg else 0
        self.rng = random.Random((seed << 24) ^ (self.slot << 16) ^ next(_INSTANCES))
        self.run_id = cfg.run_id if cfg else "adhoc"
        self.process = self.new_process()
        self.last_seen: dict[str, str] = {}  # key -> the last value this process saw or wrote

    @classmethod
    def configure(cls, cfg: LoadConfig, t0: float, slot: int, worker: str) -> bool:
        """Take the run's settings; False when the run has no consistency check."""
        raw = cfg.extra.get(EXTRA_CONSISTENCY)
        if not raw:
            return False
        cls.spec = ConsistencyCheck.model_validate(raw)
        cls.config = cfg
        cls.host = cfg.target_url  # not one of Locust's own user classes: it sets no host here
        cls.key_period_s = float(cfg.extra.get(EXTRA_KEY_PERIOD, 60.0))
        cls.t0, cls.slot, cls.worker = t0, slot, worker
        cls.network_timeout = cfg.timeout
        cls.connection_timeout = cfg.timeout
        return True

    def new_process(self) -> str:
        return f"{self.worker}.{next(_PROCESSES)}"

    @task
    def step(self) -> None:
        """One operation of the mix, on one of the keys in use now."""
        spec = self.spec
        if spec is None:
            return
        weights = spec.weights()
        f = self.rng.choices(list(weights), list(weights.values()))[0]
        key = key_of(
            self.run_id,
            time.time() - self.t0,
            self.key_period_s,
            spec.keys,
            self.rng.randrange(spec.keys),
        )
        expected = None
        if f == "cas":
            expected = self.last_seen.get(key)
            if expected is None:  # nothing to compare with yet: learn the value first
                f = "read"
        value = None if f == "read" else value_of(next(_VALUES), self.slot)
        self.operate(spec, f, key, value, expected)

    def operate(
        self, spec: ConsistencyCheck, f: str, key: str, value: str | None, expected: str | None
    ) -> None:
        op: ConsistencyOp = spec.read if f == "read" else getattr(spec, f)
        values = {
            "key": key,
            "value": value or "",
            "expected": expected or "",
            "process": self.process,
            "run_id": self.run_id,
        }
        path, kwargs = request_kwargs(op, values)
        op_id = f"{self.worker}:{next(_OPS)}"
        invoke = time.monotonic_ns()
        HISTORY.rows.append(
            invoke_row(
                op=op_id,
                process=self.process,
                f=f,
                key=key,
                value=value,
                expected=expected,
                invoke_ns=invoke,
            )
        )
        with self.client.request(
            op.method, path, name=f"consistency {f}", catch_response=True, **kwargs
        ) as resp:
            complete = time.monotonic_ns()
            status = int(resp.status_code or 0)
            refused = isinstance(getattr(resp, "error", None), ConnectionRefusedError)
            result = outcome(spec, f, status, resp.content if status else None, refused)
            if result.type == "ok" or result.mismatch:
                resp.success()
                resp.request_meta["context"][OUTCOME_CONTEXT_KEY] = "ok"
            elif status:
                resp.failure(result.error or f"HTTP {status}")
        HISTORY.rows.append(
            complete_row(
                op=op_id, f=f, result=result, complete_ns=complete, status=status, model=spec.model
            )
        )
        self.remember(f, key, value, result)

    def remember(self, f: str, key: str, value: str | None, result: Any) -> None:
        """Track the value this process last saw; retire the process after an ``info``."""
        if result.type == "info":
            self.process = self.new_process()  # Jepsen: a process that timed out is done
            self.last_seen.clear()
            return
        if result.type == "ok":
            if f == "read" and isinstance(result.value, str):
                self.last_seen[key] = result.value
            elif f in ("write", "cas") and value is not None:
                self.last_seen[key] = value
