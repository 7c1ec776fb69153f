"""The container-stats ability against the real engine: list, stream, stop, restart count."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness.engine.stats import DockerStats, compose_identity

pytestmark = pytest.mark.docker


@pytest.fixture
def project() -> Iterator[str]:
    """Two containers labelled like compose's, replica 2 busy, plus a look-alike of another."""
    name = f"hachaos-stats-{secrets.token_hex(4)}"
    made = []
    for owner, number, cmd in (
        (name, 2, "while :; do :; done"),
        (name, 1, "sleep 600"),
        (f"{name}-other", 1, "sleep 600"),
    ):
        cid = subprocess.run(
            [
                "docker",
                "run",
                "-d",
                "--init",
                "--label",
                f"com.docker.compose.project={owner}",
                "--label",
                "com.docker.compose.service=app",
                "--label",
                f"com.docker.compose.container-number={number}",
                "debian:bookworm-slim",
                "sh",
                "-c",
                cmd,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        made.append(cid)
    yield name
    subprocess.run(["docker", "rm", "-f", *made], capture_output=True, check=False, timeout=60)


def test_lists_only_the_projects_containers_and_streams_their_counters(project: str) -> None:
    stats = DockerStats(f"com.docker.compose.project={project}", compose_identity(project))
    found = stats.stack_containers()
    assert [(c.service, c.replica, c.state) for c in found] == [
        ("app", 1, "running"),
        ("app", 2, "running"),
    ]
    busy = found[1]
    assert busy.addresses and busy.health == ""
    readings = []
    for reading in stats.stats_stream(busy.id):
        readings.append(reading)
        if len(readings) == 3:
            break
    assert all(r.mem_bytes > 0 and r.pids >= 2 for r in readings)
    first, last = readings[0], readings[-1]
    assert last.read_wall - first.read_wall >= 1.5  # a frame about every second
    assert last.cpu_ns > first.cpu_ns  # the busy loop's CPU time grows
    assert stats.restart_count(busy.id) == 0

    subprocess.run(["docker", "stop", "-t", "0", busy.id], check=True, capture_output=True)
    started = time.monotonic()
    assert list(stats.stats_stream(busy.id)) == []  # a stopped container: the stream just ends
    assert time.monotonic() - started < 10
    states = {c.replica: c.state for c in stats.stack_containers()}
    assert states == {1: "running", 2: "exited"}
    assert stats.restart_count("0" * 64) is None  # vanished: no error
