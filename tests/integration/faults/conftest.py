"""A small real stack for fault tests: two `web` replicas, one `peer`, one `lonely`.

Images are built FROM debian:bookworm-slim with busybox (httpd, nc, nslookup),
tagged by the Dockerfile's hash so a session reuses them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from faultkit import close_logs

from harness.engine import containers, helpers

DOCKERFILE = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends busybox \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /www && echo ok > /www/index.html
CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
"""
IMAGE = "hachaos-faults-test:" + hashlib.sha256(DOCKERFILE.encode()).hexdigest()[:10]

COMPOSE = """\
services:
  web:
    image: {image}
    restart: always
    init: true
    deploy:
      replicas: 2
    tmpfs:
      - /data:size=16m
  peer:
    image: {image}
    restart: always
    init: true
  lonely:
    image: {image}
    init: true
"""


@dataclass
class Stack:
    """A running compose project."""

    project: str
    file: Path


def ensure_test_image() -> str:
    c = sdk()
    try:
        c.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        c.images.build(fileobj=io.BytesIO(DOCKERFILE.encode()), tag=IMAGE, rm=True)
    return IMAGE


@pytest.fixture(scope="session")
def helper_image() -> str:
    return helpers.ensure_image()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, helper_image: str) -> Iterator[Stack]:
    ensure_test_image()
    project = f"hcf-{secrets.token_hex(4)}"
    folder = tmp_path_factory.mktemp(project)
    file = folder / "compose.yaml"
    file.write_text(COMPOSE.format(image=IMAGE))
    base = ["docker", "compose", "-p", project, "-f", str(file)]
    try:
        subprocess.run([*base, "up", "-d", "--quiet-pull"], check=True, capture_output=True)
        yield Stack(project, file)
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], check=False, capture_output=True)
        for h in helpers.list_helpers(project=project):
            helpers.remove_helper(h["id"])


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test journals into its own state folder; event logs are closed after it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield tmp_path / "state"
    close_logs()


@functools.lru_cache(maxsize=1)
def sdk() -> docker.DockerClient:
    """One Docker client for the test module's own checks."""
    return docker.from_env()


def container(project: str, service: str, number: int) -> docker.models.containers.Container:
    """The stack's container, looked up independently of harness code."""
    found = sdk().containers.list(
        all=True,
        filters={
            "label": [
                f"com.docker.compose.project={project}",
                f"com.docker.compose.service={service}",
                f"com.docker.compose.container-number={number}",
            ]
        },
    )
    # neither helpers nor the scale fault's never-started parked copies are replicas
    found = [
        c
        for c in found
        if helpers.HELPER_LABEL not in c.labels and containers.PARKED_LABEL not in c.labels
    ]
    assert len(found) == 1, found
    return found[0]


def wait_until(check: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def netns_rules(container_id: str) -> str:
    """iptables rules in a container's netns, read by a throwaway helper."""
    _, out = helpers.run_once(
        ["iptables", "-S"],
        run_id="test",
        project="test",
        network_mode=f"container:{container_id}",
        cap_add=["NET_ADMIN"],
    )
    return out
