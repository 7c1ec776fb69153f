"""Hand-made boundary cases of the checkers: ties, the reductions, bounds, unknowns."""

from __future__ import annotations

from histories import op

from harness.analysis.consistency.check import Limits, check_history
from harness.analysis.consistency.history import from_rows
from harness.analysis.consistency.models import UNSEEN, register_calls, register_step
from harness.analysis.consistency.sessions import register_stale
from harness.analysis.consistency.wgl import INF, Bounds, Call, linearizable
from harness.analysis.consistency.zones import check_key


def _general(history: list) -> str:  # type: ignore[type-arg]
    calls, _ = register_calls(history)
    return linearizable(calls, None, register_step).verdict


def test_forward_zones_that_only_touch_are_concurrent() -> None:
    # zone of 1: [1, 5] (written by 1, read from 5); zone of 2: [5, 8]: the op that
    # completes at 5 and the read invoked at 5 are concurrent, so 1 then 2 fits
    history = [
        op(0, "write", "1", 0, 1),
        op(1, "read", "1", 5, 6),
        op(2, "write", "2", 3, 5),
        op(3, "read", "2", 8, 9),
    ]
    assert check_key("k", history).linearizable
    assert _general(history) == "ok"
    # one tick later the zones overlap: 2 was surely written (5) before 1 was read (6)
    late = [*history[:1], op(1, "read", "1", 6, 7), *history[2:]]
    result = check_key("k", late)
    assert [c.kind for c in result.conflicts] == ["overlap"]
    assert _general(late) == "illegal"


def test_backward_zone_touching_a_forward_zone_is_fine() -> None:
    # zone of 1: forward [1, 6]; the write of 2 spans [6, 7]: it may follow the read at 6
    history = [op(0, "write", "1", 0, 1), op(1, "read", "1", 6, 8), op(2, "write", "2", 6, 7)]
    assert check_key("k", history).linearizable
    assert _general(history) == "ok"
    inside = [op(0, "write", "1", 0, 1), op(1, "read", "1", 6, 8), op(2, "write", "2", 2, 5)]
    assert [c.kind for c in check_key("k", inside).conflicts] == ["contained"]


def test_read_of_nil_after_a_completed_write_is_a_conflict() -> None:
    history = [op(0, "write", "1", 0, 1), op(1, "read", None, 2, 3)]
    assert [c.kind for c in check_key("k", history).conflicts] == ["contained"]
    assert _general(history) == "illegal"
    assert check_key("k", [op(0, "write", "1", 0, 5), op(1, "read", None, 2, 3)]).linearizable


def test_info_write_counts_only_when_read() -> None:
    unseen = [op(0, "write", "1", 0, 1, type="info"), op(1, "read", None, 5, 6)]
    assert check_key("k", unseen).linearizable  # it may never have happened
    seen = [op(0, "write", "1", 0, 1, type="info"), op(1, "read", "1", 5, 6)]
    assert check_key("k", seen).linearizable
    assert _general(seen) == "ok"


def test_fast_check_needs_unique_values() -> None:
    try:
        check_key("k", [op(0, "write", "1", 0, 1), op(1, "write", "1", 2, 3)])
    except ValueError as exc:
        assert "written twice" in str(exc)
    else:
        raise AssertionError("a value written twice must be refused")


def test_twins_are_only_ordered_when_nested() -> None:
    # a long write of x and a short one; x must be current again after y: only the
    # long write can be the later x, so forcing call order (long first) would be wrong
    history = [
        op(0, "write", "x", 0, 10),
        op(1, "write", "x", 1, 2),
        op(2, "write", "y", 3, 4),
        op(3, "read", "x", 6, 7),
    ]
    assert _general(history) == "ok"


def test_unseen_values_merge_into_one_state() -> None:
    history = [op(0, "write", "1", 0, 1), op(1, "write", "2", 2, 3), op(2, "read", "2", 4, 5)]
    calls, kept = register_calls(history)
    assert [c.input for c in calls] == [(1, UNSEEN, None), (1, "2", None), (0, "2", None)]
    assert [o.index for o in kept] == [0, 1, 2]


