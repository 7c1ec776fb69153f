"""The Swarm engine: `docker stack deploy` on a Docker Swarm (docs/engines.md)."""

from __future__ import annotations

from harness.engine.compose.stack import read_definition
from harness.engine.registry import EngineType, register
from harness.engine.swarm import core
from harness.engine.swarm.core import SwarmEngine, removal_hint, remove_left
from harness.engine.swarm.stack import SwarmStack

register(
    EngineType(
        stack_model=SwarmStack,
        create=SwarmEngine.create,
        read_definition=read_definition,
        remove_left=remove_left,
        removal_hint=removal_hint,
        noun="swarm stack",
        platform=core,
    )
)
