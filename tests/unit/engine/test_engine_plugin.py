"""A new engine is one package: dropped into harness/engine, it is everywhere.

The package below is written to a temporary folder that is added to the
``harness.engine`` package path, as if it were a new folder in harness/engine/.
No other file is edited, yet the engine reaches the scenario model (so
validation and its messages), the JSON Schema, the generated reference, the
capability checks of the faults and ``hachaos cleanup``.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import harness.engine
from harness.cli.app import app
from harness.engine import registry as engines
from harness.errors import ScenarioError
from harness.evidence.journal import append_to, state_dir
from harness.faults import catalog, heal
from harness.scenario import docgen, loader, schema

PACKAGE = '''
"""toy: a throwaway engine, only for this test."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.engine.registry import EngineType, LeftStack, register
from harness.scenario.compose import ComposeConfig, parse_compose_config
from harness.scenario.base import MAX_TEXT
from harness.scenario.models import StackBase

REMOVED: list[tuple[str, str, dict[str, Any]]] = []


class ToyStack(StackBase):
    """`engine: toy`: a test engine that runs a manifest."""

    definition_key = "manifest"

    engine: Literal["toy"] = Field(description="the toy engine")
    manifest: str = Field(max_length=MAX_TEXT, description="the manifest, relative to the file")
    flavour: int = Field(default=1, ge=1, le=3, description="how toy it is")


class Platform:
    """Replaces tasks, nothing more."""

    def wait_replaced(self, stack: str, targets: Any, timeout: float) -> list[dict[str, Any]]:
        return []


def read(stack: ToyStack, definition: Path, overrides: Any) -> ComposeConfig:
    raw = {"services": {"app": {"image": "x"}, "lb": {"image": "y", "ports": [{"target": 80}]}}}
    return parse_compose_config(definition, raw)


def remove_left(left: LeftStack) -> list[str]:
    REMOVED.append((left.project, left.run_id, dict(left.details)))
    return [f"removed toy stack {left.project}"]


def create(stack: ToyStack, definition: Path, project: str, run_id: str) -> Any:
    raise NotImplementedError


