"""Every fault type on the real engine: applied, verified, reverted, verified reverted.

State is checked independently of harness code (Docker SDK, probes from inside
the containers), so a fault that only claims to work fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Stack, container, netns_rules, wait_until
from faultkit import events, planned, runner

from harness.engine import helpers
from harness.errors import FaultError

pytestmark = pytest.mark.docker


def _status(stack: Stack, number: int = 1) -> str:
    return str(container(stack.project, "web", number).status)


def _probe(src_id: str, ip: str) -> bool:
    """Whether src can fetch http://ip:8080/ within 2 s."""
    code, _ = helpers.exec_in(src_id, f"busybox wget -q -O - http://{ip}:8080/", timeout=2)
    return code == 0


def _ip(c: object) -> str:
    nets = c.attrs["NetworkSettings"]["Networks"]  # type: ignore[attr-defined]
    return str(next(iter(nets.values()))["IPAddress"])


@pytest.mark.parametrize(
    ("fault_type", "during", "spec"),
    [("kill", "exited", {}), ("stop", "exited", {"grace": 1}), ("pause", "paused", {})],
)
def test_state_faults_apply_and_revert(
    stack: Stack, tmp_path: Path, fault_type: str, during: str, spec: dict[str, object]
) -> None:
    r = runner(stack.project, tmp_path)
    step = planned(fault_type, "web", (1,), **spec)
    r.apply(step, planned_wall=0.0)
    assert _status(stack, 1) == during
    assert _status(stack, 2) == "running"  # only the chosen replica
    assert r.active() == [step.key]
    r.revert(step)
    assert _status(stack, 1) == "running"
    assert r.active() == []
    apply_ev, revert_ev = events(tmp_path, "fault.apply"), events(tmp_path, "fault.revert")
    assert apply_ev[0]["ok"] and revert_ev[0]["ok"]
    assert apply_ev[0]["wall_start"] <= apply_ev[0]["wall_end"]
    assert apply_ev[0]["mono_start"] <= apply_ev[0]["mono_end"]
    assert apply_ev[0]["targets"] == [container(stack.project, "web", 1).name]


