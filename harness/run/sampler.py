"""Container metrics during a run: the engine's stats, one row per container about every second.

The sampler lives in the orchestrator's process, never in the load generator's
(Locust runs in child processes of its own), and its threads run at a lower
priority (nice +10 per thread), so a busy host serves the load first. One
thread lists the stack's containers each round and writes the rows; one thread
per running container reads the engine's stats stream (ContainerStats in
harness/engine/stats.py) and keeps only its latest reading. Everything is
bounded: rows (``MAX_ROWS``), streams (``MAX_STREAMS``), and every wait.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from harness.engine.stats import ContainerStats, StackContainer, StatsReading
from harness.errors import HarnessError
from harness.evidence.durable import replace_durably
from harness.records import CONTAINER_COLUMNS, CONTAINERS_FILE
from harness.run.clock import REAL_CLOCK, Clock

INTERVAL_S = 1.0
MAX_ROWS = 500_000  # ~23 h of 6 containers; a bound, not a target
MAX_STREAMS = 200  # containers followed at once
CHECKPOINT_S = 15.0  # rewrite the file this often, so a crash keeps most of it
RECHECK_S = 10.0  # ask for restart counts at least this often
STALE_AFTER = 3.0  # readings older than this many intervals are not used
NICE = 10
_log = logging.getLogger(__name__)

# The arrow type of each CONTAINER_COLUMNS column (what each holds is said there).
_COLUMNS_OF_TYPE = {
    pa.float64(): ("wall", "cpu_pct"),
    pa.int32(): ("replica", "restarts"),
    pa.string(): ("service", "container", "state", "health"),
    pa.int64(): ("mem_bytes", "mem_limit", "net_rx", "net_tx", "blk_read", "blk_write", "pids"),
}
_TYPE_OF = {column: kind for kind, columns in _COLUMNS_OF_TYPE.items() for column in columns}
SCHEMA = pa.schema([(column, _TYPE_OF[column]) for column in CONTAINER_COLUMNS])
assert len(_TYPE_OF) == len(CONTAINER_COLUMNS), "a typed column that is not a CONTAINER_COLUMNS one"


def lower_priority(nice: int = NICE) -> None:
    """Make the calling thread nicer (Linux: a thread is a schedulable task of its own)."""
    # not Linux, or not allowed: sampling still works, at the normal priority
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def cpu_pct(prev: StatsReading | None, cur: StatsReading) -> float | None:
    """% of one core between two readings of one container; None without a usable pair."""
    if prev is None or cur.read_wall <= prev.read_wall or cur.cpu_ns < prev.cpu_ns:
        return None  # first reading, same reading, or the counter restarted with the container
    return (cur.cpu_ns - prev.cpu_ns) / 1e9 / (cur.read_wall - prev.read_wall) * 100.0


def write_table(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically and durably."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    replace_durably(tmp, path)


@dataclass
class _Followed:
    """What the sampler knows of one container."""

    latest: StatsReading | None = None
    used: StatsReading | None = None  # the reading behind the last row's values
    cpu: float | None = None
    restarts: int = -1
    state: str = ""
    stream: threading.Thread | None = None
    stream_ended: bool = False
    checked_at: float = -math.inf


@dataclass
class ContainerSampler:
    """Samples the stack's containers into ``run_dir/containers.parquet`` until :meth:`stop`."""

    source: ContainerStats
    run_dir: Path
    interval: float = INTERVAL_S
    clock: Clock = REAL_CLOCK
    start_stream: Callable[[Callable[[], None], str], threading.Thread] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _known: dict[str, _Followed] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _written_at: float = -math.inf

    @property
    def path(self) -> Path:
        return self.run_dir / CONTAINERS_FILE

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start sampling in a background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop sampling and write the file; never raises (a failure becomes a warning)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        try:
            self.flush()
        except (OSError, pa.ArrowException) as exc:
            self.warnings.append(f"container metrics could not be written: {exc}")

    def _loop(self) -> None:
        lower_priority()
        next_round = self.clock.mono()
        while not self._stop.is_set():
            try:
                self.sample_round()
            except HarnessError as exc:  # the engine did not answer this round: try the next
                _log.debug("container metrics round failed: %s", exc)
            except Exception:  # a bug must not end the run; the rows so far are kept
                _log.warning("container sampler failed; sampling stopped", exc_info=True)
                self.warnings.append("the container sampler failed; its rows end early")
                return
            if self.clock.mono() - self._written_at >= CHECKPOINT_S:
                try:
                    self.flush()
                except (OSError, pa.ArrowException) as exc:
                    _log.debug("container metrics checkpoint failed: %s", exc)
            next_round += self.interval
            wait = next_round - self.clock.mono()
            if wait < 0:  # a slow round: skip ahead rather than burst to catch up
                next_round, wait = self.clock.mono(), 0.0
            self._stop.wait(wait)

    # ------------------------------------------------------------------ one round
    def sample_round(self) -> None:
        """List the containers, follow new ones, and append one row per container."""
        listed = self.source.stack_containers()
        now_wall, now_mono = self.clock.wall(), self.clock.mono()
        for c in listed:
            self._follow(c, now_mono)
        with self._lock:
            for c in listed:
                self._append(self._row(c, self._known[c.id], now_wall))

    def _follow(self, c: StackContainer, now_mono: float) -> None:
        f = self._known.get(c.id)
        if f is None:
            if len(self._known) >= MAX_STREAMS:
                return
            f = self._known[c.id] = _Followed()
        changed = c.state != f.state or f.stream_ended
        if changed or now_mono - f.checked_at >= RECHECK_S:
            count = self.source.restart_count(c.id)
            f.restarts = f.restarts if count is None else count
            f.checked_at = now_mono
        f.state = c.state
        if c.state == "running" and (f.stream is None or not f.stream.is_alive()):
            f.stream_ended = False
            f.stream = self._spawn(c.id, f)

    def _spawn(self, cid: str, f: _Followed) -> threading.Thread:
        def follow() -> None:
            lower_priority()
            try:
                for reading in self.source.stats_stream(cid):
                    with self._lock:
                        f.latest = reading
                    if self._stop.is_set():
                        return
            finally:
                f.stream_ended = True

        if self.start_stream is not None:
            return self.start_stream(follow, cid)
        t = threading.Thread(target=follow, name=f"stats-{cid[:12]}", daemon=True)
        t.start()
        return t

    def _row(self, c: StackContainer, f: _Followed, now_wall: float) -> dict[str, Any]:
        r = f.latest
        fresh = (
            c.state == "running"
            and r is not None
            and now_wall - r.read_wall <= STALE_AFTER * self.interval
        )
        if fresh and r is not None and r is not f.used:
            f.cpu = cpu_pct(f.used, r)
            f.used = r
        use = r if fresh else None
        if not fresh:
            f.used, f.cpu = None, None  # a stopped container's counters start again
        return {
            "wall": now_wall,
            "service": c.service,
            "replica": c.replica,
            "container": c.id[:12],
            "state": c.state,
            "health": c.health,
            "restarts": f.restarts,
            "cpu_pct": f.cpu if use is not None else None,
            "mem_bytes": use.mem_bytes if use else None,
            "mem_limit": use.mem_limit if use else None,
            "net_rx": use.net_rx if use else None,
            "net_tx": use.net_tx if use else None,
            "blk_read": use.blk_read if use else None,
            "blk_write": use.blk_write if use else None,
            "pids": use.pids if use else None,
        }

    def _append(self, row: dict[str, Any]) -> None:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(row)
        elif not self.warnings or "row limit" not in self.warnings[-1]:
            self.warnings.append(f"container metrics stopped at the row limit ({MAX_ROWS})")

    def flush(self) -> None:
        """Write every row so far to containers.parquet (atomically)."""
        with self._lock:
            rows = list(self.rows)
        write_table(self.path, pa.Table.from_pylist(rows, schema=SCHEMA))
        self._written_at = self.clock.mono()
