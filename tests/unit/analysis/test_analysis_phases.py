"""Fault windows from events, infrastructure errors, and the phase partition."""

from __future__ import annotations

import numpy as np
from hachaos_runfolder import fault_events

from harness.analysis.phases import FaultWindow, fault_windows, infrastructure_errors, phases

T0 = 1_700_000_000.0


def test_apply_and_revert_pair_by_name_and_occurrence() -> None:
    events = fault_events("kill-1", 20.0, 20.5, 30.0) + fault_events(
        "kill-1", 40.0, 40.25, 45.0, occurrence=1
    )
    first, second = fault_windows(events, T0)
    assert (first.key, first.injected_s, first.in_effect_s, first.reverted_s) == (
        "kill-1#0",
        20.0,
        20.5,
        30.0,
    )
    assert (second.key, second.reverted_s, second.recovery_from) == ("kill-1#1", 45.0, 45.0)


def test_self_healing_fault_recovers_from_injection_and_window_is_the_apply() -> None:
    (crash,) = fault_windows(fault_events("crash-1", 10.0, 10.5, self_healing=True), T0)
    assert crash.recovery_from == 10.0
    assert crash.window_end(60.0) == 10.5


def test_missing_revert_keeps_window_open_and_cannot_recover() -> None:
    (kill,) = fault_windows(fault_events("kill-1", 10.0, 10.5), T0)
    assert kill.window_end(60.0) == 60.0
    assert kill.recovery_from is None


def test_infrastructure_errors_name_the_fault() -> None:
    events = fault_events("kill-1", 10.0, 10.5, ok=False) + fault_events(
        "pause-2", 20.0, 20.1, 25.0, revert_ok=False
    )
    errors = infrastructure_errors(events)
    assert errors == [
        "fault kill-1#0 was not applied: container vanished",
        "fault pause-2#0 could not be reverted: start failed",
    ]


def _window(injected: float, reverted: float | None, **kw: object) -> FaultWindow:
    fields: dict[str, object] = {
        "name": "f",
        "type": "kill",
        "index": 0,
        "occurrence": 0,
        "targets": (),
        "planned_s": injected,
        "applied": True,
        "injected_s": injected,
        "in_effect_s": injected,
        "reverted_s": reverted,
        "revert_ok": True,
        "self_healing": False,
        "error": None,
    }
    fields.update(kw)
    return FaultWindow(**fields)  # type: ignore[arg-type]


def test_phases_partition_the_run() -> None:
    p = phases([_window(20.0, 30.0)], {"f#0": 33.0}, 60.0)
    assert p.intervals("baseline") == [(0.0, 20.0)]
    assert p.intervals("during_faults") == [(20.0, 30.0)]
    assert p.intervals("recovery") == [(30.0, 33.0)]
    assert p.intervals("after_recovery") == [(33.0, 60.0)]
    assert sum(p.duration(n) for n in ("baseline", "during_faults", "recovery")) == 33.0


def test_unrecovered_fault_is_recovery_until_the_end() -> None:
    p = phases([_window(20.0, 30.0)], {"f#0": None}, 60.0)
    assert p.intervals("recovery") == [(30.0, 60.0)]
    assert p.duration("after_recovery") == 0.0


def test_fault_windows_take_priority_over_recovery_and_unapplied_faults_are_ignored() -> None:
    a = _window(10.0, 20.0)
    b = _window(22.0, 25.0, name="g")
    ghost = _window(40.0, 45.0, name="h", applied=False)
    p = phases([a, b, ghost], {"f#0": 30.0, "g#0": 27.0}, 60.0)
    assert p.intervals("during_faults") == [(10.0, 20.0), (22.0, 25.0)]
    assert p.intervals("recovery") == [(20.0, 22.0), (25.0, 30.0)]
    assert p.intervals("after_recovery") == [(30.0, 60.0)]
    labels = p.label_of(np.array([5.0, 21.0, 41.0]))
    assert labels.tolist() == [0, 2, 3]


def test_no_fault_means_all_baseline() -> None:
    p = phases([], {}, 60.0)
    assert p.intervals("baseline") == [(0.0, 60.0)]


def test_fault_window_carries_the_mechanism_of_its_apply() -> None:
    events = fault_events("latency-1", 5.0, 5.5, 9.0, type_="latency")
    events[0]["mechanism"] = "proxy"
    (proxied,) = fault_windows(events, T0)
    (plain,) = fault_windows(fault_events("kill-1", 5.0, 5.5, 9.0), T0)
    assert (proxied.mechanism, plain.mechanism) == ("proxy", None)
