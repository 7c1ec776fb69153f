"""`hachaos schema` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def schema() -> None:
    """Not implemented yet."""
    raise typer.Exit(3)
