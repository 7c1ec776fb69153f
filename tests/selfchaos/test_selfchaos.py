"""The self-chaos driver: its pure parts (unit) and the fast subset of `make test` (e2e).

The subset SIGKILLs `hachaos run` at 8 seeded moments over 4 fault types and
asserts that `hachaos cleanup` leaves the machine as it was. On a machine shared
with other users of the engine, set HACHAOS_SELFCHAOS_SCOPE=own to count only the
driver's own objects (see snapshot.py); the default is the strict whole-machine diff.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.selfchaos import driver, plan, snapshot, table
from tests.selfchaos.stages import Observation, Watcher, classify

# ---------------------------------------------------------------------- stages (unit)


def test_classify_follows_the_run_from_start_to_report() -> None:
    o = Observation()
    assert classify(o) == "start"
    o.up_seen = o.up_alive = True
    assert classify(o) == "deploy"
    o.up_alive = False
    assert classify(o) == "readiness"
    o.events += ["run.start", "phase:warmup"]
    assert classify(o) == "warmup"
    o.events.append("phase:run")
    assert classify(o) == "run"
    o.journal += [("open", 0), ("intent", 1)]
    assert classify(o) == "apply"
    o.journal.append(("applied", 1))
    assert classify(o) == "active"
    o.journal.append(("revert", 1))
    assert classify(o) == "revert"
    o.journal.append(("reverted", 1))
    assert classify(o) == "run"
    o.events.append("phase:cooldown")
    assert classify(o) == "cooldown"
    o.progress.append("teardown")
    assert classify(o) == "teardown"
    o.events.append("run.end")
    assert classify(o) == "report"


def test_classify_instant_fault_heals_itself_and_a_down_child_means_teardown() -> None:
    o = Observation(events=["phase:warmup", "phase:run"])
    o.journal += [("intent", 1), ("applied", 1), ("reverted", 1)]
    assert classify(o) == "run"
    o.down_alive = True
    assert classify(o) == "teardown"


def test_classify_two_faults_one_reverting_one_applying() -> None:
    o = Observation(events=["phase:run"], journal=[("intent", 1), ("applied", 1), ("intent", 2)])
    assert classify(o) == "apply"
    o.journal += [("applied", 2), ("revert", 1)]
    assert classify(o) == "revert"


def test_watcher_reads_the_run_folder_and_progress_lines(tmp_path: Path) -> None:
    run_dir = tmp_path / "out" / "selfchaos-x" / "20261128T000000Z"
    run_dir.mkdir(parents=True)
    (run_dir / "events.jsonl").write_text(
        '{"kind":"run.start"}\n{"kind":"phase","phase":"warmup"}\n{"kind":"phase","phase":"run"}\n'
    )
    # The last line is torn (SIGKILL mid-write): ignored.
    (run_dir / "journal.jsonl").write_text(
        '{"op":"open"}\n{"op":"intent","seq":1}\n{"op":"applied","seq":1}\n{"op":"rev'
    )
    stdout = tmp_path / "out.log"
    stdout.write_text("hachaos run x: project p\n  deploy: docker compose up (p)\n")
    w = Watcher(os.getpid(), tmp_path / "out", stdout)
    o = w.observe()
    assert o.events == ["run.start", "phase:warmup", "phase:run"]
    assert o.journal == [("open", 0), ("intent", 1), ("applied", 1)]
    assert o.progress == ["deploy"]
    assert w.stage() == "active"
    stdout.write_text(stdout.read_text() + "  teardown: reverting faults\n")
    assert w.stage() == "teardown"


# ---------------------------------------------------------------------- diff (unit)


def _snap(
    *objs: snapshot.Obj, netns: dict[str, dict[str, list[str]]] | None = None
) -> snapshot.Snapshot:
    return snapshot.Snapshot(objects={(o.kind, o.key): o for o in objs}, netns=netns or {})


def test_diff_names_new_gone_and_changed_objects() -> None:
    web = snapshot.Obj("container", "c1", "web", (), "running")
    before = _snap(web, snapshot.Obj("volume", "v1", "data"))
    after = _snap(
        snapshot.Obj("container", "c1", "web", (), "paused"),
        snapshot.Obj("network", "n9", "scx00-01_default"),
    )
    d = snapshot.diff(before, after, snapshot.Scope())
    assert d.leftovers == [
        "container web: running -> paused",
        "new network scx00-01_default",
        "gone volume data",
    ]
    assert d.ignored == []


def test_scope_own_counts_only_prefixed_or_labelled_objects() -> None:
    mine = snapshot.Obj("network", "n1", "scxab-03_default")
    labelled = snapshot.Obj(
        "container", "h1", "hachaos-20261128T0000Z-scxa-t-1", (("io.hachaos.project", "scxab-03"),)
    )
    theirs = snapshot.Obj("container", "x1", "other-app-1", (("com.docker.compose.project", "o"),))
    d = snapshot.diff(_snap(), _snap(mine, labelled, theirs), snapshot.Scope(True, "scxab"))
    assert d.leftovers == [
        "new container hachaos-20261128T0000Z-scxa-t-1",
        "new network scxab-03_default",
    ]
    assert d.ignored == ["new container other-app-1"]


def test_with_swarm_points_the_swarm_and_its_networks_count_whatever_their_names() -> None:
    """docker_gwbridge outlived the swarm hachaos left (issue 22): with the swarm lock held,
    the driver counts it, the swarm state and ingress; without, they are someone else's."""
    before = _snap(snapshot.Obj("swarm", "swarm", "swarm", (), "inactive node="))
    after = _snap(
        snapshot.Obj("swarm", "swarm", "swarm", (), "active node=n1"),
        snapshot.Obj("network", "g1", "docker_gwbridge"),
        snapshot.Obj("network", "i1", "ingress"),
        snapshot.Obj("network", "o1", "other_default"),
    )
    lines = [
        "new network docker_gwbridge",
        "new network ingress",
        "swarm swarm: inactive node= -> active node=n1",
    ]
    held = snapshot.diff(before, after, snapshot.Scope(True, "scx", swarm=True))
    assert held.leftovers == lines and held.ignored == ["new network other_default"]
    free = snapshot.diff(before, after, snapshot.Scope(True, "scx"))
    assert free.leftovers == [] and free.ignored == [
        *lines[:2],
        "new network other_default",
        lines[2],
    ]


