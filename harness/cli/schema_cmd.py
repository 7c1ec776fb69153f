"""`hachaos schema`: the JSON Schema of scenario files (for editors) or of summary.json."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from harness.analysis.summary_model import summary_json_schema
from harness.faults.catalog import scenario_schema


def schema(
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="print the schema of a run's summary.json instead (docs/summary.schema.json)",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of the scenario format (or, with --summary, of summary.json).

    Point your editor's YAML language server at it to get completion and
    linting, e.g. `hachaos schema > scenario.schema.json` and a
    `# yaml-language-server: $schema=scenario.schema.json` line.
    """
    doc = summary_json_schema() if summary else scenario_schema()
    typer.echo(json.dumps(doc, indent=2, sort_keys=False))
