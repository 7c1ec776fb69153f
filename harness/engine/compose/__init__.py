"""The Compose engine: `docker compose` on one Docker engine (the default ``stack.engine``).

``ComposeProject`` and the project helpers are also what the Swarm engine builds its
images with, and what `hachaos build` and the isolation map use: re-exported here.
"""

from __future__ import annotations

from harness.engine.compose.adapter import ComposeEngine, removal_hint, remove_left
from harness.engine.compose.images import BUILD_PROJECT, KEEP, prune_builds, prune_stale_builds
from harness.engine.compose.project import (
    ComposeProject,
    ProjectObjects,
    compose_files_under,
    project_objects,
    remove_project_objects,
    stable_image_names,
)
from harness.engine.compose.stack import ComposeStack, read_definition
from harness.engine.registry import EngineType, register

register(
    EngineType(
        stack_model=ComposeStack,
        create=ComposeEngine.create,
        read_definition=read_definition,
        remove_left=remove_left,
        removal_hint=removal_hint,
        noun="compose project",
        prune_images=prune_stale_builds,
    )
)

__all__ = [
    "BUILD_PROJECT",
    "KEEP",
    "ComposeProject",
    "ProjectObjects",
    "compose_files_under",
    "project_objects",
    "prune_builds",
    "remove_project_objects",
    "stable_image_names",
]
