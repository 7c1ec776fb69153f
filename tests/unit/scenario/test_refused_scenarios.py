"""Scenarios refused for safety, located: faults in a namespace the target borrows (the
host's or another container's), and values that would reach a shell unchecked."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.errors import ScenarioError
from harness.run.validate import validate_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
REFUSED = FIXTURES / "refused"
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/hachaos-no-engine.sock"}
WHERE = "13:23: faults[0].target.service: service"
FIX = "; give the service its own namespace or target another service"

EXPECTED = {
    "loss-host-network": (
        f"{WHERE} 'hostnet' has `network_mode: host`, so a `loss` fault would change the"
        f" iptables/tc rules, and so the traffic, of the host: refused{FIX}"
    ),
    "bandwidth-service-network": (
        f"{WHERE} 'sidecar' has `network_mode: service:lb`, so a `bandwidth` fault would"
        f" change the iptables/tc rules, and so the traffic, of service 'lb': refused{FIX}"
    ),
    "partition-container-network": (
        f"{WHERE} 'borrowed' has `network_mode: container:some-other-container`, so a"
        " `partition` fault would change the iptables/tc rules, and so the traffic, of"
        f" container 'some-other-container': refused{FIX}"
    ),
    "crash-host-pid": (
        f"{WHERE} 'hostpid' has `pid: host`, so a `crash` fault would signal processes by"
        f" pid in the pid namespace of the host: refused{FIX}"
    ),
    "kill-service-pid": (
        f"{WHERE} 'peerpid' has `pid: service:lb`, so a `kill` fault would signal processes"
        f" by pid in the pid namespace of service 'lb': refused{FIX}"
    ),
    "memory-host-pid": (
        f"{WHERE} 'hostpid' has `pid: host`, so a `memory` fault would signal processes by"
        f" pid in the pid namespace of the host: refused{FIX}"
    ),
    "disk-path-injection": (
        "14:11: faults[0].path: expected an absolute path of letters, digits, '.', '_', '-'"
        " and '/' (at most 255 characters), found '/tmp; touch /PWNED; echo'"
    ),
    "disk-fill-cap": (
        "15:11: faults[0].fill: `fill` is capped at 95% of the filesystem (and at 2 GiB"
        " written per container), found 99%"
    ),
    "crash-signal-injection": (
        "14:13: faults[0].signal: expected a signal such as SIGKILL, TERM or 9, found"
        " 'KILL $(reboot)'"
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_refused_scenario_is_located(name: str) -> None:
    path = REFUSED / f"{name}.yaml"
    with pytest.raises(ScenarioError) as info:
        validate_file(path)
    assert info.value.exit_code == 2
    assert [p.render() for p in info.value.problems] == [f"{path}:{EXPECTED[name]}"]


def test_every_refused_fixture_has_expectations() -> None:
    assert {p.stem for p in REFUSED.glob("*.yaml")} == set(EXPECTED)


def test_faults_outside_the_shared_namespace_are_allowed() -> None:
    """pause/cpu on a host-network service and latency on a host-pid one act elsewhere."""
    validate_file(FIXTURES / "valid" / "shared-namespaces-allowed.yaml")


def test_validate_exits_2_on_a_host_network_target() -> None:
    bad = REFUSED / "loss-host-network.yaml"
    result = CliRunner().invoke(app, ["validate", str(bad)], env=NO_ENGINE)
    assert result.exit_code == 2
    assert f"{bad}:{EXPECTED['loss-host-network']}" in result.output
