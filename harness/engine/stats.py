"""Container metrics from the engine's stats API: an optional ability of an engine adapter.

An engine that can report its containers' resource use implements
:class:`ContainerStats` (detected with ``isinstance``, like the other optional
abilities); the run's sampler (harness/run/sampler.py) asks it about once a
second. Compose and Swarm share one Docker implementation, :class:`DockerStats`,
that differs only in the labels that say which containers are the stack's
(Compose: the project label; Swarm: the stack namespace, i.e. the run's tasks).

Cost: one container list per round (state, health and addresses come with it),
one stats *stream* per running container (the engine collects every subscribed
container once a second and sends each a frame: a one-shot call would wait for
that collection, up to a second each), and an inspect only when a container's
status text changed (its restart count). The streams use a client of their own,
so they never hold the connections the faults need. The benchmark is
benchmarks/sampler_bench.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import docker.errors
import requests.exceptions

from harness.engine.client import client, stream_client, translated
from harness.engine.containers import NUMBER, PARKED_LABEL, PROJECT, SERVICE
from harness.engine.helpers import HELPER_LABEL

SWARM_NAMESPACE = "com.docker.stack.namespace"
SWARM_SERVICE = "com.docker.swarm.service.name"
SWARM_TASK_NAME = "com.docker.swarm.task.name"  # <stack>_<service>.<slot>.<task id>
_HEALTH_RE = re.compile(r"\((healthy|unhealthy|health: starting)\)")


@dataclass(frozen=True)
class StackContainer:
    """One container of the run's stack as the engine lists it (running or not)."""

    id: str
    service: str
    replica: int  # compose container number, or swarm task slot
    state: str  # running | exited | restarting | paused | created | dead | removing
    health: str  # healthy | unhealthy | starting | "" (no health check)
    status: str  # the engine's status text ("Up 3 seconds (healthy)")
    addresses: tuple[str, ...]  # its IPv4 addresses on the stack's networks


@dataclass(frozen=True)
class StatsReading:
    """One reading of a container's counters (cumulative since the container started)."""

    read_wall: float  # epoch s of the engine's reading
    cpu_ns: int  # CPU time used, all cores
    mem_bytes: int  # usage less the page cache (what `docker stats` shows)
    mem_limit: int
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int


@runtime_checkable
class ContainerStats(Protocol):
    """Optional engine ability: list the stack's containers and read their counters."""

    def stack_containers(self) -> list[StackContainer]:
        """Every container of the run's stack, running or not (helpers excluded)."""
        ...

    def stats_stream(self, container_id: str) -> Iterator[StatsReading]:
        """The container's counters about once a second while it runs; ends when it stops.

        Never raises for a container that stopped or vanished: the stream just ends.
        """
        ...

    def restart_count(self, container_id: str) -> int | None:
        """How often the engine restarted it (restart policy); None when it vanished."""
        ...


def _epoch(text: str) -> float | None:
    """An engine timestamp (RFC 3339 with nanoseconds) as epoch seconds."""
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        base = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    digits = "".join(ch for ch in frac if ch.isdigit())[:9]
    return base + (int(digits) / 10 ** len(digits) if digits else 0.0)


