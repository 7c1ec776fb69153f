"""A stack's objects on the swarm (services, containers, networks, volumes), found and
removed by the stack's namespace label, re-checked on what the engine returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.engine.client import client, translated
from harness.engine.processes import stop_processes
from harness.engine.swarm.names import NAMESPACE
from harness.errors import EngineError


def labelled(obj: Mapping[str, Any], stack: str, *path: str) -> bool:
    """Whether the labels at ``path`` in ``obj`` name ``stack`` as its namespace."""
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


def stack_services(stack: str) -> list[dict[str, Any]]:
    """The inspect documents of the stack's services."""
    with translated(f"listing services of stack {stack}"):
        found = client().api.services(filters={"label": f"{NAMESPACE}={stack}"})
    return [s for s in found if labelled(s, stack, "Spec", "Labels")]


def stack_objects(stack: str) -> StackObjects:
    """What exists of a swarm stack, found by its namespace label."""
    api = client().api
    flt = {"label": f"{NAMESPACE}={stack}"}
    services = stack_services(stack)
    with translated(f"listing objects of stack {stack}"):
        ctrs = [c for c in api.containers(all=True, filters=flt) if labelled(c, stack, "Labels")]
        nets = [n for n in api.networks(filters=flt) if labelled(n, stack, "Labels")]
        vols = [
            v
            for v in (api.volumes(filters=flt).get("Volumes") or [])
            if labelled(v, stack, "Labels")
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


class _Removal:
    """Removes what is left of a stack, one call at a time, keeping each call's error."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.errors: list[str] = []
        self.left = StackObjects()

    def attempt(self, what: str, call: Callable[..., Any], *args: Any) -> None:
        try:
            with translated(what):
                try:
                    call(*args)
                except docker.errors.APIError as exc:
                    if not _gone_or_going(exc):
                        raise
        except EngineError as exc:
            self.errors.append(exc.message)

    def settled(self) -> bool:
        """One pass: once the tasks are gone, remove the networks and volumes; True when
        nothing is left."""
        self.errors.clear()
        self.left = stack_objects(self.stack)
        if self.left.services or self.left.containers:
            return False
        # Swarm removes a stack's networks itself once its tasks are gone; this
        # also covers a dead run's networks and the volumes `stack rm` never removes.
        api = client().api
        for net in self.left.networks:
            self.attempt(f"network {net}", api.remove_network, net)
        for vol in self.left.volumes:
            self.attempt(f"volume {vol}", api.remove_volume, vol)
        self.left = stack_objects(self.stack)
        return self.left.empty()


def remove_stack_objects(
    stack: str, *, timeout: float = 90.0, clock: Clock = REAL_CLOCK
) -> StackObjects:
    """Remove a stack hachaos created: services, then (once their tasks are gone) networks and
    volumes. Works without the stack file. Returns what there was; raises EngineError naming
    what is still left after ``timeout``."""
    stop_stack_processes(stack)
    before = stack_objects(stack)
    removal = _Removal(stack)
    for svc in stack_services(stack):
        removal.attempt(f"service {svc['Spec']['Name']}", client().api.remove_service, svc["ID"])
    if poll_until(removal.settled, timeout, 0.5, clock):
        return before
    errors = f": {'; '.join(removal.errors)}" if removal.errors else ""
    raise EngineError(
        f"swarm stack {stack} still has {removal.left.describe()} after {timeout:.0f} s{errors}",
        hint=f"remove it by hand: `docker stack rm {stack}`, then its volumes",
    )
