"""The Swarm adapter's pure parts: swarm lifecycle (with a fake engine), IPVS preflight,
stack names, engine timestamps, the task observer and the swarm-only refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.engine.compose.config import read_compose_config
from harness.engine.swarm import lifecycle, names, nodes, preflight
from harness.engine.swarm.events import TaskObserver
from harness.engine.swarm.tasks import TaskInfo
from harness.errors import EngineError, FaultError, ScenarioError
from harness.faults import registry
from harness.faults.base import FaultContext


class FakeSwarm:
    """SwarmOps over a dict: what `docker info`, `swarm init/leave` and node labels would do."""

    def __init__(
        self,
        state: str = "inactive",
        labels: dict[str, str] | None = None,
        networks: dict[str, int] | None = None,
    ) -> None:
        self.st = state
        self.labels = dict(labels or {})
        self.services = 0
        self.calls: list[str] = []
        self.networks = dict(networks or {})  # name -> containers attached
        self.dependents: list[str] = []  # running containers on user-defined networks

    def dns_dependents(self) -> list[str]:
        return list(self.dependents)

    def network_exists(self, name: str) -> bool:
        return name in self.networks

    def remove_network_if_unused(self, name: str) -> bool:
        if name not in self.networks or self.networks[name]:
            return False
        self.calls.append(f"remove network {name}")
        del self.networks[name]
        return True

    def state(self) -> str:
        return self.st

    def init(self) -> None:
        self.calls.append("init")
        self.st = "active"
        self.networks.setdefault("docker_gwbridge", 0)  # as `docker swarm init` makes it

    def node_labels(self) -> dict[str, str]:
        return dict(self.labels)

    def set_node_label(self, key: str, value: str) -> None:
        self.calls.append(f"label {key}={value}")
        self.labels[key] = value

    def service_count(self) -> int:
        return self.services

    def leave(self) -> None:
        self.calls.append("leave")
        self.st = "inactive"
        self.labels.clear()


def test_a_swarm_is_created_and_marked_when_there_is_none() -> None:
    ops = FakeSwarm()
    assert lifecycle.ensure_swarm(ops, "run-1") is True
    assert ops.calls == [
        "init",
        "label io.hachaos.swarm-created-by=run-1",
        "label io.hachaos.swarm-gwbridge=made",  # docker_gwbridge was not there before
    ]


def test_leaving_removes_the_gwbridge_the_swarm_made_and_nothing_uses() -> None:
    ops = FakeSwarm()
    lifecycle.ensure_swarm(ops, "run-1")
    notice = lifecycle.leave_if_ours(ops, "run-1")
    assert ops.calls[-2:] == ["leave", "remove network docker_gwbridge"]
    assert notice == (
        "left the swarm this run created (`docker swarm leave --force`) and removed the "
        "docker_gwbridge network it made"
    )
    assert ops.networks == {}  # the engine as it was found


def test_a_gwbridge_that_was_there_before_or_is_in_use_stays() -> None:
    found = FakeSwarm(networks={"docker_gwbridge": 0})  # left by an earlier swarm
    lifecycle.ensure_swarm(found, "run-1")
    assert found.labels["io.hachaos.swarm-gwbridge"] == "found"
    lifecycle.leave_if_ours(found, "run-1")
    assert found.calls[-1] == "leave" and "docker_gwbridge" in found.networks
    used = FakeSwarm()
    lifecycle.ensure_swarm(used, "run-1")
    used.networks["docker_gwbridge"] = 1  # a container still attached
    notice = lifecycle.leave_if_ours(used, "run-1")
    assert notice is not None and notice.endswith("kept docker_gwbridge: a container still uses it")
    assert "docker_gwbridge" in used.networks


def test_an_existing_swarm_is_used_as_it_is_and_never_left() -> None:
    ops = FakeSwarm("active")
    assert lifecycle.ensure_swarm(ops, "run-1") is False
    assert lifecycle.leave_if_ours(ops, "run-1") is None
    assert ops.calls == []


def test_a_swarm_in_a_strange_state_is_refused() -> None:
    with pytest.raises(Exception, match="'locked'"):
        lifecycle.ensure_swarm(FakeSwarm("locked"), "run-1")


def test_the_creating_run_leaves_its_swarm_when_no_service_is_left() -> None:
    ops = FakeSwarm()
    lifecycle.ensure_swarm(ops, "run-1")
    notice = lifecycle.leave_if_ours(ops, "run-1")
    assert notice is not None and "left the swarm" in notice
    assert "leave" in ops.calls and ops.st == "inactive"


def test_another_run_or_remaining_services_keep_the_swarm() -> None:
    ops = FakeSwarm()
    lifecycle.ensure_swarm(ops, "run-1")
    assert lifecycle.leave_if_ours(ops, "run-2") is None  # run-2 did not create it
    ops.services = 2  # another stack still runs on it
    notice = lifecycle.leave_if_ours(ops, "run-1")
    assert notice == "left the swarm this run created active: 2 service(s) still run on it"
    assert "leave" not in ops.calls


def test_no_swarm_is_created_while_containers_depend_on_the_embedded_dns() -> None:
    """moby/moby#45144: init then leave cuts them off their DNS; refused, nothing touched."""
    ops = FakeSwarm()
    ops.dependents = ["shop-db-1", "shop-web-1"]
    with pytest.raises(EngineError) as err:
        lifecycle.ensure_swarm(ops, "run-1")
    assert err.value.message == (
        "this engine is in no swarm, and a swarm hachaos creates and then leaves would cut "
        "2 running container(s) on user-defined networks (shop-db-1, shop-web-1) off their "
        "name resolution (127.0.0.11) until each is restarted (moby/moby#45144)"
    )
    assert err.value.hint is not None
    assert "docker swarm init --advertise-addr 127.0.0.1" in err.value.hint
    assert ops.calls == [] and ops.st == "inactive"


