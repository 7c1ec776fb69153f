"""Time to the desired replica count from swarm.* events, beside the load's recovery."""

from __future__ import annotations

from typing import Any

from harness.analysis.swarm import replaced_text, swarm_recovery

T0 = 1000.0


def _replicas(wall: float, running: int, since: float, desired: int = 3) -> dict[str, Any]:
    return {
        "kind": "swarm.replicas",
        "wall": wall,
        "service": "app",
        "running": running,
        "desired": desired,
        "since": since,
    }


APPLY = {"kind": "fault.apply", "key": "k#0", "ok": True, "service": "app"}
REVERT = {
    "kind": "fault.revert",
    "key": "k#0",
    "ok": True,
    "replaced": [
        {
            "service": "app",
            "slot": 2,
            "task": "newtask1234567",
            "container": "c1",
            "running_wall": 1013.5,
        }
    ],
}


def _fault(
    injected_s: float = 10.0, recovered_at_s: float | None = 11.0, failures: int = 4
) -> dict[str, Any]:
    return {
        "key": "k#0",
        "injected_s": injected_s,
        "recovered_at_s": recovered_at_s,
        "failures": failures,
    }


def test_no_swarm_events_means_no_swarm_section() -> None:
    assert swarm_recovery([APPLY], [_fault()], T0) is None


def test_kill_dip_and_restore_measured_from_injection_with_swarms_time() -> None:
    events = [
        _replicas(990.0, 3, 985.0),
        APPLY,
        _replicas(1010.3, 2, 985.0),  # polled after the kill at 1010.0
        _replicas(1013.8, 3, 1013.5),  # Swarm says the new task runs since 1013.5
        REVERT,
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, 11.0)], T0) or []
    assert row["desired"] == 3 and row["replica_dip"] is True
    assert row["time_to_desired_s"] == 3.5  # 1013.5 - 1010.0
    assert row["load_recovery_s"] == 1.0  # 11.0 - 10.0
    assert row["disagree"] is True  # 2.5 s apart, tolerance 2 s
    assert "2.5 s before Swarm was back to 3 replicas" in row["note"]
    assert replaced_text(row, T0) == "app.2: task newtask12345 (container c1) running at +13.5 s"


def test_close_recoveries_agree() -> None:
    events = [
        _replicas(990.0, 3, 985.0),
        APPLY,
        _replicas(1010.3, 2, 985.0),
        _replicas(1012.0, 3, 1012.0),
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, 12.5)], T0) or []
    assert row["time_to_desired_s"] == 2.0 and row["load_recovery_s"] == 2.5
    assert row["disagree"] is False and row["note"] == ""


def test_a_count_that_never_dips_is_zero_and_a_load_outage_is_flagged() -> None:
    events = [_replicas(990.0, 3, 985.0), APPLY]
    (row,) = swarm_recovery(events, [_fault(10.0, 18.0)], T0) or []
    assert row["replica_dip"] is False and row["time_to_desired_s"] == 0.0
    assert row["disagree"] is True
    assert (
        "Swarm was back to 3 replicas after 0.0 s, but the load recovered only after 8.0 s"
        in (row["note"])
    )


def test_a_count_that_never_comes_back() -> None:
    events = [_replicas(990.0, 3, 985.0), APPLY, _replicas(1011.0, 1, 985.0)]
    (row,) = swarm_recovery(events, [_fault(10.0, 12.0)], T0) or []
    assert row["time_to_desired_s"] is None and row["disagree"] is True
    assert "never got back to 3 replicas" in row["note"]


def test_other_services_and_unapplied_faults_are_ignored() -> None:
    other = {**_replicas(1010.5, 0, 0.0), "service": "redis"}
    events = [_replicas(990.0, 3, 985.0), APPLY, other]
    rows = swarm_recovery(events, [_fault(), {"key": "x#0", "injected_s": 1.0}], T0) or []
    assert [r["key"] for r in rows] == ["k#0"]
    assert rows[0]["replica_dip"] is False


def test_no_failed_request_is_a_load_recovery_of_zero() -> None:
    # the load-based recovery counts from the revert (15 s here); no request failed
    events = [
        _replicas(990.0, 3, 985.0),
        APPLY,
        _replicas(1010.3, 2, 985.0),
        _replicas(1013.0, 3, 1013.0),
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, 15.0, failures=0)], T0) or []
    assert row["load_recovery_s"] == 0.0 and row["time_to_desired_s"] == 3.0
    assert "load recovered after 0.0 s, 3.0 s before Swarm was back" in row["note"]


def test_unknown_desired_count_and_neither_recovered() -> None:
    # no count polled before the injection at 1010.0: nothing to compare with
    (row,) = swarm_recovery([APPLY, _replicas(1011.0, 2, 985.0)], [_fault()], T0) or []
    assert (row["desired"], row["replica_dip"], row["time_to_desired_s"]) == (None, False, None)
    assert row["note"] == "the replica count before the fault is unknown"
    # neither the load nor the count came back: the checks say so, no extra note
    events = [_replicas(990.0, 3, 985.0), APPLY, _replicas(1011.0, 2, 985.0)]
    (row,) = swarm_recovery(events, [_fault(10.0, None)], T0) or []
    assert (row["load_recovery_s"], row["time_to_desired_s"]) == (None, None)
    assert (row["disagree"], row["note"]) == (False, "")


