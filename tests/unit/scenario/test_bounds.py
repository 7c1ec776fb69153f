"""Bounded inputs: no non-finite number anywhere, caps that state their limit, bounded YAML."""

from __future__ import annotations

import copy
import math
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from harness.errors import ScenarioError
from harness.faults.catalog import CATALOG, Scenario, load_scenario
from harness.scenario import models as m
from harness.scenario.loader import MAX_FILE_BYTES
from harness.scenario.sourcemap import MAX_NODES, YamlStats, parse_yaml
from harness.scenario.units import parse_duration, parse_fraction, parse_size

INVALID = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios" / "invalid"

# Required keys of each fault type beyond type/target/at/for.
_FAULT_EXTRAS: dict[str, dict[str, Any]] = {
    "loss": {"percent": "10%"},
    "bandwidth": {"rate": "1mbit"},
    "latency": {"delay": "100ms"},
    "slow": {"rate": "256kbit"},
    "http-delay": {"delay": "100ms"},
    "cpu": {"cpus": 0.5},
    "memory": {"size": "1MiB"},
    "service-scale": {"replicas": 1},
}


def _fault_classes() -> list[type[BaseModel]]:
    return list(CATALOG.specs)


def _base() -> tuple[dict[str, Any], list[tuple[tuple[Any, ...], type[BaseModel]]]]:
    """A valid scenario using every model, and where each model sits in it."""
    faults = []
    for cls in _fault_classes():
        kind = get_args(cls.model_fields["type"].annotation)[0]
        faults.append(
            {"type": kind, "target": {"service": "app"}, "at": 1, "for": 1}
            | _FAULT_EXTRAS.get(kind, {})
        )
    data: dict[str, Any] = {
        "version": 1,
        "name": "bounds",
        # swarm: every fault type runs there (the Swarm-only ones only there)
        "stack": {"compose": "c.yaml", "target": {"service": "lb", "port": 80}, "engine": "swarm"},
        "load": {"users": 5, "stages": [{"kind": "ramp", "target": 5, "duration": 1}]},
        "timing": {"duration": 60},
        "faults": faults,
        "checks": {
            "latency": [{"percentile": 99, "max": 1}],
            "durability": {},
        },
    }
    where: list[tuple[tuple[Any, ...], type[BaseModel]]] = [
        ((), Scenario),
        (("stack",), m.StackBase),
        (("stack", "target"), m.ServicePort),
        (("load",), m.Load),
        (("load", "stages", 0), m.Stage),
        (("load", "mix"), m.Mix),
        (("timing",), m.Timing),
        (("checks",), m.Checks),
        (("checks", "availability"), m.AvailabilityChecks),
        (("checks", "latency", 0), m.LatencyCheck),
        (("checks", "recovery"), m.RecoveryChecks),
        (("checks", "durability"), m.DurabilityCheck),
    ]
    for i, cls in enumerate(_fault_classes()):
        where += [(("faults", i), cls), (("faults", i, "target"), m.Selector)]
    return data, where


def _is_numeric(tp: Any) -> bool:
    if get_origin(tp) is Annotated:
        return _is_numeric(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        return any(_is_numeric(a) for a in get_args(tp))
    return tp in (int, float)


def _numeric_fields() -> list[tuple[tuple[Any, ...], str]]:
    _, where = _base()
    out = []
    for path, cls in where:
        for name, info in cls.model_fields.items():
            if name != "source" and _is_numeric(info.annotation):
                out.append(((*path, info.alias or name), name))
    return out


NUMERIC_FIELDS = _numeric_fields()


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[path[-1]] = value
    return out


def _yaml_scalar(text: str) -> Any:
    data, _, problems = parse_yaml(f"v: {text}\n", "x.yaml")
    assert problems == []
    return data["v"]


def test_the_base_scenario_is_valid_and_every_numeric_field_is_covered() -> None:
    data, _ = _base()
    Scenario.model_validate(data)
    names = {name for _, name in NUMERIC_FIELDS}
    # Spot-check the discovery: a hand-picked field of each kind is in the list.
    assert {"users", "rps", "duration", "percent", "size", "cpus", "repeat", "seed"} <= names
    assert len(NUMERIC_FIELDS) > 60


YAML_FORMS = [".nan", ".NaN", ".NAN", ".inf", ".Inf", "-.inf", "+.INF", "1.0e+999", "-1.0e+999"]
TEXT_FORMS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "nan s", "inf ms", "nan%", "inf%"]
non_finite = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.sampled_from(YAML_FORMS).map(_yaml_scalar),
    st.sampled_from(TEXT_FORMS),
    # Digits that overflow a float, with or without a unit.
    st.tuples(st.integers(310, 400), st.sampled_from(["", "s", "ms", "%", "MiB"])).map(
        lambda t: "9" * t[0] + t[1]
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(NUMERIC_FIELDS), non_finite)
def test_no_numeric_field_accepts_a_non_finite_number(
    field: tuple[tuple[Any, ...], str], value: Any
) -> None:
    path, _ = field
    data, _ = _base()
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(_set(data, path, value))
    # Refused at the field itself, not by some unrelated rule (pydantic adds union tags).
    assert any(_within(path, tuple(e["loc"])) for e in info.value.errors()), info.value.errors()


