"""scripts/ensure-kube: a second `up` only checks; `down` leaves the host as it was; `up`
brings the cluster back (docs/engines.md). Runs on the real local cluster."""

from __future__ import annotations

import fcntl
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# docker too: it needs the engine (the pause image), and quick runs that leave Docker out
# must not stop the cluster under someone else's run on a shared machine.
pytestmark = [pytest.mark.kubernetes, pytest.mark.docker, pytest.mark.slow]
LOCK = Path("/tmp/hachaos-kube.lock")  # shared by cluster users, exclusive for down/up

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "ensure-kube"
STATE = Path("/var/lib/hachaos/kube")


def ensure(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def chains() -> set[str]:
    dump = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^:([A-Z][A-Z0-9_-]*)", dump, flags=re.M))


def cluster_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [
        line
        for line in out.splitlines()
        if "/var/cache/hachaos/kube/bin/" in line
        or "hachaos/kube/containerd.toml" in line
        or "--data-dir /var/lib/hachaos/kube/etcd" in line
    ]


def sysctl(name: str) -> str:
    done = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def test_up_again_only_checks() -> None:
    started = time.monotonic()
    done = ensure("up")
    assert done.returncode == 0, done.stderr
    assert "ok: cluster up" in done.stderr and "building" not in done.stderr
    assert time.monotonic() - started < 30


@pytest.fixture
def cluster_to_ourselves() -> Iterator[None]:
    """Hold the cluster lock exclusively: no kube test of this machine runs meanwhile."""
    with LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def test_down_leaves_the_host_as_it_was_and_up_brings_it_back(cluster_to_ourselves: None) -> None:
    saved = dict(
        line.split("=", 1)
        for line in (STATE / "sysctl.before").read_text().splitlines()
        if "=" in line
    )
    before_start = {c for c in (STATE / "chains.before").read_text().split()}
    docker_chains = {c for c in chains() if c.startswith("DOCKER")}
    assert any(c.startswith("KUBE-") for c in chains())  # the cluster runs: kube-proxy's rules
    try:
        down = ensure("down", timeout=300)
        assert down.returncode == 0, down.stderr
        left = {c for c in chains() if c.startswith(("KUBE-", "CNI-"))}
        assert left <= before_start, f"chains left behind: {sorted(left - before_start)}"
        assert docker_chains <= chains()  # Docker's own chains are all still there
        assert cluster_processes() == []
        assert not Path("/sys/class/net/hachaos-cni0").exists()
        for name, value in saved.items():
            assert sysctl(name) == value, name
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=60, check=False)
        assert info.returncode == 0  # the Docker engine still answers
    finally:
        up = ensure("up", timeout=900)
    assert up.returncode == 0, up.stderr
    assert ensure("status").returncode == 0
    # kube-proxy synced with the new start's certificates: the Services have their rules
    nat = subprocess.run(
        ["iptables-save", "-t", "nat"], capture_output=True, text=True, check=False
    ).stdout
    assert "default/kubernetes:https" in nat
