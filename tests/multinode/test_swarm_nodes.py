"""Two extra engines as a two-node Swarm on this machine (scripts/swarm-node, docs/multinode.md).

Node 1 is the manager of a swarm of its own (never the shared main engine's swarm, whose
scheduler would otherwise place other runs' tasks on a node without their images), node 2
a worker, each in its own network namespace. The tests run in file order on one cluster:
overlay traffic across nodes over VXLAN, a task killed through the engine of the node that
hosts it, node loss and a node partition with the tasks rescheduled on the surviving node.
Every wait is bounded; measured times go to stdout (`pytest -s`) for docs/multinode.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.multinode.nodes import ok, run, sock

pytestmark = pytest.mark.multinode

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "swarm-node"
MANAGER, WORKER = 241, 242  # 10.231.241.0/24 and 10.231.242.0/24: clear of the usual N
IMAGE = "debian:bookworm-slim"
SERVICE = "mn-echo"
REPLICAS = 4
# A task answers a TCP connection on 7000 with its container hostname (perl-base is in
# debian:bookworm-slim; nothing else is installed).
ECHO = (
    "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 7000, Listen => 8, "
    "ReuseAddr => 1) or die $!; while (my $c = $s->accept) { print $c qq($ENV{HOSTNAME}\\n); "
    "close $c }"
)
PROBE = (
    "use IO::Socket::INET; for my $ip (@ARGV) { my $c = IO::Socket::INET->new(PeerAddr => $ip, "
    'PeerPort => 7000, Timeout => 3); print "$ip ", ($c ? scalar(<$c>) : "FAIL\\n") }'
)

TIMINGS: dict[str, float] = {}


def script(verb: str, n: int, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    return run([str(SCRIPT), verb, str(n)], timeout=timeout, **env)


def on(n: int, *args: str, timeout: float = 30) -> str:
    """`docker` against node n's engine."""
    return ok(run(["docker", "-H", sock(n), *args], timeout=timeout))


def wait_for(what: str, cond: Callable[[], bool], limit: float) -> float:
    """Seconds until cond() holds; fails after `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if cond():
            return time.monotonic() - t0
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {limit:.0f} s")


def running_tasks() -> list[tuple[str, str]]:
    """(task id, node hostname) of the service's tasks that are running now."""
    out = on(
        MANAGER,
        "service",
        "ps",
        SERVICE,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}} {{.Node}} {{.CurrentState}}",
    )
    rows = [line.split() for line in out.splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) >= 3 and r[2] == "Running"]


def node_state(n: int) -> str:
    return on(MANAGER, "node", "inspect", "--format", "{{.Status.State}}", f"hachaos-node-{n}")


def spread() -> bool:
    tasks = running_tasks()
    nodes = {node for _, node in tasks}
    return len(tasks) == REPLICAS and nodes == {f"hachaos-node-{MANAGER}", f"hachaos-node-{WORKER}"}


def all_on_manager() -> bool:
    tasks = running_tasks()
    return len(tasks) == REPLICAS and {n for _, n in tasks} == {f"hachaos-node-{MANAGER}"}


