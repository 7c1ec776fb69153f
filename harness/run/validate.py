"""A scenario file checked completely, before anything is deployed.

The scenario layer checks what it can know alone; the stack's definition (the
compose file) is read by its engine, and the fault types (with what each needs) come from the
fault plugins. This module, above both, hands them in, so that
``harness.scenario`` never imports ``harness.engine`` or ``harness.faults``.
"""

from __future__ import annotations

from pathlib import Path

from harness.engine import registry as engines
from harness.errors import Problem
from harness.faults import catalog
from harness.scenario import loader, semantics
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import Scenario


def validate_file(path: Path) -> tuple[Scenario, ComposeConfig]:
    """Load a scenario, read its compose file and run every check; one ScenarioError
    lists every problem, each located in the file. Makes no Docker engine call."""
    return loader.validate_file(path, catalog.Scenario, engines.read_definition)


def check_scenario(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Every problem of an already loaded scenario against its compose file."""
    return semantics.check_scenario(scenario, compose)
