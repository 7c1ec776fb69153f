"""Planted anomalies: one hand-made history per class, each with the witness it must give.

Times are in ns, written as ms * MS so the staleness figures read in milliseconds.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from histories import op

from harness.analysis.consistency.anomaly import Anomaly
from harness.analysis.consistency.check import check_history
from harness.analysis.consistency.history import Op
from harness.analysis.consistency.lists import cycles

MS = 1_000_000


def _checks(result: dict[str, Any]) -> dict[str, int]:
    return {c["check"]: c["anomalies"] for c in result["checks"]}


def _witness(result: dict[str, Any], kind: str) -> list[str]:
    (found,) = [w for w in result["witnesses"] if w["kind"] == kind]
    return [o["text"] for o in found["ops"]]


def _w(i: int, v: str, a: int, b: int, proc: str = "", **kw: Any) -> Op:
    return op(i, "write", v, a * MS, b * MS, process=proc, **kw)


def _r(i: int, v: object, a: int, b: int, proc: str = "", **kw: Any) -> Op:
    return op(i, "read", v, a * MS, b * MS, process=proc, **kw)


def _a(i: int, v: str, a: int, b: int, proc: str = "", **kw: Any) -> Op:
    return op(i, "append", v, a * MS, b * MS, process=proc, **kw)


# ------------------------------------------------------------------ register
def test_stale_read_is_non_linearizable_with_its_staleness() -> None:
    # 1 is written, then 2 (completed at 30 ms); a read at 40 ms still returns 1
    history = [_w(0, "1", 0, 10), _w(1, "2", 20, 30), _r(2, "1", 40, 50)]
    result = check_history(history, "register")
    assert _checks(result) == {
        "linearizability": 1,
        "stale reads": 1,
        "read-your-writes": 0,
        "monotonic reads": 0,
        "monotonic writes": 0,
    }
    assert _witness(result, "non-linearizable") == ["write(k, 1)", "write(k, 2)", "read(k) → 1"]
    assert _witness(result, "stale-read") == ["write(k, 2)", "read(k) → 1"]
    assert result["stale"] == {
        "reads": 1,
        "stale": 1,
        "ms": {"p50": 10.0, "p99": 10.0, "max": 10.0},  # 40 ms - 30 ms
        "versions": {"p50": 1.0, "p99": 1.0, "max": 1.0},
    }


def test_read_of_a_never_written_value() -> None:
    result = check_history([_w(0, "1", 0, 10), _r(1, "9", 20, 30)], "register")
    assert _checks(result)["linearizability"] == 1
    assert _witness(result, "non-linearizable") == ["read(k) → 9"]


def test_read_of_a_failed_write() -> None:
    history = [_w(0, "1", 0, 10, type="fail"), _r(1, "1", 20, 30)]
    result = check_history(history, "register")
    assert _witness(result, "non-linearizable") == ["write(k, 1)", "read(k) → 1"]


def test_read_that_completes_before_its_write_starts() -> None:
    result = check_history([_r(0, "1", 0, 10), _w(1, "1", 20, 30)], "register")
    assert _witness(result, "non-linearizable") == ["read(k) → 1", "write(k, 1)"]


def test_flip_flop_between_two_values_is_an_overlap() -> None:
    # 2 is read (40-50 ms) after 1 was current, then 1 again (60-70), then 2 (80-90)
    history = [
        _w(0, "1", 0, 10),
        _w(1, "2", 20, 30),
        _r(2, "2", 40, 50),
        _r(3, "1", 60, 70),
        _r(4, "2", 80, 90),
    ]
    result = check_history(history, "register")
    assert _checks(result)["linearizability"] == 1
    # the two forward zones: 1 from 10 ms (written) to 60 ms (read), 2 from 30 to 80 ms
    assert _witness(result, "non-linearizable") == [
        "write(k, 1)",
        "write(k, 2)",
        "read(k) → 1",
        "read(k) → 2",
    ]


def test_read_your_writes() -> None:
    # q writes 1; p writes 2 afterwards, then p reads 1: p did not see its own write
    history = [_w(0, "1", 0, 10, "q"), _w(1, "2", 20, 30, "p"), _r(2, "1", 40, 50, "p")]
    result = check_history(history, "register")
    assert _checks(result)["read-your-writes"] == 1
    assert _witness(result, "read-your-writes") == ["write(k, 1)", "write(k, 2)", "read(k) → 1"]


def test_monotonic_reads() -> None:
    history = [
        _w(0, "1", 0, 10, "q"),
        _w(1, "2", 20, 30, "q"),
        _r(2, "2", 20, 45, "p"),  # concurrent with the write of 2: may see it
        _r(3, "1", 50, 60, "p"),  # then the older 1
    ]
    result = check_history(history, "register")
    assert _checks(result)["monotonic reads"] == 1
    assert _witness(result, "monotonic-reads") == [
        "write(k, 1)",
        "write(k, 2)",
        "read(k) → 2",
        "read(k) → 1",
    ]


def test_monotonic_writes() -> None:
    # q writes 1 then 2; r sees 2, then s (after r completed) sees 1
    history = [
        _w(0, "1", 0, 10, "q"),
        _w(1, "2", 20, 30, "q"),
        _r(2, "2", 25, 35, "r"),
        _r(3, "1", 40, 50, "s"),
    ]
    result = check_history(history, "register")
    assert _checks(result)["monotonic writes"] == 1
    assert _witness(result, "monotonic-writes") == [
        "write(k, 1)",
        "write(k, 2)",
        "read(k) → 2",
        "read(k) → 1",
    ]


def test_concurrent_reads_of_old_and_new_are_fine() -> None:
    # both reads overlap the write of 2: either value is linearizable
    history = [_w(0, "1", 0, 10), _w(1, "2", 20, 60), _r(2, "2", 30, 40), _r(3, "1", 45, 55)]
    result = check_history(history, "register")
    # 2 then 1 while 2 is still being written is not linearizable (2 was seen, then gone)
    assert _checks(result)["linearizability"] == 1
    history = [_w(0, "1", 0, 10), _w(1, "2", 20, 60), _r(2, "1", 30, 40), _r(3, "2", 45, 55)]
    assert sum(_checks(check_history(history, "register")).values()) == 0


# ------------------------------------------------------------------ list-append
def test_lost_append() -> None:
    history = [_a(0, "x", 0, 10), _a(1, "y", 20, 30), _r(2, ("x",), 40, 50)]
    result = check_history(history, "list-append")
    assert _checks(result)["lost appends"] == 1
    assert _witness(result, "lost-append") == ["append(k, y)", "read(k) → [x]"]


def test_incompatible_orders() -> None:
    history = [_a(0, "x", 0, 10), _a(1, "y", 0, 10), _r(2, ("x", "y"), 20, 30)]
    history.append(_r(3, ("y", "x"), 40, 50))
    result = check_history(history, "list-append")
    assert _checks(result)["incompatible orders"] == 1
    assert _witness(result, "incompatible-order") == ["read(k) → [x y]", "read(k) → [y x]"]


def test_duplicate_element() -> None:
    history = [_a(0, "x", 0, 10), _r(1, ("x", "x"), 20, 30)]
    result = check_history(history, "list-append")
    assert _checks(result)["duplicates"] == 1
    assert _witness(result, "duplicate") == ["append(k, x)", "read(k) → [x x]"]


def test_never_acknowledged_elements() -> None:
    history = [_a(0, "x", 0, 10, type="fail"), _a(1, "y", 0, 10, type="info")]
    history.append(_r(2, ("x", "y", "z"), 20, 30))
    result = check_history(history, "list-append")
    # x's append failed, z was never appended; y's append timed out: it may have landed
    assert _checks(result)["never-acknowledged reads"] == 2
    texts = [w["text"] for w in result["witnesses"] if w["kind"] == "never-acknowledged"]
    assert texts == [
        "read(k) → [x y z] holds 'x', whose append failed",
        "read(k) → [x y z] holds 'z', that nobody appended",
    ]


def test_stale_list_read_is_g_single_realtime() -> None:
    # y's append completed at 30 ms; a read at 40 ms sees only x
    history = [_a(0, "x", 0, 10), _a(1, "y", 20, 30), _r(2, ("x",), 40, 50)]
    history.append(_r(3, ("x", "y"), 60, 70))
    result = check_history(history, "list-append")
    assert _checks(result)["dependency cycles"] == 1
    (cycle,) = [w for w in result["witnesses"] if w["kind"].startswith("G")]
    assert cycle["kind"] == "G-single-realtime"
    assert cycle["edges"] == [[2, 1, "rw"], [1, 2, "rt"]]
    assert _checks(result)["stale reads"] == 1
    assert result["stale"]["ms"]["max"] == 10.0


def test_later_append_ordered_first_is_g0_realtime() -> None:
    history = [_a(0, "x", 0, 10), _a(1, "y", 20, 30), _r(2, ("y", "x"), 40, 50)]
    result = check_history(history, "list-append")
    (cycle,) = [w for w in result["witnesses"] if w["kind"].startswith("G")]
    assert cycle["kind"] == "G0-realtime"
    assert cycle["edges"] == [[0, 1, "rt"], [1, 0, "ww"]]


def test_read_of_the_future_is_g1c_realtime() -> None:
    # a read that completed before x was even appended sees [x y]
    history = [_r(0, ("x", "y"), 0, 10), _a(1, "x", 20, 30), _a(2, "y", 40, 50)]
    result = check_history(history, "list-append")
    kinds = sorted(w["kind"] for w in result["witnesses"] if w["kind"].startswith("G"))
    assert kinds == ["G1c-realtime"]
    (cycle,) = [w for w in result["witnesses"] if w["kind"] == "G1c-realtime"]
    assert cycle["edges"] == [[0, 1, "rt"], [1, 2, "ww"], [2, 0, "wr"]]


def _graph(edges: list[tuple[int, int, str]]) -> nx.DiGraph[int]:
    graph: nx.DiGraph[int] = nx.DiGraph()
    for a, b, kind in edges:
        for n in (a, b):
            graph.add_node(n, op=op(n, "append", str(n), n, n + 1))
        if graph.has_edge(a, b):
            graph.edges[a, b]["kinds"].add(kind)
        else:
            graph.add_edge(a, b, kinds={kind})
    return graph


def _only(found: list[Anomaly]) -> tuple[str, list[tuple[int, int, str]]]:
    (cycle,) = found
    return cycle.kind, list(cycle.edges)


def test_cycle_classes_on_transaction_graphs() -> None:
    assert _only(cycles(_graph([(1, 2, "ww"), (2, 1, "ww")]))) == (
        "G0",
        [(1, 2, "ww"), (2, 1, "ww")],
    )
    assert _only(cycles(_graph([(1, 2, "ww"), (2, 1, "wr")])))[0] == "G1c"
    assert _only(cycles(_graph([(1, 2, "rw"), (2, 1, "wr")]))) == (
        "G-single",
        [(1, 2, "rw"), (2, 1, "wr")],
    )
    assert _only(cycles(_graph([(1, 2, "rw"), (2, 3, "rw"), (3, 1, "ww")])))[0] == "G2"
    # a ww cycle is reported as G0 even where an rw edge also closes one
    assert _only(cycles(_graph([(1, 2, "ww"), (2, 1, "ww"), (2, 1, "rw")])))[0] == "G0"
    assert cycles(_graph([(1, 2, "ww"), (2, 3, "rw")])) == []
