"""`hachaos cleanup` (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def cleanup() -> None:
    """Not implemented yet."""
    raise typer.Exit(3)
