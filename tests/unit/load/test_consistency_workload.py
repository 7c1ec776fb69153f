"""The consistency workload's rules without Locust: keys, values, outcomes, history events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.load.workloads.consistency_config import (
    EXTRA_CONSISTENCY,
    EXTRA_KEY_PERIOD,
    complete_row,
    consistency_extra,
    invoke_row,
    key_of,
    key_period,
    outcome,
    pair_events,
    value_of,
    write_history_chunk,
)
from harness.scenario.consistency import ConsistencyCheck
from harness.scenario.models import Load, Stage

REGISTER: dict[str, Any] = {
    "model": "register",
    "read": {"path": "/kv/{key}", "value": "$.value"},
    "write": {"method": "PUT", "path": "/kv/{key}", "json": {"value": "{value}"}},
    "cas": {"path": "/kv/{key}/cas", "json": {"from": "{expected}", "to": "{value}"}},
}
LIST: dict[str, Any] = {
    "model": "list-append",
    "read": {"path": "/l/{key}", "value": "$.data.items"},
    "append": {"path": "/l/{key}", "form": {"e": "{value}"}, "expect": [201]},
}


def _spec(raw: dict[str, Any], **kw: Any) -> ConsistencyCheck:
    return ConsistencyCheck.model_validate({**raw, **kw})


def test_key_period_gives_each_key_ops_per_key_at_the_peak_rate() -> None:
    spec = _spec(REGISTER, ops_per_key=100, keys=2, share=0.5)
    # 40 requests/s, half of them consistency operations: 20 ops/s over 2 keys -> 10 s
    assert key_period(Load(model="open", rps=40), spec) == 10.0
    staged = Load(model="open", rps=10, stages=[Stage(kind="step", target=80, duration=5)])
    assert key_period(staged, spec) == 5.0  # the 80/s stage
    extra = consistency_extra(Load(model="open", rps=40), spec)
    assert extra[EXTRA_KEY_PERIOD] == 10.0
    assert extra[EXTRA_CONSISTENCY]["read"]["value"] == "$.value"
    assert consistency_extra(Load(model="open", rps=40), None) == {}


def test_keys_rotate_by_time_and_belong_to_the_run() -> None:
    # sha256("run-1")[:8] = "4e65d3fb"
    assert key_of("run-1", 0.0, 10.0, 2, 0) == "k4e65d3fb-0"
    assert key_of("run-1", 9.99, 10.0, 2, 1) == "k4e65d3fb-1"
    assert key_of("run-1", 10.0, 10.0, 2, 0) == "k4e65d3fb-2"
    assert key_of("run-1", 25.0, 10.0, 2, 1) == "k4e65d3fb-5"
    assert key_of("run-1", -3.0, 10.0, 2, 1) == "k4e65d3fb-1"  # warmup: the first keys
    assert key_of("run-2", 0.0, 10.0, 2, 0) != key_of("run-1", 0.0, 10.0, 2, 0)


def test_values_are_unique_across_worker_slots() -> None:
    assert value_of(1, 0) == "65"  # 1 * 64 + 0 + 1
    assert value_of(1, 63) == "128"
    assert value_of(2, 0) == "129"
    values = {value_of(n, slot) for n in range(1, 50) for slot in range(64)}
    assert len(values) == 49 * 64


@pytest.mark.parametrize(
    ("f", "status", "body", "expected"),
    [
        ("write", 200, b"", ("ok", False, None)),
        ("write", 204, b"", ("ok", False, None)),
        ("write", 400, b"bad", ("fail", False, None)),  # a 4xx: refused, did not happen
        ("write", 408, b"", ("info", False, None)),  # request timeout: may have happened
        ("write", 503, b"", ("info", False, None)),
        ("write", 302, b"", ("info", False, None)),
        ("cas", 409, b"", ("fail", True, None)),  # the comparison failed
        ("cas", 412, b"", ("fail", True, None)),
        ("cas", 200, b"", ("ok", False, None)),
        ("read", 200, b'{"value": "7"}', ("ok", False, "7")),
        ("read", 200, b'{"value": 7}', ("ok", False, "7")),  # numbers compare as text
        ("read", 200, b'{"value": null}', ("ok", False, None)),
        ("read", 200, b"{}", ("ok", False, None)),
        ("read", 404, b"", ("ok", False, None)),  # missing: the key has no value yet
        ("read", 200, b'{"value": [1]}', ("info", False, None)),
        ("read", 200, b"not json", ("info", False, None)),
        ("read", 500, b"", ("info", False, None)),
    ],
)
def test_register_outcomes(f: str, status: int, body: bytes, expected: tuple[Any, ...]) -> None:
    result = outcome(_spec(REGISTER), f, status, body)
    assert (result.type, result.mismatch, result.value) == expected


def test_list_outcomes_and_no_answer() -> None:
    spec = _spec(LIST)
    read = outcome(spec, "read", 200, b'{"data": {"items": ["1", 2]}}')
    assert (read.type, read.value) == ("ok", ("1", "2"))
    assert outcome(spec, "read", 404, b"").value == ()
    assert outcome(spec, "read", 200, b'{"data": {"items": null}}').value == ()
    assert outcome(spec, "read", 200, b'{"data": {"items": [{"a": 1}]}}').type == "info"
    assert outcome(spec, "append", 201, b"").type == "ok"
    assert outcome(spec, "append", 200, b"").type == "info"  # only 201 is declared ok
    assert outcome(spec, "append", 0, None).type == "info"  # no answer: may have landed
    refused = outcome(spec, "append", 0, None, refused=True)
    assert (refused.type, refused.error) == ("fail", "connection refused")
    assert outcome(spec, "append", 503, b'{"e": "x\n"}').error == 'HTTP 503: {"e": "x "}'


def test_events_pair_into_one_row_per_operation() -> None:
    spec = _spec(REGISTER)
    events = [
        invoke_row(
            op="w0:1", process="w0.1", f="cas", key="k", value="9", expected="3", invoke_ns=10
        ),
        invoke_row(
            op="w0:2", process="w0.2", f="read", key="k", value=None, expected=None, invoke_ns=5
        ),
        complete_row(
            op="w0:1",
            f="cas",
            result=outcome(spec, "cas", 409, b""),
            complete_ns=30,
            status=409,
            model="register",
        ),
        invoke_row(
            op="w1:1", process="w1.1", f="write", key="k", value="4", expected=None, invoke_ns=20
        ),
    ]
    rows = pair_events(events)
    assert [r["op"] for r in rows] == ["w0:2", "w0:1", "w1:1"]  # invoke order
    read, cas, write = rows
    assert cas == {
        "op": "w0:1",
        "process": "w0.1",
        "f": "cas",
        "key": "k",
        "invoke_ns": 10,
        "value": "9",
        "expected": "3",
        "type": "fail",
        "complete_ns": 30,
        "status": 409,
        "mismatch": True,
    }
    # never completed: info, completed "at" the last time of the history
    assert (read["type"], read["complete_ns"], read["status"]) == ("info", 30, 0)
    assert (write["type"], write["value"]) == ("info", "4")


def test_list_read_events_keep_the_elements() -> None:
    spec = _spec(LIST)
    done = complete_row(
        op="a",
        f="read",
        result=outcome(spec, "read", 200, b'{"data": {"items": [1]}}'),
        complete_ns=3,
        status=200,
        model="list-append",
    )
    assert done["elements"] == ["1"]
    failed = complete_row(
        op="b",
        f="read",
        result=outcome(spec, "read", 500, b""),
        complete_ns=3,
        status=500,
        model="list-append",
    )
    assert failed["elements"] is None and failed["error"] == "HTTP 500"


def test_history_chunk_is_json_lines(tmp_path: Path) -> None:
    path = write_history_chunk([{"a": 1}, {"b": [2]}], tmp_path / "h", "w3", 7)
    assert path.name == "w3-000007.jsonl"
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"a": 1}, {"b": [2]}]
    assert not list((tmp_path / "h").glob(".*"))  # no temporary file left


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({**REGISTER, "write": None}, "the register model needs `write`"),
        ({**REGISTER, "append": LIST["append"]}, "`append` belongs to the list-append model"),
        ({**LIST, "append": None}, "the list-append model needs `append`"),
        ({**LIST, "write": REGISTER["write"]}, "`write` and `cas` belong to the register model"),
        ({**REGISTER, "share": 0}, "`share` must be above 0%"),
        ({**REGISTER, "mix": {"read": 0, "write": 0, "cas": 0}}, "every register operation"),
        ({**LIST, "mix": {"read": 0, "append": 0}}, "every list operation weight 0"),
        ({**REGISTER, "keys": 65}, "less than or equal to 64"),
        ({**REGISTER, "read": {"path": "/{seq}", "value": "$"}}, "unknown placeholder {seq}"),
        ({**REGISTER, "read": {"path": "/", "value": "$.a", "json": {}}}, "carries no body"),
        ({**REGISTER, "final_reads": {"attempts": 0}}, "greater than or equal to 1"),
        ({**REGISTER, "final_reads": {"timeout": "0s"}}, "greater than 0"),
        ({**REGISTER, "final_reads": {"max_keys": 100_001}}, "less than or equal to 100000"),
        ({**REGISTER, "final_reads": {"settle": "11m"}}, "less than or equal to 600"),
        ({**REGISTER, "final_reads": {"read": {"path": "/{seq}", "value": "$"}}}, "{seq}"),
    ],
)
def test_refused_consistency_checks(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ConsistencyCheck.model_validate(raw)
    assert message in str(info.value)


def test_final_reads_are_on_by_default_and_false_turns_them_off() -> None:
    default = _spec(REGISTER).final_reads
    assert default is not None
    assert (default.settle, default.timeout, default.max_keys, default.attempts) == (5, 30, 1000, 5)
    assert default.read is None
    assert _spec(REGISTER, final_reads=False).final_reads is None
    assert _spec(REGISTER, final_reads=True).final_reads == default
    own = _spec(REGISTER, final_reads={"settle": "0s", "read": {"path": "/p/{key}", "value": "$"}})
    assert own.final_reads is not None and own.final_reads.settle == 0
    assert own.final_reads.read is not None and own.final_reads.read.path == "/p/{key}"


def test_weights_leave_out_what_the_model_does_not_send() -> None:
    assert _spec(REGISTER).weights() == {"read": 50, "write": 40, "cas": 10}
    assert _spec({**REGISTER, "cas": None}).weights() == {"read": 50, "write": 40}
    assert _spec(LIST, mix={"read": 0, "append": 5}).weights() == {"append": 5}


def test_request_kwargs_fill_path_headers_and_bodies() -> None:
    from harness.load.workloads.requests_config import request_kwargs

    values = {"key": "a b", "value": "7", "expected": "", "process": "w0.1", "run_id": "r"}
    form = _spec(LIST).append
    assert form is not None
    assert request_kwargs(form, values) == (
        "/l/a%20b",  # a value in the path is percent-encoded
        {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "data": "e=7"},
    )
    cas = _spec(REGISTER).cas
    assert cas is not None
    assert request_kwargs(cas, values) == (
        "/kv/a%20b/cas",
        {"headers": None, "json": {"from": "", "to": "7"}},
    )
