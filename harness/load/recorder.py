"""The recorder plugin: every request of every user class, unrounded, streamed to Parquet chunks.

Runs inside the Locust children only (imports gevent). It listens on the
environment's ``request`` event, so it sees the built-in workload and any
user locustfile alike. The ``item`` column comes from the request's Locust
``context`` (key ``harness.records.ITEM_CONTEXT_KEY``); a user locustfile that
does not set it leaves the column empty. The open model marks its greenlets with the intended
start (``hachaos_intended_us``), which is how a sample learns its schedule.
"""

from __future__ import annotations

import io
import logging
import os
import time
from pathlib import Path
from typing import Any

import gevent
import pyarrow as pa

from harness.load.chunks import SampleBuffer, conform, write_chunk
from harness.load.outcome import classify
from harness.records import ITEM_CONTEXT_KEY, OUTCOME_CONTEXT_KEY, OUTCOMES

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
SHIP_MESSAGE = "hachaos_chunk"
INTENDED_ATTR = "hachaos_intended_us"


def intended_us_of_current() -> int:
    """The intended start the open model attached to the running greenlet (0 = none)."""
    return int(getattr(gevent.getcurrent(), INTENDED_ATTR, 0))


def _table_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def table_from_bytes(data: bytes) -> pa.Table:
    """Inverse of the shipping encoding (Arrow IPC stream)."""
    return pa.ipc.open_stream(io.BytesIO(data)).read_all()


class Recorder:
    """Buffers samples of one worker process and flushes them once a second.

    With a local ``samples_dir`` the worker writes its own chunks; without one
    (a worker on another machine) it ships them to the master as messages.
    """

    def __init__(self, environment: Any, samples_dir: Path | None) -> None:
        self.environment = environment
        self.samples_dir = samples_dir
        self.buffer = SampleBuffer()
        self._seq = 0
        # pyarrow initialises lazily (~0.3 s at the first conversion here): pay it now,
        # before the test starts, not in the first flush that blocks the event loop.
        pa.array([0], pa.int64())
        self._flusher: gevent.Greenlet | None = None
        environment.events.request.add_listener(self.on_request)

    @property
    def worker_id(self) -> str:
        runner = self.environment.runner
        index = getattr(runner, "worker_index", -1)
        return f"w{index}" if index is not None and index >= 0 else f"p{os.getpid()}"

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        response: Any = None,
        context: Any = None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        """Locust ``request`` listener; must stay cheap, it runs once per request."""
        status = int(getattr(response, "status_code", 0) or 0)
        if start_time is None:
            start_time = time.time() - response_time / 1000.0
        # the common case skips the classifier: this runs for every request
        ok = exception is None and 200 <= status < 400
        item = context.get(ITEM_CONTEXT_KEY, "") if context else ""
        outcome = context.get(OUTCOME_CONTEXT_KEY) if context else None
        if outcome not in OUTCOMES:
            outcome = "ok" if ok else classify(status, exception)
        self.buffer.append(
            intended_us_of_current(),
            int(start_time * 1e6),
            float(response_time),
            status,
            outcome,
            int(response_length or 0),
            f"{request_type} {name}",
            str(item),
        )

    def record_dropped(self, intended_us: int, name: str) -> None:
        """An open-model arrival the generator could not start at all."""
        self.buffer.append(intended_us, intended_us, float("nan"), 0, "dropped", 0, name)

    def start(self) -> None:
        if self._flusher is None:
            self._flusher = gevent.spawn(self._loop)

    def _loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()

    def flush(self) -> None:
        """Write (or ship) whatever is buffered; never raises into Locust."""
        if not len(self.buffer):
            return
        table = self.buffer.drain(self.worker_id)
        seq, self._seq = self._seq, self._seq + 1  # taken before any yield: flushes may overlap
        try:
            if self.samples_dir is not None:
                write_chunk(table, self.samples_dir, self.worker_id, seq)
            else:
                self.environment.runner.send_message(
                    SHIP_MESSAGE,
                    {"worker": self.worker_id, "seq": seq, "data": _table_bytes(table)},
                )
        except Exception:
            log.exception("hachaos: could not flush %d samples", table.num_rows)


def receive_shipped(samples_dir: Path, msg: Any, **_: Any) -> None:
    """Master side: write a chunk a remote worker shipped."""
    data = msg.data
    # conform: a worker of an older hachaos may ship chunks without the item column
    write_chunk(
        conform(table_from_bytes(data["data"])), samples_dir, str(data["worker"]), int(data["seq"])
    )
