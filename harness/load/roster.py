"""The master's view of its workers, as a file the driver reads: ``samples/workers.json``.

The Locust master (:mod:`harness.load.master_link`) rewrites it about once a second:
every worker that joined, its index, host, state, CPU from its heartbeats and its
clock offset, and the workers that left while the test ran. The driver reads it to wait
until every worker has joined (and name the missing ones), to notice a worker that died
on another machine, and to show the clock offsets. Pure: no gevent, no Locust.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROSTER_FILE = "workers.json"
# Locust's own states, and "missing": a worker on another host silent for
# REMOTE_SILENCE_S, or any worker past Locust's liveness (locust_entry).
MISSING = "missing"
# A worker on another host that sent no heartbeat for this long is lost: the run stops
# (exit 3) with what it recorded. Locust's own liveness is 60 s here (locust_entry), so
# that a CPU-starved worker on the master's host is not dropped; one on another host
# that died must be noticed within seconds.
REMOTE_SILENCE_S = 8.0


def worker_state(state: str, *, local: bool, silent_s: float) -> str:
    """A worker's state for the roster: Locust's, or missing for a silent remote one."""
    return MISSING if not local and silent_s >= REMOTE_SILENCE_S else state


@dataclass(frozen=True)
class WorkerEntry:
    """One worker as the master sees it."""

    id: str  # Locust's client id: <hostname>_<uuid>
    index: int
    state: str
    cpu: float = 0.0  # percent of one core, from its last heartbeat
    cpu_s: float = 0.0  # CPU seconds since the test started (a remote worker's own count)
    joined: float = 0.0  # master clock
    local: bool = False  # spawned by the driver on the master's host (same clock)
    offset_ms: float | None = None  # its clock minus the master's; None until measured
    uncertainty_ms: float | None = None
    offset_applied: bool = False  # the worker shifts its times by offset_ms
    first_offset_ms: float | None = None  # at join, before any re-measurement

    @property
    def host(self) -> str:
        """The worker's host name (Locust ids are ``<hostname>_<32 hex>``)."""
        head, sep, tail = self.id.rpartition("_")
        return head if sep and len(tail) == 32 else self.id

    def describe(self) -> str:
        """``w2 on node-b`` (the index is the sample files' worker name)."""
        return f"w{self.index} on {self.host}"

    def clock(self) -> str:
        """``+0.12 ms ± 0.30 ms (applied)``, or ``not measured``."""
        if self.offset_ms is None:
            return "not measured"
        text = f"{self.offset_ms:+.2f} ms ± {self.uncertainty_ms or 0.0:.2f} ms"
        if self.offset_applied:
            text += ", corrected"
        return text


@dataclass(frozen=True)
class Departure:
    """A worker that left the master while the test was running."""

    id: str
    index: int
    at: float  # master clock
    how: str  # "stopped" (it said so) or "missing" (heartbeats stopped)

    def describe(self) -> str:
        host = WorkerEntry(self.id, self.index, self.how).host
        what = "stopped" if self.how == "stopped" else "stopped sending heartbeats"
        return f"load worker w{self.index} on {host} {what}"


@dataclass(frozen=True)
class Roster:
    """What the master last wrote (empty before its first write)."""

    written: float = 0.0
    test_running: bool = False
    workers: tuple[WorkerEntry, ...] = ()
    departed: tuple[Departure, ...] = field(default=())

    def joined(self) -> list[WorkerEntry]:
        """Workers connected and alive (not missing)."""
        return [w for w in self.workers if w.state != MISSING]

    def synced(self) -> list[WorkerEntry]:
        """Joined workers whose clock offset was measured."""
        return [w for w in self.joined() if w.offset_ms is not None]

    def lost(self) -> list[str]:
        """Why the load lost a worker during the test, one line each ([] while all are well)."""
        out = [d.describe() for d in self.departed]
        if self.test_running:
            out += [
                f"load worker {w.describe()} stopped sending heartbeats"
                for w in self.workers
                if w.state == MISSING
            ]
        return out

    def cpu(self) -> dict[str, float]:
        """{worker id: CPU %} of the workers not spawned by the driver (it samples those)."""
        return {w.id: w.cpu for w in self.workers if not w.local and w.state != MISSING}

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Roster:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            written=float(raw.get("written", 0.0)),
            test_running=bool(raw.get("test_running", False)),
            workers=tuple(WorkerEntry(**w) for w in raw.get("workers", ())),
            departed=tuple(Departure(**d) for d in raw.get("departed", ())),
        )


def write_roster(directory: Path, roster: Roster) -> None:
    """Replace the roster file atomically (not fsynced: it serves a live reader)."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / ROSTER_FILE
    tmp = directory / f".{ROSTER_FILE}.tmp"
    tmp.write_text(roster.to_json())
    os.replace(tmp, final)


class RosterView:
    """Reads the roster; once the workers have quit (the master's last rosters list none),
    it keeps the last one that had them: their clocks and CPU, for the run's record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: Roster | None = None

    def read(self) -> Roster:
        roster = read_roster(self.directory)
        if roster.workers:
            self._seen = roster
        if roster.workers or roster.departed or self._seen is None:
            return roster
        return self._seen


def read_roster(directory: Path) -> Roster:
    """The last roster written (an empty one when there is none yet)."""
    try:
        return Roster.from_json((directory / ROSTER_FILE).read_text())
    except (OSError, ValueError, TypeError):
        return Roster()
