"""A compose file as Compose resolves it (``docker compose config``): the services that
a scenario names, and what hachaos needs to know about each.

Pure data, so that the scenario layer can check a scenario against its stack
without importing the engine; ``harness.engine.compose.config`` produces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ServiceInfo:
    """What hachaos needs to know about one compose service."""

    name: str
    replicas: int  # deploy.replicas or scale; 1 when neither is given
    ports: tuple[int, ...]  # container ports that are published on the host
    networks: tuple[str, ...]
    restart: str | None
    image: str | None
    build: bool
    network_mode: str | None = None  # e.g. host, service:db, container:x; None = own netns
    pid: str | None = None  # e.g. host; None = own pid namespace


@dataclass(frozen=True)
class ComposeConfig:
    """The canonical form of one compose file."""

    path: Path
    services: dict[str, ServiceInfo]
    raw: dict[str, Any] = field(repr=False)

    def replicas(self) -> dict[str, int]:
        """Replica count per service, as :func:`replica_counts` gives it."""
        return replica_counts(self.raw)


def _replicas(service: Mapping[str, Any]) -> int:
    deploy = service.get("deploy") or {}
    for value in (service.get("scale"), deploy.get("replicas")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 1


def replica_counts(raw: Mapping[str, Any]) -> dict[str, int]:
    """Replicas per service of a ``compose config`` document (``scale`` wins, default 1)."""
    services = raw.get("services") or {}
    return {name: _replicas(svc or {}) for name, svc in services.items()}


def _service(name: str, svc: Mapping[str, Any]) -> ServiceInfo:
    ports = tuple(
        int(p["target"])
        for p in svc.get("ports") or []
        if isinstance(p, Mapping) and p.get("target") is not None
    )
    networks = svc.get("networks") or {}
    return ServiceInfo(
        name=name,
        replicas=_replicas(svc),
        ports=ports,
        networks=tuple(networks),
        restart=svc.get("restart"),
        image=svc.get("image"),
        build=bool(svc.get("build")),
        network_mode=svc.get("network_mode"),
        pid=svc.get("pid"),
    )


def shares_namespace(mode: str | None) -> bool:
    """Whether a ``network_mode``/``pid`` (compose) or NetworkMode/PidMode (engine) value
    joins a namespace that is not the container's own: the host's or another container's."""
    return bool(mode) and (mode == "host" or str(mode).startswith(("container:", "service:")))


def parse_compose_config(path: Path, raw: dict[str, Any]) -> ComposeConfig:
    """Build a ComposeConfig from an already canonical ``compose config`` document."""
    services = raw.get("services") or {}
    return ComposeConfig(
        path=path,
        services={name: _service(name, svc or {}) for name, svc in sorted(services.items())},
        raw=raw,
    )
