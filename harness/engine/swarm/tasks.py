"""A stack's tasks: read, counted, selected as fault targets, and waited for.

A task is the swarm's unit of a replica: a container on some node, in a slot of
its service. Swarm replaces a task that stopped with a new one in the same slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.engine.client import client, translated
from harness.engine.containers import Target
from harness.engine.swarm.names import NAMESPACE, SERVICE_NAME, parse_ts, short_name
from harness.engine.swarm.objects import stack_services
from harness.errors import EngineError, FaultError, TargetNotFound


@dataclass(frozen=True)
class TaskInfo:
    """One swarm task as hachaos reads it."""

    id: str
    service: str  # the stack's service name, without the ``<stack>_`` prefix
    slot: int
    state: str
    desired: str
    container: str
    since: float  # epoch s of the current state (for ``running``: when it became running)

    def report(self, *, replaced: str | None = None) -> dict[str, Any]:
        """The task as events and reports show it (a new task: the one it ``replaced``)."""
        old = {} if replaced is None else {"old_task": replaced}
        return {
            "service": self.service,
            "slot": self.slot,
            **old,
            "task": self.id,
            "container": self.container[:12],
            "running_wall": self.since,
        }


def _task(doc: Mapping[str, Any], service: str) -> TaskInfo:
    status = doc["Status"]
    return TaskInfo(
        id=str(doc["ID"]),
        service=service,
        slot=int(doc.get("Slot") or 0),
        state=str(status.get("State", "")),
        desired=str(doc.get("DesiredState", "")),
        container=str((status.get("ContainerStatus") or {}).get("ContainerID") or ""),
        since=parse_ts(str(status.get("Timestamp", ""))),
    )


def service_tasks(stack: str, service: str | None = None) -> dict[str, list[TaskInfo]]:
    """The tasks of the stack's services (or one service), by short service name."""
    full = f"{stack}_{service}"
    wanted = [s for s in stack_services(stack) if service is None or s["Spec"]["Name"] == full]
    out: dict[str, list[TaskInfo]] = {}
    api = client().api
    for svc in wanted:
        name = short_name(svc["Spec"]["Name"], stack)
        with translated(f"listing tasks of {svc['Spec']['Name']}"):
            tasks = api.tasks(filters={"service": svc["ID"]})
        out[name] = [_task(t, name) for t in tasks if t.get("ServiceID") == svc["ID"]]
    return out


def desired_replicas(stack: str) -> dict[str, int]:
    """Desired task count per short service name (replicated services)."""
    out = {}
    for svc in stack_services(stack):
        mode = svc["Spec"].get("Mode") or {}
        if "Replicated" in mode:
            out[short_name(svc["Spec"]["Name"], stack)] = int(mode["Replicated"].get("Replicas", 1))
    return out


def running(tasks: Iterable[TaskInfo]) -> list[TaskInfo]:
    """Tasks that run and are meant to (a task shutting down for an update is not counted)."""
    return [t for t in tasks if t.state == "running" and t.desired == "running"]


def _health(container: str, what: str) -> str | None:
    with translated(f"inspect task container of {what}"):
        state = client().api.inspect_container(container)["State"]
    return (state.get("Health") or {}).get("Status")


def converged(stack: str) -> tuple[bool, str]:
    """Whether every service has its desired replicas running and healthy; else why not."""
    desired = desired_replicas(stack)
    if not desired:
        return False, "no service yet"
    tasks = service_tasks(stack)
    for name, want in sorted(desired.items()):
        up = running(tasks.get(name, []))
        if len(up) != want:
            return False, f"{name}: {len(up)}/{want} tasks running"
        for t in up:
            health = _health(t.container, name)
            if health not in (None, "healthy"):
                return False, f"{name}.{t.slot}: {health}"
    return True, ""


def wait_converged(
    stack: str, timeout: float, *, what: str = "the stack", clock: Clock = REAL_CLOCK
) -> None:
    """Poll until :func:`converged`; raises EngineError with the last reason after ``timeout``."""
    why = ""

    def ready() -> bool:
        nonlocal why
        ok, why = converged(stack)
        return ok

    if not poll_until(ready, timeout, 0.5, clock):
        raise EngineError(
            f"{what} did not reach its desired replicas within {timeout:.0f} s ({why})",
            hint=f"look at `docker stack ps {stack} --no-trunc` for the tasks' errors",
        )


