"""List-append checks after Elle (Kingsbury & Alvaro, VLDB 2020).

Appends of unique elements make a list's history self-describing: the longest
read gives the order in which the elements were appended (the version order),
and every other read must be a prefix of it. Per key:

- **duplicate**: a read holds an element twice;
- **never acknowledged**: a read holds an element whose append failed (an
  aborted read, G1a) or that nobody appended; an ``info`` append may show up;
- **incompatible order**: a read that is not a prefix of the longest read;
- **lost append**: an acknowledged append missing from the key's final read
  (the last read invoked after it completed: the final-read phase's, when the
  run made one, see :mod:`harness.run.final_reads`);

and over all keys, the dependency graph of the operations:

- ``ww``: an append -> the next append in the version order;
- ``wr``: an append -> each read whose last element it appended;
- ``rw``: a read -> the append of the element after its last one;
- ``rt`` (real time): an operation -> each operation invoked after it
  completed (a sparse set with the same transitive closure).

Each strongly connected component (networkx) holds a cycle, classified like
Elle: only ww edges **G0**, ww and wr **G1c**, exactly one rw **G-single**,
more **G2**; ``-realtime`` when the cycle needs a real-time edge (with
single-operation transactions on one key each, every cycle does).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence

import networkx as nx

from harness.analysis.consistency.anomaly import Anomaly, of, present
from harness.analysis.consistency.history import Op

EDGE_ORDER = ("ww", "wr", "rw", "rt")
CYCLE_CLASSES = tuple(f"{c}{s}" for c in ("G0", "G1c", "G-single", "G2") for s in ("", "-realtime"))
MAX_STARTS = 64  # edges a cycle search starts from in one component (bounds big components)


def key_anomalies(key: str, ops: Sequence[Op]) -> tuple[list[Anomaly], tuple[str, ...]]:
    """The per-key anomalies and the version order (longest read) of one list key."""
    out: list[Anomaly] = []
    appends: dict[str, Op] = {}
    for op in ops:
        if op.f == "append":
            appends.setdefault(op.value, op)
    reads = [o for o in ops if o.f == "read" and o.type == "ok"]
    for read in reads:
        out += _bad_elements(key, read, appends)
    longest = max((r.value for r in reads), key=len, default=())
    longest_read = next((r for r in reads if r.value == longest), None)
    for read in reads:
        if read.value != longest[: len(read.value)] and longest_read is not None:
            out.append(
                of(
                    "incompatible-order",
                    key,
                    f"{read.describe()} is not a prefix of {longest_read.describe()}",
                    [longest_read, read],
                )
            )
    out += _lost(key, ops, reads, appends)
    return out, longest


def _bad_elements(key: str, read: Op, appends: dict[str, Op]) -> list[Anomaly]:
    out: list[Anomaly] = []
    seen: set[str] = set()
    for element in read.value:
        if element in seen:
            out.append(
                of(
                    "duplicate",
                    key,
                    f"{read.describe()} holds {element!r} twice",
                    [*present(appends.get(element)), read],
                )
            )
            break
        seen.add(element)
    for element in read.value:
        append = appends.get(element)
        if append is None or append.type == "fail":
            why = "whose append failed" if append is not None else "that nobody appended"
            out.append(
                of(
                    "never-acknowledged",
                    key,
                    f"{read.describe()} holds {element!r}, {why}",
                    [*present(append), read],
                )
            )
    return out


def _lost(
    key: str, ops: Sequence[Op], reads: Sequence[Op], appends: dict[str, Op]
) -> list[Anomaly]:
    out: list[Anomaly] = []
    if not reads:
        return out
    final = max(reads, key=lambda r: (r.invoke, r.index))
    have = set(final.value)
    which = "final read (after the faults)" if final.final else "last read"
    for append in appends.values():
        if append.type == "ok" and append.complete < final.invoke and append.value not in have:
            out.append(
                of(
                    "lost-append",
                    key,
                    f"{append.describe()} was acknowledged, and the key's {which} lacks it",
                    [append, final],
                )
            )
    return out


def dependency_graph(ops: Sequence[Op], orders: dict[str, tuple[str, ...]]) -> nx.DiGraph[int]:
    """The ww/wr/rw edges of each key (by its version order) and sparse real-time edges."""
    graph: nx.DiGraph[int] = nx.DiGraph()
    by_key: dict[str, list[Op]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    nodes: list[Op] = []
    for key, kops in by_key.items():
        order = orders.get(key, ())
        appender = {o.value: o for o in kops if o.f == "append" and o.type != "fail"}
        chain = [appender[e] for e in dict.fromkeys(order) if e in appender]
        position = {e: i for i, e in enumerate(dict.fromkeys(order))}
        for a, b in itertools.pairwise(chain):
            _edge(graph, a, b, "ww")
        nodes += chain
        for read in kops:
            if read.f != "read" or read.type != "ok":
                continue
            nodes.append(read)
            graph.add_node(read.index, op=read)
            last = read.value[-1] if read.value else None
            if last is not None and last in appender:
                _edge(graph, appender[last], read, "wr")
            following = 0 if last is None else position.get(last, -2) + 1
            if 0 <= following < len(chain):
                _edge(graph, read, chain[following], "rw")
    for a, b in real_time_edges(nodes):
        _edge(graph, a, b, "rt")
    return graph


def _edge(graph: nx.DiGraph[int], a: Op, b: Op, kind: str) -> None:
    if a.index == b.index:
        return
    graph.add_node(a.index, op=a)
    graph.add_node(b.index, op=b)
    if graph.has_edge(a.index, b.index):
        kinds = graph.edges[a.index, b.index]["kinds"]
        kinds.add(kind)
    else:
        graph.add_edge(a.index, b.index, kinds={kind})


def real_time_edges(ops: Iterable[Op]) -> list[tuple[Op, Op]]:
    """Edges whose transitive closure is the real-time order (``a`` completed before ``b``).

    A sweep over invokes and completions keeps the frontier: completed operations
    that no later-completed one follows. Each invoke links from the frontier;
    a completion drops the frontier operations it follows.
    """
    events: list[tuple[float, int, int, Op]] = []
    for op in ops:
        events.append((op.invoke, 0, op.index, op))  # at equal times, invokes first
        if op.type == "ok":
            events.append((op.complete, 1, op.index, op))
    events.sort(key=lambda e: e[:3])
    frontier: list[Op] = []
    out: list[tuple[Op, Op]] = []
    for _, kind, _, op in events:
        if kind == 0:
            out += [(f, op) for f in frontier]
        else:
            frontier = [f for f in frontier if not f.precedes(op)]
            frontier.append(op)
    return out


def cycles(graph: nx.DiGraph[int]) -> list[Anomaly]:
    """One classified cycle for each strongly connected component that holds one."""
    return [
        _classify(graph.subgraph(component))
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
    ]


def _classify(scc: nx.DiGraph[int]) -> Anomaly:
    """The most specific cycle of one component: G0, then G1c, G-single, G2; plain first."""
    for realtime in (False, True):
        extra = ("rt",) if realtime else ()
        searches = (
            ("G0", None, ("ww", *extra)),
            ("G1c", None, ("ww", "wr", *extra)),
            ("G-single", "rw", ("ww", "wr", *extra)),
            ("G2", None, ("ww", "wr", "rw", *extra)),
        )
        for name, first, rest in searches:
            cycle = _cycle(scc, first, rest)
            if cycle is not None:
                if first is None:  # shown from its lowest operation; G-single from its rw edge
                    low = cycle.index(min(cycle))
                    cycle = cycle[low:] + cycle[:low]
                return _anomaly(scc, name, cycle, first, rest)
    raise AssertionError("a strongly connected component always holds a cycle")


def _kind(scc: nx.DiGraph[int], a: int, b: int, allowed: Sequence[str]) -> str | None:
    """The edge's kind among ``allowed`` (in EDGE_ORDER), or None."""
    kinds = scc.edges[a, b]["kinds"]
    return next((k for k in EDGE_ORDER if k in kinds and k in allowed), None)


