"""cpu: the update bodies written out by hand, and each step against a fake engine."""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.cpu import Cpu, CpuFault, effective, restore, throttle
from harness.scenario.plan import PlannedFault

UNLIMITED = {"NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0}
NANO = {"NanoCpus": 1_500_000_000, "CpuQuota": 0, "CpuPeriod": 0}
QUOTA = {"NanoCpus": 0, "CpuQuota": 150_000, "CpuPeriod": 200_000}


@pytest.mark.parametrize(
    ("original", "cpus", "body"),
    [
        (UNLIMITED, 0.25, {"CpuPeriod": 100_000, "CpuQuota": 25_000}),
        (QUOTA, 0.1, {"CpuPeriod": 100_000, "CpuQuota": 10_000}),
        (NANO, 0.25, {"NanoCpus": 250_000_000}),
        # one nano-CPU is enough to count as "uses cpus:"
        ({"NanoCpus": 1, "CpuQuota": 0, "CpuPeriod": 0}, 2.0, {"NanoCpus": 2_000_000_000}),
    ],
)
def test_throttle_body(original: dict[str, int], cpus: float, body: dict[str, int]) -> None:
    assert throttle(original, cpus) == body


@pytest.mark.parametrize(
    ("original", "body"),
    [
        (UNLIMITED, {"CpuPeriod": 100_000, "CpuQuota": -1}),
        (NANO, {"NanoCpus": 1_500_000_000}),
        ({"NanoCpus": 1, "CpuQuota": 0, "CpuPeriod": 0}, {"NanoCpus": 1}),
        (QUOTA, {"CpuPeriod": 200_000, "CpuQuota": 150_000}),
        # a quota of exactly 1 µs is a limit; -1 (the engine's "unlimited") stays -1
        ({"NanoCpus": 0, "CpuQuota": 1, "CpuPeriod": 0}, {"CpuPeriod": 100_000, "CpuQuota": 1}),
        (
            {"NanoCpus": 0, "CpuQuota": -1, "CpuPeriod": 50_000},
            {"CpuPeriod": 50_000, "CpuQuota": -1},
        ),
    ],
)
def test_restore_body(original: dict[str, int], body: dict[str, int]) -> None:
    assert restore(original) == body


@pytest.mark.parametrize(
    ("limits", "cores"),
    [
        (UNLIMITED, 0.0),
        (NANO, 1.5),
        (QUOTA, 0.75),
        ({"NanoCpus": 0, "CpuQuota": 25_000, "CpuPeriod": 0}, 0.25),  # default period
        ({"NanoCpus": 1, "CpuQuota": 0, "CpuPeriod": 0}, 1e-9),
        ({"NanoCpus": 0, "CpuQuota": 1, "CpuPeriod": 100_000}, 1e-5),
        ({"NanoCpus": 0, "CpuQuota": -1, "CpuPeriod": 100_000}, 0.0),
    ],
)
def test_effective_cores(limits: dict[str, int], cores: float) -> None:
    assert effective(limits) == cores


class FakeEngine:
    """Limits per container; update_resources applies the body, as the engine does."""

    def __init__(self, limits: dict[str, dict[str, int]], *, frozen: bool = False) -> None:
        self.limits = limits
        self.frozen = frozen  # an engine that ignores updates
        self.updates: list[tuple[str, dict[str, int]]] = []

    def cpu_limits(self, container_id: str) -> dict[str, int]:
        return dict(self.limits[container_id])

    def update_resources(self, container_id: str, resources: dict[str, int]) -> None:
        self.updates.append((container_id, resources))
        if not self.frozen:
            self.limits[container_id].update(resources)


def _ctx(engine: FakeEngine) -> FaultContext:
    return FaultContext(project="p", run_id="r", containers=engine)  # type: ignore[arg-type]


def _cpu(engine: FakeEngine, cpus: float = 0.5) -> Cpu:
    state: dict[str, Any] = {
        "key": "cpu#0",
        "targets": [{"id": "a", "name": "app-1"}, {"id": "b", "name": "app-2"}],
        "tag": "ab12",
        "cpus": cpus,
        "original": {"a": dict(UNLIMITED), "b": dict(NANO)},
    }
    return Cpu(_ctx(engine), state)


def test_cpu_plan_records_each_targets_original_limits() -> None:
    spec = CpuFault.model_validate(
        {"type": "cpu", "target": {"service": "app"}, "at": 0, "for": 10, "cpus": 0.5}
    )
    step = PlannedFault(0, 0, "cpu-1", "cpu", spec, "app", (1, 2), 5.0, 15.0)
    engine = FakeEngine({"a": dict(UNLIMITED), "b": dict(NANO)})
    targets = [Target("a", "app-1", "app", 1), Target("b", "app-2", "app", 2)]
    state = Cpu.plan(step, targets, _ctx(engine))
    assert state["original"] == {"a": UNLIMITED, "b": NANO}
    assert state["cpus"] == 0.5
    assert state["deadline"] == 10.0 + 30.0  # window + the default margin


def test_cpu_apply_verify_revert_on_both_kinds_of_limit() -> None:
    engine = FakeEngine({"a": dict(UNLIMITED), "b": dict(NANO)})
    fault = _cpu(engine)
    fault.apply()
    assert engine.updates == [
        ("a", {"CpuPeriod": 100_000, "CpuQuota": 50_000}),
        ("b", {"NanoCpus": 500_000_000}),
    ]
    fault.verify()
    engine.updates.clear()
    fault.revert()
    assert engine.updates == [
        ("a", {"CpuPeriod": 100_000, "CpuQuota": -1}),
        ("b", {"NanoCpus": 1_500_000_000}),
    ]
    fault.verify_reverted()


def test_cpu_verify_fails_when_the_limit_did_not_change() -> None:
    engine = FakeEngine({"a": dict(UNLIMITED), "b": dict(NANO)}, frozen=True)
    fault = _cpu(engine)
    fault.apply()
    with pytest.raises(FaultError) as err:
        fault.verify()
    assert err.value.message == "cpu: app-1 allows 0.0 cores, not 0.5"


def test_cpu_verify_tolerates_a_thousandth_of_a_core() -> None:
    """0.5 cores asked; the engine shows 0.5009 (kept) or 0.5011 (refused)."""
    close = {"NanoCpus": 0, "CpuQuota": 50_090, "CpuPeriod": 100_000}
    far = {"NanoCpus": 0, "CpuQuota": 50_110, "CpuPeriod": 100_000}
    _cpu(FakeEngine({"a": dict(close), "b": {"NanoCpus": 500_000_000}}, frozen=True)).verify()
    with pytest.raises(FaultError):
        _cpu(FakeEngine({"a": dict(far), "b": {"NanoCpus": 500_000_000}}, frozen=True)).verify()
    low = {"NanoCpus": 0, "CpuQuota": 49_890, "CpuPeriod": 100_000}
    with pytest.raises(FaultError):
        _cpu(FakeEngine({"a": dict(low), "b": {"NanoCpus": 500_000_000}}, frozen=True)).verify()


def test_cpu_verify_reverted_fails_while_the_throttle_stays() -> None:
    engine = FakeEngine({"a": dict(UNLIMITED), "b": dict(NANO)})
    fault = _cpu(engine)
    fault.apply()
    engine.frozen = True
    fault.revert()
    with pytest.raises(FaultError) as err:
        fault.verify_reverted()
    assert err.value.message == "cpu: app-1 allows 0.5 cores, expected any"
    engine.limits["a"] = dict(UNLIMITED)
    with pytest.raises(FaultError) as err:
        fault.verify_reverted()
    assert err.value.message == "cpu: app-2 allows 0.5 cores, expected 1.5"


def test_cpu_verify_reverted_tolerates_a_thousandth_of_a_core() -> None:
    back = {"a": {"NanoCpus": 0, "CpuQuota": 90, "CpuPeriod": 100_000}, "b": dict(NANO)}
    _cpu(FakeEngine(back, frozen=True)).verify_reverted()  # 0.0009 cores vs unlimited
    off = {"a": {"NanoCpus": 0, "CpuQuota": 110, "CpuPeriod": 100_000}, "b": dict(NANO)}
    with pytest.raises(FaultError):
        _cpu(FakeEngine(off, frozen=True)).verify_reverted()


def test_cpu_verify_accepts_a_difference_of_exactly_a_thousandth() -> None:
    """0.002 - 0.001 is exactly 0.001 in binary floating point: still within tolerance."""
    limits = {"a": {"NanoCpus": 2_000_000, "CpuQuota": 0, "CpuPeriod": 0}, "b": dict(NANO)}
    fault = _cpu(FakeEngine(limits, frozen=True), cpus=0.001)
    fault.state["targets"] = fault.state["targets"][:1]
    fault.verify()
    fault.state["original"]["a"] = {"NanoCpus": 1_000_000, "CpuQuota": 0, "CpuPeriod": 0}
    fault.verify_reverted()


class VanishedEngine:
    def cpu_limits(self, container_id: str) -> dict[str, int]:
        raise TargetNotFound(f"{container_id} is gone")

    def update_resources(self, container_id: str, resources: dict[str, int]) -> None:
        raise TargetNotFound(f"{container_id} is gone")


@pytest.mark.parametrize(
    ("step", "phase"),
    [("verify", "verify"), ("revert", "revert"), ("verify_reverted", "revert")],
)
def test_cpu_reports_a_vanished_target_with_its_phase(step: str, phase: str) -> None:
    gone: list[tuple[str, str, str]] = []
    fault = _cpu(VanishedEngine())  # type: ignore[arg-type]
    fault.ctx.on_gone = lambda name, ph, reason: gone.append((name, ph, reason))
    getattr(fault, step)()
    assert gone == [("app-1", phase, "a is gone"), ("app-2", phase, "b is gone")]


def test_cpu_apply_to_vanished_targets_fails_and_reports_them() -> None:
    gone: list[tuple[str, str, str]] = []
    fault = _cpu(VanishedEngine())  # type: ignore[arg-type]
    fault.ctx.on_gone = lambda name, ph, reason: gone.append((name, ph, reason))
    with pytest.raises(FaultError):
        fault.apply()
    assert gone == [("app-1", "apply", "a is gone"), ("app-2", "apply", "b is gone")]
