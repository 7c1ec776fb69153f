"""Containers of the stack under test: target resolution and the operations faults use.

Blast radius: targets resolve only among containers labelled with the run's
compose project and service, and never among hachaos helpers. Every function
takes container ids, so a fault keeps hitting the very containers it resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker.errors

from harness.clock import poll_until
from harness.engine.client import client, translated
from harness.engine.helpers import HELPER_LABEL
from harness.errors import EngineError, FaultError
from harness.scenario.compose import shares_namespace

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
# A stopped copy the scale fault keeps while a replica is removed; the value is
# the original container's name. Never a target, never started as it is.
PARKED_LABEL = "io.hachaos.parked"


@dataclass(frozen=True)
class Target:
    """One resolved container of the project."""

    id: str
    name: str
    service: str
    number: int  # compose container number, or swarm task slot
    task: str = ""  # swarm task id ("" for compose): Swarm replaces a task, never restarts it


def _project_containers(project: str, service: str | None = None) -> list[Any]:
    filters = [f"{PROJECT}={project}"]
    if service:
        filters.append(f"{SERVICE}={service}")
    with translated(f"list containers of project {project}"):
        # A container may vanish between the list and its inspect (scale, restarts).
        found = client().containers.list(all=True, filters={"label": filters}, ignore_removed=True)
    # Labels are re-checked here: the filter is the engine's, the guarantee is ours.
    return [
        c
        for c in found
        if c.labels.get(PROJECT) == project
        and (service is None or c.labels.get(SERVICE) == service)
        and HELPER_LABEL not in c.labels
        and PARKED_LABEL not in c.labels
    ]


def _target(c: Any) -> Target:
    return Target(
        id=str(c.id),
        name=str(c.name),
        service=c.labels.get(SERVICE, ""),
        number=int(c.labels.get(NUMBER, "0") or 0),
    )


def resolve(project: str, service: str, replicas: tuple[int, ...] = ()) -> list[Target]:
    """The containers of ``service`` in ``project`` with these container numbers (all if empty).

    Raises FaultError when nothing matches: a fault with no target is never a pass.
    """
    targets = sorted(
        (_target(c) for c in _project_containers(project, service)), key=lambda t: t.number
    )
    if replicas:
        wanted = set(replicas)
        targets = [t for t in targets if t.number in wanted]
    if not targets:
        which = f"replicas {list(replicas)} of " if replicas else ""
        raise FaultError(
            f"no container matched {which}service {service!r} in compose project {project!r}",
            hint="check the service name and replica count; a fault with no target never passes",
        )
    return targets


def project_targets(project: str) -> list[Target]:
    """Every non-helper container of the project (of the swarm stack of that name if none)."""
    return [_target(c) for c in _project_containers(project)] or _stack_targets(project)


STACK = "com.docker.stack.namespace"
TASK_NAME = "com.docker.swarm.task.name"  # <stack>_<service>.<slot>.<task id>


def _stack_targets(stack: str) -> list[Target]:
    """The running task containers of a swarm stack (service names without the prefix)."""
    with translated(f"list task containers of stack {stack}"):
        found = client().containers.list(filters={"label": f"{STACK}={stack}"}, ignore_removed=True)
    out = []
    for c in found:
        full, _, rest = c.labels.get(TASK_NAME, "").partition(".")
        slot, _, task = rest.partition(".")
        # Re-checked here: the filter is the engine's, the guarantee is ours.
        if c.labels.get(STACK) != stack or not full.startswith(f"{stack}_") or not task:
            continue
        number = int(slot) if slot.isdigit() else 0
        out.append(Target(str(c.id), str(c.name), full[len(stack) + 1 :], number, task=task))
    return sorted(out, key=lambda t: (t.service, t.number))


def inspect(container_id: str) -> dict[str, Any]:
    """The engine's inspect document of a container (TargetNotFound if gone)."""
    with translated(f"inspect {container_id[:12]}"):
        return dict(client().api.inspect_container(container_id))


def state(container_id: str) -> dict[str, Any]:
    """The ``State`` part of inspect."""
    return dict(inspect(container_id)["State"])


