"""A reserved port taken by another process is recognised in the engine's own words."""

from __future__ import annotations

import secrets
import socket
import subprocess
from pathlib import Path

import pytest

from harness.engine.compose.project import ComposeProject
from harness.errors import EngineError
from harness.ports import port_taken, reserve_loopback_port

pytestmark = pytest.mark.docker

COMPOSE = """
services:
  web:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    ports: ["127.0.0.1:${HACHAOS_PORT}:9000"]
"""


def test_a_port_taken_by_an_outsider_is_reported_as_taken(tmp_path: Path) -> None:
    file = tmp_path / "compose.yaml"
    file.write_text(COMPOSE)
    project = f"hachaos-it-port-{secrets.token_hex(3)}"
    reservation = reserve_loopback_port(tmp_path / "locks")
    outsider = socket.socket()  # not hachaos: it ignores the lock files
    try:
        outsider.bind(("127.0.0.1", reservation.port))
        outsider.listen()
        stack = ComposeProject(file, project, env={"HACHAOS_PORT": str(reservation.port)})
        with pytest.raises(EngineError) as info:
            stack.up(wait_timeout=30, build=False)
        assert port_taken(info.value.message, reservation.port), info.value.message
        again = reserve_loopback_port(tmp_path / "locks")
        assert again.port != reservation.port
        stack = ComposeProject(file, project, env={"HACHAOS_PORT": str(again.port)})
        stack.up(wait_timeout=30, build=False)  # what the orchestrator does on a taken port
        assert stack.published_port("web", 9000) == ("127.0.0.1", again.port)
    finally:
        outsider.close()
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "--timeout", "1"],
            capture_output=True,
            check=False,
            timeout=120,
        )
