"""Deploy and tear down a Compose project through the `docker compose` CLI (v2)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.engine.client import client, translated
from harness.errors import EngineError

_COMPOSE_HINT = "install the Compose v2 plugin (`make engine` runs scripts/ensure-docker)"


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(frozen=True)
class ComposeProject:
    """One compose file deployed under one project name."""

    file: Path
    project: str
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for interpolation

    def _run(
        self, *args: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if shutil.which("docker") is None:
            raise EngineError("the docker CLI is not installed", hint=_COMPOSE_HINT)
        cmd = ["docker", "compose", "-f", str(self.file), "-p", self.project, *args]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env={**os.environ, **self.env},
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(
                f"`docker compose {' '.join(args)}` did not finish within {timeout:.0f} s",
                hint="check the engine (`docker info`) and the stack's health checks",
            ) from exc
        if check and proc.returncode != 0:
            raise EngineError(
                f"`docker compose {' '.join(args)}` failed for project {self.project}:\n"
                f"{_tail(proc.stderr or proc.stdout)}",
                hint=f"inspect with `docker compose -p {self.project} logs`",
            )
        return proc

    def build(self, *, timeout: float = 900.0) -> None:
        """Build the stack's images (cached layers make a second build fast)."""
        self._run("build", "--quiet", timeout=timeout)

    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        """Start the stack and wait until every service is running and healthy."""
        args = ["up", "--detach", "--wait", "--wait-timeout", str(max(1, int(wait_timeout)))]
        if build:
            args.insert(1, "--build")
        try:
            self._run(*args, timeout=wait_timeout + 600.0)
        except EngineError as exc:
            raise EngineError(
                f"deploying {self.file} failed:\n{exc.message}",
                hint=(
                    f"run `docker compose -f {self.file} -p {self.project} up` by hand to see "
                    "why a service is not healthy; raise stack.ready_timeout if it is only slow"
                ),
            ) from exc

    def down(self, *, timeout: float = 120.0) -> None:
        """Remove the stack's containers, networks and volumes."""
        self._run("down", "--volumes", "--remove-orphans", "--timeout", "3", timeout=timeout)

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        """Host address and port that ``service:port`` is published on."""
        proc = self._run("port", service, str(port), timeout=30.0, check=False)
        text = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
        host, _, host_port = text.rpartition(":")
        if proc.returncode != 0 or not host_port.isdigit():
            raise EngineError(
                f"service {service!r} does not publish container port {port}",
                hint=f'add `ports: ["127.0.0.1::{port}"]` to {service} in {self.file}',
            )
        return (host.strip("[]") or "127.0.0.1", int(host_port))

    def image_ids(self) -> dict[str, str]:
        """Image id per service of the project's running containers."""
        with translated(f"listing containers of {self.project}"):
            containers = client().containers.list(
                all=True,
                filters={"label": f"com.docker.compose.project={self.project}"},
                ignore_removed=True,
            )
            return {
                c.labels.get("com.docker.compose.service", c.name): c.attrs.get("Image", "")
                for c in containers
            }


def compose_version() -> str:
    """The Compose plugin's version, or "unknown"."""
    try:
        proc = subprocess.run(
            ["docker", "compose", "version", "--short"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() or "unknown"


def engine_version() -> str:
    """The engine's server version."""
    with translated("reading the engine version"):
        return str(client().version().get("Version", "unknown"))


def compose_files_under(root: Path) -> list[Path]:
    """Every compose file in the folders directly below ``root``."""
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for name in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"):
            if (sub / name).is_file():
                found.append(sub / name)
                break
    return found


def free_loopback_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now.

    Published ports chosen by the engine (``127.0.0.1::8080``) change every time
    the container starts again, which would cut the load off after a kill or
    restart fault; so hachaos picks one per run and passes it as ${HACHAOS_PORT}.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
