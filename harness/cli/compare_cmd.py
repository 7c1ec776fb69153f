"""`hachaos compare` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def compare() -> None:
    """Not implemented yet."""
    raise typer.Exit(3)