def select_tasks(stack: str, service: str, slots: tuple[int, ...] = ()) -> list[Target]:
    """The running tasks of ``service`` in ``stack`` (with these slots; all if empty).

    Raises FaultError when nothing matches: a fault with no target is never a pass.
    """
    tasks = running(service_tasks(stack, service).get(service, []))
    if slots:
        tasks = [t for t in tasks if t.slot in set(slots)]
    targets = []
    for t in sorted(tasks, key=lambda t: t.slot):
        with translated(f"inspect task container of {service}.{t.slot}"):
            doc = client().api.inspect_container(t.container)
        labels = doc["Config"].get("Labels") or {}
        # The guarantee is ours, not the filter's: the container must carry the stack's labels.
        if labels.get(NAMESPACE) != stack or labels.get(SERVICE_NAME) != f"{stack}_{service}":
            continue
        targets.append(Target(doc["Id"], doc["Name"].lstrip("/"), service, t.slot, task=t.id))
    if not targets:
        which = f"slots {list(slots)} of " if slots else ""
        raise FaultError(
            f"no running task matched {which}service {service!r} in swarm stack {stack!r}",
            hint="check the service name and its replica count; slots count from 1",
        )
    return targets


class _Replacements:
    """One look at whether each target's slot runs a new task (and its service its count)."""

    def __init__(self, stack: str, targets: Iterable[Mapping[str, Any]]) -> None:
        self.stack = stack
        self.wanted = [
            (str(t["service"]), int(t["number"]), str(t.get("task", ""))) for t in targets
        ]
        self.found: list[dict[str, Any]] = []
        self.pending: list[str] = []

    def done(self) -> bool:
        desired = desired_replicas(self.stack)
        gone = sorted({s for s, _, _ in self.wanted if s not in desired})
        if gone:
            raise TargetNotFound(
                f"swarm stack {self.stack} has no service {', '.join(gone)} any more"
            )
        by_service = service_tasks(self.stack)
        self.found, self.pending = [], []
        for service, slot, old in self.wanted:
            up = running(by_service.get(service, []))
            new = [t for t in up if t.slot == slot and t.id != old]
            if new and len(up) >= desired.get(service, 0):
                self.found.append(new[0].report(replaced=old))
            else:
                self.pending.append(f"{service}.{slot}")
        return not self.pending


def wait_replaced(
    stack: str,
    targets: Iterable[Mapping[str, Any]],
    timeout: float,
    *,
    clock: Clock = REAL_CLOCK,
) -> list[dict[str, Any]]:
    """Wait until each target task's slot has a new running task and the service its desired
    count; returns ``{service, slot, old_task, task, container, running_wall}`` per target.

    Raises TargetNotFound when a target's service is gone (the stack was removed).
    """
    look = _Replacements(stack, targets)
    if not poll_until(look.done, timeout, 0.2, clock):
        raise FaultError(
            f"swarm did not replace task(s) {', '.join(look.pending)} within {timeout:.0f} s",
            hint=f"look at `docker stack ps {stack} --no-trunc` for the tasks' errors",
        )
    return look.found


def running_task_ids(stack: str, service: str) -> list[str]:
    """Ids of the service's running tasks."""
    return [t.id for t in running(service_tasks(stack, service).get(service, []))]


def new_running_tasks(stack: str, service: str, before: Iterable[str]) -> list[dict[str, Any]]:
    """The service's running tasks that were not in ``before``, as report entries."""
    old = set(before)
    up = running(service_tasks(stack, service).get(service, []))
    return [t.report() for t in sorted(up, key=lambda t: t.slot) if t.id not in old]


def wait_running(
    stack: str,
    service: str,
    count: int,
    timeout: float,
    *,
    settled: Callable[[], bool] | None = None,
    clock: Clock = REAL_CLOCK,
) -> None:
    """Wait until ``service`` has exactly ``count`` running tasks (and ``settled()``, if given)."""
    up = 0

    def there() -> bool:
        nonlocal up
        up = len(running(service_tasks(stack, service).get(service, [])))
        return up == count and (settled is None or settled())

    if not poll_until(there, timeout, 0.25, clock):
        raise FaultError(
            f"{stack}_{service} has {up} running task(s), not {count}, after {timeout:.0f} s",
            hint=f"look at `docker service ps {stack}_{service} --no-trunc`",
        )
