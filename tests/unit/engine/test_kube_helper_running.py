"""A helper pod counts as running once its script reported, even while the kubelet has not
posted the Running phase yet (busy nodes lag seconds). API answers are scripted: what is
checked is this module's reading of them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.engine.kubernetes import helper_pods


class FakeCore:
    """read_namespaced_pod(_log) of one pod: a phase and a log set by the test."""

    def __init__(self) -> None:
        self.phase = "Pending"
        self.log = ""

    def read_namespaced_pod(self, name: str, ns: str, **_: Any) -> Any:
        return SimpleNamespace(status=SimpleNamespace(phase=self.phase))

    def read_namespaced_pod_log(self, name: str, ns: str, **_: Any) -> str:
        return self.log


@pytest.fixture
def core(monkeypatch: pytest.MonkeyPatch) -> FakeCore:
    fake = FakeCore()
    cluster = SimpleNamespace(core=fake)
    monkeypatch.setattr(helper_pods, "_locate", lambda helper: (cluster, "ns-1", helper.lower()))
    monkeypatch.setattr(helper_pods, "_reported", set())
    return fake


def test_a_pending_helper_that_reported_its_marker_runs(core: FakeCore) -> None:
    core.log = "starting\nREADY 4242\n"
    assert helper_pods.wait_for_line("H-1", "READY", timeout=5) == "READY 4242"
    assert helper_pods.is_running("H-1")  # phase still Pending: the kubelet lags
    assert not helper_pods.is_running("H-2")  # Pending and never reported: not yet


@pytest.mark.parametrize(
    ("phase", "reported", "running"),
    [
        ("Running", False, True),
        ("Running", True, True),
        ("Pending", False, False),
        ("Pending", True, True),
        ("Succeeded", True, False),  # it reported, then ended: its trap reverted
        ("Failed", True, False),
    ],
)
def test_running_by_phase_and_report(
    core: FakeCore, phase: str, reported: bool, running: bool
) -> None:
    core.phase = phase
    if reported:
        helper_pods._reported.add("h-3")
    assert helper_pods.is_running("h-3") is running


def test_a_helper_that_does_not_exist_is_not_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper_pods, "_locate", lambda helper: None)
    monkeypatch.setattr(helper_pods, "_reported", {"h-4"})
    assert not helper_pods.is_running("h-4")
