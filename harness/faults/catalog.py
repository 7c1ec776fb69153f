"""Everything derived from the fault and engine registries: the concrete Scenario model
and its kin.

The scenario layer defines the fault and stack base models and knows no fault type
and no engine; each plugin module in this package adds a fault type, each engine
package (harness/engine/registry.py) a stack. This module puts them together: the
discriminated union, ``FAULT_TYPES``, the instant set, the ``Scenario`` model
(and so the JSON Schema), the loaders bound to it and the scenario reference
(``python -m harness.faults.catalog > docs/scenarios.md``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.engine import registry as engines
from harness.faults import registry
from harness.scenario import docgen, loader, models, schema


@dataclass(frozen=True)
class Catalog:
    """The fault types known to one build, and the models derived from them."""

    specs: tuple[type[models.FaultBase], ...]
    stacks: tuple[type[models.StackBase], ...]
    scenario: type[models.Scenario]

    @property
    def fault(self) -> Any:
        """One fault of the scenario file: the union of the specs, discriminated by ``type``."""
        return models.fault_union(self.specs)

    @property
    def fault_types(self) -> tuple[str, ...]:
        """Every fault ``type``, in union order."""
        return tuple(s.fault_type() for s in self.specs)

    @property
    def instant_types(self) -> frozenset[str]:
        """Types that happen at an instant and heal by themselves (no planned revert)."""
        return frozenset(s.fault_type() for s in self.specs if s.instant)

    @property
    def engines(self) -> tuple[str, ...]:
        """Every ``stack.engine``, the default first."""
        return tuple(s.engine_name() for s in self.stacks)


def build(
    specs: tuple[type[models.FaultBase], ...] | None = None,
    stacks: tuple[type[models.StackBase], ...] | None = None,
) -> Catalog:
    """The catalog of ``specs`` and ``stacks`` (default: every registered fault type,
    sorted by type, and every registered engine, the default first)."""
    specs = registry.specs() if specs is None else specs
    stacks = engines.stack_models() if stacks is None else stacks
    return Catalog(specs=specs, stacks=stacks, scenario=models.scenario_model(specs, stacks))


CATALOG = build()
Scenario = CATALOG.scenario
FAULT_TYPES = CATALOG.fault_types
FaultSpec = CATALOG.fault  # one fault of a scenario file, e.g. for pydantic.TypeAdapter
INSTANT_TYPES = CATALOG.instant_types


def load_scenario(path: Path) -> models.Scenario:
    """Parse and validate one scenario file (see harness.scenario.loader.load_scenario)."""
    return loader.load_scenario(path, Scenario)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (``hachaos schema``)."""
    return schema.scenario_schema(Scenario)


def render_docs() -> str:
    """docs/scenarios.md."""
    return docgen.render(Scenario)


if __name__ == "__main__":
    sys.stdout.write(render_docs())
