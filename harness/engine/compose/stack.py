"""The stack keys of the engines that deploy a compose file (Compose, and Swarm's
`docker stack deploy`), and how validation reads that file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.engine.compose.config import read_compose_config
from harness.scenario.base import MAX_TEXT
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import StackBase


class ComposeFileStack(StackBase):
    """A stack defined by a compose file."""

    definition_key = "compose"

    compose: str = Field(
        max_length=MAX_TEXT, description="compose file path, relative to the scenario file"
    )


class ComposeStack(ComposeFileStack):
    """`engine: compose` (the default): `docker compose up` on this engine."""

    engine: Literal["compose"] = Field(
        default="compose", description="`docker compose up` on this engine (docs/engines.md)"
    )


def read_definition(
    stack: ComposeFileStack, definition: Path, overrides: Sequence[Path] = ()
) -> ComposeConfig:
    """The compose file (and the files layered over it) as `docker compose config`
    resolves it (offline)."""
    return read_compose_config(definition, stack.project, overrides)
