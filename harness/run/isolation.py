"""checks.isolation during a run: probe rounds in a background thread, written to isolation.json.

One round resolves the project's containers, then probes every rule from every
running replica of ``from`` to every address of every replica of ``to`` (one
helper per ``from`` container, all connects in parallel). Rounds run at the
start (baseline), every ``probe_every`` seconds, and once after the faults were
reverted and the load stopped. The analysis assigns each round its phase.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.engine import helpers
from harness.engine.probe import Endpoint, endpoints, probe_from
from harness.errors import HarnessError
from harness.evidence.folder import write_json_atomic
from harness.scenario.models import IsolationCheck

MAX_ROUNDS = 2000
MAX_PARALLEL_HELPERS = 4
FILE = "isolation.json"

Rule = tuple[str, str, str, int | None]  # kind, from, to, port


def rules_of(spec: IsolationCheck) -> list[Rule]:
    return [("deny", r.from_, r.to, r.port) for r in spec.deny] + [
        ("allow", r.from_, r.to, r.port) for r in spec.allow
    ]


def probe_round(
    rules: list[Rule],
    eps: dict[str, list[Endpoint]],
    probe: Callable[[str, list[tuple[str, int]]], dict[tuple[str, int], str]],
) -> list[dict[str, Any]]:
    """Observations of one round: one per rule, from-replica, to-replica and port.

    ``state`` is open (any address answered), timeout/refused (none did), down
    (the ``to`` container is not running) or unprobed (no answer from the helper).
    """
    wanted: dict[str, set[tuple[str, int]]] = {}
    plan: list[tuple[Rule, Endpoint, Endpoint, int]] = []
    for rule in rules:
        _, src, dst, port = rule
        for a in (e for e in eps.get(src, []) if e.running):
            for b in eps.get(dst, []):
                for p in (port,) if port else b.ports:
                    plan.append((rule, a, b, p))
                    if b.running:
                        wanted.setdefault(a.id, set()).update((ip, p) for ip in b.addresses)
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_HELPERS) as pool:
        futures = {cid: pool.submit(probe, cid, sorted(t)) for cid, t in wanted.items()}
        answers = {cid: f.result() for cid, f in futures.items()}
    out = []
    for (kind, src, dst, _), a, b, p in plan:
        if not b.running:
            state = "down"
        else:
            got = [answers.get(a.id, {}).get((ip, p)) for ip in b.addresses]
            if "open" in got:
                state = "open"
            elif got and all(g is not None for g in got):
                state = "timeout" if "timeout" in got else "refused"
            else:
                state = "unprobed"
        out.append(
            {
                "kind": kind,
                "from": src,
                "to": dst,
                "port": p,
                "from_replica": a.number,
                "to_replica": b.number,
                "state": state,
            }
        )
    for kind, src, dst, port in rules:
        if not any(o["kind"] == kind and o["from"] == src and o["to"] == dst for o in out):
            out.append({"kind": kind, "from": src, "to": dst, "port": port, "state": "unprobed"})
    return out


class IsolationProber:
    """Runs probe rounds until stopped; never raises into the run (errors go in the file)."""

    def __init__(
        self,
        spec: IsolationCheck,
        project: str,
        run_id: str,
        run_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.project = project
        self.run_id = run_id
        self.path = run_dir / FILE
        self.clock = clock
        self.rounds: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _probe(
        self, container_id: str, targets: list[tuple[str, int]]
    ) -> dict[tuple[str, int], str]:
        return probe_from(
            container_id,
            targets,
            timeout_s=self.spec.timeout,
            run_id=self.run_id,
            project=self.project,
        )

    def round(self, label: str = "") -> None:
        """One probe round, appended to ``rounds``."""
        started, mono = self.clock(), time.monotonic()
        doc: dict[str, Any] = {"t_wall": started, "label": label}
        try:
            eps = endpoints(self.project)
            doc["observations"] = probe_round(rules_of(self.spec), eps, self._probe)
            doc["helpers"] = sum(
                1 for e in {r[1] for r in rules_of(self.spec)} for x in eps.get(e, []) if x.running
            )
        except (HarnessError, ValueError) as exc:
            doc["error"] = str(exc)
            doc["observations"] = []
        doc["elapsed_s"] = round(time.monotonic() - mono, 3)
        with self._lock:
            self.rounds.append(doc)

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set() and len(self.rounds) < MAX_ROUNDS:
            self.round()
            next_at += self.spec.probe_every
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        """Make sure the helper image exists (EngineError otherwise), then start the rounds."""
        helpers.ensure_image()
        self._thread = threading.Thread(target=self._loop, name="isolation-probes", daemon=True)
        self._thread.start()

    def stop(self, *, final_round: bool = True) -> None:
        """Stop the rounds, run the one after recovery, write isolation.json. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.spec.timeout + 60.0)
        if final_round:
            self.round("final")
        self.write()

    def write(self) -> None:
        with self._lock:
            data = {
                "config": self.spec.model_dump(by_alias=True),
                "rounds": list(self.rounds),
            }
        write_json_atomic(self.path, data)
