"""`hachaos init COMPOSE`: write a commented starter scenario for a compose file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.output import EXIT_INFRA, EXIT_INVALID, console, err_console, guarded
from harness.engine import registry as engines
from harness.engine.compose.config import read_compose_config
from harness.errors import ScenarioError
from harness.run.validate import validate_file
from harness.scenario.compose import ComposeConfig
from harness.scenario.starter import DEFAULT_DURATION_S, StarterError, render_starter
from harness.scenario.units import parse_duration


def init(
    compose: Annotated[
        Path,
        typer.Argument(
            help="The stack under test: a compose file, or Kubernetes manifests (a file, a "
            "folder, a kustomize folder)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scenario file to write.")] = Path(
        "scenario.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    duration: Annotated[
        str, typer.Option(help="Measured run length, e.g. 60s or 2m.")
    ] = f"{DEFAULT_DURATION_S:g}s",
    rps: Annotated[
        float, typer.Option(min=0.1, max=10_000, help="Requests per second of the load.")
    ] = 10.0,
) -> None:
    """Write a commented starter scenario for COMPOSE.

    Reads the file with `docker compose config` (no engine needed), picks the
    entry service and its published HTTP port, proposes a ready path from its
    healthcheck, and suggests one fault per service (commented out). The file
    it writes validates and runs as it is. Exit code 2 for an unusable compose
    file, or when OUTPUT exists and --force is not given.
    """
    with guarded():
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise ScenarioError(f"--duration: {exc}") from exc
        if output.exists() and not force:
            err_console.print(
                f"[bold red]error:[/] {escape(str(output))} exists; nothing was written",
                soft_wrap=True,
            )
            err_console.print("  hint: pass --force to overwrite it, or -o another file")
            raise typer.Exit(EXIT_INVALID)
        ref = os.path.relpath(compose.resolve(), output.resolve().parent)
        config, keys = _read_stack(compose, ref)
        try:
            starter = render_starter(config, ref, duration=seconds, rps=rps, stack_keys=keys)
        except StarterError as exc:
            raise ScenarioError(f"{compose}: {exc}") from exc
        _write_validated(output, starter.text)
    entry = starter.entry
    console.print(
        f"[green]wrote[/] {escape(str(output))}: load to {entry.service}:{entry.port}"
        f" ({escape(entry.why)}), ready_path {escape(starter.ready_path)}",
        soft_wrap=True,
    )
    for line in starter.suggestions:
        console.print(f"  suggested fault (commented): {escape(line)}", soft_wrap=True)
    console.print(f"next: hachaos run {escape(str(output))}", soft_wrap=True)


def _read_stack(compose: Path, ref: str) -> tuple[ComposeConfig, list[tuple[str, str]]]:
    """The stack as its engine reads it, and the scenario's stack keys for it (none beyond
    ``compose:`` for the default engine)."""
    kind = engines.for_definition(compose)
    if kind.is_default:
        return read_compose_config(compose), []
    # e.g. a folder of Kubernetes manifests: that engine reads it, keys of its own
    config = kind.read_definition(None, compose, ())
    return config, [("engine", kind.name), (kind.stack_model.definition_key, ref)]


def _write_validated(output: Path, text: str) -> None:
    """Write the starter beside its final place (its compose path is relative to it),
    validate it there, then rename it; exit 3 when it does not validate (a bug of init)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    draft = output.with_name(f".{output.name}.draft.yaml")
    draft.write_text(text, encoding="utf-8")
    try:
        validate_file(draft)
    except ScenarioError as exc:  # a bug of init, not of the user's file
        err_console.print(
            f"[bold red]error:[/] the starter does not validate (kept as {draft}):"
            f" {escape(str(exc))}",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INFRA) from exc
    draft.replace(output)
