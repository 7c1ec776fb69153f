"""Every pod fault on the real local cluster: applied and verified, reverted and verified
reverted, through the engine's helper pods, on one shared k8s/web-ha namespace.

What each fault did is read from the host, independently of harness code (the local
cluster's node is this machine): the pod's network namespace through nsenter
(iptables-save, tc), its processes' states in /proc, its cgroup's CPU quota. After the
revert the netns must be exactly as before, and no helper pod may be left.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.faults.proxied import PROXY_UID
from tests.integration.faults.faultkit import events, planned
from tests.integration.kube.conftest import (
    Deployed,
    container_id,
    netns_inode,
    netns_state,
    pids_of,
    processes_of_uid_in_netns,
    state_of,
    wait_until,
    zombies_of,
)

pytestmark = [pytest.mark.kubernetes, pytest.mark.docker]


def _apply_revert(
    web_ha: Deployed,
    tmp_path: Path,
    fault_type: str,
    service: str,
    replicas: tuple[int, ...],
    during: Any,
    **spec: Any,
) -> None:
    """Apply (verified), call ``during()`` while it holds, revert (verified)."""
    r = web_ha.runner(tmp_path)
    step = planned(fault_type, service, replicas, window=120, name=f"{fault_type}-k", **spec)
    r.apply(step, planned_wall=0.0)
    try:
        during()
    finally:
        r.revert(step)
    [applied] = events(tmp_path, "fault.apply")
    [reverted] = events(tmp_path, "fault.revert")
    assert (applied["ok"], applied["error"]) == (True, None)
    assert (reverted["ok"], reverted["error"]) == (True, None)
    assert r.active() == []
    assert wait_until(lambda: web_ha.helpers() == [], timeout=60), web_ha.helpers()


PROXIED = ("*nat", "HACHAOS-P", "-j REDIRECT")  # the fault proxy's redirect


def _netns_of(web_ha: Deployed, service: str, number: int = 1) -> int:
    pids = pids_of(container_id(web_ha.namespace, web_ha.pod(service, number)))
    assert pids
    return pids[0]


# (fault, target service, spec, what the netns shows while it holds)
NETNS: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("partition", "app", {"peers": ["redis"]}, ("HACHAOS-", "-j DROP")),
    ("loss", "app", {"percent": 0.3}, ("HACHAOS-", "--mode random --probability 0.29")),
    ("bandwidth", "app", {"rate": "1mbit"}, ("qdisc tbf", "rate 1Mbit")),
    ("dns", "app", {}, ("HACHAOS-", "-p udp -m udp --dport 53 -j DROP")),
    ("latency", "app", {"delay": "200ms", "to": {"service": "redis", "port": 6379}}, PROXIED),
    ("http-delay", "lb", {"delay": "100ms"}, PROXIED),
    ("blackhole", "app", {"to": {"service": "redis", "port": 6379}}, PROXIED),
    ("slow", "app", {"rate": "64kbit"}, PROXIED),
]


@pytest.mark.parametrize(
    ("fault_type", "service", "spec", "marks"), NETNS, ids=[n[0] for n in NETNS]
)
def test_netns_fault_is_in_the_pods_netns_then_gone(
    web_ha: Deployed,
    tmp_path: Path,
    fault_type: str,
    service: str,
    spec: dict[str, Any],
    marks: tuple[str, ...],
) -> None:
    pid = _netns_of(web_ha, service)
    before = netns_state(pid)
    proxied = marks == PROXIED

    def holds() -> None:
        now = netns_state(pid)
        assert all(m in now for m in marks), now
        if proxied:  # the fault proxy runs in the pod's netns, as its own uid
            assert processes_of_uid_in_netns(PROXY_UID, netns_inode(pid))

    _apply_revert(web_ha, tmp_path, fault_type, service, (1,), holds, **spec)
    assert netns_state(pid) == before
    if proxied:
        assert processes_of_uid_in_netns(PROXY_UID, netns_inode(pid)) == []


def test_http_error_answers_the_clients_then_stops(web_ha: Deployed, tmp_path: Path) -> None:
    """On the front (HAProxy): every answer a 503 from the proxy while it holds."""
    host, port = web_ha.engine.published_port("lb", 8080)
    url = f"http://{host}:{port}/health"

    def status() -> int:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    assert status() == 200
    # on the app replicas, towards nothing in particular: HAProxy's requests to them
    _apply_revert(
        web_ha,
        tmp_path,
        "http-error",
        "app",
        (1, 2, 3),
        lambda: [status() for _ in range(3)] == [503] * 3 or pytest.fail("no 503 seen"),
        status=503,
        percent=1.0,
    )
    assert wait_until(lambda: status() == 200, timeout=30)


def test_a_proxied_fault_on_every_replica_reverts_each(web_ha: Deployed, tmp_path: Path) -> None:
    """Helper pods see the host's processes (hostPID): one replica's revert check must not
    mistake another replica's proxy, still running, for its own."""
    pids = [_netns_of(web_ha, "app", n) for n in (1, 2, 3)]
    before = [netns_state(p) for p in pids]

    def holds() -> None:
        for p in pids:
            assert processes_of_uid_in_netns(PROXY_UID, netns_inode(p))

    _apply_revert(web_ha, tmp_path, "latency", "app", (1, 2, 3), holds, delay="50ms")
    assert [netns_state(p) for p in pids] == before


