"""The master's roster of its workers, as the driver reads it."""

from __future__ import annotations

from pathlib import Path

from harness.load.roster import (
    Departure,
    Roster,
    RosterView,
    WorkerEntry,
    read_roster,
    worker_state,
    write_roster,
)

UUID = "0123456789abcdef0123456789abcdef"


def _w(index: int, state: str = "running", **kw: object) -> WorkerEntry:
    return WorkerEntry(
        id=f"hachaos-node-24{index}-w{index + 1}_{UUID}", index=index, state=state, **kw
    )  # type: ignore[arg-type]


def test_the_host_is_the_locust_id_without_its_uuid() -> None:
    assert _w(2).host == "hachaos-node-242-w3"
    assert _w(2).describe() == "w2 on hachaos-node-242-w3"
    # a host name with underscores keeps them; an id without a 32-hex tail is kept whole
    assert WorkerEntry(f"my_box_{UUID}", 0, "ready").host == "my_box"
    assert WorkerEntry("my_box_1234", 0, "ready").host == "my_box_1234"


def test_a_missing_worker_is_lost_only_while_the_test_runs() -> None:
    waiting = Roster(workers=(_w(0), _w(1, "missing")), test_running=False)
    assert waiting.lost() == []
    assert [w.index for w in waiting.joined()] == [0]
    running = Roster(workers=(_w(0), _w(1, "missing")), test_running=True)
    assert running.lost() == ["load worker w1 on hachaos-node-241-w2 stopped sending heartbeats"]


def test_a_worker_that_left_during_the_test_is_lost_even_after_it() -> None:
    gone = Departure(id=f"node-b-w2_{UUID}", index=1, at=12.0, how="stopped")
    roster = Roster(workers=(_w(0),), test_running=False, departed=(gone,))
    assert roster.lost() == ["load worker w1 on node-b-w2 stopped"]


def test_synced_needs_a_measured_clock_and_cpu_leaves_out_local_workers() -> None:
    roster = Roster(
        workers=(
            _w(0, offset_ms=0.1, uncertainty_ms=0.2, cpu=30.0, local=True),
            _w(1, cpu=55.0),
            _w(2, "missing", offset_ms=1.0, cpu=10.0),
        )
    )
    assert [w.index for w in roster.synced()] == [0]
    assert roster.cpu() == {_w(1).id: 55.0}


def test_clock_words() -> None:
    assert _w(0).clock() == "not measured"
    assert _w(0, offset_ms=-3.456, uncertainty_ms=0.25).clock() == "-3.46 ms ± 0.25 ms"
    applied = _w(0, offset_ms=812.0, uncertainty_ms=0.5, offset_applied=True)
    assert applied.clock() == "+812.00 ms ± 0.50 ms, corrected"


def test_round_trip_through_the_file(tmp_path: Path) -> None:
    assert read_roster(tmp_path) == Roster()  # nothing written yet
    roster = Roster(
        written=5.0,
        test_running=True,
        workers=(_w(0, cpu_s=1.5, first_offset_ms=0.2),),
        departed=(Departure("x_" + UUID, 3, 4.0, "missing"),),
    )
    write_roster(tmp_path, roster)
    assert read_roster(tmp_path) == roster
    (tmp_path / "workers.json").write_text("{torn")
    assert read_roster(tmp_path) == Roster()


def test_a_remote_worker_silent_for_8_s_is_missing_a_local_one_is_not() -> None:
    # Locust's own liveness is 60 s here; a worker on another host is judged at 8 s
    assert worker_state("running", local=False, silent_s=7.0) == "running"
    assert worker_state("running", local=False, silent_s=8.0) == "missing"
    assert worker_state("spawning", local=False, silent_s=0.0) == "spawning"
    # a CPU-starved worker on the master's host keeps Locust's state (its 60 s liveness)
    assert worker_state("running", local=True, silent_s=30.0) == "running"


def test_the_view_keeps_the_last_roster_with_workers_once_they_quit(tmp_path: Path) -> None:
    view = RosterView(tmp_path)
    assert view.read() == Roster()  # nothing written yet
    during = Roster(written=5.0, test_running=True, workers=(_w(0, cpu_s=1.5), _w(1)))
    write_roster(tmp_path, during)
    assert view.read() == during
    after = Roster(written=9.0, test_running=False)  # the workers quit with the master
    write_roster(tmp_path, after)
    assert view.read() == during
    lost = Roster(written=7.0, test_running=True, departed=(Departure("x", 1, 6.0, "missing"),))
    write_roster(tmp_path, lost)  # a departure is news: shown as written
    assert view.read() == lost
