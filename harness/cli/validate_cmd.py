"""`hachaos validate` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def validate() -> None:
    """Not implemented yet."""
    raise typer.Exit(3)