def parse_stats(doc: dict[str, Any], now: float) -> StatsReading | None:
    """A stats API document (cgroup v1 or v2) as a reading; None for a stopped container."""
    cpu = ((doc.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
    mem = doc.get("memory_stats") or {}
    if cpu is None or not mem:
        return None  # the engine answers a stopped container with empty sections
    extra = mem.get("stats") or {}
    # What `docker stats` shows: usage less the inactive page cache (v2: inactive_file).
    cache = extra.get("inactive_file", extra.get("total_inactive_file", 0))
    net = doc.get("networks") or {}
    blk = (doc.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(int(e.get("value", 0)) for e in blk if str(e.get("op", "")).lower() == "read")
    write = sum(int(e.get("value", 0)) for e in blk if str(e.get("op", "")).lower() == "write")
    return StatsReading(
        read_wall=_epoch(str(doc.get("read", ""))) or now,
        cpu_ns=int(cpu),
        mem_bytes=max(int(mem.get("usage", 0)) - int(cache), 0),
        mem_limit=int(mem.get("limit", 0)),
        net_rx=sum(int(n.get("rx_bytes", 0)) for n in net.values()),
        net_tx=sum(int(n.get("tx_bytes", 0)) for n in net.values()),
        blk_read=read,
        blk_write=write,
        pids=int((doc.get("pids_stats") or {}).get("current", 0) or 0),
    )


def health_of(status: str) -> str:
    """``healthy`` | ``unhealthy`` | ``starting`` | "" from the engine's status text."""
    m = _HEALTH_RE.search(status)
    return "" if m is None else m.group(1).replace("health: ", "")


def compose_identity(project: str) -> Callable[[dict[str, str]], tuple[str, int] | None]:
    """(service, container number) of a container of this compose project, else None."""

    def identify(labels: dict[str, str]) -> tuple[str, int] | None:
        if labels.get(PROJECT) != project or HELPER_LABEL in labels or PARKED_LABEL in labels:
            return None
        number = labels.get(NUMBER, "0")
        return labels.get(SERVICE, ""), int(number) if number.isdigit() else 0

    return identify


def swarm_identity(stack: str) -> Callable[[dict[str, str]], tuple[str, int] | None]:
    """(service, task slot) of a task container of this swarm stack, else None."""
    prefix = f"{stack}_"

    def identify(labels: dict[str, str]) -> tuple[str, int] | None:
        full = labels.get(SWARM_SERVICE, "")
        if labels.get(SWARM_NAMESPACE) != stack or HELPER_LABEL in labels:
            return None
        if not full.startswith(prefix):
            return None
        parts = labels.get(SWARM_TASK_NAME, "").split(".")
        slot = parts[1] if len(parts) == 3 and parts[1].isdigit() else "0"
        return full[len(prefix) :], int(slot)

    return identify


@dataclass(frozen=True)
class DockerStats:
    """:class:`ContainerStats` over the Docker API, for the containers ``identify`` accepts."""

    label_filter: str  # the engine-side filter; ``identify`` re-checks every container
    identify: Callable[[dict[str, str]], tuple[str, int] | None]

    def stack_containers(self) -> list[StackContainer]:
        with translated(f"list containers labelled {self.label_filter}"):
            found = client().api.containers(all=True, filters={"label": self.label_filter})
        out = []
        for c in found:
            who = self.identify(c.get("Labels") or {})
            if who is None:
                continue
            nets = (c.get("NetworkSettings") or {}).get("Networks") or {}
            status = str(c.get("Status", ""))
            out.append(
                StackContainer(
                    id=str(c["Id"]),
                    service=who[0],
                    replica=who[1],
                    state=str(c.get("State", "")),
                    health=health_of(status),
                    status=status,
                    addresses=tuple(
                        sorted(str(n["IPAddress"]) for n in nets.values() if n.get("IPAddress"))
                    ),
                )
            )
        return sorted(out, key=lambda s: (s.service, s.replica, s.id))

    def stats_stream(self, container_id: str) -> Iterator[StatsReading]:
        try:
            for doc in stream_client().stats(container_id, stream=True, decode=True):
                reading = parse_stats(doc, time.time()) if isinstance(doc, dict) else None
                if reading is None:
                    return  # the engine's empty frame for a container that stopped
                yield reading
        except (docker.errors.DockerException, requests.exceptions.RequestException, ValueError):
            return  # stopped or removed between the list and the read, or the stream broke

    def restart_count(self, container_id: str) -> int | None:
        try:
            doc = client().api.inspect_container(container_id)
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return None
        return int(doc.get("RestartCount") or 0)


class DockerStatsAbility:
    """ContainerStats for a Docker adapter: it says which containers are its own (``_stats``)."""

    def _stats(self) -> DockerStats:
        raise NotImplementedError

    def stack_containers(self) -> list[StackContainer]:
        return self._stats().stack_containers()

    def stats_stream(self, container_id: str) -> Iterator[StatsReading]:
        return self._stats().stats_stream(container_id)

    def restart_count(self, container_id: str) -> int | None:
        return self._stats().restart_count(container_id)
