"""The swarm's own view of the stack's replicas, recorded as events during the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from harness.engine.port import EmitFn
from harness.engine.swarm.tasks import TaskInfo, desired_replicas, running, service_tasks

EV_REPLICAS = "swarm.replicas"  # a service's running/desired task count changed
EV_TASK = "swarm.task"  # a task became running (a replacement, an update, a scale-up)
_POLL = 0.25  # s between two task polls of the observer


class TaskObserver:
    """Polls the stack's tasks and emits replica counts and newly running tasks as events.

    Swarm keeps only the current state's timestamp per task, so a poll records
    it as the moment the task became running: a replica count's ``since`` is the
    latest of those, i.e. Swarm's own time, not the poll's.
    """

    def __init__(
        self,
        stack: str,
        emit: EmitFn,
        *,
        interval: float = _POLL,
        poll: Callable[[], tuple[dict[str, int], dict[str, list[TaskInfo]]]] | None = None,
    ) -> None:
        self.stack = stack
        self.emit = emit
        self.interval = interval
        self._poll = poll or (lambda: (desired_replicas(stack), service_tasks(stack)))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counts: dict[str, tuple[int, int]] = {}
        self._seen: set[str] = set()
        self.errors = 0

    def step(self, first: bool = False) -> None:
        """One poll: emit what changed since the last one."""
        desired, tasks = self._poll()
        for service in sorted(set(desired) | set(tasks)):
            up = running(tasks.get(service, []))
            for t in sorted(up, key=lambda t: t.since):
                if t.id in self._seen:
                    continue
                self._seen.add(t.id)
                if not first:
                    self.emit(EV_TASK, **t.report())
            count = (len(up), desired.get(service, len(up)))
            if self._counts.get(service) != count:
                self._counts[service] = count
                since = max((t.since for t in up), default=0.0)
                self.emit(
                    EV_REPLICAS,
                    service=service,
                    running=count[0],
                    desired=count[1],
                    since=since,
                    polled=time.time(),
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception:  # a busy engine must not end the observer (or the run)
                self.errors += 1

    def start(self) -> None:
        self.step(first=True)
        self._thread = threading.Thread(target=self._loop, name="swarm-observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