def test_the_refusal_names_five_containers_and_counts_the_rest() -> None:
    ops = FakeSwarm()
    ops.dependents = [f"c{i}" for i in range(1, 8)]
    with pytest.raises(
        EngineError,
        match=r"cut 7 running container\(s\) on user-defined "
        r"networks \(c1, c2, c3, c4, c5 and 2 more\)",
    ):
        lifecycle.ensure_swarm(ops, "run-1")


def test_a_swarm_found_is_used_whatever_else_runs() -> None:
    """hachaos never leaves a swarm it did not create: nothing of the hazard is its doing."""
    ops = FakeSwarm("active")
    ops.dependents = ["shop-web-1"]
    assert lifecycle.ensure_swarm(ops, "run-1") is False


def test_the_swarm_is_kept_when_containers_started_on_user_networks_during_the_run() -> None:
    ops = FakeSwarm()
    lifecycle.ensure_swarm(ops, "run-1")
    ops.dependents = ["late-1"]
    notice = lifecycle.leave_if_ours(ops, "run-1")
    assert notice == (
        "left the swarm this run created active: leaving it would cut 1 running container(s) "
        "on user-defined networks (late-1) off their name resolution (moby/moby#45144); leave "
        "it with `docker swarm leave --force` once they are stopped"
    )
    assert "leave" not in ops.calls and ops.st == "active"
    ops.dependents = []  # once they stopped, the next call leaves it
    assert lifecycle.leave_if_ours(ops, "run-1") is not None and ops.st == "inactive"


def test_ingress_ports_and_vip_services_reached_by_name_are_refused() -> None:
    raw: dict[str, Any] = {
        "services": {
            "lb": {
                "deploy": {"endpoint_mode": "dnsrr"},
                "ports": [{"target": 80, "published": 8080, "mode": "host"}, "8081:81"],
                "environment": {"BACKEND": "app:8000"},
            },
            "app": {"deploy": {"replicas": 3}},
            "db": {"deploy": {"endpoint_mode": "dnsrr"}},
        }
    }
    assert preflight.hazards(raw) == (
        [
            "service 'app' uses endpoint_mode vip (the default) and service 'lb' reaches it by "
            "name (environment BACKEND)",
            "service 'lb' publishes '8081:81' in ingress mode",
        ],
        [],
    )


def test_preflight_explains_the_dnsrr_pattern_only_without_ipvs(tmp_path: Path) -> None:
    raw = {"services": {"app": {"image": "x"}, "web": {"image": "y", "command": ["-b", "app"]}}}
    stack = tmp_path / "compose.yaml"
    missing = tmp_path / "no-ip_vs"
    with pytest.raises(ScenarioError) as exc:
        preflight.preflight(raw, stack, proc=missing)
    assert "endpoint_mode vip" in exc.value.message
    assert (
        exc.value.hint is not None and "dnsrr" in exc.value.hint and "mode: host" in exc.value.hint
    )
    present = tmp_path / "ip_vs"
    present.write_text("")
    preflight.preflight(raw, stack, proc=present)  # with IPVS the routing mesh works


def test_the_reference_stack_needs_no_ipvs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    file = root / "compose/web-swarm/compose.yaml"
    raw = read_compose_config(file).raw  # `docker compose config`: offline
    assert preflight.preflight(raw, file, proc=tmp_path / "none") == []


