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
import gevent.lock
import pyarrow as pa

from harness.evidence.samples import conform
from harness.load.chunks import (
    FLUSH_INTERVAL_S,
    InFlight,
    SampleBuffer,
    write_chunk,
    write_watermark,
)
from harness.load.clock_sync import CLOCK, master_time
from harness.load.outcome import classify
from harness.records import ITEM_CONTEXT_KEY, OUTCOME_CONTEXT_KEY, OUTCOMES

log = logging.getLogger(__name__)

SHIP_MESSAGE = "hachaos_chunk"
INTENDED_ATTR = "hachaos_intended_us"
UNTRACKED_ATTR = "hachaos_untracked"  # a user class whose tasks send nothing themselves


_getcurrent = gevent.getcurrent


def intended_us_of_current() -> int:
    """The intended start the open model attached to the running greenlet (0 = none)."""
    return int(getattr(_getcurrent(), INTENDED_ATTR, 0))


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
        self.in_flight = InFlight()  # begun and not ended: the open model's arrivals, tasks
        track_tasks(self.in_flight)
        self._seq = 0
        # pyarrow initialises lazily (~0.3 s at the first conversion here): pay it now,
        # before the test starts, not in the first flush that blocks the event loop.
        pa.array([0], pa.int64())
        self._flusher: gevent.Greenlet | None = None
        self._cpu_base = process_cpu_s()  # reset when the test starts
        self._writing = gevent.lock.Semaphore()
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
        """Locust ``request`` listener; must stay cheap, it runs once per request.

        ``start_time`` is on this worker's clock; the sample gets the master's clock
        (:mod:`harness.load.clock_sync`), the latency needs no shared clock.
        """
        status = int(getattr(response, "status_code", 0) or 0)
        if start_time is None:
            start_time = time.time() - response_time / 1000.0
        if context:
            item = context.get(ITEM_CONTEXT_KEY, "")
            outcome = context.get(OUTCOME_CONTEXT_KEY)
            if outcome not in OUTCOMES:
                outcome = None
        else:
            item, outcome = "", None
        if outcome is None:  # the common case skips the classifier
            ok = exception is None and 200 <= status < 400
            outcome = "ok" if ok else classify(status, exception)
        self.buffer.append(
            getattr(_getcurrent(), INTENDED_ATTR, 0),
            int((start_time - CLOCK.offset_s) * 1e6),
            float(response_time),
            status,
            outcome,
            int(response_length or 0),
            f"{request_type} {name}",
            item if type(item) is str else str(item),
        )

    def record_dropped(self, intended_us: int, name: str) -> None:
        """An open-model arrival the generator could not start at all."""
        self.buffer.append(intended_us, intended_us, float("nan"), 0, "dropped", 0, name)

    def start(self) -> None:
        self._cpu_base = process_cpu_s()
        if self._flusher is None:
            self._flusher = gevent.spawn(self._loop)

    def _loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()

    def flush(self) -> None:
        """Write (or ship) whatever is buffered, then the watermark; never raises into Locust.

        The watermark is taken with the buffer, with no yield in between: every request
        that started before it has ended, so its sample is in this flush or an earlier one.
        """
        complete_before = self.in_flight.watermark(int(master_time() * 1e6))
        table = self.buffer.drain(self.worker_id) if len(self.buffer) else None
        seq = self._seq
        if table is not None:
            self._seq += 1  # taken before any yield: flushes may overlap
        try:
            if self.samples_dir is not None:
                # Encoding, writing and fsyncing the chunk (milliseconds, the fsync more on a
                # busy disk) run in a thread: the event loop, and so every request, goes on
                # meanwhile. One flush at a time: a watermark never precedes its chunks.
                with self._writing:
                    _threadpool().apply(self._write, (table, seq, complete_before))
            else:
                self.environment.runner.send_message(
                    SHIP_MESSAGE,
                    {
                        "worker": self.worker_id,
                        "seq": seq,
                        "data": _table_bytes(table) if table is not None else None,
                        "watermark_us": complete_before,
                        # its CPU since the test started: the master's roster has no other
                        # exact view of a worker on another host
                        "cpu_s": process_cpu_s() - self._cpu_base,
                    },
                )
        except Exception:
            log.exception("hachaos: could not flush %d samples", table.num_rows if table else 0)

    def _write(self, table: pa.Table | None, seq: int, complete_before: int) -> None:
        assert self.samples_dir is not None
        if table is not None:
            write_chunk(table, self.samples_dir, self.worker_id, seq)
        write_watermark(self.samples_dir, self.worker_id, complete_before)


def process_cpu_s() -> float:
    """User + system CPU seconds of this process so far."""
    times = os.times()
    return times.user + times.system


def _threadpool() -> Any:
    return gevent.get_hub().threadpool


def receive_shipped(samples_dir: Path, msg: Any, **_: Any) -> None:
    """Master side: write a chunk a remote worker shipped, then its watermark."""
    data = msg.data
    worker = str(data["worker"])
    if data.get("data") is not None:
        # conform: a worker of an older hachaos may ship chunks without the item column
        write_chunk(conform(table_from_bytes(data["data"])), samples_dir, worker, int(data["seq"]))
    if data.get("watermark_us") is not None:
        write_watermark(samples_dir, worker, int(data["watermark_us"]))


_tracking: dict[str, InFlight] = {}  # the process's recorder's, set by track_tasks


def track_tasks(in_flight: InFlight) -> None:
    """Count every running Locust task (closed model, user locustfiles) as in flight.

    Its start is no later than that of any request it makes, so the watermark never
    passes a request still running. A nested TaskSet is not itself counted (it runs
    for as long as the user does); its tasks are; nor is a user class that sets
    ``UNTRACKED_ATTR`` (the open model's scheduler, which counts each arrival itself).
    The wrappers go in once per process.
    """
    # Here, not at the top: importing locust patches the whole process with gevent, and
    # this module is also imported by tools that only read shipped chunks.
    from locust.user.task import DefaultTaskSet, TaskSet

    _tracking["in_flight"] = in_flight
    for cls in (TaskSet, DefaultTaskSet):
        execute = cls.__dict__["execute_task"]
        if getattr(execute, "_hachaos_tracked", False):
            continue

        def tracked(self: Any, task: Any, _execute: Any = execute) -> Any:
            nested = isinstance(task, type) and issubclass(task, TaskSet)
            if nested or getattr(self.user, UNTRACKED_ATTR, False):
                return _execute(self, task)
            flight = _tracking["in_flight"]
            token = flight.begin(int(master_time() * 1e6))
            try:
                return _execute(self, task)
            finally:
                flight.end(token)

        tracked._hachaos_tracked = True  # type: ignore[attr-defined]
        cls.execute_task = tracked  # type: ignore[method-assign]
