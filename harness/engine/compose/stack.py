"""The stack keys of the engines that deploy a compose file (Compose, and Swarm's
`docker stack deploy`), and how validation reads that file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.engine.compose.config import read_compose_config
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import MAX_TEXT, StackBase


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


def read_definition(stack: ComposeFileStack, definition: Path) -> ComposeConfig:
    """The compose file as `docker compose config` resolves it (offline)."""
    return read_compose_config(definition, stack.project)
