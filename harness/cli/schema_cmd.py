"""`hachaos schema`: the JSON Schema of scenario files, for editors."""

from __future__ import annotations

import json

import typer

from harness.faults.catalog import scenario_schema


def schema() -> None:
    """Print the JSON Schema of the scenario format.

    Point your editor's YAML language server at it to get completion and
    linting, e.g. `hachaos schema > scenario.schema.json` and a
    `# yaml-language-server: $schema=scenario.schema.json` line.
    """
    typer.echo(json.dumps(scenario_schema(), indent=2, sort_keys=False))
