"""Exact phases, counts, caps and check fields of the isolation analysis (hand-made rounds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.analysis.isolation import (
    ALLOW_CHECK,
    DENY_CHECK,
    analyse_isolation,
    phase_of,
    read_isolation,
)
from harness.analysis.phases import FaultWindow
from harness.analysis.slo import CheckResult

T0 = 1000.0


def window(injected: float = 10.0, reverted: float | None = 20.0) -> FaultWindow:
    return FaultWindow(
        name="cut", type="partition", index=0, occurrence=0, targets=(), planned_s=10.0,
        applied=True, injected_s=injected, in_effect_s=injected + 0.5, reverted_s=reverted,
        revert_ok=True, self_healing=False, error=None,
    )  # fmt: skip


WIN = window()


def obs(kind: str, state: str, src: str = "lb", dst: str = "db", port: int | None = 5432) -> Any:
    return {"kind": kind, "from": src, "to": dst, "port": port, "from_replica": 1,
            "to_replica": 2, "state": state}  # fmt: skip


def rnd(t: float, *observations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"t_wall": T0 + t, "observations": list(observations), **extra}


def test_phase_edges() -> None:
    # window 10..20 s, settle 5 s: the revert instant is still "during", 25 s still settling
    assert phase_of(20.0, [WIN], 5.0) == ("during cut#0", True)
    assert phase_of(25.0, [WIN], 5.0) == ("settling after cut#0", True)
    assert phase_of(25.01, [WIN], 5.0) == ("after recovery", False)
    assert phase_of(9.99, [WIN], 5.0) == ("baseline", False)


def test_a_window_never_reverted_lasts_to_the_end() -> None:
    open_ended = window(reverted=None)
    assert phase_of(1e6, [open_ended], 5.0) == ("during cut#0", True)
    assert phase_of(9.0, [open_ended], 5.0) == ("baseline", False)


def test_settle_comes_from_the_config_and_defaults_to_5_s() -> None:
    allow = obs("allow", "open", "app")
    data = {"config": {"settle": 2.0}, "rounds": [rnd(23.0, allow)]}
    doc, _ = analyse_isolation(data, [WIN], T0)
    assert list(doc["matrix"]) == ["after recovery"]  # 23 s > 20 s + 2 s
    doc, _ = analyse_isolation({"rounds": [rnd(23.0, allow), rnd(25.5, allow)]}, [WIN], T0)
    assert list(doc["matrix"]) == ["settling after cut#0", "after recovery"]  # 5 s default


def test_a_rule_without_port_and_repeated_states_are_counted() -> None:
    deny = obs("deny", "timeout", port=None)
    data = {
        "rounds": [rnd(-3.0, deny), rnd(-2.0, deny), rnd(-1.0, obs("deny", "refused", port=None))]
    }
    doc, _ = analyse_isolation(data, [WIN], T0)
    assert doc["matrix"] == {"baseline": {"deny lb → db": {"timeout": 2, "refused": 1}}}


def test_a_rule_probed_once_is_not_never_probed() -> None:
    data = {"rounds": [rnd(-2.0, obs("deny", "timeout")), rnd(-1.0, obs("deny", "unprobed"))]}
    doc, (deny, _) = analyse_isolation(data, [], T0)
    assert "never probed" not in deny.detail
    assert deny.passed is True
    assert doc["overhead"]["probes"] == 1  # the unprobed observation is not a probe


def test_overhead_defaults_for_missing_fields_are_zero() -> None:
    data = {
        "rounds": [
            rnd(-2.0, obs("deny", "timeout"), elapsed_s=2.0, helpers=3),
            rnd(-1.0, obs("deny", "timeout")),  # no elapsed_s, no helpers
        ]
    }
    doc, _ = analyse_isolation(data, [], T0)
    assert doc["overhead"] == {
        "rounds": 2, "probes": 2, "helpers": 3, "round_mean_s": 1.0, "round_max_s": 2.0,
        "errors": [],
    }  # fmt: skip


def test_at_most_five_errors_are_kept_and_the_checks_say_why() -> None:
    data = {"rounds": [{"t_wall": T0 + i, "error": f"e{i}"} for i in range(6)]}
    doc, checks = analyse_isolation(data, [], T0)
    assert doc["overhead"]["errors"] == ["e0", "e1", "e2", "e3", "e4"]
    assert [c.detail for c in checks] == ["no probe answered (see isolation.errors)"] * 2


def test_both_checks_in_full_when_everything_holds() -> None:
    data = {"rounds": [rnd(-1.0, obs("deny", "timeout"), obs("allow", "open", "app"))]}
    _, checks = analyse_isolation(data, [WIN], T0)
    assert checks == [
        CheckResult(name=DENY_CHECK, phase="all", measured=0.0, threshold=0.0, unit="count",
                    passed=True, detail=""),
        CheckResult(name=ALLOW_CHECK, phase="outside faults", measured=0.0, threshold=0.0,
                    unit="count", passed=True, detail=""),
    ]  # fmt: skip


def test_details_list_five_violations_joined_by_semicolons() -> None:
    denied = [rnd(float(-10 + i), obs("deny", "open")) for i in range(6)]
    closed = [rnd(float(30 + i), obs("allow", "refused", "app")) for i in range(6)]
    doc, (deny, allow) = analyse_isolation({"rounds": denied + closed}, [WIN], T0)
    assert deny.measured == 6.0 and allow.measured == 6.0
    assert deny.detail == "; ".join(
        f"lb#1 → db#2:5432 open at t={t}.0s (baseline)" for t in (-10, -9, -8, -7, -6)
    )
    assert allow.detail == "; ".join(
        f"app#1 → db#2:5432 refused at t={t}.0s (after recovery)" for t in (30, 31, 32, 33, 34)
    )
    assert doc["allowed_closed_in_window"] == 0


def test_closed_allowed_paths_inside_windows_are_counted() -> None:
    inside = [rnd(t, obs("allow", "timeout", "app")) for t in (12.0, 22.0)]
    outside = rnd(30.0, obs("allow", "down", "app"))
    doc, (_, allow) = analyse_isolation({"rounds": [*inside, outside]}, [WIN], T0)
    assert doc["allowed_closed_in_window"] == 2
    assert allow.detail == (
        "app#1 → db#2:5432 down at t=30.0s (after recovery); "
        "2 closed inside fault windows (expected)"
    )


def test_the_document_keeps_at_most_100_violations() -> None:
    data = {
        "rounds": [
            rnd(-200.0 + i, obs("deny", "open"), obs("allow", "down", "app")) for i in range(101)
        ]
    }
    doc, (deny, allow) = analyse_isolation(data, [], T0)
    assert (len(doc["denied_open"]), len(doc["allowed_closed"])) == (100, 100)
    assert (deny.measured, allow.measured) == (101.0, 101.0)


def test_read_isolation(tmp_path: Path) -> None:
    assert read_isolation(tmp_path) is None  # no file: nothing probed
    path = tmp_path / "isolation.json"
    path.write_text(json.dumps({"rounds": [{"t_wall": 1.0}]}), encoding="utf-8")
    assert read_isolation(tmp_path) == {"rounds": [{"t_wall": 1.0}]}
    path.write_text("[1, 2]", encoding="utf-8")
    assert read_isolation(tmp_path) is None  # not an object
    path.write_text("{not json", encoding="utf-8")
    bad = read_isolation(tmp_path)
    assert bad is not None and bad["rounds"] == []
    assert str(bad["error"]).startswith("isolation.json is unreadable: ")
    path.write_text(json.dumps({"é": 1}, ensure_ascii=False), encoding="utf-8")
    assert read_isolation(tmp_path) == {"é": 1}
