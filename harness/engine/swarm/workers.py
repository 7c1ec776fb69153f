"""Load workers as a Swarm service beside the run's stack (``load.workers.swarm``).

One replicated service, ``<stack>-hachaos-load``, of the worker image: each task runs
``python3 -m harness.load.worker --master ADDRESS:PORT`` and joins the run's master. It
is spread over the swarm's nodes (at most ⌈replicas / nodes⌉ tasks per node), attached
to the networks of the target's service (the workers reach ``http://<service>:<port>``
there, through Swarm's DNS), and never restarted: a worker that dies is a lost worker
and the run stops on it (exit 3) instead of carrying on with a replacement that has no
share of the schedule. Its hostname is ``<node>-w<slot>``, which is how the master's
roster names it.

Labels ``io.hachaos.load-workers=<run id>`` and ``io.hachaos.project=<stack>`` (not the
stack's namespace: ``docker stack rm`` must not be what removes it, an adopted or kept
stack outlives its workers). ``hachaos cleanup`` finds a dead run's service by both.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import Any

import docker.errors
import docker.types

from harness.engine.client import client, translated
from harness.engine.port import WorkerPlacement, WorkerTask
from harness.engine.routes import source_address_toward
from harness.engine.worker_image import ensure_worker_image
from harness.errors import EngineError, ScenarioError

RUN_LABEL = "io.hachaos.load-workers"
PROJECT_LABEL = "io.hachaos.project"
NAMESPACE = "com.docker.stack.namespace"
SUFFIX = "-hachaos-load"
GONE_TIMEOUT_S = 60.0


def service_name(stack: str) -> str:
    return f"{stack}{SUFFIX}"


def _ours(spec_labels: dict[str, str] | None, stack: str, run_id: str) -> bool:
    labels = spec_labels or {}
    return labels.get(RUN_LABEL) == run_id and labels.get(PROJECT_LABEL) == stack


def _find(stack: str, run_id: str) -> list[dict[str, Any]]:
    with translated("listing load worker services"):
        found = client().api.services(filters={"label": f"{RUN_LABEL}={run_id}"})
    return [s for s in found if _ours(s["Spec"].get("Labels"), stack, run_id)]


def master_address() -> str:
    """Where the workers reach this host: the local end of the route to the swarm's manager,
    or, on a swarm that advertises loopback (one node, this host), the gateway of the
    node's ``docker_gwbridge`` (the host as its tasks see it)."""
    with translated("reading the swarm's address"):
        info = client().info().get("Swarm") or {}
    addr = str(info.get("NodeAddr") or "")
    if addr and not ipaddress.ip_address(addr).is_loopback:
        return source_address_toward(addr)
    with translated("reading docker_gwbridge"):
        try:
            net = client().api.inspect_network("docker_gwbridge")
        except docker.errors.NotFound:
            net = {}
    for conf in (net.get("IPAM") or {}).get("Config") or []:
        if conf.get("Gateway"):
            return str(conf["Gateway"])
    raise EngineError(
        "cannot tell which address of this host the swarm's workers reach",
        hint="set `load.workers.swarm.listen` to an address of this host the nodes reach",
    )


def _target_networks(stack: str, service: str) -> list[dict[str, str]]:
    name = f"{stack}_{service}"
    with translated(f"inspecting service {name}"):
        try:
            doc = client().api.inspect_service(name)
        except docker.errors.NotFound:
            raise ScenarioError(
                f"the stack has no service {service!r} for the load workers to reach",
                hint="`stack.target.service` must name a service of the stack",
            ) from None
    if (doc["Spec"].get("Labels") or {}).get(NAMESPACE) != stack:
        raise EngineError(f"service {name} is not part of stack {stack}")
    nets = doc["Spec"].get("TaskTemplate", {}).get("Networks") or []
    return [{"Target": n["Target"]} for n in nets]


def _node_count() -> int:
    with translated("listing nodes"):
        nodes = client().api.nodes()
    ready = [
        n
        for n in nodes
        if (n.get("Status") or {}).get("State") == "ready"
        and (n.get("Spec") or {}).get("Availability") == "active"
    ]
    return max(len(ready), 1)


def place(stack: str, run_id: str, placement: WorkerPlacement) -> None:
    """Create the worker service (the journal already names it)."""
    image = placement.image or ensure_worker_image(
        placement.bundle, placement.python, placement.digest
    )
    networks = _target_networks(stack, placement.near) if placement.near else []
    per_node = math.ceil(placement.replicas / _node_count())
    labels = {RUN_LABEL: run_id, PROJECT_LABEL: stack}
    container = docker.types.ContainerSpec(
        image,
        command=list(placement.command),
        env=[f"{k}={v}" for k, v in sorted(placement.env.items())],
        hostname="{{.Node.Hostname}}-w{{.Task.Slot}}",
        labels=labels,
        stop_grace_period=10_000_000_000,
    )
    template = docker.types.TaskTemplate(
        container,
        restart_policy=docker.types.RestartPolicy(condition="none"),
        placement=docker.types.Placement(maxreplicas=per_node),
        networks=networks,
    )
    with translated(f"creating the load worker service {service_name(stack)}"):
        client().api.create_service(
            template,
            name=service_name(stack),
            labels=labels,
            mode=docker.types.ServiceMode("replicated", replicas=placement.replicas),
        )


def tasks(stack: str, run_id: str) -> list[WorkerTask]:
    """The worker service's tasks, slot by slot."""
    services = _find(stack, run_id)
    if not services:
        return []
    api = client().api
    with translated("listing load worker tasks"):
        found = api.tasks(filters={"service": services[0]["ID"]})
        names = {n["ID"]: n["Description"]["Hostname"] for n in api.nodes()}
    out = []
    for t in sorted(found, key=lambda t: (int(t.get("Slot") or 0), t.get("CreatedAt", ""))):
        node = names.get(str(t.get("NodeID") or ""), "")
        slot = int(t.get("Slot") or 0)
        status = t.get("Status") or {}
        out.append(
            WorkerTask(
                name=f"slot {slot}",
                node=node,
                host=f"{node}-w{slot}" if node else "",
                state=str(status.get("State", "")),
                error=str(status.get("Err") or ""),
            )
        )
    return out


def remove(
    stack: str,
    run_id: str,
    *,
    timeout: float = GONE_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Remove the run's worker service and wait until its containers are gone (so the
    stack's networks can go); returns what it removed."""
    api = client().api
    done = []
    for svc in _find(stack, run_id):
        with translated(f"removing service {svc['Spec']['Name']}"):
            try:
                api.remove_service(svc["ID"])
            except docker.errors.NotFound:
                continue
        done.append(f"removed load worker service {svc['Spec']['Name']}")
    deadline = time.monotonic() + timeout
    flt = {"label": f"{RUN_LABEL}={run_id}"}
    while done:
        with translated("listing load worker containers"):
            left = [c for c in api.containers(all=True, filters=flt)]
        if not left or time.monotonic() > deadline:
            break
        sleep(0.5)
    return done
