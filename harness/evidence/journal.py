"""Crash-safe journal of fault applies and reverts.

One JSON object per line, appended and fsynced, written *before* the action it
records, to two files: ``<run dir>/journal.jsonl`` (evidence) and
``$XDG_STATE_HOME/hachaos/journal/<run_id>.jsonl`` (what ``hachaos cleanup``
reads after a crash). Each ``intent`` line carries the fault's full undo state,
so a fault can be reverted without the scenario.

Ops: ``open`` (pid, host, process start time), ``intent`` (seq, key, type,
state), ``applied``, ``revert`` (seq, about to revert), ``reverted``,
``revert_failed``, ``closed`` (nothing left to undo), ``stack`` (the run's
stack: ``engine``, ``created`` by hachaos, ``keep``, ``removed``, and what the
engine needs to find it again, e.g. the ``compose`` file or ``swarm_created``;
written right before the deploy, after it when the engine changed something
(a new swarm), and after the teardown).

Only a ``reverted`` line settles an intent. ``closed`` is written only when
every intent has one, and a reader still treats an intent without one as
pending even after ``closed``: a journal must never hide a fault that may
still be applied.

Concurrent runs never share a file: each run has its own run id, and the
files are created exclusively. Every line is appended whole (short writes are
completed) under an exclusive ``flock``, so writers in other threads or
processes (a run and a ``hachaos cleanup``) never interleave partial lines.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


def hachaos_state() -> Path:
    """Per-user state of hachaos (``$XDG_STATE_HOME/hachaos``, default ~/.local/state)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hachaos"


def state_dir() -> Path:
    """Per-user folder of run journals (``$XDG_STATE_HOME/hachaos/journal``)."""
    return hachaos_state() / "journal"


def _process_started(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


def _append(path: Path, line: bytes) -> None:
    """Append one whole line, fsynced, under an exclusive lock on the file."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(line)
        while view:  # a short write must not leave half a line for the next writer
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock


class Journal:
    """Appends fsynced lines to every path given; thread-safe.

    Raises FileExistsError when a path already exists: one journal per run id.
    """

    def __init__(self, run_id: str, project: str, paths: list[Path]) -> None:
        self.run_id = run_id
        self.project = project
        self.paths = paths
        self._lock = threading.Lock()
        self._seq = 0
        self._unsettled: set[int] = set()  # intents without a `reverted` line
        for p in paths:
            p.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        pid = os.getpid()
        self._write(
            {
                "op": "open",
                "pid": pid,
                "host": socket.gethostname(),
                "pid_started": _process_started(pid),
            }
        )

    def _write(self, entry: dict[str, Any]) -> dict[str, Any]:
        record = {"wall": time.time(), "run_id": self.run_id, "project": self.project, **entry}
        line = (json.dumps(record, default=str, separators=(",", ":")) + "\n").encode()
        with self._lock:
            for p in self.paths:
                _append(p, line)
        return record

    def intent(self, key: str, fault_type: str, undo: dict[str, Any]) -> int:
        """Record that a fault is about to be applied; returns its sequence number."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._unsettled.add(seq)
        self._write({"op": "intent", "seq": seq, "key": key, "type": fault_type, "state": undo})
        return seq

    def mark(self, op: str, seq: int, **extra: Any) -> None:
        """Record ``applied``, ``revert``, ``reverted`` or ``revert_failed`` for entry ``seq``."""
        self._write({"op": op, "seq": seq, **extra})
        if op == "reverted":
            with self._lock:
                self._unsettled.discard(seq)

    def unsettled(self) -> list[int]:
        """Sequence numbers of intents that have no ``reverted`` line yet."""
        with self._lock:
            return sorted(self._unsettled)

    def close(self) -> bool:
        """Record that nothing is left to undo; refused (False) while an intent is unsettled."""
        if self.unsettled():
            return False
        self._write({"op": "closed"})
        return True

    def stack(self, **fields: Any) -> None:
        """Record what hachaos did with the run's stack (see :class:`StackRecord`)."""
        self._write({"op": "stack", **fields})


_STACK_KEYS = ("created", "keep", "removed", "engine")
_LINE_KEYS = ("op", "by", "wall", "run_id", "project")  # on every line, or about the line


@dataclass
class StackRecord:
    """The run's stack as its ``stack`` lines describe it (later lines win)."""

    created: bool = False  # hachaos deployed it; False when it adopted an existing stack
    keep: bool = False  # --keep: leave it up afterwards
    removed: bool = False  # torn down (by the run or by cleanup)
    engine: str = "compose"  # the engine that ran it (journals from before engines had none)
    # The engine's own fields (``compose`` file, ``swarm_created``...): what its cleanup needs.
    details: dict[str, Any] = field(default_factory=dict)

    def update(self, entry: dict[str, Any]) -> StackRecord:
        """A copy with the fields of one ``stack`` line applied."""
        own = {k: entry[k] for k in _STACK_KEYS if k in entry}
        extra = {k: v for k, v in entry.items() if k not in _STACK_KEYS + _LINE_KEYS}
        return dataclasses.replace(self, **own, details={**self.details, **extra})


@dataclass
class Pending:
    """A fault whose intent was journaled but whose revert was not confirmed."""

    seq: int
    key: str
    type: str
    state: dict[str, Any]


@dataclass
class JournalFile:
    """A parsed journal."""

    path: Path
    run_id: str = ""
    project: str = ""
    pid: int = 0
    host: str = ""
    pid_started: float = 0.0
    closed: bool = False  # a `closed` line was written and every intent was reverted
    pending: list[Pending] = field(default_factory=list)
    stack: StackRecord | None = None  # None: the run never got to deploy

    def alive(self) -> bool:
        """Whether the run that writes this journal still runs (same host, same process)."""
        if self.host != socket.gethostname() or not self.pid:
            return False
        started = _process_started(self.pid)
        return started > 0 and abs(started - self.pid_started) < 1.0


def read_journal(path: Path) -> JournalFile:
    """Parse a journal; a torn last line is ignored. Pending entries are newest first.

    An intent stays pending until a ``reverted`` line settles it, whatever else
    the file says (``revert_failed``, or a ``closed`` line written in error).
    """
    jf = JournalFile(path=path)
    intents: dict[int, Pending] = {}
    closed = False
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        op = e.get("op")
        jf.run_id = e.get("run_id", jf.run_id)
        jf.project = e.get("project", jf.project)
        if op == "open":
            jf.pid, jf.host = int(e.get("pid", 0)), str(e.get("host", ""))
            jf.pid_started = float(e.get("pid_started", 0.0))
            closed = False
        elif op == "intent":
            intents[e["seq"]] = Pending(e["seq"], e["key"], e["type"], e.get("state") or {})
        elif op == "reverted":
            intents.pop(e["seq"], None)
        elif op == "closed":
            closed = True
        elif op == "stack":
            jf.stack = (jf.stack or StackRecord()).update(e)
    jf.pending = sorted(intents.values(), key=lambda p: p.seq, reverse=True)
    jf.closed = closed and not jf.pending
    return jf


def append_to(path: Path, entry: dict[str, Any]) -> None:
    """Append one fsynced line to an existing journal (used by cleanup)."""
    line = (json.dumps({"wall": time.time(), **entry}, separators=(",", ":")) + "\n").encode()
    _append(path, line)