def _within(path: tuple[Any, ...], loc: tuple[Any, ...]) -> bool:
    """``path`` is ``loc`` with pydantic's union tags (``kill``, ``int``, ...) left out."""
    rest = iter(loc)
    return all(any(part == item for item in rest) for part in path)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(NUMERIC_FIELDS),
    st.one_of(st.integers(min_value=10**20, max_value=10**400), st.integers(max_value=-(10**20))),
)
def test_no_numeric_field_accepts_a_huge_integer(
    field: tuple[tuple[Any, ...], str], value: int
) -> None:
    # Refused with a located error, never an OverflowError from float(10**400).
    path, _ = field
    data, _ = _base()
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(_set(data, path, value))
    assert any(_within(path, tuple(e["loc"])) for e in info.value.errors()), info.value.errors()
    assert all(len(e["msg"]) < 300 for e in info.value.errors())


@pytest.mark.parametrize("value", [math.nan, math.inf, "nan", "1e999%", "9" * 400 + "s"])
def test_units_refuse_non_finite(value: Any) -> None:
    with pytest.raises(ValueError, match=r"finite|at most|expected"):
        parse_duration(value)
    with pytest.raises(ValueError, match=r"finite|at most|expected|percentage"):
        parse_fraction(value)
    with pytest.raises(ValueError, match=r"finite|at most|expected"):
        parse_size(value)


def test_caps_state_their_limit() -> None:
    with pytest.raises(ValueError, match=r"at most 24h \(86400s\)"):
        parse_duration("86401")
    assert parse_duration("24h") == 86400.0
    with pytest.raises(ValueError, match=r"at most 1TiB"):
        parse_size("1025GiB")
    assert parse_size("1024GiB") == 1024**4


def test_billion_laughs_is_refused_after_a_few_nodes() -> None:
    path = INVALID / "yaml-billion-laughs.yaml"
    text = path.read_text(encoding="utf-8")
    assert len(text) < 400  # 9 levels of 9 aliases: 9**9 = 387 M leaves once expanded
    stats = YamlStats()
    data, _, problems = parse_yaml(text, "bomb.yaml", stats)
    assert data is None
    assert [p.message for p in problems] == [
        f"YAML aliases expand this value to more than {MAX_NODES} nodes (the limit); "
        "write the values out or use fewer aliases"
    ]
    # The work is bounded by the text, not the expansion: 9 scalars, 9 lists, 9 keys, 1 root
    # composed (aliases reuse their node), and each distinct node visited at most once.
    assert stats.composed <= 9 + 9 * 9 + 9 + 1
    assert stats.visited <= 9 + 9 + 9 + 1


def test_aliases_within_the_budget_still_work() -> None:
    text = "base: &b {service: app}\nfaults: [{target: *b}, {target: *b}]\n"
    data, _, problems = parse_yaml(text, "ok.yaml")
    assert problems == []
    assert data["faults"][1]["target"] == {"service": "app"}


def test_too_many_nodes_without_aliases_is_refused() -> None:
    text = "v: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n"
    stats = YamlStats()
    data, _, problems = parse_yaml(text, "big.yaml", stats)
    assert data is None and stats.composed == MAX_NODES + 1
    assert problems[0].message == f"the document has more than {MAX_NODES} YAML nodes (the limit)"


def test_a_file_above_one_mebibyte_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(big)
    assert [p.render() for p in info.value.problems] == [
        f"{big}:1:1: the file is larger than 1 MiB (1048576 bytes), the limit for a scenario"
    ]
    assert info.value.exit_code == 2


def test_deep_nesting_is_a_located_error_not_a_crash() -> None:
    text = "v: " + "[" * 3000 + "]" * 3000 + "\n"
    data, _, problems = parse_yaml(text, "deep.yaml")
    assert data is None
    assert problems[0].message == (
        "the YAML is nested too deeply; a scenario needs a few levels only"
    )
