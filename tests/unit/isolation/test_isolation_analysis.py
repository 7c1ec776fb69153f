"""Rounds → phases, matrix and the two checks, on hand-made rounds and fault windows."""

from __future__ import annotations

from typing import Any

from hachaos_runfolder import summary_doc

from harness.analysis.isolation import ALLOW_CHECK, DENY_CHECK, analyse_isolation, phase_of
from harness.analysis.phases import FaultWindow
from harness.analysis.summary_model import parse_summary
from harness.report.isolation_section import isolation_lines

T0 = 1000.0
WIN = FaultWindow(
    name="cut", type="partition", index=0, occurrence=0, targets=(), planned_s=10.0,
    applied=True, injected_s=10.0, in_effect_s=10.5, reverted_s=20.0, revert_ok=True,
    self_healing=False, error=None,
)  # fmt: skip


def test_phase_of() -> None:
    assert phase_of(-1.0, [WIN], 5.0) == ("baseline", False)
    assert phase_of(10.0, [WIN], 5.0) == ("during cut#0", True)
    assert phase_of(24.0, [WIN], 5.0) == ("settling after cut#0", True)
    assert phase_of(25.5, [WIN], 5.0) == ("after recovery", False)
    assert phase_of(3.0, [], 5.0) == ("baseline", False)


def test_a_round_belongs_to_every_window_it_overlaps() -> None:
    # WIN: injected 10.0, reverted 20.0, settle 5.0 -> in a window from 10.0 to 25.0.
    assert phase_of(9.0, [WIN], 5.0, span=1.2) == ("during cut#0", True)  # ends 10.2
    assert phase_of(8.0, [WIN], 5.0, span=1.9) == ("baseline", False)  # ends 9.9
    assert phase_of(19.5, [WIN], 5.0, span=1.0) == ("during cut#0", True)
    assert phase_of(24.5, [WIN], 5.0, span=1.0) == ("settling after cut#0", True)
    assert phase_of(20.5, [WIN], 5.0, span=1.0) == ("settling after cut#0", True)
    assert phase_of(25.01, [WIN], 5.0, span=1.0) == ("after recovery", False)


def test_a_round_cut_short_by_a_kill_is_not_a_baseline_failure() -> None:
    # Seen on web-secure: a round started 0.1 s before lb was killed found lb -> app
    # refused; the probe ran in the dying container, inside the fault window.
    allow = lambda state: _obs("allow", "lb", "app", 8000, state)  # noqa: E731
    data = {"rounds": [_round(8.0, allow("refused"), elapsed=1.9),
                       _round(9.9, allow("refused"), elapsed=1.2)]}  # fmt: skip
    doc, (_, allowed) = analyse_isolation(data, [WIN], T0)
    assert (allowed.passed, allowed.measured) == (False, 1.0)
    assert doc["allowed_closed"] == ["lb#1 → app#1:8000 refused at t=8.0s (baseline)"]
    assert doc["allowed_closed_in_window"] == 1
    # a round that says nothing of its length is taken as an instant: 9.5 is before 10.0
    instant = {"t_wall": T0 + 9.5, "observations": [allow("refused")]}
    doc, _ = analyse_isolation({"rounds": [instant]}, [WIN], T0)
    assert doc["allowed_closed"] == ["lb#1 → app#1:8000 refused at t=9.5s (baseline)"]


def _obs(kind: str, src: str, dst: str, port: int, state: str) -> dict[str, Any]:
    return {"kind": kind, "from": src, "to": dst, "port": port, "from_replica": 1,
            "to_replica": 1, "state": state}  # fmt: skip


def _round(t: float, *obs: dict[str, Any], elapsed: float = 1.0) -> dict[str, Any]:
    return {"t_wall": T0 + t, "observations": list(obs), "elapsed_s": elapsed, "helpers": 2}


def test_closed_allowed_path_inside_a_window_is_reported_not_failed() -> None:
    deny = lambda state: _obs("deny", "lb", "db", 5432, state)  # noqa: E731
    allow = lambda state: _obs("allow", "app", "db", 5432, state)  # noqa: E731
    data = {
        "config": {"settle": 5.0},
        "rounds": [
            _round(-2, deny("timeout"), allow("open")),
            _round(12, deny("timeout"), allow("timeout")),
            _round(30, deny("refused"), allow("open"), elapsed=2.0),
        ],
    }
    doc, checks = analyse_isolation(data, [WIN], T0)
    by_name = {c.name: c for c in checks}
    assert (by_name[DENY_CHECK].passed, by_name[DENY_CHECK].measured) == (True, 0.0)
    assert (by_name[ALLOW_CHECK].passed, by_name[ALLOW_CHECK].measured) == (True, 0.0)
    assert "1 closed inside fault windows (expected)" in by_name[ALLOW_CHECK].detail
    assert doc["matrix"]["during cut#0"]["allow app → db:5432"] == {"timeout": 1}
    assert doc["matrix"]["baseline"]["deny lb → db:5432"] == {"timeout": 1}
    assert doc["overhead"] == {
        "rounds": 3, "probes": 6, "helpers": 6, "round_mean_s": 1.333, "round_max_s": 2.0,
        "errors": [],
    }  # fmt: skip
    caption, rows = isolation_lines(parse_summary(summary_doc(isolation=doc))) or ("", [])
    assert caption.startswith("3 probe rounds, 6 probes, 6 helper containers")
    assert ("during cut#0", "allow app → db:5432", "timeout ×1", "closed (fault window)") in rows
    assert ("after recovery", "deny lb → db:5432", "refused ×1", "ok") in rows


def test_denied_open_and_allowed_closed_outside_windows_fail() -> None:
    denied_open = _obs("deny", "lb", "db", 5432, "open")
    data = {
        "rounds": [
            _round(-2, denied_open),
            _round(30, denied_open, _obs("allow", "lb", "app", 8000, "down")),
        ]
    }
    doc, checks = analyse_isolation(data, [WIN], T0)
    deny, allow = checks
    assert (deny.passed, deny.measured) == (False, 2.0)
    assert deny.detail.startswith("lb#1 → db#1:5432 open at t=-2.0s (baseline)")
    assert (allow.passed, allow.measured) == (False, 1.0)
    assert "lb#1 → app#1:8000 down at t=30.0s (after recovery)" in allow.detail
    _, rows = isolation_lines(parse_summary(summary_doc(isolation=doc))) or ("", [])
    assert ("baseline", "deny lb → db:5432", "open ×1", "VIOLATION") in rows


def test_no_round_or_only_errors_never_passes() -> None:
    _, checks = analyse_isolation({"rounds": []}, [], T0)
    assert [c.passed for c in checks] == [False, False]
    assert checks[0].detail == "no probe ran"
    errored = {"rounds": [{"t_wall": T0, "error": "engine gone", "observations": []}]}
    doc, checks = analyse_isolation(errored, [], T0)
    assert [c.passed for c in checks] == [False, False]
    assert doc["overhead"]["errors"] == ["engine gone"]


def test_a_rule_never_probed_fails_its_check() -> None:
    # lb was down in every round: nothing proves lb -> db closed.
    never = {"kind": "deny", "from": "lb", "to": "db", "port": 5432, "state": "unprobed"}
    data = {"rounds": [_round(-2, never, _obs("allow", "app", "db", 5432, "open"))]}
    _, (deny, allow) = analyse_isolation(data, [], T0)
    assert (deny.passed, deny.measured, deny.detail) == (False, 0.0, "lb → db never probed")
    assert allow.passed is True