def test_replicas_back_but_the_load_never_recovered() -> None:
    events = [
        _replicas(1010.0, 3, 985.0),  # polled exactly at the injection: still "before"
        APPLY,
        _replicas(1011.0, 2, 985.0),
        _replicas(1014.0, 3, 0.0),  # no `since` from Swarm: the poll time counts
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, None)], T0) or []
    assert (row["desired"], row["time_to_desired_s"]) == (3, 4.0)
    assert row["note"] == "replicas back to 3 after 4.0 s, but the load never recovered"
    assert row["replaced"] == [] and replaced_text(row, T0) == ""


def test_the_tolerance_bounds_are_inclusive_and_configurable() -> None:
    events = [
        _replicas(990.0, 3, 985.0),
        APPLY,
        _replicas(1010.5, 2, 985.0),
        _replicas(1013.0, 3, 1013.0),
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, 15.5)], T0) or []  # load 5.5, Swarm 3.0
    assert (row["disagree"], row["note"]) == (True, (
        "Swarm was back to 3 replicas after 3.0 s, but the load recovered only after 5.5 s"
    ))  # fmt: skip
    (row,) = swarm_recovery(events, [_fault(10.0, 15.0)], T0) or []
    assert (row["disagree"], row["note"]) == (False, "")  # exactly 2.0 s apart: within
    (row,) = swarm_recovery(events, [_fault(10.0, 15.5)], T0, tolerance=2.5) or []
    assert row["disagree"] is False
    (row,) = swarm_recovery(events, [_fault(10.0, 15.5)], T0, tolerance=2.4) or []
    assert row["disagree"] is True
    (row,) = swarm_recovery(events, [_fault(10.0, 11.0)], T0) or []  # load 1.0, Swarm 3.0
    assert (row["disagree"], row["note"]) == (False, "")  # 2.0 s apart: within
    (row,) = swarm_recovery(events, [_fault(10.0, 10.5)], T0) or []
    assert row["note"] == (
        "load recovered after 0.5 s, 2.5 s before Swarm was back to 3 replicas"
        " (the load balancer hid the loss)"
    )


def test_failed_applies_and_faults_never_injected_are_skipped() -> None:
    events = [_replicas(990.0, 3, 985.0), {**APPLY, "ok": False}]
    assert swarm_recovery(events, [_fault()], T0) == []
    events = [_replicas(990.0, 3, 985.0), APPLY]
    assert swarm_recovery(events, [{**_fault(), "injected_s": None}], T0) == []


def test_replaced_text_without_a_running_time() -> None:
    row = {"replaced": [{"service": "app", "slot": 1, "task": "t" * 20, "container": "c9"},
                        {"service": "app", "slot": 3, "task": "abc", "container": "c8",
                         "running_wall": 1002.25}]}  # fmt: skip
    assert replaced_text(row, T0) == (
        "app.1: task tttttttttttt (container c9) running at ?; "
        "app.3: task abc (container c8) running at +2.2 s"
    )


def test_a_poll_at_the_injection_instant_counts_as_before_and_later_faults_still_count() -> None:
    # polled at 1010.0 exactly, when the fault was injected: the state before it
    events = [_replicas(990.0, 3, 985.0), _replicas(1010.0, 2, 985.0), APPLY]
    unapplied = {"key": "x#0", "injected_s": 1.0, "recovered_at_s": None, "failures": 0}
    rows = swarm_recovery(events, [unapplied, _fault(10.0, 11.0)], T0) or []
    assert [(r["key"], r["service"]) for r in rows] == [("k#0", "app")]
    assert (rows[0]["desired"], rows[0]["replica_dip"], rows[0]["time_to_desired_s"]) == (
        3, False, 0.0
    )  # fmt: skip


def test_a_replacement_with_a_name_is_named_whole() -> None:
    row = {
        "replaced": [
            {
                "service": "app",
                "slot": 2,
                "task": "app-5d8f7c9b4-x2x9z",
                "name": "app-5d8f7c9b4-x2x9z",
                "container": "0123456789ab",
                "running_wall": T0 + 12.25,
            }
        ]
    }
    assert replaced_text(row, T0) == (
        "app.2: app-5d8f7c9b4-x2x9z (container 0123456789ab) running at +12.2 s"
    )


def test_the_note_names_the_platform_its_observer_names() -> None:
    events = [
        {**_replicas(990.0, 3, 985.0), "platform": "Kubernetes"},
        APPLY,
        {**_replicas(1010.3, 2, 985.0), "platform": "Kubernetes"},
        {**_replicas(1016.0, 3, None), "platform": "Kubernetes"},
        REVERT,
    ]
    (row,) = swarm_recovery(events, [_fault(10.0, 11.0)], T0) or []
    assert row["time_to_desired_s"] == 6.0  # no `since`: the watch's own time, 1016 - 1010
    assert "5.0 s before Kubernetes was back to 3 replicas" in row["note"]