def status(container_id: str) -> str:
    """running, exited, paused, restarting, created, dead."""
    return str(state(container_id)["Status"])


def wait_status(
    container_id: str, wanted: set[str], *, timeout: float, interval: float = 0.02
) -> str:
    """Poll until the status is in ``wanted``; returns the last status seen."""
    current = ""

    def arrived() -> bool:
        nonlocal current
        current = status(container_id)
        return current in wanted

    poll_until(arrived, timeout, interval)
    return current


def kill(container_id: str, signal: str = "SIGKILL") -> None:
    """Send a signal through the engine (restart policies do not apply)."""
    with translated(f"kill {container_id[:12]}"):
        client().api.kill(container_id, signal=signal)


def stop(container_id: str, grace: float) -> None:
    """Graceful stop: SIGTERM, then SIGKILL after ``grace`` seconds."""
    with translated(f"stop {container_id[:12]}"):
        client().api.stop(container_id, timeout=int(grace))


def start(container_id: str) -> None:
    """Start a stopped container."""
    with translated(f"start {container_id[:12]}"):
        client().api.start(container_id)


def restart(container_id: str, grace: float) -> None:
    """Restart through the engine."""
    with translated(f"restart {container_id[:12]}"):
        client().api.restart(container_id, timeout=int(grace))


def pause(container_id: str) -> None:
    """Freeze with the cgroup freezer."""
    with translated(f"pause {container_id[:12]}"):
        client().api.pause(container_id)


def unpause(container_id: str) -> None:
    """Thaw a paused container."""
    with translated(f"unpause {container_id[:12]}"):
        client().api.unpause(container_id)


def host_pid(container_id: str) -> int:
    """Host pid of the container's main process (0 when not running)."""
    return int(state(container_id).get("Pid", 0))


def shared_namespaces(container_id: str) -> dict[str, str]:
    """The namespaces the container shares with the host or another container, from the
    live HostConfig: ``{"network": "host", "pid": "container:<id>"}``; empty when none."""
    hc = inspect(container_id)["HostConfig"]
    modes = {"network": hc.get("NetworkMode"), "pid": hc.get("PidMode")}
    return {ns: str(mode) for ns, mode in modes.items() if shares_namespace(mode)}


def mounts(container_id: str) -> dict[str, tuple[str, bool]]:
    """Mount points of the container: destination -> (type, writable).

    Types are the engine's (volume, bind, tmpfs, npipe); ``--tmpfs``/compose
    ``tmpfs:`` mounts live in HostConfig.Tmpfs, not in Mounts, and are added.
    """
    doc = inspect(container_id)
    found = {
        str(m["Destination"]): (str(m.get("Type", "")), bool(m.get("RW", True)))
        for m in doc.get("Mounts") or []
    }
    for dest, opts in (doc["HostConfig"].get("Tmpfs") or {}).items():
        found.setdefault(str(dest), ("tmpfs", "ro" not in str(opts).split(",")))
    return found


def cpu_limits(container_id: str) -> dict[str, int]:
    """NanoCpus, CpuQuota and CpuPeriod from HostConfig."""
    hc = inspect(container_id)["HostConfig"]
    return {k: int(hc.get(k) or 0) for k in ("NanoCpus", "CpuQuota", "CpuPeriod")}


def update_resources(container_id: str, resources: dict[str, int]) -> None:
    """POST /containers/{id}/update with exactly these fields.

    The SDK's update() cannot set NanoCpus, and a container created with
    ``cpus:`` rejects CpuQuota updates, so the body is sent as is.
    """
    api = client().api
    with translated(f"update {container_id[:12]}"):
        api._result(
            api._post_json(api._url("/containers/{0}/update", container_id), data=resources),
            True,
        )


def addresses(container_id: str) -> dict[str, str]:
    """IPv4 address per network name (only networks with an address)."""
    nets = inspect(container_id)["NetworkSettings"].get("Networks") or {}
    return {name: n["IPAddress"] for name, n in nets.items() if n.get("IPAddress")}


