"""Probe scripts, their parsing and one round's observations (no engine: a fake probe)."""

from __future__ import annotations

import pytest

from harness.engine.probe import Endpoint, parse_probe_output, probe_script
from harness.run.isolation import probe_round
from harness.run.isolation_map import matrix, pair_rules, starter_block


def test_probe_script_quotes_validated_values_and_runs_in_parallel() -> None:
    script = probe_script([("10.0.0.2", 5432), ("10.0.0.3", 80)], 1.0)
    assert "p 10.0.0.2 5432 &" in script and "p 10.0.0.3 80 &" in script
    assert "timeout 1.000 bash" in script
    assert script.endswith("wait")


@pytest.mark.parametrize(
    "target", [("10.0.0.2; rm -rf /", 80), ("db", 80), ("10.0.0.2", 0), ("10.0.0.2", 70000)]
)
def test_probe_script_refuses_anything_but_an_address_and_a_port(target: tuple[str, int]) -> None:
    with pytest.raises(ValueError):
        probe_script([target], 1.0)


def test_parse_probe_output_ignores_noise() -> None:
    text = "R 10.0.0.2 5432 open\nbash: warning\nR 10.0.0.3 80 timeout\nR x y z w\n"
    assert parse_probe_output(text) == {("10.0.0.2", 5432): "open", ("10.0.0.3", 80): "timeout"}


def _ep(cid: str, service: str, n: int, addrs: tuple[str, ...], ports: tuple[int, ...],
        running: bool = True) -> Endpoint:  # fmt: skip
    return Endpoint(cid, service, n, running, addrs, ports)


EPS = {
    "lb": [_ep("L1", "lb", 1, ("10.1.0.2",), (8080,))],
    "app": [
        _ep("A1", "app", 1, ("10.1.0.3", "10.2.0.3"), (8000,)),
        _ep("A2", "app", 2, ("10.1.0.4", "10.2.0.4"), (8000,), running=False),
    ],
    "db": [_ep("D1", "db", 1, ("10.2.0.2",), (5432,))],
}


def test_probe_round_asks_each_from_container_once_and_folds_addresses() -> None:
    # What the fake network answers: lb reaches app only on its front address.
    answers = {
        "L1": {("10.1.0.3", 8000): "open", ("10.2.0.3", 8000): "timeout",
               ("10.2.0.2", 5432): "timeout"},
        "A1": {("10.2.0.2", 5432): "refused"},
    }  # fmt: skip
    asked: dict[str, list[tuple[str, int]]] = {}

    def probe(cid: str, targets: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        asked[cid] = targets
        return answers[cid]

    rules = [("deny", "lb", "db", None), ("allow", "lb", "app", 8000), ("allow", "app", "db", 5432)]
    obs = probe_round(rules, EPS, probe)
    assert asked == {
        "L1": [("10.1.0.3", 8000), ("10.2.0.2", 5432), ("10.2.0.3", 8000)],
        "A1": [("10.2.0.2", 5432)],  # A2 is not running: nothing is probed from it
    }
    got = [(o["kind"], o["from"], o["to"], o["port"], o["to_replica"], o["state"]) for o in obs]
    assert got == [
        ("deny", "lb", "db", 5432, 1, "timeout"),
        ("allow", "lb", "app", 8000, 1, "open"),  # one open address is enough
        ("allow", "lb", "app", 8000, 2, "down"),  # the stopped replica
        ("allow", "app", "db", 5432, 1, "refused"),
    ]


def test_rule_with_no_port_and_no_exposed_port_is_unprobed() -> None:
    eps = {"a": [_ep("X", "a", 1, ("10.0.0.5",), ())], "b": [_ep("Y", "b", 1, ("10.0.0.6",), ())]}
    obs = probe_round([("deny", "a", "b", None)], eps, lambda c, t: {})
    assert obs == [{"kind": "deny", "from": "a", "to": "b", "port": None, "state": "unprobed"}]


def test_matrix_and_starter_block() -> None:
    assert pair_rules(["a", "b"]) == [("observe", "a", "b", None), ("observe", "b", "a", None)]
    obs = [
        {"from": "lb", "to": "app", "port": 8000, "state": "open"},
        {"from": "lb", "to": "app", "port": 8000, "state": "timeout"},
        {"from": "lb", "to": "db", "port": 5432, "state": "timeout"},
        {"from": "app", "to": "db", "port": 5432, "state": "open"},
    ]
    rows = matrix(obs)
    assert rows == [
        ("app", "db", 5432, "open"),
        ("lb", "app", 8000, "partly open"),
        ("lb", "db", 5432, "closed"),
    ]
    block = starter_block(rows)["checks"]["isolation"]
    assert block["deny"] == [{"from": "lb", "to": "db", "port": 5432}]
    assert block["allow"] == [
        {"from": "app", "to": "db", "port": 5432},
        {"from": "lb", "to": "app", "port": 8000},
    ]
