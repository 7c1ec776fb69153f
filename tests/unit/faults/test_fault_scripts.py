"""Pure helpers of the fault types: iptables/tc snippets, CPU arithmetic, dead-man script."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

from harness.errors import FaultError
from harness.faults import disk
from harness.faults.bandwidth import rate_bits
from harness.faults.base import FaultContext
from harness.faults.cpu import effective, restore, throttle
from harness.faults.crash import kill_script
from harness.faults.disk import covering_mount, fill_script
from harness.faults.netns import chain, helper_script, iptables_scripts
from harness.scenario.compose import shares_namespace


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


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _sh(script: str, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False, env=env
    )


def test_present_needs_the_chain_and_every_jump(tmp_path: Path) -> None:
    """`present` is true only when the chain exists and each hook still jumps to it."""
    both = iptables_scripts("ab12", [], "both")["present"]
    inbound = iptables_scripts("ab12", [], "inbound")["present"]
    log = tmp_path / "calls"
    _stub(tmp_path, "iptables", f'echo "$*" >> {log}; exit 0')  # everything in place
    assert _sh(both, tmp_path).returncode == 0
    assert log.read_text().splitlines() == [
        "-w -S HACHAOS-ab12",
        "-w -C INPUT -j HACHAOS-ab12",
        "-w -C OUTPUT -j HACHAOS-ab12",
    ]
    # the chain exists but a jump was removed (e.g. by a container restart): not present
    _stub(tmp_path, "iptables", 'case "$*" in *"-C OUTPUT"*) exit 1;; esac; exit 0')
    assert _sh(both, tmp_path).returncode != 0
    assert _sh(inbound, tmp_path).returncode == 0  # inbound never jumps from OUTPUT
    _stub(tmp_path, "iptables", 'case "$*" in *"-C INPUT"*) exit 1;; esac; exit 0')
    assert _sh(inbound, tmp_path).returncode != 0
    _stub(tmp_path, "iptables", 'case "$*" in *"-S"*) exit 1;; esac; exit 0')  # no chain
    assert _sh(both, tmp_path).returncode != 0


def test_dead_man_script_runs_its_revert_at_the_deadline(tmp_path: Path) -> None:
    marks = tmp_path / "reverts"
    script = helper_script("echo applying", f"echo undo >> {marks}", deadline=0)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
    )
    assert out.stdout.split() == ["applying", "READY", "EXPIRED"]
    # once before applying (clears a leftover of a killed run), once at the deadline
    assert marks.read_text().splitlines() == ["undo", "undo"]


def test_dead_man_script_runs_its_revert_on_term(tmp_path: Path) -> None:
    marks = tmp_path / "reverts"
    script = helper_script("true", f"echo undo >> {marks}", deadline=30)
    # own session: its background `sleep` is killed with the group afterwards
    proc = subprocess.Popen(
        ["sh", "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    try:
        ready = proc.stdout.readline()  # blocks until the script says READY: no polling
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group may be empty already
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    rest = proc.stdout.read()  # EOF once the group (the sleep held the pipe too) is gone
    proc.stdout.close()
    assert [ready.strip(), *rest.split()] == ["READY", "REVERTED"]
    assert marks.read_text().splitlines() == ["undo", "undo"]


def test_disk_fill_measures_the_path_and_fills_the_file(tmp_path: Path) -> None:
    """90 % of a 1000 KiB filesystem with 400 KiB used: (900 - 400) KiB = 512000 bytes."""
    log = tmp_path / "calls"
    _stub(
        tmp_path,
        "df",
        f'echo "df $*" >> {log}; echo "Filesystem 1024-blocks Used"; echo "/dev/x 1000 400"',
    )
    _stub(tmp_path, "fallocate", f'echo "fallocate $*" >> {log}')
    data = tmp_path / "data"  # the script creates the (empty) file before it allocates
    data.mkdir()
    out = _sh(fill_script(str(data), f"{data}/.hachaos-fill-ab12", 0.9, 10_000, 0), tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["FILLED", "500"]
    assert log.read_text().splitlines() == [
        f"df -Pk -- {data}",
        f"fallocate -l 512000 -- {data}/.hachaos-fill-ab12",
    ]


def test_disk_fill_refuses_above_its_cap_and_writes_nothing(tmp_path: Path) -> None:
    """The same 500 KiB are needed, but the cap is 499 KiB: refused before any write."""
    log = tmp_path / "calls"
    _stub(tmp_path, "df", 'echo "Filesystem 1024-blocks Used"; echo "/dev/x 1000 400"')
    _stub(tmp_path, "fallocate", f'echo "fallocate $*" >> {log}')
    out = _sh(fill_script("/data", "/data/.f", 0.9, 499, 0), tmp_path)
    assert out.returncode == disk.FILL_REFUSED
    assert out.stdout.split() == ["NEED", "500"]
    assert not log.exists()


def test_disk_fill_does_nothing_when_already_full_enough(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    _stub(tmp_path, "df", 'echo "Filesystem 1024-blocks Used"; echo "/dev/x 1000 950"')
    _stub(tmp_path, "fallocate", f'echo "fallocate $*" >> {log}')
    out = _sh(fill_script("/data", "/data/.f", 0.9, 10_000, 0), tmp_path)
    assert out.returncode == 0
    assert out.stdout.split() == ["FILLED", "0"]
    assert not log.exists()


def test_disk_apply_fills_the_path_into_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script Disk.apply sends (engine call faked) measures `path` and fills the tag file."""
    sent: list[tuple[str, str]] = []

    class Engine:
        def exec_in(self, container: str, script: str) -> tuple[int, str]:
            sent.append((container, script))
            return 0, "FILLED 500"

    state = {
        "key": "disk#0",
        "targets": [{"id": "c1", "name": "app-1"}],
        "tag": "ab12",
        "path": "/data/",
        "dirs": {"c1": str(tmp_path / "data")},  # resolved at plan time
        "fill": 0.9,
        "max_kib": 10_000,
        "deadline": 0,
    }
    ctx = FaultContext(project="p", run_id="r", containers=Engine())  # type: ignore[arg-type]
    disk.Disk(ctx, state).apply()
    [(container, script)] = sent
    assert container == "c1"
    (tmp_path / "data").mkdir()
    log = tmp_path / "calls"
    _stub(tmp_path, "df", f'echo "df $*" >> {log}; echo "F K U"; echo "/dev/x 1000 400"')
    _stub(tmp_path, "fallocate", f'echo "fallocate $*" >> {log}')
    assert _sh(script, tmp_path).returncode == 0
    assert log.read_text().splitlines() == [
        f"df -Pk -- {tmp_path}/data",
        f"fallocate -l 512000 -- {tmp_path}/data/.hachaos-fill-ab12",
    ]
