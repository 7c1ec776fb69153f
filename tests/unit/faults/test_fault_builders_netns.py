"""netns: the iptables snippets run with sh against a stub iptables, the helper's life
against fake engine calls, and the peer addresses from a fake project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from stub_path import StubPath

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.dns import Dns, DnsFault
from harness.faults.netns import NetnsFault, helper_script, iptables_scripts, peer_addresses
from harness.scenario.plan import PlannedFault


# ------------------------------------------------------------------ iptables_scripts
class Iptables(StubPath):
    """A stub iptables that logs its calls and keeps chains and jumps in files."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.state = folder / "rules"
        self.state.write_text("")
        self.stub(
            "iptables",
            f'echo "$*" >> {self.log}\n'
            f"st={self.state}\n"
            '[ "$1" = "-w" ] || exit 9\n'
            "shift\n"
            'case "$1" in\n'
            '  -N) grep -qx "chain $2" $st && exit 1; echo "chain $2" >> $st;;\n'
            '  -A) grep -qx "chain $2" $st || exit 1; c=$2; shift 2; echo "rule $c $*" >> $st;;\n'
            '  -I) echo "jump $2 $5" >> $st;;\n'
            '  -C) grep -qx "jump $2 $4" $st;;\n'
            '  -S) grep -qx "chain $2" $st;;\n'
            '  -D) grep -qx "jump $2 $4" $st || exit 1;'
            ' grep -vx "jump $2 $4" $st > $st.new; mv $st.new $st;;\n'
            '  -F) grep -v "^rule $2 " $st > $st.new; mv $st.new $st;;\n'
            '  -X) grep -qx "chain $2" $st || exit 1;'
            ' grep -vx "chain $2" $st > $st.new; mv $st.new $st;;\n'
            "esac",
        )

    def rules(self) -> list[str]:
        return self.state.read_text().splitlines()


@pytest.mark.parametrize(
    ("direction", "hooks"),
    [("both", ["INPUT", "OUTPUT"]), ("inbound", ["INPUT"]), ("outbound", ["OUTPUT"])],
)
def test_iptables_scripts_apply_check_and_revert(
    tmp_path: Path, direction: str, hooks: list[str]
) -> None:
    ipt = Iptables(tmp_path)
    s = iptables_scripts("ab12", ["-d 10.0.0.2 -j DROP", "-s 10.0.0.2 -j DROP"], direction)
    assert ipt.sh(s["present"]) != 0 and ipt.sh(s["absent"]) == 0
    ipt.calls()
    assert ipt.sh(s["apply"]) == 0
    assert ipt.calls() == [
        "-w -N HACHAOS-ab12",
        "-w -A HACHAOS-ab12 -d 10.0.0.2 -j DROP",
        "-w -A HACHAOS-ab12 -s 10.0.0.2 -j DROP",
        *[f"-w -I {h} 1 -j HACHAOS-ab12" for h in hooks],
    ]
    assert ipt.sh(s["present"]) == 0 and ipt.sh(s["absent"]) != 0
    # the revert removes both jumps whatever the direction and does not stop at a missing one
    assert ipt.sh(s["revert"]) == 0
    assert ipt.calls()[-4:] == [
        "-w -D INPUT -j HACHAOS-ab12",
        "-w -D OUTPUT -j HACHAOS-ab12",
        "-w -F HACHAOS-ab12",
        "-w -X HACHAOS-ab12",
    ]
    assert ipt.rules() == []
    assert ipt.sh(s["present"]) != 0 and ipt.sh(s["absent"]) == 0
    assert ipt.sh(s["revert"]) == 0  # a second revert finds nothing and still succeeds


# Docker's embedded DNS by address (its port is DNATed before filter), any port 53 else.
DNS_RULES = ["-d 127.0.0.11 -j DROP", "-p udp --dport 53 -j DROP", "-p tcp --dport 53 -j DROP"]


def test_helper_script_applies_its_snippet_under_set_e(tmp_path: Path) -> None:
    """The apply snippet stops at its first failing line: the helper reports FAILED and the
    revert runs again."""
    marks = tmp_path / "marks"
    script = helper_script(f"false\necho applied >> {marks}", f"echo undo >> {marks}", 0)
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=10, check=False
    )
    assert (out.returncode, out.stdout.split()) == (1, ["FAILED"])
    assert marks.read_text().splitlines() == ["undo", "undo"]