def test_the_swarm_points_run_alone_and_kill_at_deploy_task_kill_and_teardown() -> None:
    points = plan.swarm_plan(17)
    assert [p.stage for p in points] == ["deploy", "readiness", "active", "revert", "teardown"]
    assert {(p.scenario, p.stack, p.fault) for p in points} == {("swarm-kill", "web-swarm", "kill")}
    assert plan.needs_swarm(points) and not plan.needs_swarm(plan.subset_plan(17))


def test_netns_changes_of_remaining_containers_are_named() -> None:
    c = snapshot.Obj("container", "c1", "theirs", (), "running")
    before = _snap(c, netns={"c1": {"iptables filter": ["-P INPUT ACCEPT"], "tc": []}})
    after = _snap(
        c,
        netns={
            "c1": {
                "iptables filter": ["-P INPUT ACCEPT", "-N HACHAOS-ab12"],
                "tc": ["qdisc tbf 8001: dev eth0 root"],
            }
        },
    )
    strict = snapshot.diff(before, after, snapshot.Scope())
    assert strict.leftovers == [
        "netns of theirs: iptables filter + -N HACHAOS-ab12",
        "netns of theirs: tc + qdisc tbf 8001: dev eth0 root",
    ]
    own = snapshot.diff(before, after, snapshot.Scope(True, "scx", frozenset({"ab12"})))
    assert own.leftovers == ["netns of theirs: iptables filter + -N HACHAOS-ab12"]
    assert own.ignored == ["netns of theirs: tc + qdisc tbf 8001: dev eth0 root"]


def test_engine_dns_rules_lose_only_their_random_port() -> None:
    dnat = (
        "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53"
        " -j DNAT --to-destination 127.0.0.11:47452"
    )
    snat = (
        "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport 47452 -j SNAT --to-source :53"
    )
    assert snapshot.engine_dns_stable(dnat) == dnat.replace(":47452", ":PORT")
    assert snapshot.engine_dns_stable(snat) == snat.replace("47452", "PORT")
    drop = "-A HACHAOS-ab -d 127.0.0.11/32 -j DROP"
    assert snapshot.engine_dns_stable(drop) == drop


def test_unclean_ignores_what_a_fresh_container_has() -> None:
    fresh = {
        "iptables filter": ["-P INPUT ACCEPT"],
        "iptables nat": ["-N DOCKER_OUTPUT", "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT"],
        "tc": ["qdisc noqueue 0: dev lo root refcnt 2"],
    }
    assert snapshot.unclean(fresh) == []
    fresh["iptables filter"].append("-A INPUT -j HACHAOS-x")
    assert snapshot.unclean(fresh) == ["iptables filter -A INPUT -j HACHAOS-x"]


