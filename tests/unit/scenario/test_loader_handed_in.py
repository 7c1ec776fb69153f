"""The scenario layer validates with what it is handed: the concrete Scenario model (the
fault plugins' specs, each declaring the namespaces it acts in), the stack reader and
extra checks come from above (harness/run/validate.py), so ``harness.scenario`` runs
without the engine or ``harness.faults``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.errors import Problem, ScenarioError
from harness.faults.catalog import Scenario as FullScenario
from harness.scenario import loader
from harness.scenario.compose import ComposeConfig, parse_compose_config
from harness.scenario.models import Scenario, StackBase

REFUSED = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios" / "refused"
FILE = REFUSED / "loss-host-network.yaml"


# The canonical (`compose config`) form of the two services the scenario names.
CANONICAL = {
    "services": {
        "lb": {
            "image": "debian:bookworm-slim",
            "ports": [{"target": 8080, "host_ip": "127.0.0.1"}],
        },
        "hostnet": {"image": "debian:bookworm-slim", "network_mode": "host"},
    }
}


def _reader(calls: list[tuple[str, str | None]]) -> loader.StackReader:
    def read(stack: StackBase, path: Path, /, overrides: Sequence[Path] = ()) -> ComposeConfig:
        calls.append((path.name, stack.project))
        return parse_compose_config(path, CANONICAL)  # what `docker compose config` says

    return read


def test_the_handed_reader_is_used_and_the_spec_namespaces_refuse_host_network() -> None:
    calls: list[tuple[str, str | None]] = []
    with pytest.raises(ScenarioError) as info:
        loader.validate_file(FILE, FullScenario, _reader(calls))
    assert calls == [("shared-namespaces.yaml", None)]
    assert "service 'hostnet' has `network_mode: host`" in str(info.value)


def test_a_handed_in_check_runs_and_its_problem_is_located() -> None:
    seen: list[str] = []

    def planted(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
        seen.append(scenario.name)
        return [Problem("faults[0].target.service", "planted problem")]

    with pytest.raises(ScenarioError) as info:
        loader.validate_file(FILE, FullScenario, _reader([]), (planted,))
    assert seen == ["loss-host-network"]
    assert "13:23: faults[0].target.service: planted problem" in str(info.value)
    assert "network_mode: host" in str(info.value)  # the scenario layer's own check too