def test_info_calls_never_return_and_fails_are_left_out() -> None:
    history = [
        op(0, "write", "1", 0, 1, type="info"),
        op(1, "write", "2", 0, 1, type="fail"),
        op(2, "cas", ("1", "3"), 2, 3, type="fail", mismatch=True),
        op(3, "read", None, 2, 3, type="info"),
    ]
    calls, kept = register_calls(history)
    assert [o.index for o in kept] == [0, 2]
    assert calls[0].ret == INF
    assert calls[1] == Call(2, 3, (4, "1", None), True)  # a mismatch is definite and pure


def test_search_bounds_give_unknown_never_ok() -> None:
    # 12 concurrent writes of distinct values and a read: many orders to try
    writes = [Call(0, 10, (1, str(i), None)) for i in range(12)]
    calls = [*writes, Call(11, 12, (0, "none of them", None), True)]
    tight = linearizable(calls, None, register_step, Bounds(max_configurations=50))
    assert (tight.verdict, tight.reason) == ("unknown", "configuration bound reached")
    ticks = iter(range(10**9))
    timed = linearizable(
        calls, None, register_step, Bounds(deadline=5.0, clock=lambda: float(next(ticks)))
    )
    assert (timed.verdict, timed.reason) == ("unknown", "time bound reached")
    assert linearizable(calls, None, register_step).verdict == "illegal"


def test_check_history_reports_unknown_keys_as_undecided() -> None:
    # ten concurrent writes, then ten reads that each see another value: not linearizable,
    # but proving it takes about 10 x 2^9 configurations, more than the bound allows
    history = [op(i, "write", str(i), 0, 10) for i in range(10)]
    history += [op(10 + i, "read", str(i), 11, 12) for i in range(10)]
    history.append(op(20, "cas", ("0", "x"), 0, 10, type="info"))  # a cas: the general check
    result = check_history(history, "register", Limits(configurations=1000))
    (lin,) = [c for c in result["checks"] if c["check"] == "linearizability"]
    assert lin["unknown"].startswith("1 key(s) undecided within the bounds")
    assert "configuration bound reached" in lin["unknown"]
    assert result["linearizability"]["unknown_keys"] == 1
    assert check_history(history, "register")["linearizability"]["illegal_keys"] == 1


def test_stale_read_counts_every_newer_version_it_missed() -> None:
    ms = 1_000_000
    history = [
        op(0, "write", "1", 0, 10 * ms),
        op(1, "write", "2", 20 * ms, 30 * ms),
        op(2, "write", "3", 40 * ms, 50 * ms),
        op(3, "read", "1", 65 * ms, 70 * ms),
    ]
    (stale,) = register_stale(history)
    assert (stale.behind_versions, stale.behind_ms, stale.newer.index) == (2, 35.0, 1)


def test_rows_become_operations_in_invoke_order() -> None:
    rows = [
        {
            "process": "b",
            "f": "write",
            "key": "k",
            "value": "2",
            "type": "ok",
            "invoke_ns": 5,
            "complete_ns": 9,
        },
        {
            "process": "a",
            "f": "read",
            "key": "k",
            "elements": ["1", 2],
            "type": "ok",
            "invoke_ns": 1,
            "complete_ns": 3,
        },
        {
            "process": "a",
            "f": "cas",
            "key": "k",
            "value": "3",
            "expected": "2",
            "type": "fail",
            "mismatch": True,
            "invoke_ns": 10,
            "complete_ns": 11,
        },
    ]
    ops = from_rows(rows)
    assert [(o.index, o.f, o.value) for o in ops] == [
        (0, "read", ("1", "2")),
        (1, "write", "2"),
        (2, "cas", ("2", "3")),
    ]
    assert ops[2].mismatch and ops[2].describe() == "cas(k, 2→3) mismatch"
    for bad, message in (
        ({**rows[0], "f": "delete"}, "unknown function"),
        ({**rows[0], "type": "maybe"}, "unknown type"),
        ({**rows[0], "complete_ns": 1}, "completes before it is invoked"),
    ):
        try:
            from_rows([bad])
        except ValueError as exc:
            assert message in str(exc) and "history row 0" in str(exc)
        else:
            raise AssertionError(message)
