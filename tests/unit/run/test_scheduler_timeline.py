"""The fault scheduler's queue: what is due, in which order, and what an abort drops."""

from __future__ import annotations

from harness.run.scheduler import Kind, Timeline


def _drain(line: Timeline, now: float) -> list[tuple[float, Kind, object]]:
    out = []
    while (due := line.due(now)) is not None:
        entry = line.pop()
        assert entry == due
        out.append((entry.at, entry.kind, entry.item))
    return out


def test_entries_come_out_by_time_then_kind_then_order_of_entry() -> None:
    line = Timeline()
    line.add(5.0, Kind.TICK)
    line.add(5.0, Kind.ACTION, "revert a")
    line.add(5.0, Kind.ACTION, "apply b")  # same instant and kind: after "revert a"
    line.add(5.0, Kind.PHASE, "run")
    line.add(5.0, Kind.END)
    line.add(5.0, Kind.STEADY)
    line.add(4.5, Kind.ACTION, "apply a")
    assert _drain(line, 5.0) == [
        (4.5, Kind.ACTION, "apply a"),
        (5.0, Kind.PHASE, "run"),
        (5.0, Kind.STEADY, None),
        (5.0, Kind.ACTION, "revert a"),
        (5.0, Kind.ACTION, "apply b"),
        (5.0, Kind.END, None),
        (5.0, Kind.TICK, None),
    ]


def test_nothing_is_due_before_its_time_and_next_at_names_the_earliest() -> None:
    line = Timeline()
    line.add(3.0, Kind.END)
    line.add(2.0, Kind.TICK)
    assert line.due(1.999) is None
    assert line.next_at() == 2.0
    assert line.due(2.0) is not None and line.pop().kind == Kind.TICK
    assert line.next_at() == 3.0


def test_drop_removes_one_kind_in_time_order_and_keeps_the_rest_ordered() -> None:
    line = Timeline()
    for at, kind, item in [
        (9.0, Kind.ACTION, "revert later"),
        (1.0, Kind.PHASE, "run"),
        (8.0, Kind.ACTION, "apply later"),
        (7.0, Kind.END, None),
        (6.0, Kind.PHASE, "cooldown"),
    ]:
        line.add(at, kind, item)
    dropped = line.drop(Kind.ACTION)
    assert [(d.at, d.item) for d in dropped] == [(8.0, "apply later"), (9.0, "revert later")]
    assert line.drop(Kind.ACTION) == []
    assert _drain(line, 100.0) == [
        (1.0, Kind.PHASE, "run"),
        (6.0, Kind.PHASE, "cooldown"),
        (7.0, Kind.END, None),
    ]
