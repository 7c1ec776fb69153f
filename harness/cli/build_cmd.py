"""`hachaos build`: build the stacks' images and the fault helper image ahead of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.output import console, guarded
from harness.engine import helpers
from harness.engine.compose.project import ComposeProject, compose_files_under


def build(
    compose_files: Annotated[
        list[Path] | None,
        typer.Argument(help="Compose files to build (default: every compose/*/compose.yaml)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Build images offline (FROM debian:bookworm-slim) so that the first run starts fast."""
    with guarded():
        files = list(compose_files or compose_files_under(Path("compose")))
        for file in files:
            if not quiet:
                console.print(f"building {file}")
            ComposeProject(file.resolve(), "hachaos-build").build()
        image = helpers.ensure_image()
        if not quiet:
            console.print(f"fault helper image: {image}")
