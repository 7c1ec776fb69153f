"""The swarm itself: join it (init one when the engine is in none) and leave only one this
run created, as the engine was before: `docker swarm leave` keeps the docker_gwbridge
network the swarm made, so hachaos removes it when it was not there before and nothing
uses it.

On Docker 20.10 `docker swarm init` then `docker swarm leave --force` cuts the containers
that run on user-defined networks off their embedded DNS (127.0.0.11) until restarted
(moby/moby#45144). A run never creates a swarm, nor leaves one, while such containers
run: it refuses before deploying, and keeps a swarm it created instead of leaving it."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from harness.engine.client import client, translated
from harness.engine.swarm.names import CREATED_BY, GWBRIDGE, GWBRIDGE_LABEL
from harness.errors import EngineError, ScenarioError

ADVERTISE_ENV = "HACHAOS_SWARM_ADVERTISE"
DNS_BUG = "moby/moby#45144"
_PREDEFINED = frozenset({"bridge", "host", "none"})  # networks without the embedded DNS
_SHOWN = 5  # container names a message lists


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
    def network_exists(self, name: str) -> bool: ...
    def remove_network_if_unused(self, name: str) -> bool: ...  # True: it was removed
    def dns_dependents(self) -> list[str]: ...  # running containers using the embedded DNS


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

    def network_exists(self, name: str) -> bool:
        with translated(f"listing network {name}"):
            return any(n["Name"] == name for n in client().api.networks(names=[name]))

    def remove_network_if_unused(self, name: str) -> bool:
        with translated(f"removing network {name}"):
            found = [n for n in client().api.networks(names=[name]) if n["Name"] == name]
            if not found:
                return False
            doc = client().api.inspect_network(found[0]["Id"])
            if doc.get("Containers"):
                return False
            client().api.remove_network(found[0]["Id"])
            return True

    def dns_dependents(self) -> list[str]:
        with translated("listing running containers"):
            found = client().api.containers(filters={"status": "running"})
        return sorted(
            str((c.get("Names") or [c.get("Id", "?")[:12]])[0]).lstrip("/")
            for c in found
            if set((c.get("NetworkSettings") or {}).get("Networks") or {}) - _PREDEFINED
        )


def _described(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f"{len(names)} running container(s) on user-defined networks ({shown}{more})"


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
    dependents = ops.dns_dependents()
    if dependents:
        raise EngineError(
            "this engine is in no swarm, and a swarm hachaos creates and then leaves would cut "
            f"{_described(dependents)} off their name resolution (127.0.0.11) until each is "
            f"restarted ({DNS_BUG})",
            hint="create the swarm yourself before the run (`docker swarm init "
            "--advertise-addr 127.0.0.1`: hachaos uses a swarm it finds and never leaves it), "
            "or stop those containers, then run again",
        )
    had_bridge = ops.network_exists(GWBRIDGE)
    ops.init()
    ops.set_node_label(CREATED_BY, run_id)
    ops.set_node_label(GWBRIDGE_LABEL, "found" if had_bridge else "made")
    return True


def leave_if_ours(ops: SwarmOps, run_id: str) -> str | None:
    """Leave the swarm when ``run_id`` created it and no service is left; returns a notice."""
    if ops.state() != "active":
        return None
    labels = ops.node_labels()
    if labels.get(CREATED_BY) != run_id:
        return None  # created by someone else (or by another run): never ours to leave
    left = ops.service_count()
    if left:
        return f"left the swarm this run created active: {left} service(s) still run on it"
    dependents = ops.dns_dependents()
    if dependents:  # started during the run: refused at its start otherwise
        return (
            f"left the swarm this run created active: leaving it would cut "
            f"{_described(dependents)} off their name resolution ({DNS_BUG}); leave it with "
            "`docker swarm leave --force` once they are stopped"
        )
    ops.leave()
    notice = "left the swarm this run created (`docker swarm leave --force`)"
    if labels.get(GWBRIDGE_LABEL) != "made":
        return notice  # there before the swarm (or a swarm labelled before this was known)
    if ops.remove_network_if_unused(GWBRIDGE):
        return f"{notice} and removed the {GWBRIDGE} network it made"
    return f"{notice}; kept {GWBRIDGE}: a container still uses it"