register(
    EngineType(
        stack_model=ToyStack,
        create=create,
        read_definition=read,
        remove_left=remove_left,
        removal_hint=lambda project, details: f"toy rm {project}",
        noun="toy stack",
        platform=Platform(),
    )
)
'''

SCENARIO = """\
version: 1
name: toy
stack: {engine: ENGINE, manifest: m.yaml, target: {service: lb, port: 80}, flavour: FLAVOUR}
load: {users: 1}
timing: {duration: 60}
faults:
  - {type: FAULT, target: {service: app}, at: 5s, for: 10s}
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[catalog.Catalog]:
    folder = tmp_path / "engines"
    (folder / "toyengine").mkdir(parents=True)
    (folder / "toyengine" / "__init__.py").write_text(textwrap.dedent(PACKAGE), encoding="utf-8")
    engines.names()  # the real engines first; the fixture restores this registry
    monkeypatch.setattr(harness.engine, "__path__", [*harness.engine.__path__, str(folder)])
    monkeypatch.setattr(engines, "_REGISTRY", dict(engines._REGISTRY))
    monkeypatch.setattr(engines, "_loaded", [])
    try:
        yield catalog.build()
    finally:
        sys.modules.pop("harness.engine.toyengine", None)


def _validate(tmp_path: Path, model: catalog.Catalog, **values: str) -> Any:
    text = SCENARIO
    for key, value in {"ENGINE": "toy", "FLAVOUR": "2", "FAULT": "kill", **values}.items():
        text = text.replace(key, value)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return loader.validate_file(path, model.scenario, engines.read_definition)


def test_the_shipped_catalog_does_not_know_the_test_engine() -> None:
    assert "toy" not in catalog.CATALOG.engines
    assert catalog.CATALOG.engines == ("compose", "kubernetes", "swarm")


def test_a_new_package_registers_its_engine_and_its_capabilities(
    plugin: catalog.Catalog,
) -> None:
    assert plugin.engines == ("compose", "kubernetes", "swarm", "toy")
    toy = engines.get("toy")
    assert (toy.name, toy.noun, toy.is_default) == ("toy", "toy stack", False)
    assert toy.capabilities == frozenset({"task-replacement"})
    assert toy.removal_hint("p", {}) == "toy rm p"


def test_scenarios_validate_the_new_engine_with_its_own_keys(
    plugin: catalog.Catalog, tmp_path: Path
) -> None:
    scenario, config = _validate(tmp_path, plugin)
    assert (type(scenario.stack).__name__, scenario.stack.flavour) == ("ToyStack", 2)
    assert scenario.stack.definition() == "m.yaml"
    assert sorted(config.services) == ["app", "lb"]  # read by the engine's own reader
    with pytest.raises(ScenarioError) as err:
        _validate(tmp_path, plugin, FLAVOUR="4")
    assert [p.message for p in err.value.problems] == ["expected a value of at most 3, found 4"]
    with pytest.raises(ScenarioError) as err:
        _validate(tmp_path, plugin, ENGINE="toi")
    (problem,) = err.value.problems
    assert problem.path == "stack.engine"
    known = "compose, kubernetes, swarm, toy"
    assert problem.message == f"unknown engine 'toi'; expected one of: {known}"
    assert problem.suggestion == "toy"


def test_a_fault_the_engine_cannot_run_is_refused_by_capability(
    plugin: catalog.Catalog, tmp_path: Path
) -> None:
    with pytest.raises(ScenarioError) as err:
        _validate(tmp_path, plugin, FAULT="service-scale, replicas: 1")
    assert (
        "a `service-scale` fault needs `stack.engine: kubernetes or swarm`, and this stack runs "
        "on toy" in str(err.value)
    )


def test_schema_and_reference_document_the_new_engine(plugin: catalog.Catalog) -> None:
    doc = schema.scenario_schema(plugin.scenario)
    toy = doc["$defs"]["ToyStack"]
    assert toy["properties"]["flavour"]["maximum"] == 3
    assert toy["properties"]["engine"]["const"] == "toy"
    assert set(toy["required"]) >= {"engine", "manifest", "target"}
    refs = {m["$ref"] for m in doc["properties"]["stack"]["oneOf"]}
    assert refs == {f"#/$defs/{n}Stack" for n in ("Compose", "Kubernetes", "Swarm", "Toy")}
    text = docgen.render(plugin.scenario)
    assert '| `engine` | `compose` \\| `kubernetes` \\| `swarm` \\| `toy` | `"compose"` |' in text
    assert "### `engine: toy`" in text
    assert "| `manifest` | text | **required** | the manifest, relative to the file |" in text


def _dead_toy_run(run_id: str) -> None:
    path = state_dir() / f"{run_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"run_id": run_id, "project": f"p-{run_id}"}
    append_to(path, {**base, "op": "open", "pid": 0, "host": "gone", "pid_started": 0.0})
    stack = {"engine": "toy", "created": True, "keep": False, "manifest": "/x/m.yaml"}
    append_to(path, {**base, "op": "stack", **stack})


def test_cleanup_removes_a_dead_runs_stack_through_the_new_engine(
    plugin: catalog.Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(heal.helpers, "list_helpers", lambda **_: [])
    _dead_toy_run("r1")
    result = CliRunner().invoke(app, ["cleanup", "--run", "r1"])
    assert result.exit_code == 0, result.output
    assert "done run r1: removed toy stack p-r1" in result.output
    toy = sys.modules["harness.engine.toyengine"]
    assert toy.REMOVED == [("p-r1", "r1", {"manifest": "/x/m.yaml"})]
    second = heal.heal(run_id="r1")  # the journal says it is gone: nothing more to do
    assert second.done == [] and toy.REMOVED == [("p-r1", "r1", {"manifest": "/x/m.yaml"})]
