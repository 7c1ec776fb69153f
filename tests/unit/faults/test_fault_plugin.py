"""A new fault type is one module: dropped into harness/faults, it is everywhere.

The module below is written to a temporary folder that is added to the
``harness.faults`` package path, as if it were a new file in harness/faults/.
No other file is edited, yet the new types reach the scenario model (so
validation and its messages), the JSON Schema, the generated reference, the
plan's instant set and the registry the runner uses.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness.faults
from harness.errors import ScenarioError
from harness.faults import catalog, registry
from harness.faults.base import FaultContext
from harness.scenario import docgen, loader, schema
from harness.scenario.plan import build_plan

PLUGIN = '''
"""wobble and whoop: throwaway fault types, only for this test."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.base import Fault, InstantFault
from harness.faults.registry import register
from harness.scenario.models import FaultBase, WindowedFault


class WobbleFault(WindowedFault):
    """Wobble the target (a test type)."""

    type: Literal["wobble"]
    amplitude: int = Field(default=3, ge=1, le=9, description="how hard it wobbles")


class WhoopFault(FaultBase):
    """Whoop once (a test type that heals by itself)."""

    instant = True

    type: Literal["whoop"]


@register
class Wobble(Fault[WobbleFault]):
    spec_state = ("amplitude",)

    def apply(self) -> None:
        return None

    def verify(self) -> None:
        return None


@register
class Whoop(InstantFault[WhoopFault]):
    def apply(self) -> None:
        return None

    def verify(self) -> None:
        return None
'''

SCENARIO = """\
version: 1
name: plugin
stack: {compose: c.yaml, target: "http://127.0.0.1:8080/"}
load: {users: 1}
timing: {duration: 60}
faults:
  - {type: wobble, target: {service: app}, at: 5s, for: 10s, amplitude: AMPLITUDE}
  - {type: whoop, target: {service: app}, at: 20s}
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[catalog.Catalog]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "wobble_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    registry.types()  # the real plugins first; the fixture restores this registry
    monkeypatch.setattr(harness.faults, "__path__", [*harness.faults.__path__, str(folder)])
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_loaded", [])
    try:
        yield catalog.build()
    finally:
        sys.modules.pop("harness.faults.wobble_plugin", None)


def _load(tmp_path: Path, model: catalog.Catalog, amplitude: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("AMPLITUDE", amplitude), encoding="utf-8")
    return loader.load_scenario(path, model.scenario)


def test_the_shipped_catalog_does_not_know_the_test_types() -> None:
    assert "wobble" not in catalog.FAULT_TYPES
    assert "whoop" not in catalog.FAULT_TYPES


def test_a_new_module_adds_its_types_to_the_catalog(plugin: catalog.Catalog) -> None:
    assert {"wobble", "whoop"} <= set(plugin.fault_types)
    assert set(catalog.FAULT_TYPES) < set(plugin.fault_types)
    assert plugin.instant_types == catalog.INSTANT_TYPES | {"whoop"}
    assert registry.get("wobble").type == "wobble"
    assert registry.get("whoop").instant is True


def test_scenarios_validate_the_new_type_with_its_own_fields(
    plugin: catalog.Catalog, tmp_path: Path
) -> None:
    scenario = _load(tmp_path, plugin, "5")
    wobble, whoop = scenario.faults  # type: ignore[attr-defined]
    assert (type(wobble).__name__, wobble.amplitude) == ("WobbleFault", 5)
    assert type(whoop).__name__ == "WhoopFault"
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, plugin, "10")
    assert [p.message for p in err.value.problems] == ["expected a value of at most 9, found 10"]


def test_the_plan_takes_instant_from_the_spec(plugin: catalog.Catalog, tmp_path: Path) -> None:
    scenario = _load(tmp_path, plugin, "5")
    plan = build_plan(scenario, {"app": 1})  # type: ignore[arg-type]
    assert [(s.type, s.start, s.end) for s in plan.steps] == [
        ("wobble", 5.0, 15.0),
        ("whoop", 20.0, None),
    ]


def test_the_runner_side_reads_the_typed_spec(plugin: catalog.Catalog, tmp_path: Path) -> None:
    scenario = _load(tmp_path, plugin, "7")
    step = build_plan(scenario, {"app": 1}).steps[0]  # type: ignore[arg-type]
    wobble = registry.get("wobble")
    assert wobble.extra_state(step, [], FaultContext(project="p", run_id="r")) == {"amplitude": 7}


def test_schema_and_reference_document_the_new_type(plugin: catalog.Catalog) -> None:
    defs = schema.scenario_schema(plugin.scenario)["$defs"]
    assert defs["WobbleFault"]["properties"]["amplitude"]["maximum"] == 9
    assert "whoop" in str(defs["WhoopFault"]["properties"]["type"])
    text = docgen.render(plugin.scenario)
    assert "| `wobble` | windowed | Wobble the target (a test type). | `amplitude` |" in text
    assert "| `whoop` | instant | Whoop once (a test type that heals by itself). | — |" in text
    assert "| `amplitude` | integer | `3` | how hard it wobbles |" in text


def test_register_refuses_a_behaviour_that_does_not_match_its_spec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typing import Literal

    from harness.faults.base import Fault
    from harness.faults.netns import NetnsFault
    from harness.scenario.models import FaultBase, WindowedFault

    registry.types()  # the real plugins are loaded: `kill` is taken
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    class NoSpec(Fault):  # type: ignore[type-arg]
        def apply(self) -> None: ...
        def verify(self) -> None: ...

    with pytest.raises(TypeError, match="name its spec model"):
        registry.register(NoSpec)

    class BlipFault(FaultBase):
        instant = True
        type: Literal["blip"]

    class Blip(Fault[BlipFault]):  # an instant spec needs an InstantFault behaviour
        def apply(self) -> None: ...
        def verify(self) -> None: ...

    with pytest.raises(TypeError, match="InstantFault"):
        registry.register(Blip)

    class KillAgain(WindowedFault):
        type: Literal["kill"]

    class Kill2(Fault[KillAgain]):
        def apply(self) -> None: ...
        def verify(self) -> None: ...

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Kill2)

    class SnipFault(WindowedFault):  # not a NetworkFault: declares no namespace
        type: Literal["snip"]

    class Snip(NetnsFault[SnipFault]):  # type: ignore[type-var]
        pass

    with pytest.raises(TypeError, match="namespaces must include network"):
        registry.register(Snip)
