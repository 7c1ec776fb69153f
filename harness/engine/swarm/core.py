"""The Swarm adapter of the engine port: `docker stack` on a (single-node) swarm.

Talks to the engine through the Docker SDK, and runs the docker CLI for
`docker stack deploy` only (the SDK has no stack support), with an argv list
and a validated stack name: no shell.

Blast radius: every service, task, container, network and volume is selected
by the stack's ``com.docker.stack.namespace`` label, and the label is
re-checked on what the engine returns, so a look-alike service of another
stack (same service name, another namespace) is never touched.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import docker.errors
import psutil
import yaml

from harness.engine.client import client, translated
from harness.engine.compose.project import ComposeProject, engine_version, stop_processes
from harness.engine.containers import Target
from harness.engine.port import EmitFn
from harness.engine.registry import LeftStack
from harness.engine.stats import DockerStats, DockerStatsAbility, swarm_identity
from harness.engine.swarm.stack import SwarmStack
from harness.errors import EngineError, FaultError, ScenarioError, TargetNotFound

NAMESPACE = "com.docker.stack.namespace"
SERVICE_NAME = "com.docker.swarm.service.name"
TASK_ID = "com.docker.swarm.task.id"
# Set on the node when hachaos initialised the swarm; the value is the run id.
CREATED_BY = "io.hachaos.swarm-created-by"
STACK_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
IPVS_PROC = Path("/proc/net/ip_vs")
EV_REPLICAS = "swarm.replicas"  # a service's running/desired task count changed
EV_TASK = "swarm.task"  # a task became running (a replacement, an update, a scale-up)
_POLL = 0.25  # s between two task polls of the observer

IPVS_HINT = (
    "this kernel has no IPVS (no /proc/net/ip_vs; `modprobe ip_vs` fails), so Swarm's routing "
    "mesh (ingress-mode ports) and virtual service IPs (endpoint_mode: vip, the default) accept "
    "no connection. Give every service `deploy: {endpoint_mode: dnsrr}` (its name then resolves "
    "to one address per task; HAProxy follows them with `server-template` + `resolvers`) and "
    "publish the front service in host mode (long syntax: `ports: [{target: 8080, published: "
    "${HACHAOS_PORT}, mode: host}]`); compose/web-swarm/compose.yaml does both"
)


def check_stack_name(stack: str) -> str:
    """The stack name, validated (it reaches the docker CLI's argv)."""
    if not STACK_RE.match(stack):
        raise ScenarioError(
            f"{stack!r} is not a valid swarm stack name",
            hint="use lower-case letters, digits, '-' and '_' (at most 48 characters)",
        )
    return stack


def parse_ts(text: str) -> float:
    """Epoch seconds of an engine timestamp (RFC 3339 with nanoseconds); 0.0 when unset."""
    if not text or text.startswith("0001-"):
        return 0.0
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError(f"not an engine timestamp: {text!r}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}").timestamp()


# --------------------------------------------------------------------------- preflight
def ipvs_available(proc: Path = IPVS_PROC) -> bool:
    """Whether the kernel has IPVS (what Swarm's VIPs and ingress routing mesh need)."""
    return proc.exists()


def ingress_hazards(raw: Mapping[str, Any]) -> list[str]:
    """What in a stack file needs IPVS: VIP services and ingress-mode published ports."""
    found = []
    for name, svc in sorted((raw.get("services") or {}).items()):
        if not isinstance(svc, Mapping):
            continue
        deploy = svc.get("deploy") or {}
        if (deploy.get("endpoint_mode") or "vip") != "dnsrr":
            found.append(f"service {name!r} uses endpoint_mode vip (the default)")
        for port in svc.get("ports") or []:
            if not isinstance(port, Mapping) or port.get("mode") != "host":
                found.append(f"service {name!r} publishes {port!r} in ingress mode")
    return found


def preflight(file: Path, *, proc: Path = IPVS_PROC) -> None:
    """Refuse, before anything is deployed, a stack that cannot work on this kernel."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read stack file {file}: {exc}") from exc
    if ipvs_available(proc):
        return
    hazards = ingress_hazards(raw)
    if hazards:
        raise ScenarioError(
            f"{file} cannot run on this swarm: " + "; ".join(hazards),
            hint=IPVS_HINT,
        )


# --------------------------------------------------------------------------- swarm lifecycle
ADVERTISE_ENV = "HACHAOS_SWARM_ADVERTISE"


def advertise_address(env: Mapping[str, str] | None = None) -> str:
    """The address a swarm hachaos creates advertises: 127.0.0.1, or ``$HACHAOS_SWARM_ADVERTISE``
    (e.g. the host end of scripts/swarm-node's veth, so that a second node can reach it)."""
    value = (os.environ if env is None else env).get(ADVERTISE_ENV, "") or "127.0.0.1"
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ScenarioError(
            f"{ADVERTISE_ENV}={value!r} is not an IP address",
            hint="set it to an address of this host (e.g. 10.231.2.1), or unset it",
        ) from exc


class SwarmOps(Protocol):
    """The few engine calls the swarm lifecycle needs (a fake in unit tests)."""

    def state(self) -> str: ...  # inactive | pending | active | error | locked
    def init(self) -> None: ...
    def node_labels(self) -> dict[str, str]: ...
    def set_node_label(self, key: str, value: str) -> None: ...
    def service_count(self) -> int: ...
    def leave(self) -> None: ...


class DockerSwarmOps:
    """:class:`SwarmOps` on the real engine."""

    def state(self) -> str:
        with translated("reading the swarm state"):
            return str(client().info().get("Swarm", {}).get("LocalNodeState", "inactive"))

    def init(self) -> None:
        with translated("docker swarm init"):
            client().swarm.init(advertise_addr=advertise_address())

    def _node(self) -> Any:
        node_id = client().info().get("Swarm", {}).get("NodeID", "")
        return client().nodes.get(node_id)

    def node_labels(self) -> dict[str, str]:
        with translated("reading the node's labels"):
            return dict(self._node().attrs.get("Spec", {}).get("Labels") or {})

    def set_node_label(self, key: str, value: str) -> None:
        with translated("labelling the node"):
            node = self._node()
            spec = dict(node.attrs["Spec"])
            spec["Labels"] = {**(spec.get("Labels") or {}), key: value}
            node.update(spec)

    def service_count(self) -> int:
        with translated("listing services"):
            return len(client().api.services())

    def leave(self) -> None:
        with translated("docker swarm leave"):
            client().swarm.leave(force=True)


def ensure_swarm(ops: SwarmOps, run_id: str) -> bool:
    """Make the engine a swarm manager; True when this call created the swarm.

    A swarm hachaos creates is marked on its node (``io.hachaos.swarm-created-by``),
    so that only the run that created it (or cleanup after it) ever leaves it.
    """
    state = ops.state()
    if state == "active":
        return False
    if state != "inactive":
        raise EngineError(
            f"the engine's swarm state is {state!r}",
            hint="fix the swarm by hand (`docker info`, `docker swarm unlock`), then run again",
        )
    ops.init()
    ops.set_node_label(CREATED_BY, run_id)
    return True


def leave_if_ours(ops: SwarmOps, run_id: str) -> str | None:
    """Leave the swarm when ``run_id`` created it and no service is left; returns a notice."""
    if ops.state() != "active":
        return None
    if ops.node_labels().get(CREATED_BY) != run_id:
        return None  # created by someone else (or by another run): never ours to leave
    left = ops.service_count()
    if left:
        return f"left the swarm this run created active: {left} service(s) still run on it"
    ops.leave()
    return "left the swarm this run created (`docker swarm leave --force`)"


# --------------------------------------------------------------------------- the stack's objects
def _ours(obj: Mapping[str, Any], stack: str, *path: str) -> bool:
    labels: Any = obj
    for key in path:
        labels = (labels or {}).get(key)
    return bool((labels or {}).get(NAMESPACE) == stack)


@dataclass(frozen=True)
class StackObjects:
    """Names of the services, containers, networks and volumes of one swarm stack."""

    services: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()

    def empty(self) -> bool:
        return not (self.services or self.containers or self.networks or self.volumes)

    def describe(self) -> str:
        parts = []
        for kind, names in dataclasses.asdict(self).items():
            if names:
                parts.append(f"{len(names)} {kind} ({', '.join(sorted(names))})")
        return ", ".join(parts) or "nothing"


def _services(stack: str) -> list[dict[str, Any]]:
    with translated(f"listing services of stack {stack}"):
        found = client().api.services(filters={"label": f"{NAMESPACE}={stack}"})
    return [s for s in found if _ours(s, stack, "Spec", "Labels")]


def stack_objects(stack: str) -> StackObjects:
    """What exists of a swarm stack, found by its namespace label."""
    api = client().api
    flt = {"label": f"{NAMESPACE}={stack}"}
    services = _services(stack)
    with translated(f"listing objects of stack {stack}"):
        ctrs = [c for c in api.containers(all=True, filters=flt) if _ours(c, stack, "Labels")]
        nets = [n for n in api.networks(filters=flt) if _ours(n, stack, "Labels")]
        vols = [
            v for v in (api.volumes(filters=flt).get("Volumes") or []) if _ours(v, stack, "Labels")
        ]
    return StackObjects(
        services=tuple(s["Spec"]["Name"] for s in services),
        containers=tuple((c.get("Names") or [c["Id"]])[0].lstrip("/") for c in ctrs),
        networks=tuple(n["Name"] for n in nets),
        volumes=tuple(v["Name"] for v in vols),
    )


def _gone_or_going(exc: docker.errors.APIError) -> bool:
    return exc.response is not None and exc.response.status_code in (404, 409)


def _is_stack_cli_of(cmdline: list[str], stack: str) -> bool:
    return "stack" in cmdline and "deploy" in cmdline and bool(cmdline) and cmdline[-1] == stack


def stop_stack_processes(stack: str, *, grace: float = 10.0) -> int:
    """End every `docker stack deploy ... <stack>` process (a dead run's deploy goes on)."""
    return stop_processes(lambda cmdline: _is_stack_cli_of(cmdline, stack), grace=grace)


def remove_stack_objects(
    stack: str, *, timeout: float = 90.0, sleep: Callable[[float], None] = time.sleep
) -> StackObjects:
    """Remove a stack hachaos created: services, then (once their tasks are gone) networks and
    volumes. Works without the stack file. Returns what there was; raises EngineError naming
    what is still left after ``timeout``."""
    stop_stack_processes(stack)
    before = stack_objects(stack)
    api = client().api
    errors: list[str] = []

    def attempt(what: str, call: Callable[..., Any], *args: Any) -> None:
        try:
            with translated(what):
                try:
                    call(*args)
                except docker.errors.APIError as exc:
                    if not _gone_or_going(exc):
                        raise
        except EngineError as exc:
            errors.append(exc.message)

    for svc in _services(stack):
        attempt(f"service {svc['Spec']['Name']}", api.remove_service, svc["ID"])
    deadline = time.monotonic() + timeout
    while True:
        errors.clear()
        left = stack_objects(stack)
        if not left.services and not left.containers:
            # Swarm removes a stack's networks itself once its tasks are gone; this
            # also covers a dead run's networks and the volumes `stack rm` never removes.
            for net in left.networks:
                attempt(f"network {net}", api.remove_network, net)
            for vol in left.volumes:
                attempt(f"volume {vol}", api.remove_volume, vol)
            left = stack_objects(stack)
            if left.empty():
                return before
        if time.monotonic() > deadline:
            raise EngineError(
                f"swarm stack {stack} still has {left.describe()} after {timeout:.0f} s"
                + (f": {'; '.join(errors)}" if errors else ""),
                hint=f"remove it by hand: `docker stack rm {stack}`, then its volumes",
            )
        sleep(0.5)


# --------------------------------------------------------------------------- tasks
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


def _short(service_name: str, stack: str) -> str:
    prefix = f"{stack}_"
    return service_name[len(prefix) :] if service_name.startswith(prefix) else service_name


def service_tasks(stack: str, service: str | None = None) -> dict[str, list[TaskInfo]]:
    """The tasks of the stack's services (or one service), by short service name."""
    full = f"{stack}_{service}"
    wanted = [s for s in _services(stack) if service is None or s["Spec"]["Name"] == full]
    out: dict[str, list[TaskInfo]] = {}
    api = client().api
    for svc in wanted:
        name = _short(svc["Spec"]["Name"], stack)
        with translated(f"listing tasks of {svc['Spec']['Name']}"):
            tasks = api.tasks(filters={"service": svc["ID"]})
        out[name] = [
            TaskInfo(
                id=str(t["ID"]),
                service=name,
                slot=int(t.get("Slot") or 0),
                state=str(t["Status"].get("State", "")),
                desired=str(t.get("DesiredState", "")),
                container=str((t["Status"].get("ContainerStatus") or {}).get("ContainerID") or ""),
                since=parse_ts(str(t["Status"].get("Timestamp", ""))),
            )
            for t in tasks
            if t.get("ServiceID") == svc["ID"]
        ]
    return out


def desired_replicas(stack: str) -> dict[str, int]:
    """Desired task count per short service name (replicated services)."""
    out = {}
    for svc in _services(stack):
        mode = svc["Spec"].get("Mode") or {}
        if "Replicated" in mode:
            out[_short(svc["Spec"]["Name"], stack)] = int(mode["Replicated"].get("Replicas", 1))
    return out


def running(tasks: Iterable[TaskInfo]) -> list[TaskInfo]:
    """Tasks that run and are meant to (a task shutting down for an update is not counted)."""
    return [t for t in tasks if t.state == "running" and t.desired == "running"]


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
            with translated(f"inspect task container of {name}"):
                health = (
                    client().api.inspect_container(t.container)["State"].get("Health") or {}
                ).get("Status")
            if health not in (None, "healthy"):
                return False, f"{name}.{t.slot}: {health}"
    return True, ""


def wait_converged(stack: str, timeout: float, *, what: str = "the stack") -> None:
    """Poll until :func:`converged`; raises EngineError with the last reason after ``timeout``."""
    deadline = time.monotonic() + timeout
    why = ""
    while time.monotonic() < deadline:
        ok, why = converged(stack)
        if ok:
            return
        time.sleep(0.5)
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


def wait_replaced(
    stack: str, targets: Iterable[Mapping[str, Any]], timeout: float
) -> list[dict[str, Any]]:
    """Wait until each target task's slot has a new running task and the service its desired
    count; returns ``{slot, old_task, task, container, running_wall}`` per target.

    Raises TargetNotFound when a target's service is gone (the stack was removed).
    """
    deadline = time.monotonic() + timeout
    wanted = [(str(t["service"]), int(t["number"]), str(t.get("task", ""))) for t in targets]
    while True:
        desired = desired_replicas(stack)
        gone = sorted({s for s, _, _ in wanted if s not in desired})
        if gone:
            raise TargetNotFound(f"swarm stack {stack} has no service {', '.join(gone)} any more")
        found: list[dict[str, Any]] = []
        pending = []
        by_service = service_tasks(stack)
        for service, slot, old in wanted:
            up = running(by_service.get(service, []))
            new = [t for t in up if t.slot == slot and t.id != old]
            if new and len(up) >= desired.get(service, 0):
                found.append(
                    {
                        "service": service,
                        "slot": slot,
                        "old_task": old,
                        "task": new[0].id,
                        "container": new[0].container[:12],
                        "running_wall": new[0].since,
                    }
                )
            else:
                pending.append(f"{service}.{slot}")
        if not pending:
            return found
        if time.monotonic() > deadline:
            raise FaultError(
                f"swarm did not replace task(s) {', '.join(pending)} within {timeout:.0f} s",
                hint=f"look at `docker stack ps {stack} --no-trunc` for the tasks' errors",
            )
        time.sleep(0.2)


def service_id(stack: str, service: str) -> str:
    """The id of ``<stack>_<service>``; FaultError when the stack has no such service."""
    for svc in _services(stack):
        if svc["Spec"]["Name"] == f"{stack}_{service}":
            return str(svc["ID"])
    raise FaultError(
        f"swarm stack {stack!r} has no service {service!r}",
        hint="name a service of the stack file (without the `<stack>_` prefix)",
    )


def inspect_service(sid: str) -> dict[str, Any]:
    """The service's inspect document."""
    with translated(f"inspect service {sid[:12]}"):
        return dict(client().api.inspect_service(sid))


def update_service(sid: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``mutate`` to the service's current spec and submit it (at its current version)."""
    with translated(f"update service {sid[:12]}"):
        doc = client().api.inspect_service(sid)
        spec = doc["Spec"]
        mutate(spec)
        api = client().api
        url = api._url("/services/{0}/update", sid)
        resp = api._post_json(url, data=spec, params={"version": doc["Version"]["Index"]})
        api._raise_for_status(resp)


def node_count() -> int:
    """How many nodes the swarm has (0 when the engine is not in a swarm)."""
    with translated("reading the swarm's nodes"):
        return int(client().info().get("Swarm", {}).get("Nodes") or 0)


def update_state(sid: str) -> str:
    """The service's UpdateStatus.State ("" before its first update)."""
    return str((inspect_service(sid).get("UpdateStatus") or {}).get("State", ""))


# --------------------------------------------------------------------------- observer
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
                    self.emit(
                        EV_TASK,
                        service=service,
                        slot=t.slot,
                        task=t.id,
                        container=t.container[:12],
                        running_wall=t.since,
                    )
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


# --------------------------------------------------------------------------- the adapter
_CLI_HINT = "install the docker CLI (`make engine` runs scripts/ensure-docker)"


@dataclass
class SwarmEngine(DockerStatsAbility):
    """A swarm stack deployed by hachaos under a run-scoped stack name."""

    file: Path
    project: str  # the stack name
    run_id: str
    env: Mapping[str, str] = field(default_factory=dict)
    ops: SwarmOps = field(default_factory=DockerSwarmOps)
    kind: str = "swarm"
    created_swarm: bool = False
    _observer: TaskObserver | None = None
    overrides: tuple[Path, ...] = ()  # more compose files, `stack deploy -c` after `file`
    scale: Mapping[str, int] = field(default_factory=dict)  # replicas per service

    def __post_init__(self) -> None:
        check_stack_name(self.project)

    @classmethod
    def create(cls, stack: SwarmStack, file: Path, project: str, run_id: str) -> SwarmEngine:
        """The port for one run of ``stack`` (its compose file resolved to ``file``)."""
        return cls(file, project, run_id)

    def with_env(self, **env: str) -> SwarmEngine:
        return dataclasses.replace(self, env={**self.env, **env}, _observer=None)

    def with_overrides(self, files: Sequence[Path]) -> SwarmEngine:
        return dataclasses.replace(self, overrides=(*self.overrides, *files), _observer=None)

    def with_replicas(self, service: str, count: int) -> SwarmEngine:
        return dataclasses.replace(self, scale={**self.scale, service: count}, _observer=None)

    def existing(self) -> str | None:
        if self.ops.state() != "active":
            return None
        found = stack_objects(self.project)
        return None if found.empty() else found.describe()

    def _cli(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        if shutil.which("docker") is None:
            raise EngineError("the docker CLI is not installed", hint=_CLI_HINT)
        cmd = ["docker", "stack", *args]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env={**os.environ, **self.env},
                start_new_session=True,  # a second Ctrl-C must not abort the teardown
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(
                f"`docker stack {args[0]}` did not finish within {timeout:.0f} s",
                hint="check the engine (`docker info`)",
            ) from exc
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise EngineError(
                f"`docker stack {args[0]}` failed for stack {self.project}:\n{tail}",
                hint=f"inspect with `docker stack ps {self.project} --no-trunc`",
            )
        return proc

    def deploy(self, *, ready_timeout: float) -> None:
        preflight(self.file)
        self.created_swarm = ensure_swarm(self.ops, self.run_id) or self.created_swarm
        # `docker stack deploy` builds nothing: build under the stable build project.
        ComposeProject(self.file, self.project, env=self.env, overrides=self.overrides).build()
        with tempfile.TemporaryDirectory(prefix="hachaos-scale-") as folder:
            files = [self.file, *self.overrides]
            if self.scale:  # the service's replicas as `docker service scale` would set them
                replicas = Path(folder) / "replicas.json"  # JSON is YAML, as the CLI reads it
                services = {svc: {"deploy": {"replicas": n}} for svc, n in self.scale.items()}
                replicas.write_text(json.dumps({"services": services}))
                files.append(replicas)
            self._cli(
                "deploy",
                *(arg for f in files for arg in ("--compose-file", str(f))),
                "--resolve-image",
                "never",
                "--prune",
                self.project,
                timeout=300.0,
            )
        wait_converged(self.project, ready_timeout, what=f"swarm stack {self.project}")

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        doc = inspect_service(service_id(self.project, service))
        for p in (doc.get("Endpoint") or {}).get("Ports") or []:
            if int(p.get("TargetPort", 0)) == port and p.get("PublishedPort"):
                if p.get("PublishMode") != "host" and not ipvs_available():
                    raise EngineError(
                        f"service {service!r} publishes {port} in ingress mode", hint=IPVS_HINT
                    )
                return ("127.0.0.1", int(p["PublishedPort"]))
        raise EngineError(
            f"service {service!r} does not publish container port {port}",
            hint=f"publish it in host mode: `ports: [{{target: {port}, published: "
            "${HACHAOS_PORT}, mode: host}]`",
        )

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Target]:
        return select_tasks(self.project, service, replicas)

    def teardown(self) -> None:
        self.stop_observing()
        self._cli("rm", self.project, timeout=120.0)
        remove_stack_objects(self.project)  # waits until the networks are gone, drops volumes

    def sweep(self) -> str:
        return remove_stack_objects(self.project).describe()

    def environment(self) -> dict[str, Any]:
        try:
            engine = engine_version()
            images = {
                _short(s["Spec"]["Name"], self.project): str(
                    s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image", "")
                )
                for s in _services(self.project)
            }
            nodes = node_count()
        except EngineError:
            engine, images, nodes = "unknown", {}, 0
        return {
            "engine": "swarm",
            "engine_version": engine,
            "swarm_nodes": nodes,
            "swarm_created_by_run": self.created_swarm,
            "ipvs": ipvs_available(),
            "images": images,
        }

    def journal_record(self) -> dict[str, Any]:
        return {
            "engine": "swarm",
            "compose": str(self.file),
            "swarm_created": self.created_swarm,
        }

    def observe(self, emit: EmitFn) -> None:
        self._observer = TaskObserver(self.project, emit)
        self._observer.start()

    def stop_observing(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None

    def finish(self) -> list[str]:
        if not self.created_swarm:
            return []
        notice = leave_if_ours(self.ops, self.run_id)
        return [notice] if notice else []

    # ContainerStats (harness/engine/stats.py): the stack's task containers on this engine
    def _stats(self) -> DockerStats:
        return DockerStats(f"{NAMESPACE}={self.project}", swarm_identity(self.project))


def remove_left(left: LeftStack) -> list[str]:
    """Remove a dead run's stack by label, then leave the swarm if that run created it."""
    removed = remove_stack_objects(check_stack_name(left.project))
    done = [] if removed.empty() else [f"removed swarm stack {left.project}: {removed.describe()}"]
    # The node label says which run created the swarm; leave only when it was this one.
    notice = leave_if_ours(DockerSwarmOps(), left.run_id)
    return [*done, notice] if notice else done


def removal_hint(project: str, details: Mapping[str, object]) -> str:
    """How a user removes the stack by hand (`stack rm` leaves the volumes)."""
    return (
        f"docker stack rm {project}, then its volumes "
        f"(docker volume ls -q --filter label={NAMESPACE}={project} | xargs -r docker volume rm)"
    )


# --------------------------------------------------------------------------- service faults
def require_swarm(engine: str, fault_type: str) -> None:
    """Refuse a Swarm-only fault type on another engine, before anything is deployed."""
    if engine != "swarm":
        raise FaultError(
            f"a `{fault_type}` fault acts on Swarm services and nodes, but this stack runs "
            f"on {engine}",
            hint="set `stack.engine: swarm` (with a stack file such as compose/web-swarm) or "
            "drop the fault",
        )


def rollback_service(sid: str) -> None:
    """Server-side rollback to the service's previous spec (follows its rollback_config)."""
    with translated(f"roll back service {sid[:12]}"):
        api = client().api
        doc = api.inspect_service(sid)
        url = api._url("/services/{0}/update", sid)
        params = {"version": doc["Version"]["Index"], "rollback": "previous"}
        api._raise_for_status(api._post_json(url, data=doc["Spec"], params=params))


def running_task_ids(stack: str, service: str) -> list[str]:
    """Ids of the service's running tasks."""
    return [t.id for t in running(service_tasks(stack, service).get(service, []))]


def new_running_tasks(stack: str, service: str, before: Iterable[str]) -> list[dict[str, Any]]:
    """The service's running tasks that were not in ``before``, as report entries."""
    old = set(before)
    return [
        {
            "service": service,
            "slot": t.slot,
            "task": t.id,
            "container": t.container[:12],
            "running_wall": t.since,
        }
        for t in sorted(
            running(service_tasks(stack, service).get(service, [])), key=lambda t: t.slot
        )
        if t.id not in old
    ]


def wait_running(
    stack: str,
    service: str,
    count: int,
    timeout: float,
    *,
    settled: Callable[[], bool] | None = None,
) -> None:
    """Wait until ``service`` has exactly ``count`` running tasks (and ``settled()``, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        up = len(running(service_tasks(stack, service).get(service, [])))
        if up == count and (settled is None or settled()):
            return
        if time.monotonic() > deadline:
            raise FaultError(
                f"{stack}_{service} has {up} running task(s), not {count}, after {timeout:.0f} s",
                hint=f"look at `docker service ps {stack}_{service} --no-trunc`",
            )
        time.sleep(0.25)


def replicated_count(doc: Mapping[str, Any]) -> int:
    """Desired replicas of a service's inspect document; FaultError for a global service."""
    mode = doc["Spec"].get("Mode") or {}
    if "Replicated" not in mode:
        raise FaultError(
            f"service {doc['Spec']['Name']} is not replicated (mode {sorted(mode)}); "
            "only a replicated service has a replica count to change",
            hint="target a service with `deploy: {mode: replicated}`",
        )
    return int(mode["Replicated"].get("Replicas", 1))


# --------------------------------------------------------------------------- node faults
# Set by scripts/swarm-node on a node whose engine hachaos started: that engine's pid.
ENGINE_PID_LABEL = "io.hachaos.engine-pid"


def require_nodes(
    fault_type: str, *, single_node_ok: bool = False, count: Callable[[], int] = node_count
) -> None:
    """Refuse a node fault on a swarm with fewer than two nodes, whatever
    ``single_node_ok`` says: a swarm drains every stack's tasks, not only this run's."""
    nodes = count()
    if nodes < 2:
        raise FaultError(
            f"a `{fault_type}` fault needs a multi-node swarm, and this one has {nodes} node(s): "
            "on a single node it would stop every task of every stack on the engine, not only "
            "this run's, and nothing could be rescheduled",
            hint="join a second node first (scripts/swarm-node, docs/engines.md), or use "
            "`kill`/`service-scale` on a single node",
        )


def task_node(task_id: str) -> str:
    """The id of the node a task runs on."""
    with translated(f"inspect task {task_id[:12]}"):
        return str(client().api.inspect_task(task_id).get("NodeID", ""))


def node_spec(node_id: str) -> dict[str, Any]:
    """A node's inspect document."""
    with translated(f"inspect node {node_id[:12]}"):
        return dict(client().api.inspect_node(node_id))


def set_availability(node_id: str, availability: str) -> None:
    """Set a node's availability (active | pause | drain)."""
    with translated(f"update node {node_id[:12]}"):
        doc = client().api.inspect_node(node_id)
        spec = {**doc["Spec"], "Availability": availability}
        client().api.update_node(node_id, doc["Version"]["Index"], spec)


def engine_pid(node_id: str) -> int:
    """The pid of a node's engine, from the label scripts/swarm-node set; FaultError if none."""
    labels = node_spec(node_id)["Spec"].get("Labels") or {}
    raw = str(labels.get(ENGINE_PID_LABEL, ""))
    if not raw.isdigit():
        raise FaultError(
            f"node {node_id[:12]} has no {ENGINE_PID_LABEL} label: hachaos stops only an "
            "engine it started itself (scripts/swarm-node)",
            hint="target a task on the node scripts/swarm-node started",
        )
    pid = int(raw)
    try:
        name = psutil.Process(pid).name()
    except psutil.Error as exc:
        raise FaultError(f"the engine of node {node_id[:12]} (pid {pid}) is not running") from exc
    if name != "dockerd":
        raise FaultError(f"pid {pid} of node {node_id[:12]} is {name!r}, not dockerd: refused")
    return pid


def freeze_engine(pid: int, *, frozen: bool) -> None:
    """SIGSTOP (``frozen``) or SIGCONT a node's engine: to the swarm, the node is lost."""
    try:
        proc = psutil.Process(pid)
        proc.suspend() if frozen else proc.resume()
    except psutil.Error as exc:
        raise EngineError(
            f"cannot {'stop' if frozen else 'resume'} engine pid {pid}: {exc}"
        ) from exc


def engine_frozen(pid: int) -> bool:
    """Whether the engine process is stopped."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_STOPPED)
    except psutil.Error:
        return False
