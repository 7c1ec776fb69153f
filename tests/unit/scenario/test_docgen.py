"""docs/scenarios.md is generated from the models and must match them."""

from __future__ import annotations

from pathlib import Path

from harness.faults.catalog import FAULT_TYPES, Scenario, render_docs
from harness.run.validate import validate_file
from harness.scenario import models
from harness.scenario.docgen import EXAMPLE
from harness.scenario.explain import model_keys


def test_docs_match_the_models(repo_root: Path) -> None:
    committed = (repo_root / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert committed == render_docs(), "run: python -m harness.faults.catalog > docs/scenarios.md"


def test_every_key_is_documented() -> None:
    text = render_docs()
    stacks = Scenario.stack_models
    for model in (Scenario, *stacks, models.Load, models.Selector, models.Checks):
        for key in model_keys(model):
            assert f"| `{key}` |" in text, key
    for fault_type in FAULT_TYPES:
        assert f"| `{fault_type}` |" in text, fault_type


def test_the_example_validates_against_the_reference_stack(repo_root: Path, tmp_path: Path) -> None:
    compose = repo_root / "compose" / "web-ha" / "compose.yaml"
    scenario_file = tmp_path / "example.yaml"
    scenario_file.write_text(EXAMPLE.replace("../compose/web-ha/compose.yaml", str(compose)))
    scenario, config = validate_file(scenario_file)
    assert scenario.name == "kill-one-app-replica"
    assert config.services["app"].replicas == 3
