"""Which running containers a swarm's init and leave would cut off their embedded DNS
(moby/moby#45144), read from the real engine: those on a user-defined network, running.

The engine is shared, so the test checks its own containers only, by name.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

from harness.engine.swarm.lifecycle import DockerSwarmOps

pytestmark = pytest.mark.docker

IMAGE = "debian:bookworm-slim"


def _docker(*args: str) -> str:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip()


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"hachaos-it-dns-{secrets.token_hex(3)}"
    yield name
    for c in _docker("ps", "-aq", "--filter", f"name=^{name}-").split():
        subprocess.run(["docker", "rm", "-f", c], capture_output=True, check=False, timeout=60)
    subprocess.run(["docker", "network", "rm", name], capture_output=True, check=False, timeout=60)


def test_only_running_containers_on_user_defined_networks_depend_on_the_dns(prefix: str) -> None:
    _docker("network", "create", prefix)
    run = ("run", "-d", "--init", "--label", "hachaos.test=dns")
    _docker(*run, "--name", f"{prefix}-user", "--network", prefix, IMAGE, "sleep", "600")
    _docker(*run, "--name", f"{prefix}-default", IMAGE, "sleep", "600")  # the default bridge
    _docker(*run, "--name", f"{prefix}-none", "--network", "none", IMAGE, "sleep", "600")
    _docker(*run, "--name", f"{prefix}-host", "--network", "host", IMAGE, "sleep", "600")
    _docker("create", "--name", f"{prefix}-stopped", "--network", prefix, IMAGE, "sleep", "600")
    # a second network on a default-bridge container makes it depend too
    _docker(*run, "--name", f"{prefix}-both", IMAGE, "sleep", "600")
    _docker("network", "connect", prefix, f"{prefix}-both")

    ours = [n for n in DockerSwarmOps().dns_dependents() if n.startswith(prefix)]
    assert ours == [f"{prefix}-both", f"{prefix}-user"]
