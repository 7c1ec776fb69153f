"""A side channel between the Locust master and its workers: clock pings and the roster.

Runs inside the Locust children only (gevent). The master pings every worker when it
connects, and again every ``RESYNC_S``, over Locust's own connection (custom messages),
estimates its clock offset (:mod:`harness.load.clock_sync`) and sends it back; a worker
on another host then records on the master's clock. Once a second the master writes
what it knows of its workers to ``samples/workers.json`` (:mod:`harness.load.roster`),
which the driver reads.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from gevent.event import AsyncResult

from harness.load.clock_sync import (
    CLOCK,
    PING_GAP_S,
    PING_TIMEOUT_S,
    PINGS,
    RESYNC_S,
    Exchange,
    Offset,
    estimate,
)
from harness.load.roster import Departure, Roster, WorkerEntry, worker_state, write_roster

log = logging.getLogger(__name__)

PING = "hachaos_clock_ping"
PONG = "hachaos_clock_pong"
OFFSET = "hachaos_clock_offset"
ROSTER_INTERVAL_S = 1.0
# A worker says it is ready before its own init listeners ran (which answer the pings).
FIRST_PING_DELAY_S = 0.5
_TEST_STATES = ("spawning", "running")  # Locust's runner states while the test runs


class MasterLink:
    """Master side: measures each worker's clock and keeps the roster file."""

    def __init__(self, environment: Any, samples_dir: Path) -> None:
        self.runner = environment.runner
        self.samples_dir = samples_dir
        self._seq = 0
        self._waiting: dict[tuple[str, int], AsyncResult] = {}
        self._offsets: dict[str, tuple[Offset, bool]] = {}  # latest, applied
        self._first: dict[str, Offset] = {}
        self._local: set[str] = set()
        self._joined: dict[str, float] = {}
        self._known: dict[str, int] = {}  # worker id -> index, while connected
        self._departed: list[Departure] = []
        self._cpu_s: dict[str, float] = {}  # a remote worker's own count, shipped each second
        self.runner.register_message(PONG, self._on_pong)
        environment.events.worker_connect.add_listener(self._on_connect)
        gevent.spawn(self._loop)

    # ------------------------------------------------------------------ clocks
    def _on_connect(self, client_id: str, **_: Any) -> None:
        self._joined.setdefault(client_id, time.time())
        gevent.spawn(self._sync, client_id)

    def _on_pong(self, environment: Any, msg: Any, **_: Any) -> None:
        received = time.time()
        waiter = self._waiting.get((msg.node_id, int(msg.data["n"])))
        if waiter is not None:
            waiter.set((received, float(msg.data["worker"]), bool(msg.data.get("local"))))

    def _sync(self, client_id: str) -> None:
        """Measure one worker's offset and tell it what to apply; never raises."""
        exchanges: list[Exchange] = []
        try:
            gevent.sleep(FIRST_PING_DELAY_S)
            for _ in range(PINGS):
                self._seq += 1
                key = (client_id, self._seq)
                waiter = self._waiting[key] = AsyncResult()
                sent = time.time()
                self.runner.send_message(PING, {"n": self._seq}, client_id=client_id)
                try:
                    received, worker, local = waiter.get(timeout=PING_TIMEOUT_S)
                except gevent.Timeout:
                    continue
                finally:
                    self._waiting.pop(key, None)
                exchanges.append(Exchange(sent, worker, received))
                if local:
                    self._local.add(client_id)
                gevent.sleep(PING_GAP_S)
            offset = estimate(exchanges)
            if offset is None:
                log.warning("hachaos: worker %s answered no clock ping", client_id)
                return
            # a worker on the master's host shares its clock: what is measured is noise
            apply = offset.significant and client_id not in self._local
            self.runner.send_message(
                OFFSET, {"offset_s": offset.offset_s if apply else 0.0}, client_id=client_id
            )
            self._offsets[client_id] = (offset, apply)
            self._first.setdefault(client_id, offset)
        except Exception:
            log.exception("hachaos: measuring the clock of worker %s failed", client_id)

    def note_shipped(self, client_id: str, data: dict[str, Any]) -> None:
        """A remote worker's chunk message also carries its CPU seconds since the test start."""
        cpu_s = data.get("cpu_s")
        if isinstance(cpu_s, (int, float)):
            self._cpu_s[client_id] = float(cpu_s)

    # ------------------------------------------------------------------ roster
    def _connected(self) -> list[str]:
        return [c.id for c in self.runner.clients.all]

    def roster(self) -> Roster:
        """What the master knows now."""
        running = str(self.runner.state) in _TEST_STATES
        now = time.time()
        current: dict[str, int] = {}
        entries = []
        for client in self.runner.clients.all:
            cid = client.id
            index = int(self.runner.worker_indexes.get(cid, -1))
            current[cid] = index
            measured = self._offsets.get(cid)
            first = self._first.get(cid)
            cpu = float(getattr(client, "cpu_usage", 0.0) or 0.0)
            entries.append(
                WorkerEntry(
                    id=cid,
                    index=index,
                    state=self._state_of(client),
                    cpu=cpu,
                    cpu_s=self._cpu_s.get(cid, 0.0),
                    joined=self._joined.get(cid, now),
                    local=cid in self._local,
                    offset_ms=measured[0].offset_s * 1e3 if measured else None,
                    uncertainty_ms=measured[0].uncertainty_s * 1e3 if measured else None,
                    offset_applied=measured[1] if measured else False,
                    first_offset_ms=first.offset_s * 1e3 if first else None,
                )
            )
        if running:
            for cid, index in self._known.items():
                if cid not in current:  # it said it stopped (Locust dropped it)
                    self._departed.append(Departure(cid, index, now, "stopped"))
        self._known = current
        return Roster(
            now, running, tuple(sorted(entries, key=lambda e: e.index)), tuple(self._departed)
        )

    def _state_of(self, client: Any) -> str:
        """Locust's state, or ``missing`` for a silent worker on another host."""
        liveness = locust.runners.HEARTBEAT_LIVENESS  # read now: locust_entry raises it
        return worker_state(
            str(client.state),
            local=client.id in self._local,
            silent_s=(liveness - int(getattr(client, "heartbeat", liveness)))
            * locust.runners.HEARTBEAT_INTERVAL,
        )

    def _loop(self) -> None:
        last_sync = time.monotonic()
        while True:
            gevent.sleep(ROSTER_INTERVAL_S)
            try:
                write_roster(self.samples_dir, self.roster())
            except Exception:
                log.exception("hachaos: could not write the worker roster")
            if time.monotonic() - last_sync >= RESYNC_S:
                last_sync = time.monotonic()
                for cid in self._connected():
                    gevent.spawn(self._sync, cid)


def attach_worker(environment: Any, *, local: bool) -> None:
    """Worker side: answer the master's clock pings and apply the offset it sends."""
    runner = environment.runner

    def pong(environment: Any, msg: Any, **_: Any) -> None:
        runner.send_message(PONG, {"n": msg.data["n"], "worker": time.time(), "local": local})

    def offset(environment: Any, msg: Any, **_: Any) -> None:
        CLOCK.offset_s = float(msg.data["offset_s"])

    runner.register_message(PING, pong)
    runner.register_message(OFFSET, offset)
