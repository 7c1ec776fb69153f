"""`hachaos plan` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def plan() -> None:
    """Not implemented yet."""
    raise typer.Exit(3)
