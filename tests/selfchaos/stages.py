"""Which stage a running `hachaos run` is in, from what it leaves on the machine.

How each stage is detected (``classify``), most advanced first:

- ``report``: the run wrote ``run.end`` to events.jsonl (``_finish_meta``), or its
  progress printed ``report:``; the report files are being rendered.
- ``teardown``: the progress printed ``teardown:`` (revert_all, load stop, then
  ``docker compose down``), or a ``docker compose ... down`` child is alive.
- ``apply`` / ``revert``: the run folder's journal.jsonl has an ``intent`` without
  ``applied`` (apply in progress), or a ``revert`` without ``reverted`` (revert in
  progress). The journal is written *before* each action, so these are exact.
- ``active``: an ``applied`` entry with no ``revert`` yet (a windowed fault holds).
- ``warmup`` / ``run`` / ``cooldown``: the last ``phase`` event.
- ``readiness``: a ``docker compose ... up`` child was seen and has exited, and no
  ``phase`` event yet: wait for the ready path, environment, Locust start-up.
- ``deploy``: a ``docker compose ... up`` child of the run is alive.
- ``start``: none of the above (validation, healing, preflight).

On Swarm, ``docker stack deploy`` stands for ``up`` and ``docker stack rm`` for ``down``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

STAGES = (
    "start",
    "deploy",
    "readiness",
    "warmup",
    "run",
    "apply",
    "active",
    "revert",
    "cooldown",
    "teardown",
    "report",
)


@dataclass
class Observation:
    """What was seen of one run at one moment."""

    events: list[str] = field(default_factory=list)  # kind or "phase:<name>"
    journal: list[tuple[str, int]] = field(default_factory=list)  # (op, seq)
    progress: list[str] = field(default_factory=list)  # stage words of progress lines
    up_seen: bool = False
    up_alive: bool = False
    down_alive: bool = False


def classify(o: Observation) -> str:
    """The stage a run is in; see the module docstring for the rules."""
    if "run.end" in o.events or "report" in o.progress:
        return "report"
    if "teardown" in o.progress or o.down_alive:
        return "teardown"
    in_flight = journal_stage(o.journal)
    if in_flight is not None:
        return in_flight
    phases = [e.split(":", 1)[1] for e in o.events if e.startswith("phase:")]
    if phases:
        return phases[-1]
    if o.up_alive:
        return "deploy"
    if o.up_seen:
        return "readiness"
    return "start"


class Watcher:
    """Polls one run (its folder, its stdout file, its child processes)."""

    def __init__(self, pid: int, out_root: Path, stdout: Path) -> None:
        self.pid = pid
        self.out_root = out_root
        self.stdout = stdout
        self._up_seen = False

    def run_dir(self) -> Path | None:
        runs = [p for p in self.out_root.glob("*/*") if p.is_dir()]
        return runs[0] if runs else None

    def observe(self) -> Observation:
        o = Observation()
        up, down = self._compose_children()
        self._up_seen = self._up_seen or up
        o.up_seen, o.up_alive, o.down_alive = self._up_seen, up, down
        run_dir = self.run_dir()
        if run_dir is not None:
            for e in _jsonl(run_dir / "events.jsonl"):
                kind = str(e.get("kind", ""))
                o.events.append(f"phase:{e.get('phase')}" if kind == "phase" else kind)
            for e in _jsonl(run_dir / "journal.jsonl"):
                o.journal.append((str(e.get("op", "")), int(e.get("seq", 0) or 0)))
        try:
            text = self.stdout.read_text(errors="replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            word = line.strip().split(":", 1)[0]
            if word in ("deploy", "teardown", "report"):
                o.progress.append(word)
        return o

    def stage(self) -> str:
        return classify(self.observe())

    def _compose_children(self) -> tuple[bool, bool]:
        up = down = False
        try:
            kids = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return False, False
        for k in kids:
            try:
                cmd = k.cmdline()
            except psutil.Error:
                continue
            if "compose" in cmd:
                up = up or "up" in cmd
                down = down or "down" in cmd
            elif "stack" in cmd:  # a Swarm stack: `docker stack deploy` / `docker stack rm`
                up = up or "deploy" in cmd
                down = down or "rm" in cmd
        return up, down


def _jsonl(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    out: list[dict[str, object]] = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written right now
        if isinstance(value, dict):
            out.append(value)
    return out


JOURNAL_STAGES = ("apply", "active", "revert")


def journal_stage(journal: list[tuple[str, int]]) -> str | None:
    """apply/revert/active from the journal alone (None: no fault in flight)."""
    last: dict[int, str] = {}
    for op, seq in journal:
        if op in ("intent", "applied", "revert", "reverted", "revert_failed"):
            last[seq] = op
    ops = set(last.values())
    for op, stage in (("intent", "apply"), ("revert", "revert"), ("applied", "active")):
        if op in ops:
            return stage
    return None


def wait_for(watcher: Watcher, wanted: str, *, alive: psutil.Process, timeout: float) -> str | None:
    """Poll until the run reaches ``wanted`` (or a later stage); returns the stage seen.

    Returns None when the run exits or time runs out first. Apply and revert can
    last only milliseconds (unpause, cpu quota), so for the journal's stages the
    run folder's journal alone is re-read every few ms between full observations.
    """
    target = STAGES.index(wanted)
    deadline = time.monotonic() + timeout
    fast = wanted in JOURNAL_STAGES
    n = 0
    while time.monotonic() < deadline:
        run_dir = watcher.run_dir() if fast else None
        if run_dir is not None:
            ops = [
                (str(e.get("op", "")), int(str(e.get("seq", 0) or 0)))
                for e in _jsonl(run_dir / "journal.jsonl")
            ]
            if journal_stage(ops) == wanted:
                return wanted
        n += 1
        if n % 10 == 1 or not fast:
            if not alive.is_running() or alive.status() == psutil.STATUS_ZOMBIE:
                return None
            stage = watcher.stage()
            if stage == wanted or STAGES.index(stage) > target:
                return stage
        time.sleep(0.003 if fast else 0.03)
    return None
