"""A target that borrows the host's namespaces is refused at apply, from its live HostConfig.

Validation refuses such services in the compose file; these containers are made
behind its back (as a stack edited after validation would be), so only the
apply-time check stands between the fault and the host.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import IMAGE, Stack, sdk
from faultkit import events, planned, runner

from harness.engine import helpers
from harness.errors import FaultError

pytestmark = pytest.mark.docker
FAULT_MARKS = ("HACHAOS-", " tbf ", " netem ")


def _host_network_state() -> list[str]:
    """What a fault could leave in the host netns: HACHAOS chains and tbf/netem qdiscs.

    Read by a throwaway helper. Only these lines are compared: Docker itself edits
    the host's rules and veths whenever another test starts a container.
    """
    code, out = helpers.run_once(
        ["sh", "-c", "iptables -w -S; tc qdisc show"],
        run_id="test",
        project="test",
        network_mode="host",
        cap_add=["NET_ADMIN"],
    )
    assert code == 0, out
    return [line for line in out.splitlines() if any(w in line for w in FAULT_MARKS)]


def _journal_ops(run_dir: Path) -> list[str]:
    journal = run_dir / "journal.jsonl"
    lines = journal.read_text().splitlines() if journal.exists() else []
    return [json.loads(line)["op"] for line in lines]


@pytest.fixture
def borrower(stack: Stack, request: pytest.FixtureRequest) -> Iterator[str]:
    """A container of the project's ``borrower`` service that shares a host namespace."""
    mode = request.param
    labels = {
        "com.docker.compose.project": stack.project,
        "com.docker.compose.service": "borrower",
        "com.docker.compose.container-number": "1",
    }
    c = sdk().containers.run(
        IMAGE, ["sleep", "300"], detach=True, labels=labels, init=True, **{mode: "host"}
    )
    yield str(c.id)
    c.remove(force=True)


@pytest.mark.parametrize("borrower", ["network_mode"], indirect=True)
def test_network_fault_on_host_network_is_refused(
    stack: Stack, tmp_path: Path, borrower: str
) -> None:
    before = _host_network_state()
    r = runner(stack.project, tmp_path)
    step = planned("dns", "borrower", (1,))
    try:
        with pytest.raises(FaultError, match="has `NetworkMode: host`, so a `dns` fault"):
            r.apply(step, planned_wall=0.0)
    finally:
        r.revert_all()
    assert _host_network_state() == before == []
    assert not helpers.list_helpers(project=stack.project)
    assert "intent" not in _journal_ops(tmp_path)  # refused before anything was journaled
    assert events(tmp_path, "fault.apply")[0]["ok"] is False


@pytest.mark.parametrize("borrower", ["pid_mode"], indirect=True)
def test_kill_on_host_pid_is_refused(stack: Stack, tmp_path: Path, borrower: str) -> None:
    r = runner(stack.project, tmp_path)
    try:
        with pytest.raises(FaultError, match="has `PidMode: host`, so a `kill` fault"):
            r.apply(planned("kill", "borrower", (1,)), planned_wall=0.0)
    finally:
        r.revert_all()
    assert sdk().containers.get(borrower).status == "running"