def test_pause_stops_every_process_of_the_container_then_continues(
    web_ha: Deployed, tmp_path: Path
) -> None:
    cid = container_id(web_ha.namespace, web_ha.pod("app", 2))

    def stopped() -> None:
        assert {state_of(p) for p in pids_of(cid)} == {"T"}

    _apply_revert(web_ha, tmp_path, "pause", "app", (2,), stopped)
    assert "T" not in {state_of(p) for p in pids_of(cid)}


def _cpu_quota(cid: str) -> str:
    """The container's CFS quota and period, read from its cgroup on the host."""
    pid = pids_of(cid)[0]
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    v2 = [line.split(":", 2)[2] for line in lines if line.startswith("0::")]
    if v2 and Path(f"/sys/fs/cgroup{v2[0]}/cpu.max").exists():
        return Path(f"/sys/fs/cgroup{v2[0]}/cpu.max").read_text().strip()
    rel = next(line.split(":", 2)[2] for line in lines if "cpu," in line.split(":")[1] + ",")
    for base in ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"):
        d = Path(base + rel)
        if d.exists():
            quota = (d / "cpu.cfs_quota_us").read_text().strip()
            return f"{quota} {(d / 'cpu.cfs_period_us').read_text().strip()}"
    raise AssertionError(f"no cpu cgroup for {cid}")


def test_cpu_sets_the_containers_quota_then_puts_it_back(web_ha: Deployed, tmp_path: Path) -> None:
    cid = container_id(web_ha.namespace, web_ha.pod("app", 3))
    before = _cpu_quota(cid)
    assert before == "50000 100000"  # the manifest's limit: 500m
    _apply_revert(
        web_ha,
        tmp_path,
        "cpu",
        "app",
        (3,),
        lambda: _cpu_quota(cid) == "10000 100000" or pytest.fail(_cpu_quota(cid)),
        cpus=0.1,
    )
    assert _cpu_quota(cid) == before


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_memory_holds_the_size_inside_the_container_then_frees_it(
    web_ha: Deployed, tmp_path: Path
) -> None:
    cid = container_id(web_ha.namespace, web_ha.pod("app", 1))
    before = set(pids_of(cid))

    def held() -> None:
        hogs = [p for p in set(pids_of(cid)) - before if _rss_kib(p) >= 0.9 * 48 * 1024]
        assert hogs, [(p, _rss_kib(p)) for p in set(pids_of(cid)) - before]

    _apply_revert(web_ha, tmp_path, "memory", "app", (1,), held, size="48MiB")
    assert wait_until(lambda: set(pids_of(cid)) == before, timeout=10)
    assert zombies_of(cid) == []  # the hog and its sleep were reaped, not orphaned