@pytest.mark.parametrize("name", ["a", "hachaos-swarm-kill-task-1a2b3c", "x_y-0"])
def test_valid_stack_names(name: str) -> None:
    assert names.check_stack_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "A", "a b", "a;rm -rf /", "x" * 49, "a.b"])
def test_invalid_stack_names_never_reach_the_cli(name: str) -> None:
    with pytest.raises(ScenarioError):
        names.check_stack_name(name)


def test_engine_timestamps() -> None:
    # 2026-01-01T00:00:00Z is 1767225600 s after the epoch
    assert names.parse_ts("2026-01-01T00:00:01.250000999Z") == pytest.approx(1767225601.25)
    assert names.parse_ts("2026-01-01T02:00:00+02:00") == pytest.approx(1767225600.0)
    assert names.parse_ts("0001-01-01T00:00:00Z") == 0.0
    assert names.parse_ts("") == 0.0
    with pytest.raises(ValueError):
        names.parse_ts("yesterday")


def _task(tid: str, slot: int, since: float, state: str = "running") -> TaskInfo:
    return TaskInfo(tid, "app", slot, state, "running", "c" + tid * 12, since)


def test_the_observer_emits_counts_and_replacements_with_swarms_own_times() -> None:
    polls = iter(
        [
            ({"app": 2}, {"app": [_task("a", 1, 10.0), _task("b", 2, 11.0)]}),
            ({"app": 2}, {"app": [_task("a", 1, 10.0), _task("b", 2, 11.0, "failed")]}),
            ({"app": 2}, {"app": [_task("a", 1, 10.0), _task("c", 2, 14.5)]}),
            ({"app": 2}, {"app": [_task("a", 1, 10.0), _task("c", 2, 14.5)]}),
        ]
    )
    out: list[tuple[str, dict[str, Any]]] = []
    obs = TaskObserver("st", lambda kind, **f: out.append((kind, f)), poll=lambda: next(polls))
    obs.step(first=True)  # the deployed tasks are not replacements
    obs.step()
    obs.step()
    obs.step()  # nothing changed: nothing emitted
    kinds = [(k, f.get("running"), f.get("since"), f.get("task")) for k, f in out]
    assert kinds == [
        ("swarm.replicas", 2, 11.0, None),
        ("swarm.replicas", 1, 10.0, None),
        ("swarm.task", None, None, "c"),
        ("swarm.replicas", 2, 14.5, None),
    ]
    assert out[2][1]["slot"] == 2 and out[2][1]["running_wall"] == 14.5


def test_swarm_only_faults_are_refused_on_compose_and_node_faults_on_one_node() -> None:
    update = registry.get("service-update")
    with pytest.raises(FaultError, match="runs on compose"):
        update.preflight(None, FaultContext(project="p", run_id="r"))  # type: ignore[arg-type]
    update.preflight(None, FaultContext(project="p", run_id="r", engine="swarm"))  # type: ignore[arg-type]
    with pytest.raises(FaultError, match="has 1 node"):
        nodes.require_nodes("node-drain", count=lambda: 1)
    nodes.require_nodes("node-drain", count=lambda: 2)


def test_the_journal_remembers_a_swarm_stack_for_cleanup(tmp_path: Path) -> None:
    from harness.evidence.journal import Journal, read_journal

    path = tmp_path / "j.jsonl"
    j = Journal("run-1", "st", [path])
    j.stack(
        engine="swarm", compose="/x/compose.yaml", swarm_created=False, created=True, keep=False
    )
    j.stack(engine="swarm", compose="/x/compose.yaml", swarm_created=True)  # after the deploy
    st = read_journal(path).stack
    assert st is not None
    swarm_created = st.details["swarm_created"]
    assert (st.engine, st.created, swarm_created, st.removed) == ("swarm", True, True, False)
    j.stack(removed=True)
    st = read_journal(path).stack
    assert st is not None and st.removed and st.engine == "swarm"


def test_a_compose_journal_without_engine_field_stays_compose(tmp_path: Path) -> None:
    from harness.evidence.journal import Journal, read_journal

    path = tmp_path / "j.jsonl"
    Journal("run-1", "p", [path]).stack(compose="/x/c.yaml", created=True, keep=False)
    st = read_journal(path).stack
    assert st is not None and st.engine == "compose" and "swarm_created" not in st.details


def test_the_advertise_address_is_loopback_unless_set_and_always_an_ip() -> None:
    assert lifecycle.advertise_address({}) == "127.0.0.1"
    assert lifecycle.advertise_address({"HACHAOS_SWARM_ADVERTISE": "10.231.2.1"}) == "10.231.2.1"
    with pytest.raises(ScenarioError):
        lifecycle.advertise_address({"HACHAOS_SWARM_ADVERTISE": "10.0.0.1; rm -rf /"})
