"""The compose adapter against the real engine: deploy, resolve ports, fail clearly, tear down."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engine.compose.adapter import ComposeEngine
from harness.engine.compose.project import ComposeProject
from harness.errors import EngineError

pytestmark = pytest.mark.docker

COMPOSE = """
services:
  web:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    ports: ["127.0.0.1::9000"]
  sick:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    profiles: ["sick"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ComposeProject]:
    file = tmp_path / "compose.yaml"
    file.write_text(COMPOSE)
    project = ComposeProject(file, f"hachaos-it-{secrets.token_hex(3)}")
    yield project
    project.down()


def _containers(project: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out.split()


def test_up_resolves_an_ephemeral_loopback_port_and_down_removes_all(
    stack: ComposeProject,
) -> None:
    stack.up(wait_timeout=60, build=False)
    host, port = stack.published_port("web", 9000)
    assert host == "127.0.0.1"
    assert 1024 <= port <= 65535
    assert set(stack.image_ids()) == {"web"}
    stack.down()
    assert _containers(stack.project) == []


def test_unpublished_port_is_a_clear_error(stack: ComposeProject) -> None:
    stack.up(wait_timeout=60, build=False)
    with pytest.raises(EngineError, match="does not publish container port 1234") as info:
        stack.published_port("web", 1234)
    assert info.value.hint is not None
    assert "127.0.0.1::1234" in info.value.hint


def test_unhealthy_service_fails_up_with_a_hint(tmp_path: Path) -> None:
    file = tmp_path / "compose.yaml"
    file.write_text(COMPOSE.replace('    profiles: ["sick"]\n', ""))
    project = ComposeProject(file, f"hachaos-it-{secrets.token_hex(3)}")
    try:
        with pytest.raises(EngineError, match="deploying") as info:
            project.up(wait_timeout=8, build=False)
        assert info.value.hint is not None
        assert "ready_timeout" in info.value.hint
    finally:
        project.down()
    assert _containers(project.project) == []


def test_the_engine_scales_a_service_and_layers_override_files(tmp_path: Path) -> None:
    """A scaling curve deploys once per count (`up --scale`); a variant adds files (`-f`)."""
    file = tmp_path / "compose.yaml"
    file.write_text(COMPOSE)
    override = tmp_path / "variant.yaml"
    override.write_text("services:\n  web:\n    environment:\n      VARIANT: cache\n")
    base = ComposeEngine(ComposeProject(file, f"hachaos-it-{secrets.token_hex(3)}"))
    engine = base.with_overrides([override]).with_replicas("web", 3).with_replicas("web", 2)
    try:
        engine.deploy(ready_timeout=60)
        names = sorted(t.name for t in engine.select("web", ()))
        assert names == [f"{engine.project}-web-1", f"{engine.project}-web-2"]
        env = subprocess.run(
            ["docker", "inspect", "--format", "{{json .Config.Env}}", names[0]],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert "VARIANT=cache" in env
    finally:
        engine.teardown()
    assert _containers(engine.project) == []
    assert base.stack.scale == {} and base.stack.overrides == ()  # the base is untouched
