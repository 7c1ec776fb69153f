"""The loader: positions, YAML quirks and the API the orchestrator calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.faults.catalog import load_scenario
from harness.scenario.sourcemap import parse_path, parse_yaml, render_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def test_load_sets_the_absolute_source() -> None:
    scenario = load_scenario(FIXTURES / "valid" / "full.yaml")
    assert scenario.source == (FIXTURES / "valid" / "full.yaml").resolve()
    assert scenario.faults[0].for_ == 10.0
    assert scenario.timing.duration == 120.0
    assert scenario.checks.availability.overall == pytest.approx(0.99)


def test_positions_of_keys_and_values() -> None:
    text = "a:\n  b: [1, {c: 2}]\n  d:\n    - x\n"
    data, smap, problems = parse_yaml(text, "f.yaml")
    assert data == {"a": {"b": [1, {"c": 2}], "d": ["x"]}} and problems == []
    assert smap.locate(("a", "b", 1, "c")) == (2, 14)
    assert smap.locate(("a", "b", 1, "c"), at_key=True) == (2, 11)
    assert smap.locate(("a", "d", 0)) == (4, 7)
    assert smap.locate(("a", "missing", "deeper")) == (2, 3)  # nearest written ancestor


def test_paths_render_and_parse_back() -> None:
    parts = ("faults", 2, "target", "service")
    assert render_path(parts) == "faults[2].target.service"
    assert parse_path("faults[2].target.service") == parts
    assert parse_path("load.stages[0][1]") == ("load", "stages", 0, 1)
    assert parse_path("") == ()


def test_anchors_and_aliases_are_followed(tmp_path: Path) -> None:
    source = (FIXTURES / "valid" / "full.yaml").read_text()
    source = source.replace(
        "    target: {service: app, count: 1}\n    at: 10s",
        "    target: &one-app {service: app, count: 1}\n    at: 10s",
    ).replace("target: {service: app, count: 2}", "target: *one-app")
    file = tmp_path / "anchors.yaml"
    file.write_text(source)
    scenario = load_scenario(file)
    assert scenario.faults[3].target == scenario.faults[0].target


def test_problems_are_sorted_and_counted(tmp_path: Path) -> None:
    file = tmp_path / "two.yaml"
    file.write_text("version: 1\nnme: x\nstack: {}\nload: {users: 0}\ntiming: {duration: 1s}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    rendered = [p.render().removeprefix(f"{file}:") for p in info.value.problems]
    assert rendered == [
        "1:1: name: missing required key 'name' (scenario name)",
        "2:1: nme: unknown key 'nme'; expected one of: abort, checks, description, expect,"
        " experiment, faults, load, name, report, seed, stack, steady_state, tags, timing, version"
        " (did you mean 'name'?)",
        "3:8: stack.compose: missing required key 'compose'"
        " (compose file path, relative to the scenario file)",
        "3:8: stack.target: missing required key 'target'"
        " (where load goes: a URL on 127.0.0.1, or {service, port})",
        "4:15: load.users: expected a value of at least 1, found 0",
    ]
    assert info.value.message == f"{file}: 5 problems"
