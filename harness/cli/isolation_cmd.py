"""`hachaos isolation COMPOSE`: the observed reachability matrix of a stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from harness.cli.output import call_guarded, console, err_console
from harness.run.isolation_map import matrix, observe, starter_block

STYLE = {"open": "green", "partly open": "yellow", "closed": "dim"}


def isolation(
    compose: Annotated[Path, typer.Argument(help="The compose file to deploy and probe.")],
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write the matrix as a starter `checks.isolation` block."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, max=5.0, help="TCP connect timeout, s.")
    ] = 1.0,
) -> None:
    """Deploy the stack, probe every service pair on every exposed port, tear it down.

    Probes run from inside each container's network namespace (a helper sharing
    it), to every address of every replica. Exit 0 when probed, 2/3 on errors.
    """
    if not compose.is_file():
        err_console.print(f"[bold red]error:[/] compose file {escape(str(compose))} does not exist")
        raise typer.Exit(2)
    observations = call_guarded(
        lambda: observe(compose, timeout_s=timeout, on_step=lambda m: err_console.print(escape(m)))
    )
    rows = matrix(observations)
    table = Table(title=f"observed reachability of {compose}")
    for col in ("from", "to", "port", "state"):
        table.add_column(col)
    for a, b, port, state in rows:
        style = STYLE.get(state, "red")
        table.add_row(
            escape(a), escape(b), "—" if port is None else str(port), f"[{style}]{state}[/]"
        )
    console.print(table)
    if write:
        write.write_text(yaml.safe_dump(starter_block(rows), sort_keys=False), encoding="utf-8")
        console.print(f"wrote {escape(str(write))}")