def exec_in(container_id: str, script: str, *, detach: bool = False) -> tuple[int, str]:
    """Run ``sh -c script`` in the container; detached runs return (0, "")."""
    with translated(f"exec in {container_id[:12]}"):
        c = client().containers.get(container_id)
        result = c.exec_run(["sh", "-c", script], detach=detach)
    if detach:
        return 0, ""
    out = result.output.decode(errors="replace") if result.output else ""
    return int(result.exit_code if result.exit_code is not None else -1), out


def remove(container_id: str) -> None:
    """Stop and remove a container (its config must have been saved first)."""
    with translated(f"remove {container_id[:12]}"):
        client().api.remove_container(container_id, force=True)


def exists(container_id_or_name: str) -> bool:
    """Whether a container with this id or name exists."""
    try:
        client().api.inspect_container(container_id_or_name)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        raise EngineError(f"inspect {container_id_or_name}: {exc}") from exc
    return True


def snapshot(container_id: str) -> dict[str, Any]:
    """What :func:`recreate` needs: name, Config, HostConfig and network endpoints (JSON-able)."""
    doc = inspect(container_id)
    short = doc["Id"][:12]
    config = dict(doc["Config"])
    config.pop("Hostname", None)  # the old short id; a fresh one is assigned
    endpoints: dict[str, Any] = {}
    for net, ep in (doc["NetworkSettings"].get("Networks") or {}).items():
        aliases = [a for a in (ep.get("Aliases") or []) if a != short]
        endpoints[net] = {"Aliases": aliases, "Links": ep.get("Links")}
    return {
        "name": doc["Name"].lstrip("/"),
        "config": config,
        "host_config": doc["HostConfig"],
        "endpoints": endpoints,
    }


def _create(snap: dict[str, Any]) -> str:
    """Create (do not start) a container from a :func:`snapshot`; returns its id."""
    api = client().api
    nets = list(snap["endpoints"].items())
    body = dict(snap["config"])
    body["HostConfig"] = snap["host_config"]
    if nets:
        # API 1.41 accepts only one endpoint at create; the others are connected after.
        first, ep = nets[0]
        body["NetworkingConfig"] = {"EndpointsConfig": {first: ep}}
    created = api._result(
        api._post_json(api._url("/containers/create"), data=body, params={"name": snap["name"]}),
        True,
    )
    new_id = str(created["Id"])
    for net, ep in nets[1:]:
        api.connect_container_to_network(new_id, net, aliases=ep.get("Aliases"))
    return new_id


def recreate(snap: dict[str, Any]) -> str:
    """Create and start a container from a :func:`snapshot`; returns the new id.

    Raises EngineError on conflicts, e.g. when compose already recreated a
    container with that name.
    """
    with translated(f"recreate {snap['name']}"):
        new_id = _create(snap)
        client().api.start(new_id)
    return new_id


def _relabelled(snap: dict[str, Any], name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {**snap, "name": name, "config": {**snap["config"], "Labels": labels}}


def park(container_id: str, parked_name: str) -> str:
    """Create a never-started copy of a container under ``parked_name``; returns its id.

    The copy keeps the container's whole configuration (environment included)
    inside the engine, so the caller only has to remember ``parked_name``:
    nothing secret needs to be written anywhere else. It carries the compose
    labels too, so ``compose down`` removes it with the stack.
    """
    snap = snapshot(container_id)
    labels = {**(snap["config"].get("Labels") or {}), PARKED_LABEL: snap["name"]}
    with translated(f"park {snap['name']} as {parked_name}"):
        return _create(_relabelled(snap, parked_name, labels))


def unpark(parked_name: str) -> str:
    """Recreate and start the original container of a :func:`park` copy, then drop the copy.

    Returns the new container's id. Raises TargetNotFound when the copy is gone
    and EngineError when the original name is taken.
    """
    snap = snapshot(parked_name)
    labels = dict(snap["config"].get("Labels") or {})
    name = labels.pop(PARKED_LABEL)
    new_id = recreate(_relabelled(snap, name, labels))
    remove(parked_name)
    return new_id


def find_by_name(name: str) -> str | None:
    """Id of the container with exactly this name, or None."""
    try:
        return str(client().api.inspect_container(name)["Id"])
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        raise EngineError(f"inspect {name}: {exc}") from exc
