"""Pure helpers of the fault types: iptables/tc snippets, CPU arithmetic, dead-man script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.engine.compose_config import shares_namespace
from harness.errors import FaultError
from harness.faults.bandwidth import rate_bits
from harness.faults.cpu import effective, restore, throttle
from harness.faults.crash import kill_script
from harness.faults.disk import covering_mount, fill_script
from harness.faults.netns import chain, helper_script, iptables_scripts


def test_iptables_directions_pick_hooks() -> None:
    both = iptables_scripts("ab12", ["-d 10.0.0.2 -j DROP"], "both")
    assert "-I INPUT 1 -j HACHAOS-ab12" in both["apply"]
    assert "-I OUTPUT 1 -j HACHAOS-ab12" in both["apply"]
    inbound = iptables_scripts("ab12", [], "inbound")
    assert "OUTPUT" not in inbound["apply"] and "INPUT" in inbound["apply"]
    # revert removes both jumps whatever the direction, so a half-applied fault is undone
    assert "-D INPUT" in inbound["revert"] and "-D OUTPUT" in inbound["revert"]
    assert chain("ab12") in inbound["absent"]


def test_cpu_throttle_uses_the_containers_own_kind_of_limit() -> None:
    none = {"NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0}
    nano = {"NanoCpus": 2_000_000_000, "CpuQuota": 0, "CpuPeriod": 0}
    assert throttle(none, 0.25) == {"CpuPeriod": 100_000, "CpuQuota": 25_000}
    assert throttle(nano, 0.5) == {"NanoCpus": 500_000_000}
    assert restore(none) == {"CpuPeriod": 100_000, "CpuQuota": -1}
    assert restore(nano) == {"NanoCpus": 2_000_000_000}
    assert effective({"NanoCpus": 0, "CpuQuota": -1, "CpuPeriod": 100_000}) == 0.0
    assert effective({"NanoCpus": 0, "CpuQuota": 50_000, "CpuPeriod": 200_000}) == 0.25


@pytest.mark.parametrize(("rate", "bits"), [("1mbit", 1e6), ("512kbit", 512e3), ("1.5gbit", 1.5e9)])
def test_rate_bits(rate: str, bits: float) -> None:
    assert rate_bits(rate) == bits


def test_dead_man_script_reverts_at_its_deadline(tmp_path: object) -> None:
    """The helper's shell logic, run with echo stand-ins for iptables."""
    script = helper_script("echo applying", "echo undo >&2", deadline=0)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
    )
    assert out.stdout.split() == ["applying", "READY", "EXPIRED"]
    assert out.returncode == 0


def test_dead_man_script_reports_a_failed_apply() -> None:
    script = helper_script("false", "true", deadline=5)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
    )
    assert out.stdout.split() == ["FAILED"] and out.returncode == 1


def test_crash_script_refuses_a_pid_outside_the_container() -> None:
    """A process whose cgroup does not name the container is never signalled."""
    victim = subprocess.Popen(["sleep", "30"])
    try:
        script = kill_script("KILL", [(victim.pid, "ab" * 32)])
        out = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
        )
        assert out.returncode == 3
        assert (
            out.stdout.strip()
            == f"REFUSED: pid {victim.pid} is not a process of container {'ab' * 32}"
        )
        assert victim.poll() is None  # still alive
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.parametrize(
    ("signal", "victims"),
    [("KILL; reboot", [(123, "ab" * 32)]), ("KILL", [(1, "ab" * 32)]), ("KILL", [(9, "x")])],
)
def test_crash_script_refuses_bad_values(signal: str, victims: list[tuple[int, str]]) -> None:
    with pytest.raises(FaultError, match="crash: refusing"):
        kill_script(signal, victims)


@pytest.mark.parametrize(
    ("path", "mount"),
    [
        ("/data", "/data"),
        ("/data/sub/dir", "/data"),
        ("/datax", None),  # a prefix of the name, not of the path
        ("/var/lib/x", "/var/lib"),
        ("/var/lib/app/x", "/var/lib/app/"),  # the longest match wins
        ("/tmp", None),
    ],
)
def test_covering_mount_is_the_longest_whole_component_prefix(path: str, mount: str | None) -> None:
    mounts = {
        "/data": ("tmpfs", True),
        "/var/lib": ("volume", True),
        "/var/lib/app/": ("bind", True),
    }
    assert covering_mount(path, mounts) == mount


@pytest.mark.parametrize(
    ("mode", "shared"),
    [
        ("host", True),
        ("container:3f2a", True),
        ("service:db", True),
        ("bridge", False),
        ("none", False),
        ("default", False),
        ("proj_default", False),
        ("", False),
        (None, False),
    ],
)
def test_shared_namespace_modes(mode: str | None, shared: bool) -> None:
    assert shares_namespace(mode) is shared


def test_disk_fill_script_refuses_beyond_the_absolute_cap(tmp_path: Path) -> None:
    """Run for real on a local folder with a 0 KiB cap: any positive need is refused."""
    file = tmp_path / ".hachaos-fill-ab"
    script = fill_script(str(tmp_path), str(file), 0.95, 0, deadline=5)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
    )
    assert out.returncode == 3, out
    assert out.stdout.startswith("NEED ")
    assert not file.exists()
