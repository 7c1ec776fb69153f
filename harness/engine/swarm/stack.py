"""The stack keys of the Swarm engine: a compose file, deployed with `docker stack deploy`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.engine.compose.stack import ComposeFileStack


class SwarmStack(ComposeFileStack):
    """`engine: swarm`: `docker stack deploy` on a Docker Swarm (docs/engines.md)."""

    engine: Literal["swarm"] = Field(
        description="`docker stack deploy` on a swarm; hachaos creates one when the engine "
        "is in none, and leaves it afterwards (docs/engines.md)"
    )