def test_kill_is_not_undone_by_restart_policy(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    step = planned("kill", "web", (2,))
    r.apply(step, planned_wall=0.0)
    # restart: always does not apply to an engine kill: still down a while later.
    assert not wait_until(lambda: _status(stack, 2) == "running", timeout=3)
    r.revert(step)
    assert _status(stack, 2) == "running"


@pytest.mark.parametrize("fault_type", ["crash", "restart", "rolling-restart"])
def test_instant_faults_restart_the_container(
    stack: Stack, tmp_path: Path, fault_type: str
) -> None:
    before = {n: container(stack.project, "web", n).attrs["State"]["StartedAt"] for n in (1, 2)}
    spec = {"gap": 0.2, "grace": 1} if fault_type == "rolling-restart" else {}
    if fault_type == "restart":
        spec = {"grace": 1}
    r = runner(stack.project, tmp_path)
    step = planned(fault_type, "web", (1, 2), window=None, **spec)
    r.apply(step, planned_wall=0.0)
    for n in (1, 2):
        c = container(stack.project, "web", n)
        assert c.status == "running"
        assert c.attrs["State"]["StartedAt"] != before[n]
    assert r.active() == []  # self-healing: nothing to revert
    assert events(tmp_path, "fault.apply")[0]["self_healing"] is True


def test_crash_is_refused_without_restart_policy(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    with pytest.raises(FaultError, match="no restart policy"):
        r.apply(planned("crash", "lonely", window=None), planned_wall=0.0)
    assert container(stack.project, "lonely", 1).status == "running"


def test_cpu_quota_is_set_and_restored(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    step = planned("cpu", "web", (1,), cpus=0.25)
    r.apply(step, planned_wall=0.0)
    hc = container(stack.project, "web", 1).attrs["HostConfig"]
    assert hc["CpuQuota"] / hc["CpuPeriod"] == pytest.approx(0.25)
    r.revert(step)
    hc = container(stack.project, "web", 1).attrs["HostConfig"]
    assert hc["CpuQuota"] <= 0 and not hc["NanoCpus"]


def test_memory_is_held_and_released(stack: Stack, tmp_path: Path) -> None:
    def usage() -> int:
        stats = container(stack.project, "web", 1).stats(stream=False)
        return int(stats["memory_stats"]["usage"])

    base = usage()
    r = runner(stack.project, tmp_path)
    step = planned("memory", "web", (1,), size="48MiB")
    r.apply(step, planned_wall=0.0)
    assert usage() - base > 40 * 2**20
    r.revert(step)
    assert wait_until(lambda: usage() - base < 20 * 2**20, timeout=10)


def test_disk_fills_and_frees(stack: Stack, tmp_path: Path) -> None:
    def used() -> float:
        c = container(stack.project, "web", 1)
        out = c.exec_run(["sh", "-c", "df -Pk /data | awk 'NR==2 {print $3/$2}'"]).output
        return float(out)

    r = runner(stack.project, tmp_path)
    step = planned("disk", "web", (1,), path="/data", fill=0.6)
    r.apply(step, planned_wall=0.0)
    assert used() >= 0.59
    r.revert(step)
    assert used() < 0.1


def test_scale_removes_and_recreates(stack: Stack, tmp_path: Path) -> None:
    old = container(stack.project, "web", 2)
    r = runner(stack.project, tmp_path)
    step = planned("scale", "web", (2,))
    r.apply(step, planned_wall=0.0)
    with pytest.raises(AssertionError):
        container(stack.project, "web", 2)
    r.revert(step)
    new = container(stack.project, "web", 2)
    assert new.id != old.id and new.name == old.name and new.status == "running"
    assert new.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    # The recreated replica serves on its network again, under the service's DNS name.
    peer = container(stack.project, "peer", 1)
    assert wait_until(lambda: _probe(peer.id, _ip(new)), timeout=10)
    lookup = peer.exec_run(["busybox", "nslookup", "web", "127.0.0.11"]).output.decode()
    assert _ip(new) in lookup


@pytest.mark.parametrize("direction", ["both", "inbound", "outbound"])
def test_partition_drops_traffic_by_direction(stack: Stack, tmp_path: Path, direction: str) -> None:
    web, peer = container(stack.project, "web", 1), container(stack.project, "peer", 1)
    other = container(stack.project, "web", 2)
    assert _probe(peer.id, _ip(web)) and _probe(web.id, _ip(peer))
    r = runner(stack.project, tmp_path)
    step = planned("partition", "web", (1,), peers=["peer"], direction=direction)
    r.apply(step, planned_wall=0.0)
    # One-way cuts block new connections in one direction only.
    assert _probe(web.id, _ip(peer)) == (direction == "inbound")
    assert _probe(peer.id, _ip(web)) == (direction == "outbound")
    assert _probe(other.id, _ip(web))  # web-2 is not a peer: untouched
    assert "HACHAOS-" in netns_rules(web.id)
    r.revert(step)
    assert "HACHAOS-" not in netns_rules(web.id)
    assert _probe(peer.id, _ip(web)) and _probe(web.id, _ip(peer))


def test_isolate_cuts_off_every_other_container(stack: Stack, tmp_path: Path) -> None:
    web = container(stack.project, "web", 1)
    others = [container(stack.project, s, n) for s, n in (("web", 2), ("peer", 1))]
    r = runner(stack.project, tmp_path)
    step = planned("partition", "web", (1,))
    r.apply(step, planned_wall=0.0)
    assert not any(_probe(o.id, _ip(web)) for o in others)
    r.revert(step)
    assert all(_probe(o.id, _ip(web)) for o in others)


def test_loss_and_bandwidth_and_dns_rules(stack: Stack, tmp_path: Path) -> None:
    web = container(stack.project, "web", 1)
    r = runner(stack.project, tmp_path)
    loss = planned("loss", "web", (1,), name="loss", percent=1.0)
    r.apply(loss, planned_wall=0.0)
    assert "statistic --mode random --probability 1" in netns_rules(web.id)
    assert not _probe(container(stack.project, "peer", 1).id, _ip(web))
    r.revert(loss)
    assert "statistic" not in netns_rules(web.id)

    bw = planned("bandwidth", "web", (1,), name="bw", rate="1mbit")
    r.apply(bw, planned_wall=0.0)
    assert "tbf" in helpers.exec_in(bw_helper(stack), "tc qdisc show dev eth0")[1]
    r.revert(bw)

    dns = planned("dns", "web", (1,), name="dns")
    lookup = "busybox nslookup peer 127.0.0.11"
    assert web.exec_run(["sh", "-c", lookup]).exit_code == 0
    r.apply(dns, planned_wall=0.0)
    assert web.exec_run(["sh", "-c", f"timeout 3 {lookup}"]).exit_code != 0
    r.revert(dns)
    assert web.exec_run(["sh", "-c", lookup]).exit_code == 0


def bw_helper(stack: Stack) -> str:
    return next(
        h["id"] for h in helpers.list_helpers(project=stack.project) if h["name"].endswith("-1")
    )


def test_latency_runs_on_any_kernel(stack: Stack, tmp_path: Path) -> None:
    """netem where the kernel has it, the fault proxy elsewhere; never a skip."""
    web, peer = container(stack.project, "web", 1), container(stack.project, "peer", 1)
    netem = helpers.netem_available()
    r = runner(stack.project, tmp_path)
    step = planned("latency", "web", (1,), delay="200ms")
    r.preflight([step])
    r.apply(step, planned_wall=0.0)
    assert _probe(web.id, _ip(peer))  # delayed, still answered
    r.revert(step)
    want = "netem" if netem else "proxy"
    assert events(tmp_path, "fault.preflight")[0]["mechanism"] == want
    assert events(tmp_path, "fault.apply")[0]["mechanism"] == want
    assert events(tmp_path, "fault.revert")[0]["ok"]


def test_netem_required_but_missing_is_refused(stack: Stack, tmp_path: Path) -> None:
    if helpers.netem_available():
        pytest.skip("netem exists here; the missing-netem refusal cannot be provoked")
    r = runner(stack.project, tmp_path)
    step = planned("latency", "web", (1,), delay="100ms", mechanism="netem")
    with pytest.raises(FaultError, match="netem is not available") as err:
        r.preflight([step])
    assert "modprobe sch_netem" in str(err.value)