def test_helper_script_sleeps_one_second_past_its_deadline(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    stub = tmp_path / "sleep"
    stub.write_text(f'#!/bin/sh\necho "sleep $*" >> {log}\n')
    stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    out = subprocess.run(
        ["sh", "-c", helper_script("true", "true", 2.9)],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert out.stdout.split() == ["READY", "EXPIRED"]
    assert log.read_text().splitlines() == ["sleep 3"]


# ------------------------------------------------------------------ the helper's life
T1 = {"id": "c1", "name": "app-1"}
T2 = {"id": "c2", "name": "app-2"}


class FakeHelpers:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.running: set[str] = set()
        self.exec_code = 0
        self.run_code = 0
        self.fail: dict[str, Exception] = {}

    def start_netns_helper(self, target_id: str, name: str, script: str, **kw: Any) -> str:
        self.calls.append(("start", target_id, name, script, kw))
        if target_id in self.fail:
            raise self.fail[target_id]
        self.running.add(name)
        return name

    def wait_for_line(self, helper_id: str, marker: str, timeout: float) -> str:
        self.calls.append(("wait", helper_id, marker, timeout))
        return marker

    def is_running(self, container_id: str) -> bool:
        return container_id in self.running

    def exec_in(self, container_id: str, script: str, *, timeout: float = 20.0) -> tuple[int, str]:
        self.calls.append(("exec", container_id, script))
        return self.exec_code, ""

    def run_once(self, command: list[str], **kw: Any) -> tuple[int, str]:
        self.calls.append(("run", command, kw))
        return self.run_code, ""

    def stop_helper(self, helper_id: str, *, timeout: float = 10.0) -> None:
        self.calls.append(("stop", helper_id, timeout))


class FakeContainers:
    def __init__(self, existing: set[str]) -> None:
        self.existing = existing

    def exists(self, container_id_or_name: str) -> bool:
        return container_id_or_name in self.existing


SCRIPTS = {"apply": "A", "revert": "R", "present": "P", "absent": "X"}


def _dns(
    helpers: FakeHelpers, existing: set[str] = frozenset({"c1", "c2"}), targets: int = 2
) -> tuple[Dns, list[tuple[str, str, str]]]:
    gone: list[tuple[str, str, str]] = []
    ctx = FaultContext(
        project="proj",
        run_id="run1",
        on_gone=lambda n, p, r: gone.append((n, p, r)),
        containers=FakeContainers(set(existing)),  # type: ignore[arg-type]
        helpers=helpers,  # type: ignore[arg-type]
    )
    state = {
        "key": "dns-1#0",
        "targets": [T1, T2][:targets],
        "tag": "ab12",
        "deadline": 40.0,
        "scripts": {"c1": dict(SCRIPTS), "c2": {k: v + "2" for k, v in SCRIPTS.items()}},
        "helpers": {"c1": "h1", "c2": "h2"},
    }
    return Dns(ctx, state), gone


def test_netns_plan_names_a_helper_per_target_and_builds_its_scripts() -> None:
    spec = DnsFault.model_validate({"type": "dns", "target": {"service": "app"}, "at": 0, "for": 5})
    step = PlannedFault(0, 0, "dns-1", "dns", spec, "app", (1, 3), 0.0, 5.0)

    class NoShare:
        def shared_namespaces(self, container_id: str) -> dict[str, str | None]:
            return {}

    ctx = FaultContext(project="p", run_id="r" * 30, margin=7.0, containers=NoShare())  # type: ignore[arg-type]
    targets = [Target("c1", "app-1", "app", 1), Target("c3", "app-3", "app", 3)]
    state = Dns.plan(step, targets, ctx)
    tag = state["tag"]
    assert state["helpers"] == {
        "c1": f"hachaos-{'r' * 24}-{tag}-1",
        "c3": f"hachaos-{'r' * 24}-{tag}-3",
    }
    assert state["scripts"] == {
        "c1": iptables_scripts(tag, DNS_RULES, "outbound"),
        "c3": iptables_scripts(tag, DNS_RULES, "outbound"),
    }
    assert state["deadline"] == 5.0 + 7.0


def test_netns_apply_starts_each_helper_and_waits_for_ready() -> None:
    h = FakeHelpers()
    fault, gone = _dns(h, targets=1)
    fault.apply()
    assert h.calls == [
        (
            "start",
            "c1",
            "h1",
            helper_script("A", "R", 40.0),
            {"run_id": "run1", "project": "proj", "caps": ("NET_ADMIN",)},
        ),
        ("wait", "h1", "READY", 20),
    ]
    assert gone == []


def test_netns_apply_reports_a_vanished_target_and_keeps_the_other() -> None:
    h = FakeHelpers()
    h.fail["c1"] = TargetNotFound("app-1 is gone")
    fault, gone = _dns(h)
    fault.apply()
    assert gone == [("app-1", "apply", "app-1 is gone")]
    assert fault.targets == [T2]


def test_netns_apply_fails_when_every_target_vanished() -> None:
    h = FakeHelpers()
    h.fail = {"c1": TargetNotFound("gone"), "c2": TargetNotFound("gone")}
    fault, _ = _dns(h)
    with pytest.raises(FaultError) as err:
        fault.apply()
    assert err.value.message == "every target of dns-1#0 vanished"


def test_netns_apply_raises_any_other_error() -> None:
    h = FakeHelpers()
    h.fail["c2"] = FaultError("no READY")
    fault, gone = _dns(h)
    with pytest.raises(FaultError, match="no READY"):
        fault.apply()
    assert gone == []


def test_netns_verify_checks_in_the_running_helper() -> None:
    h = FakeHelpers()
    h.running = {"h1", "h2"}
    fault, _ = _dns(h)
    fault.verify()
    assert sorted(h.calls) == [("exec", "h1", "P"), ("exec", "h2", "P2")]
    h.exec_code = 1
    with pytest.raises(FaultError) as err:
        fault.verify()
    assert err.value.message in {
        "dns rules are not in effect in app-1's netns",
        "dns rules are not in effect in app-2's netns",
    }


def test_netns_checks_from_a_fresh_helper_when_its_own_died() -> None:
    h = FakeHelpers()
    fault, _ = _dns(h, targets=1)
    fault.verify_reverted()
    assert h.calls == [
        (
            "run",
            ["sh", "-c", "X"],
            {
                "run_id": "run1",
                "project": "proj",
                "network_mode": "container:c1",
                "cap_add": ["NET_ADMIN"],
            },
        )
    ]
    h.run_code = 1
    with pytest.raises(FaultError) as err:
        fault.verify_reverted()
    assert err.value.message == "dns rules are still present in app-1's netns"


@pytest.mark.parametrize("step", ["verify", "verify_reverted", "revert"])
def test_netns_reports_a_target_gone_with_its_helper(step: str) -> None:
    h = FakeHelpers()
    fault, gone = _dns(h, existing={"c2"})
    getattr(fault, step)()
    phase = "verify" if step == "verify" else "revert"
    assert gone == [("app-1", phase, "app-1 is gone")]
    assert fault.targets == [T2]


def test_netns_revert_runs_the_revert_quietly_in_the_helper() -> None:
    h = FakeHelpers()
    h.running = {"h1"}
    fault, _ = _dns(h)
    fault.revert()
    wrapped2 = "{ R2\n} >/dev/null 2>&1; true"
    assert sorted(h.calls, key=str) == sorted(
        [
            ("exec", "h1", "{ R\n} >/dev/null 2>&1; true"),
            (
                "run",
                ["sh", "-c", wrapped2],
                {
                    "run_id": "run1",
                    "project": "proj",
                    "network_mode": "container:c2",
                    "cap_add": ["NET_ADMIN"],
                },
            ),
        ],
        key=str,
    )


def test_netns_release_stops_every_helper() -> None:
    h = FakeHelpers()
    fault, _ = _dns(h)
    fault.release()
    assert h.calls == [("stop", "h1", 5), ("stop", "h2", 5)]


# ------------------------------------------------------------------ peer addresses
class Project:
    def __init__(self) -> None:
        self.nets = {
            "me": {"front": "10.0.0.2", "back": "10.1.0.2"},
            "db1": {"back": "10.1.0.5", "other": "10.9.0.5"},
            "db2": {"back": "10.1.0.6"},
            "cache": {"front": "10.0.0.9"},
            "odd": {"front": "not-an-ip; reboot"},
        }

    def addresses(self, container_id: str) -> dict[str, str]:
        if container_id == "gone":
            raise TargetNotFound("gone")
        return self.nets[container_id]

    def project_targets(self, project: str) -> list[Target]:
        assert project == "proj"
        return [
            Target("me", "app-1", "app", 1),
            Target("db1", "db-1", "db", 1),
            Target("db2", "db-2", "db", 2),
            Target("gone", "db-3", "db", 3),
            Target("cache", "cache-1", "cache", 1),
            Target("odd", "odd-1", "odd", 1),
        ]


def test_peer_addresses_of_the_peers_on_shared_networks_only() -> None:
    ctx = FaultContext(project="proj", run_id="r", containers=Project())  # type: ignore[arg-type]
    me = Target("me", "app-1", "app", 1)
    assert peer_addresses(ctx, me, ["db"]) == ["10.1.0.5", "10.1.0.6"]
    assert peer_addresses(ctx, me, ["cache", "db"]) == ["10.0.0.9", "10.1.0.5", "10.1.0.6"]
    # no peers: everyone else of the project, never the target itself, never a non-address
    assert peer_addresses(ctx, me, []) == ["10.0.0.9", "10.1.0.5", "10.1.0.6"]
    assert peer_addresses(ctx, me, ["odd"]) == []


class Probe(NetnsFault[DnsFault]):
    """Scripts that name everything they were built from (unregistered, test only)."""

    type = "dns"
    spec_model = DnsFault

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        text = f"{step.key} {target.name} {tag} {ctx.project}"
        return {"apply": text, "revert": "", "present": "", "absent": ""}


def test_netns_plan_builds_each_targets_scripts_from_step_target_and_context() -> None:
    spec = DnsFault.model_validate({"type": "dns", "target": {"service": "app"}, "at": 0, "for": 5})
    step = PlannedFault(0, 1, "dns-1", "dns", spec, "app", (1, 3), 0.0, 5.0)

    class NoShare:
        def shared_namespaces(self, container_id: str) -> dict[str, str | None]:
            return {}

    ctx = FaultContext(project="proj", run_id="r", containers=NoShare())  # type: ignore[arg-type]
    targets = [Target("c1", "app-1", "app", 1), Target("c3", "app-3", "app", 3)]
    state = Probe.plan(step, targets, ctx)
    tag = state["tag"]
    assert {k: v["apply"] for k, v in state["scripts"].items()} == {
        "c1": f"dns-1#1 app-1 {tag} proj",
        "c3": f"dns-1#1 app-3 {tag} proj",
    }
