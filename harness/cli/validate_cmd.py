"""`hachaos validate FILE...`: check scenario files without touching the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.output import EXIT_INVALID, console, err_console, guarded
from harness.errors import ScenarioError
from harness.run.validate import validate_file


def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Scenario files to check.", show_default=False)
    ],
) -> None:
    """Check scenario files: format, compose services, fault windows and overlaps.

    Prints `ok FILE` for each valid file and every located problem of the
    others. Exit code 2 if any file is invalid. Never calls the Docker engine.
    """
    invalid = 0
    with guarded():
        for file in files:
            try:
                validate_file(file)
            except ScenarioError as exc:
                invalid += 1
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
                continue
            console.print(f"[green]ok[/] {escape(str(file))}", soft_wrap=True)
    if invalid:
        raise typer.Exit(EXIT_INVALID)
