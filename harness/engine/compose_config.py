"""Read a compose file the way Compose itself reads it, without touching an engine.

``docker compose config`` resolves extends, env interpolation, profiles and
short syntax into one canonical document, and it works offline: it never
contacts the Docker daemon. Going through it (instead of parsing YAML
ourselves) means hachaos sees exactly the services Compose will deploy.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import EngineError, ScenarioError

_TIMEOUT_S = 60.0


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


def read_compose_config(compose_file: Path, project: str | None = None) -> ComposeConfig:
    """Run ``docker compose -f FILE config --format json`` and parse its answer.

    Talks to no engine. A broken or missing compose file raises ScenarioError
    with Compose's own message; a missing ``docker`` CLI raises EngineError.
    """
    if not compose_file.is_file():
        raise ScenarioError(
            f"compose file {compose_file} does not exist",
            hint="stack.compose is relative to the scenario file",
        )
    cmd = ["docker", "compose", "-f", str(compose_file)]
    if project:
        cmd += ["-p", project]
    cmd += ["config", "--format", "json"]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
            start_new_session=True,  # terminal signals go to hachaos alone
        )
    except FileNotFoundError as exc:
        raise EngineError(
            "the `docker` command is not installed, so the compose file cannot be read",
            hint="install the Docker CLI with the Compose v2 plugin",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"`docker compose config` took over {_TIMEOUT_S:.0f}s") from exc
    if proc.returncode != 0:
        text = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
        raise ScenarioError(
            f"compose file {compose_file} is invalid: {text}",
            hint="run `docker compose -f FILE config` to see what Compose makes of it",
        )
    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise EngineError(f"`docker compose config` printed no JSON: {exc}") from exc
    return parse_compose_config(compose_file, raw)
