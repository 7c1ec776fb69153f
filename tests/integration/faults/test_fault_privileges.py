"""Helpers run with least privilege, and the crash helper only ever signals its target.

Privileges are read from the engine (HostConfig) and from the kernel
(/proc/self/status inside the helper), not from harness code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Stack, container, wait_until
from faultkit import planned, runner

from harness.engine import containers, helpers
from harness.errors import FaultError

pytestmark = pytest.mark.docker

CAP_KILL = 1 << 5


def test_network_helper_has_only_net_admin(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    step = planned("partition", "web", (1,), peers=["peer"])
    r.apply(step, planned_wall=0.0)
    try:
        found = [h for h in helpers.list_helpers(project=stack.project) if h["state"] == "running"]
        assert len(found) == 1, found
        hc = containers.inspect(found[0]["id"])["HostConfig"]
        assert hc["CapDrop"] == ["ALL"]
        assert hc["CapAdd"] == ["NET_ADMIN"]
        assert hc["SecurityOpt"] == ["no-new-privileges"]
        assert not hc["Privileged"]
    finally:
        r.revert(step)


def test_throwaway_helper_has_only_the_capability_asked_for(helper_image: str) -> None:
    code, out = helpers.run_once(
        ["grep", "-E", "^(CapEff|CapBnd|NoNewPrivs):", "/proc/self/status"],
        run_id="test",
        project="test",
        cap_add=["KILL"],
    )
    assert code == 0, out
    fields = dict(line.split(":\t") for line in out.strip().splitlines())
    assert int(fields["CapEff"], 16) == CAP_KILL
    assert int(fields["CapBnd"], 16) == CAP_KILL
    assert fields["NoNewPrivs"].strip() == "1"


def test_crash_refuses_a_pid_that_is_no_longer_the_target(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's pid was reused by a host process: the helper must not kill it."""
    bystander = subprocess.Popen(["sleep", "60"])
    web = container(stack.project, "web", 1)
    started = web.attrs["State"]["StartedAt"]
    try:
        monkeypatch.setattr(containers, "host_pid", lambda _cid: bystander.pid)
        r = runner(stack.project, tmp_path)
        with pytest.raises(FaultError, match="REFUSED: pid"):
            r.apply(planned("crash", "web", (1,), window=None), planned_wall=0.0)
        assert not wait_until(lambda: bystander.poll() is not None, timeout=1)
        assert container(stack.project, "web", 1).attrs["State"]["StartedAt"] == started
    finally:
        bystander.kill()
        bystander.wait()


def test_crash_refuses_the_pid_of_another_container(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peer = container(stack.project, "peer", 1)
    peer_pid = int(peer.attrs["State"]["Pid"])
    monkeypatch.setattr(containers, "host_pid", lambda _cid: peer_pid)
    r = runner(stack.project, tmp_path)
    with pytest.raises(FaultError, match="is not a process of container"):
        r.apply(planned("crash", "web", (2,), window=None), planned_wall=0.0)
    again = container(stack.project, "peer", 1)
    assert again.status == "running"
    assert again.attrs["State"]["StartedAt"] == peer.attrs["State"]["StartedAt"]