@pytest.mark.docker
def test_snapshot_sees_rules_qdiscs_and_pause_in_a_real_netns() -> None:
    """The detector itself: changes made from the host in a container's netns show up."""
    name = f"scx{secrets.token_hex(3)}-probe"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "debian:bookworm-slim", "sleep", "120"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        before = snapshot.take()
        pid = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Pid}}", name],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        ns = f"--net=/proc/{pid}/ns/net"
        for cmd in (
            ["iptables", "-w", "-N", "HACHAOS-probe"],
            ["iptables", "-w", "-I", "OUTPUT", "1", "-j", "HACHAOS-probe"],
            ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "1mbit",
             "burst", "32kbit", "latency", "400ms"],
        ):  # fmt: skip
            subprocess.run(["nsenter", ns, *cmd], check=True, capture_output=True, timeout=30)
        subprocess.run(["docker", "pause", name], check=True, capture_output=True, timeout=30)
        after = snapshot.take()
        d = snapshot.diff(before, after, snapshot.Scope(True, name[:9], frozenset({"probe"})))
        assert f"container {name}: running -> paused" in d.leftovers
        assert f"netns of {name}: iptables filter + -N HACHAOS-probe" in d.leftovers
        assert f"netns of {name}: iptables filter + -A OUTPUT -j HACHAOS-probe" in d.leftovers
        assert any(x.startswith(f"netns of {name}: tc + qdisc tbf") for x in d.leftovers)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False)


# ---------------------------------------------------------------------- plan and table (unit)


def test_full_plan_meets_the_budget_and_covers_every_stage_and_fault() -> None:
    points = plan.full_plan(17)
    assert len(points) >= 60
    assert {p.stage for p in points} == {*plan.FAULT_STAGES, *plan.COMMON_STAGES}
    assert {p.fault for p in points} == {
        "kill", "stop", "pause", "crash", "restart", "rolling-restart", "partition",
        "loss", "bandwidth", "dns", "cpu", "memory", "disk", "scale",
        "latency", "http-error", "blackhole",  # served by the fault proxy
    }  # fmt: skip
    assert {p.stack for p in points} == {"web-ha", "web-single", "web-swarm"}
    assert plan.full_plan(17) == points  # seeded
    assert plan.full_plan(18) != points


def test_subset_is_eight_points_over_four_fault_types() -> None:
    points = plan.subset_plan(17)
    assert len(points) == 8
    assert len({p.fault for p in points}) == 4
    for p in points:
        lo, hi = plan.OFFSETS[p.stage]
        assert lo <= p.offset <= hi


def test_table_cells_count_leftovers_and_cleanup_times() -> None:
    results = [
        {"fault": "kill", "stage": "active", "observed_stage": "active", "cleanup_seconds": 2.0},
        {"fault": "kill", "stage": "active", "observed_stage": "active", "cleanup_seconds": 4.0},
        {
            "fault": "kill",
            "stage": "revert",
            "observed_stage": "revert",
            "cleanup_seconds": 1.0,
            "leftovers": ["new network x"],
        },
    ]
    md = table.markdown(results, "hdr")
    assert "| active | 2x nothing 3.0/4.0s |" in md
    assert "| revert | 1x **1n** 1.0/1.0s |" in md
    assert "3 kill points, 1 with leftovers (1 objects)" in md


def test_leftovers_are_counted_by_kind() -> None:
    items = [
        "new container p-app-1 (running)",
        "container p-app-2: running -> paused",
        "gone volume data",
        "image sha256:3585d7cebb6a: hachaos/redis:dev -> ",
        "netns of p-app-1: iptables filter + -N HACHAOS-ab",
        "cleanup exit 3: error: list helpers: No such container: 9a3c",
        "process 12 still alive: python -m locust",
        "journal x.jsonl: still pending kill-1#0 (kill)",
    ]
    assert [table.kind_of(i) for i in items] == [
        "container", "container", "volume", "image", "netns", "cleanup", "process", "journal",
    ]  # fmt: skip
    assert table.summary(items) == (
        "2 container, 1 volume, 1 image, 1 netns, 1 process, 1 journal, 1 cleanup"
    )
    assert table.summary(items, short=True) == "2c 1v 1i 1 netns 1 process 1 journal 1 cleanup"


# ---------------------------------------------------------------------- the subset (e2e)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[driver.Session]:
    own = os.environ.get("HACHAOS_SELFCHAOS_SCOPE", "strict") == "own"
    yield driver.Session(
        work=tmp_path_factory.mktemp("selfchaos"), prefix=f"scx{secrets.token_hex(3)}", own_only=own
    )


SUBSET = plan.subset_plan(17)
# Two kill points at a time (one pair of snapshots): 4 batches, ~1 min each here.
BATCHES = [list(enumerate(SUBSET))[i : i + 2] for i in range(0, len(SUBSET), 2)]


@pytest.mark.e2e
@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(
    "batch", BATCHES, ids=["+".join(f"{p.scenario}-{p.stage}" for _, p in b) for b in BATCHES]
)
def test_kill_points_leave_nothing(
    session: driver.Session, batch: list[tuple[int, plan.KillPoint]]
) -> None:
    records = driver.run_batch(session, batch)
    for record in records:
        why = table.line(record) + "\n" + record.get("run_log_tail", "")
        assert record["leftovers"] == [], why
        assert record["cleanup_again"]["rc"] == 0, why
        assert not record["missed"], f"the run ended before the kill: {why}"
