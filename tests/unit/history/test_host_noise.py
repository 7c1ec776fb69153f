"""The busy-host flag from host.jsonl samples, and the sampler's arithmetic on a fake /proc."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analysis.host import host_load
from harness.engine.host_cpu import containers_cpu_seconds
from harness.run.host_noise import HostSampler

T0 = 1000.0


def s(t: float, load: float, steal: float = 0.0, other: float = 0.0) -> dict[str, float]:
    return {"wall": T0 + t, "load1": load, "cores": 2, "steal": steal, "other_cores": other}


def test_a_load_of_twice_the_cores_during_the_faults_is_busy() -> None:
    samples = [s(-2, 30.0), s(2, 1.0), s(10, 15.0), s(12, 3.0), s(30, 40.0)]
    h = host_load(samples, [(9.0, 13.0)], T0, 60.0)
    assert h is not None
    assert (h.window, h.samples, h.load_max, h.load_mean) == ("during the faults", 2, 15.0, 9.0)
    assert h.busy and h.note == "host busy: load 15.0 on 2 cores during the faults"


def test_a_quiet_host_is_not_flagged_and_without_faults_the_run_is_the_window() -> None:
    h = host_load([s(-2, 30.0), s(2, 3.9), s(10, 1.0)], [], T0, 60.0)
    assert h is not None
    assert (h.window, h.samples, h.load_max, h.busy, h.note) == (
        "during the run",
        2,
        3.9,
        False,
        "",
    )


def test_steal_and_other_processes_make_a_host_busy() -> None:
    h = host_load([s(1, 1.0, steal=0.05), s(3, 1.0, steal=0.15)], [], T0, 60.0)
    assert h is not None and h.busy and h.steal == pytest.approx(0.10)
    assert h.note == "host busy: CPU steal 10% during the run"
    h = host_load([s(1, 1.0, other=1.2), s(3, 1.0, other=1.0)], [], T0, 60.0)
    assert (
        h is not None and h.note == "host busy: other processes used 1.1 of 2 cores during the run"
    )
    h = host_load([s(1, 1.0, other=0.9), s(3, 1.0, other=0.9)], [], T0, 60.0)
    assert h is not None and not h.busy  # 0.9 < 0.5 x 2 cores
    assert host_load([], [], T0, 60.0) is None


def fake_proc(root: Path, ticks: list[int], load: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "stat").write_text("cpu  " + " ".join(map(str, ticks)) + " 0 0\ncpu0 1 2 3\n")
    (root / "loadavg").write_text(f"{load} 1.00 1.00 2/300 4242\n")
    return root


def test_the_sampler_turns_proc_stat_deltas_into_cores(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", [100, 0, 100, 700, 100, 0, 0, 0], "0.50")
    usage = iter([10.0, 10.5])
    sampler = HostSampler(tmp_path / "h.jsonl", proc=proc, containers=lambda: next(usage))
    sampler.cores = 2
    assert sampler.sample() == {"load1": 0.5, "cores": 2}
    # 1000 jiffies later: 300 user+system, 500 idle, 100 iowait, 100 steal
    fake_proc(proc, [300, 0, 200, 1200, 200, 0, 0, 100], "6.25")
    sample = sampler.sample()
    assert sample is not None
    assert sample["load1"] == 6.25 and sample["steal"] == pytest.approx(0.1)
    assert sample["busy_cores"] == pytest.approx(0.8)  # (1000 - 600 idle) / 1000 x 2 cores
    assert sample["container_cores"] > 0  # 0.5 CPU s over the (short) elapsed time
    assert sample["other_cores"] >= 0.0


def test_container_cpu_is_read_from_cgroup_v1_and_v2(tmp_path: Path) -> None:
    assert containers_cpu_seconds(tmp_path) is None
    (tmp_path / "cpuacct" / "docker").mkdir(parents=True)
    (tmp_path / "cpuacct" / "docker" / "cpuacct.usage").write_text("2500000000\n")
    scope = tmp_path / "system.slice" / "docker-abc.scope"
    scope.mkdir(parents=True)
    (scope / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert containers_cpu_seconds(tmp_path) == pytest.approx(4.0)  # 2.5 s + 1.5 s
