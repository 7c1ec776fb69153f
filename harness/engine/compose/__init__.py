"""The Compose engine: `docker compose` on one Docker engine (the default ``stack.engine``)."""

from __future__ import annotations

from harness.engine.compose.adapter import ComposeEngine, removal_hint, remove_left
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
    )
)
