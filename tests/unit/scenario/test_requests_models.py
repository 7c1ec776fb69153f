"""load.requests and the generic durability check: what validates, what is refused and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.faults.catalog import Scenario
from harness.load.workloads.requests_config import expected, failed_outcome, pick, requests_extra
from harness.run.validate import check_scenario
from harness.scenario.compose import parse_compose_config
from harness.scenario.httpspec import DurableRead, RequestSpec, key_only
from harness.scenario.models import DurabilityCheck, Load

CREATE = {"method": "POST", "path": "/o", "json": {"r": "{uuid}"}, "capture": {"oid": "$.id"}}
READ = {"path": "/o/{captured.oid}", "expect": [200]}


def _load(**kw: Any) -> Load:
    return Load(model="open", rps=5, **kw)


def _error(**kw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        _load(**kw)
    return str(info.value)


def test_requests_with_a_capture_validate() -> None:
    load = _load(requests=[CREATE, READ])
    assert [r.label() for r in load.requests] == ["/o", "/o/{captured.oid}"]
    assert load.requests[1].needs() == {"oid"}
    assert load.requests[0].needs() == set()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"requests": [READ]}, "no request captures 'oid'"),
        ({"requests": [CREATE | {"path": "/o/{captured.oid}"}, READ]}, "none can be sent first"),
        ({"requests": [CREATE], "mix": {"read": 1}}, "found mix and requests"),
        ({"requests": [CREATE], "locustfile": "x.py"}, "found requests and locustfile"),
        ({"requests": [{"path": "/{key}"}]}, "unknown placeholder {key}"),
        ({"requests": [{"path": "/", "json": {"a": 1}}]}, "a GET request carries no body"),
        ({"requests": [CREATE | {"form": {"a": "b"}}]}, "either `json` or `form`"),
        ({"requests": [{"path": "no-slash"}]}, "String should match pattern"),
        ({"requests": [{"path": "/", "headers": {"X": "a\r\nY: b"}}]}, "should match pattern"),
        ({"requests": [{"path": "/", "expect": [99]}]}, "greater than or equal to 100"),
        ({"requests": [{"path": "/", "weight": 0}]}, "greater than 0"),
        ({"requests": [{"path": "/", "capture": {"1x": "$.id"}}]}, "a capture name is"),
        ({"requests": [{"path": "/"}] * 33}, "at most 32 items"),
    ],
)
def test_refused_requests(kw: dict[str, Any], message: str) -> None:
    assert message in _error(**kw)


def test_the_default_mix_a_dump_holds_is_no_second_workload() -> None:
    load = _load(requests=[CREATE, READ])
    again = Load.model_validate(load.model_dump(by_alias=True))
    assert again == load


GENERIC = {
    "write": {"path": "/o", "json": {"ref": "{key}"}, "expect": [201]},
    "id": "$.order.id",
    "read": {"path": "/o/{id}"},
    "compare": {"$.order.ref": "{key}"},
}


def test_generic_durability_validates_with_its_defaults() -> None:
    check = DurabilityCheck.model_validate(GENERIC)
    assert check.write is not None and check.write.method == "POST"
    assert check.read is not None
    assert (check.read.expect, check.read.missing) == ([200], [404, 410])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "missing id"),
        ({"read": None, "id": None}, "missing id, read"),
        ({"id": "$..id"}, "unsupported JSON path"),
        ({"compare": {"$.x": "{seq}"}}, "unknown placeholder {seq}"),
        ({"read": {"path": "/o/{uuid}"}}, "unknown placeholder {uuid}"),
        ({"write": {"path": "/o/{id}"}}, "unknown placeholder {id}"),
        ({"read": {"path": "/o/{id}", "expect": [404]}}, "in both `expect` and `missing`"),
        ({"lookup": {"path": "/by/{id}"}}, "unknown placeholder {id}"),
    ],
)
def test_refused_generic_durability(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        DurabilityCheck.model_validate({k: v for k, v in (GENERIC | change).items() if v})
    assert message in str(info.value)


def test_compare_without_write_is_refused() -> None:
    with pytest.raises(ValidationError, match="belong to the generic check"):
        DurabilityCheck(compare={"$.a": "{key}"})


def test_a_read_by_key_alone_can_look_up_timed_out_writes() -> None:
    assert key_only(DurableRead(path="/by-ref/{key}"))
    assert not key_only(DurableRead(path="/o/{id}"))
    assert not key_only(DurableRead(path="/o/{id}?ref={key}"))


@pytest.mark.parametrize(
    ("expect", "status", "ok"),
    [(None, 200, True), (None, 302, True), (None, 404, False), ([404], 404, True),
     ([201], 200, False), ([201], 201, True)],
)  # fmt: skip
def test_expected_statuses(expect: list[int] | None, status: int, ok: bool) -> None:
    assert expected(RequestSpec(path="/", expect=expect), status) is ok


def test_unexpected_status_class_keeps_4xx_and_5xx() -> None:
    assert [failed_outcome(s) for s in (200, 302, 101, 404, 503)] == [
        "unexpected_status",
        "unexpected_status",
        "unexpected_status",
        None,
        None,
    ]


def test_the_driver_hands_requests_and_the_durable_write_as_json() -> None:
    load = _load(requests=[CREATE, READ])
    extra = requests_extra(load, DurabilityCheck.model_validate(GENERIC))
    assert extra["requests"][0]["json"] == {"r": "{uuid}"}  # by alias
    assert extra["durable_write"]["path"] == "/o" and extra["durable_id"] == "$.order.id"
    assert requests_extra(_load(), None) == {}
    assert "durable_write" not in requests_extra(load, DurabilityCheck())


def _scenario(load: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "s",
            "stack": {"compose": "c.yaml", "target": {"service": "api", "port": 80}},
            "load": load,
            "timing": {"duration": 5},
            "checks": {"durability": GENERIC},
        }
    )


def test_the_generic_write_needs_the_declarative_load() -> None:
    compose = parse_compose_config(
        Path("c.yaml"), {"services": {"api": {"image": "x", "ports": [{"target": 80}]}}}
    )
    problems = check_scenario(_scenario({"model": "open", "rps": 5}), compose)
    assert [p.path for p in problems] == ["checks.durability.write"]
    assert "sent with `load.requests`" in problems[0].message
    with_requests = _scenario({"model": "open", "rps": 5, "requests": [{"path": "/"}]})
    assert check_scenario(with_requests, compose) == []


class _Draws:
    """A stand-in for random.Random whose choices() returns scripted picks (by position)."""

    def __init__(self, *picks: int) -> None:
        self.picks = list(picks)
        self.asked: list[tuple[list[int], list[float]]] = []

    def choices(self, population: Any, weights: list[float]) -> list[int]:
        self.asked.append((list(population), list(weights)))
        return [list(population)[self.picks.pop(0)]]


def test_a_request_waiting_for_a_capture_yields_to_a_ready_one_by_weight() -> None:
    rng = _Draws(1, 1)  # draws request 1 (not ready), then the 2nd of the ready ones
    assert pick([1.0, 3.0, 2.0], [True, False, True], rng) == 2  # type: ignore[arg-type]
    assert rng.asked == [([0, 1, 2], [1.0, 3.0, 2.0]), ([0, 2], [1.0, 2.0])]
    rng = _Draws(0)
    assert pick([1.0, 3.0], [True, False], rng) == 0  # type: ignore[arg-type]
    assert len(rng.asked) == 1  # a ready draw is taken as it is
    assert pick([1.0], [False], _Draws(0)) is None  # type: ignore[arg-type]
    assert pick([], [], _Draws()) is None  # type: ignore[arg-type]
