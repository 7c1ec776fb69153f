"""The Swarm engine: `docker stack deploy` on a Docker Swarm (docs/engines.md).

Modules by job: ``names`` (labels, stack names, timestamps), ``preflight`` (what this
swarm cannot run), ``lifecycle`` (join or create the swarm, leave one hachaos created),
``objects`` (the stack's services, containers, networks and volumes), ``tasks``,
``events`` (the task observer), ``services`` and ``nodes`` (what the faults change),
``platform`` (the fault-facing API) and ``adapter`` (the engine port).
"""

from __future__ import annotations

from harness.engine.compose.images import prune_stale_builds
from harness.engine.compose.stack import read_definition
from harness.engine.registry import EngineType, register
from harness.engine.swarm import platform
from harness.engine.swarm.adapter import SwarmEngine, finish_left, removal_hint, remove_left
from harness.engine.swarm.stack import SwarmStack

register(
    EngineType(
        stack_model=SwarmStack,
        create=SwarmEngine.create,
        read_definition=read_definition,
        remove_left=remove_left,
        finish_left=finish_left,
        removal_hint=removal_hint,
        noun="swarm stack",
        platform=platform,
        prune_images=prune_stale_builds,  # it builds with Compose: the same images
    )
)
