"""CPU time used by every container on this host, from the kernel's cgroups: what the
host-noise sampler (harness/run/host_noise.py) subtracts to find other processes' load."""

from __future__ import annotations

from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
# cgroup v1 (cgroupfs driver): one accounting folder above every container of an engine.
_V1 = ("cpuacct/docker", "cpu,cpuacct/docker", "cpuacct/kubepods", "cpu,cpuacct/kubepods")
# cgroup v2: the cgroupfs driver's parent, or systemd's per-container scopes.
_V2_PARENTS = ("docker", "kubepods", "kubepods.slice")
_V2_SCOPES = ("system.slice/docker-*.scope",)


def _usage_usec(cpu_stat: Path) -> float | None:
    try:
        for line in cpu_stat.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return float(value)
    except (OSError, ValueError):
        return None
    return None


def containers_cpu_seconds(root: Path = CGROUP) -> float | None:
    """Total CPU seconds of the host's containers so far; None when no cgroup tells."""
    total, found = 0.0, False
    for rel in _V1:
        try:
            total += int((root / rel / "cpuacct.usage").read_text()) / 1e9
            found = True
        except (OSError, ValueError):
            continue
    for rel in _V2_PARENTS:
        usec = _usage_usec(root / rel / "cpu.stat")
        if usec is not None:
            total, found = total + usec / 1e6, True
    for pattern in _V2_SCOPES:
        for stat in root.glob(f"{pattern}/cpu.stat"):
            usec = _usage_usec(stat)
            if usec is not None:
                total, found = total + usec / 1e6, True
    return total if found else None
