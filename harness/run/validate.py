"""A scenario file checked completely, before anything is deployed.

The scenario layer checks what it can know alone; the compose file is read by
the engine layer, and which namespaces a fault type acts in is the fault
plugin's knowledge. This module, above both, hands them in, so that
``harness.scenario`` never imports ``harness.engine`` or ``harness.faults``.
"""

from __future__ import annotations

from pathlib import Path

from harness.engine.compose_config import read_compose_config
from harness.errors import Problem
from harness.faults import registry
from harness.faults.base import COMPOSE_SETTINGS, namespace_refusal
from harness.scenario import loader, semantics
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import Scenario


def check_namespaces(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Refuse faults that would act in a namespace the target shares with the host or
    another container (``network_mode: host``, ``pid: host``, ``service:...``)."""
    problems: list[Problem] = []
    for i, fault in enumerate(scenario.faults):
        service = compose.services.get(fault.target.service)
        if service is None:
            continue
        modes = {"network": service.network_mode, "pid": service.pid}
        why = namespace_refusal(
            fault.type, registry.get(fault.type).namespaces, modes, COMPOSE_SETTINGS
        )
        if why:
            problems.append(
                Problem(
                    f"faults[{i}].target.service",
                    f"service {service.name!r} {why}; give the service its own namespace"
                    " or target another service",
                )
            )
    return problems


CHECKS: tuple[semantics.Check, ...] = (check_namespaces,)


def validate_file(path: Path) -> tuple[Scenario, ComposeConfig]:
    """Load a scenario, read its compose file and run every check; one ScenarioError
    lists every problem, each located in the file. Makes no Docker engine call."""
    return loader.validate_file(path, read_compose_config, CHECKS)


def check_scenario(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Every problem of an already loaded scenario against its compose file."""
    return semantics.check_scenario(scenario, compose, CHECKS)