def _missing() -> str | None:
    """Why this machine cannot run the tests, in the words of the failing check."""
    if os.geteuid() != 0:
        return "needs root (a network namespace, a veth pair and a second dockerd)"
    for tool in ("ip", "iptables", "nsenter", "unshare", "setsid", "docker", "perl"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed"
    if not Path("/usr/sbin/dockerd").is_file():
        return "/usr/sbin/dockerd is not installed (apt-get install docker.io)"
    if run(["docker", "image", "inspect", IMAGE]).returncode != 0:
        return f"{IMAGE} is not on the main engine (scripts/ensure-docker makes it)"
    # In a throwaway network namespace (unshare -n), so the host's links are never touched.
    vxlan = ["ip", "link", "add", "vxprobe", "type", "vxlan", "id", "42", "dstport", "4789"]
    probe = run(["unshare", "--net", *vxlan])
    if probe.returncode != 0:
        return f"the kernel cannot create a VXLAN device: {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    reason = _missing()
    if reason:
        pytest.skip(f"multi-node swarm: {reason}")
    for n in (WORKER, MANAGER):  # what an interrupted earlier run may have left
        script("down", n)
    try:
        t0 = time.monotonic()
        ok(script("up", MANAGER, ROLE="manager", IMAGES=IMAGE))
        TIMINGS["manager node up (engine start, image load, swarm init)"] = time.monotonic() - t0
        t0 = time.monotonic()
        ok(script("up", WORKER, MANAGER=f"node:{MANAGER}", IMAGES=IMAGE))
        TIMINGS["worker node up and joined (engine start, image load, join, ready)"] = (
            time.monotonic() - t0
        )
        yield
    finally:
        t0 = time.monotonic()
        for n in (WORKER, MANAGER):
            script("down", n)
        TIMINGS["both nodes down"] = time.monotonic() - t0
        print("\nmulti-node timings (s):")
        for k, v in TIMINGS.items():
            print(f"  {k}: {v:.1f}")


def test_refuses_a_manager_it_did_not_start() -> None:
    """MANAGER=node:M needs a node started here as a manager; nothing is created otherwise."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    proc = script("up", 244, MANAGER="node:243")
    assert proc.returncode == 2, proc.stderr
    assert "node 243 was not started here with ROLE=manager" in proc.stderr
    assert not Path("/run/hachaos-node-244").exists()
    assert "hachaos-node-244" not in ok(run(["ip", "netns", "list"]))


def test_refuses_a_loopback_manager() -> None:
    """The shared engine's swarm advertises 127.0.0.1 here: joining it must be refused."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    info = run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}"])
    state, _, addr = info.stdout.strip().partition(" ")
    if state != "active" or not addr.startswith("127."):
        # Never join the shared engine's swarm from a test: only its refusal is safe to run.
        pytest.skip(f"the main engine's swarm is '{state}' at '{addr}', not a loopback manager")
    proc = script("up", 244)  # MANAGER=main, the default
    assert proc.returncode == 3, proc.stderr
    assert f"advertises {addr}, which a node in another network namespace cannot reach" in (
        proc.stderr
    )
    assert not Path("/run/hachaos-node-244").exists()


def test_two_nodes_ready_with_engine_labels(cluster: None) -> None:
    out = on(MANAGER, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}")
    rows = sorted(line.rstrip() for line in out.splitlines())
    assert rows == [f"hachaos-node-{MANAGER} Ready Leader", f"hachaos-node-{WORKER} Ready"]
    pid = Path(f"/run/hachaos-node-{WORKER}/docker.pid").read_text().strip()
    label = on(
        MANAGER,
        "node",
        "inspect",
        "--format",
        '{{index .Spec.Labels "io.hachaos.engine-pid"}}',
        f"hachaos-node-{WORKER}",
    )
    assert label.strip() == pid
    status = ok(script("status", WORKER))
    assert "engine=up" in status
    assert "swarm=active/worker" in status


def test_overlay_traffic_crosses_nodes_over_vxlan(cluster: None) -> None:
    on(MANAGER, "network", "create", "-d", "overlay", "--attachable", "mn-net")
    on(
        MANAGER,
        "service",
        "create",
        "-d",
        "--no-resolve-image",
        "--name",
        SERVICE,
        "--replicas",
        str(REPLICAS),
        "--network",
        "mn-net",
        "--endpoint-mode",
        "dnsrr",
        "--stop-grace-period",
        "1s",
        IMAGE,
        "perl",
        "-e",
        ECHO,
    )
    TIMINGS["service 4/4 running on both nodes"] = wait_for("tasks on both nodes", spread, 60)
    here = on(MANAGER, "ps", "-q", "--filter", f"name={SERVICE}").split()[0]
    there = set(on(WORKER, "ps", "-q", "--filter", f"name={SERVICE}").split())
    assert there, "no task on the worker node"

    def answers() -> dict[str, str]:
        ips = on(MANAGER, "exec", here, "getent", "ahostsv4", f"tasks.{SERVICE}").split()
        addrs = sorted({ip for ip in ips if ip.count(".") == 3})
        out = on(MANAGER, "exec", here, "perl", "-e", PROBE, *addrs, timeout=60)
        return dict(line.split(" ", 1) for line in out.splitlines())

    seen: dict[str, str] = {}

    def all_answer() -> bool:
        seen.clear()
        seen.update(answers())
        return len(seen) == REPLICAS and "FAIL" not in seen.values()

    wait_for("every task answering over the overlay", all_answer, 30)
    # The worker's containers answered a task on the manager node: VXLAN between the netns.
    assert {h[:12] for h in there} <= set(seen.values()), seen


def test_task_kill_through_the_hosting_nodes_engine(cluster: None) -> None:
    victim = on(WORKER, "ps", "-q", "--filter", f"name={SERVICE}").split()[0]
    old_tasks = {t for t, _ in running_tasks()}
    t0 = time.monotonic()
    on(WORKER, "kill", victim)

    def replaced() -> bool:
        now = running_tasks()
        return len(now) == REPLICAS and len({t for t, _ in now} - old_tasks) == 1

    wait_for("a replacement task", replaced, 60)
    TIMINGS["task killed on node 2 -> replacement running (4/4)"] = time.monotonic() - t0
    state = on(WORKER, "inspect", "--format", "{{.State.Status}}", victim).strip()
    assert state == "exited"  # the old container is not restarted: a new task replaced it


def test_node_loss_reschedules_on_the_surviving_node(cluster: None) -> None:
    assert any(n == f"hachaos-node-{WORKER}" for _, n in running_tasks())
    t0 = time.monotonic()
    ok(script("kill", WORKER))
    TIMINGS["node loss -> node Down"] = wait_for(
        "node down", lambda: node_state(WORKER).strip() == "down", 90
    )
    wait_for("all tasks on the surviving node", all_on_manager, 60)
    TIMINGS["node loss -> 4/4 running on node 1"] = time.monotonic() - t0
    t0 = time.monotonic()
    ok(script("up", WORKER))  # revive: same data root, the node rejoins by itself
    TIMINGS["revived node -> Ready"] = time.monotonic() - t0
    assert node_state(WORKER).strip() == "ready"


def test_node_partition_reschedules_and_heals(cluster: None) -> None:
    # Swarm does not move tasks back on its own: a forced update spreads them again.
    on(MANAGER, "service", "update", "-d", "--force", SERVICE)
    wait_for("tasks on both nodes again", spread, 90)
    t0 = time.monotonic()
    ok(script("partition", WORKER))
    assert "partitioned=yes" in ok(script("status", WORKER))
    TIMINGS["partition -> node Down"] = wait_for(
        "node down", lambda: node_state(WORKER).strip() == "down", 90
    )
    wait_for("all tasks on the manager side", all_on_manager, 60)
    TIMINGS["partition -> 4/4 running on node 1"] = time.monotonic() - t0
    t0 = time.monotonic()
    ok(script("heal", WORKER))
    TIMINGS["heal -> node Ready"] = wait_for(
        "node ready", lambda: node_state(WORKER).strip() == "ready", 60
    )
    assert "partitioned=no" in ok(script("status", WORKER))
    rules = ok(run(["ip", "netns", "exec", f"hachaos-node-{WORKER}", "iptables", "-S"]))
    assert f"hcn{WORKER}-n" not in rules


def test_node_drain_moves_tasks_and_activate_returns_the_node(cluster: None) -> None:
    on(MANAGER, "service", "update", "-d", "--force", SERVICE)
    wait_for("tasks on both nodes again", spread, 90)
    t0 = time.monotonic()
    on(MANAGER, "node", "update", "--availability", "drain", f"hachaos-node-{WORKER}")
    wait_for("all tasks off the drained node", all_on_manager, 60)
    TIMINGS["drain -> 4/4 running on node 1"] = time.monotonic() - t0
    assert on(WORKER, "ps", "-q", "--filter", f"name={SERVICE}").split() == []
    on(MANAGER, "node", "update", "--availability", "active", f"hachaos-node-{WORKER}")
    avail = on(
        MANAGER, "node", "inspect", "--format", "{{.Spec.Availability}}", f"hachaos-node-{WORKER}"
    )
    assert avail.strip() == "active"
