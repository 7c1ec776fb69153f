"""The abort and steady_state models: bounds, located errors and semantic checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.faults.catalog import Scenario, load_scenario
from harness.scenario.compose import ComposeConfig, ServiceInfo
from harness.scenario.guards import ABORT_TYPES, AbortCondition, SteadyProbe
from harness.scenario.semantics import check_scenario

HEAD = """\
version: 1
name: guards
stack: {compose: compose.yaml, target: {service: api, port: 9000}}
load: {model: open, rps: 5}
timing: {duration: 10s}
"""


def _problems(tmp_path: Path, tail: str) -> list[str]:
    file = tmp_path / "s.yaml"
    file.write_text(HEAD + tail)
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    return [p.render().removeprefix(f"{file}:") for p in info.value.problems]


def test_abort_types_are_the_union_tags() -> None:
    members = get_args(get_args(AbortCondition)[0])
    tags = tuple(get_args(m.model_fields["type"].annotation)[0] for m in members)
    assert tags == ABORT_TYPES


def test_located_errors(tmp_path: Path) -> None:
    tail = """\
abort:
  conditions:
    - {type: availabilty, below: 50%, over: 10s}
    - {type: probe, path: health}
    - {type: command, argv: []}
steady_state:
  probes:
    - {path: /x, json: {path: state, equals: ok}}
"""
    assert _problems(tmp_path, tail) == [
        "8:14: abort.conditions[0].type: unknown condition type 'availabilty'; expected one"
        " of: availability, error_rate, p99, probe, command (did you mean 'availability'?)",
        "9:27: abort.conditions[1].path: expected an HTTP path such as /health (starts with"
        " /, no spaces), found 'health'",
        "10:29: abort.conditions[2].argv: expected a non-empty value, found a list",
        "13:31: steady_state.probes[0].json.path: expected a JSON path such as $.state,"
        " found 'state'",
    ]
    assert _problems(tmp_path, "abort: {conditions: []}\n") == [
        "6:21: abort.conditions: expected a non-empty value, found a list"
    ]


def test_bounds() -> None:
    def bad(model: Any, data: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            model.model_validate(data)

    scenario = Scenario.model_validate(
        {
            "version": 1,
            "name": "b",
            "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:1/"},
            "load": {"model": "open", "rps": 1},
            "timing": {"duration": 10},
            "abort": {"conditions": [{"type": "p99", "above": "2s", "over": "10m"}]},
        }
    )
    assert scenario.abort is not None and scenario.abort.conditions[0].over == 600.0
    bad(SteadyProbe, {"path": "/x", "service": "api"})  # a service needs its port
    bad(SteadyProbe, {"path": "/x", "timeout": "11s"})
    bad(SteadyProbe, {"path": "/x", "status": [600]})
    bad(SteadyProbe, {"path": "/x", "json": {"path": "$.a", "equals": "x" * 1025}})
    # The JSON path dialect of load.requests: `$`, `.name`, `['name']`, `[N]`, nothing else.
    with pytest.raises(ValidationError, match="unsupported JSON path"):
        SteadyProbe.model_validate({"path": "/x", "json": {"path": "$..state", "equals": 1}})
    deep = SteadyProbe.model_validate(
        {"path": "/x", "json": {"path": "$['a b'][2].c", "equals": 1}}
    )
    assert deep.json_ is not None and deep.json_.path == "$['a b'][2].c"
    probe = SteadyProbe.model_validate({"path": "/x", "json": {"path": "$.n", "equals": None}})
    assert probe.json_ is not None and probe.json_.equals is None and probe.label == "/x"


def test_probe_endpoints_must_be_published_ports_of_the_stack(tmp_path: Path) -> None:
    compose = ComposeConfig(
        tmp_path / "compose.yaml",
        {
            "api": ServiceInfo("api", 1, (9000,), ("default",), None, None, build=False),
            "jobs": ServiceInfo("jobs", 1, (), ("default",), None, None, build=False),
        },
        {},
    )
    data = {
        "version": 1,
        "name": "sem",
        "stack": {"compose": "compose.yaml", "target": {"service": "api", "port": 9000}},
        "load": {"model": "open", "rps": 1},
        "timing": {"duration": 10},
        "abort": {
            "conditions": [
                {"type": "probe", "service": "apii", "port": 9000, "path": "/h"},
                {"type": "command", "argv": ["./missing-check.sh"]},
                {"type": "command", "argv": ["true"]},  # looked up on PATH: not checked
            ]
        },
        "steady_state": {"probes": [{"service": "jobs", "port": 9000, "path": "/h"}]},
    }
    scenario = Scenario.model_validate(data).model_copy(update={"source": tmp_path / "s.yaml"})
    found = [(p.path, p.message) for p in check_scenario(scenario, compose)]
    assert found == [
        (
            "abort.conditions[0].service",
            "unknown service 'apii'; compose.yaml has: api, jobs",
        ),
        ("abort.conditions[1].argv", f"{str(tmp_path / 'missing-check.sh')!r} does not exist"),
        (
            "steady_state.probes[0].port",
            "service 'jobs' does not publish container port 9000; probes only reach published"
            " ports of the run's stack",
        ),
    ]