def _path(scc: nx.DiGraph[int], start: int, goal: int, allowed: Sequence[str]) -> list[int] | None:
    """Shortest path start -> goal over edges of the allowed kinds (BFS)."""
    parent: dict[int, int] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in scc.successors(node):
            if succ in parent or _kind(scc, node, succ, allowed) is None:
                continue
            parent[succ] = node
            if succ == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            queue.append(succ)
    return None


def _cycle(scc: nx.DiGraph[int], first: str | None, rest: Sequence[str]) -> list[int] | None:
    """The shortest cycle [a, b, ..., z] (edges a->b, ..., z->a) found from at most
    MAX_STARTS edges a->b of kind ``first`` (or any of ``rest``), closed over ``rest``."""
    best: list[int] | None = None
    tried = 0
    for a, b in scc.edges:
        if _kind(scc, a, b, (first,) if first else rest) is None:
            continue
        back = _path(scc, b, a, rest)
        if back is not None and (best is None or len(back) < len(best)):
            best = back  # b ... a
        tried += 1
        if tried >= MAX_STARTS or (best is not None and len(best) == 2):
            break
    return None if best is None else [best[-1], *best[:-1]]


def _anomaly(
    scc: nx.DiGraph[int], name: str, cycle: list[int], first: str | None, rest: Sequence[str]
) -> Anomaly:
    edges: list[tuple[int, int, str]] = []
    for i, a in enumerate(cycle):
        b = cycle[(i + 1) % len(cycle)]
        kind = _kind(scc, a, b, (first,) if first and i == 0 else rest)
        assert kind is not None
        edges.append((a, b, kind))
    label = f"{name}-realtime" if any(k == "rt" for _, _, k in edges) else name
    ops = tuple(scc.nodes[n]["op"] for n in cycle)
    steps = " → ".join(f"{scc.nodes[a]['op'].describe()} ({k})" for a, _, k in edges)
    return Anomaly(
        label,
        ops[0].key,
        f"dependency cycle {label}: {steps} → back to the first",
        ops,
        tuple(edges),
    )
