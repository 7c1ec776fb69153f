"""The one place in ``harness/run/`` that decides or words anything by an engine's name.

The adapter that ``stack.engine`` names, whether the live compose review runs, and
the words a notice uses for the stack and its manual removal. Issue 23 replaces
each with a lookup in the engine registry; nothing else in ``run/`` may compare
an engine's name.
"""

from __future__ import annotations

from harness.engine.compose import ComposeProject
from harness.engine.compose_engine import ComposeEngine
from harness.engine.port import StackEngine
from harness.engine.swarm import SwarmEngine
from harness.scenario.models import Scenario


def default_engine(scenario: Scenario, project: str, run_id: str) -> StackEngine:
    """The engine adapter that ``stack.engine`` names, with ``stack.overrides`` layered on."""
    file = scenario.resolve_path(scenario.stack.compose)
    engine: StackEngine
    if scenario.stack.engine == "swarm":
        engine = SwarmEngine(file, project, run_id)
    else:
        engine = ComposeEngine(ComposeProject(file, project))
    overrides = [scenario.resolve_path(f) for f in scenario.stack.overrides]
    return engine.with_overrides(overrides) if overrides else engine


def reviews_live_stack(engine: StackEngine) -> bool:
    """Whether the live review (``harness.audit``) can read this engine's containers."""
    return engine.kind == "compose"


def stack_noun(engine: StackEngine) -> str:
    """What the engine calls a deployed stack, for messages."""
    return "compose project" if engine.kind == "compose" else "swarm stack"


def removal_hint(engine: StackEngine) -> str:
    """How a user removes the stack by hand after a failed teardown."""
    return f"`docker compose -p {engine.project} down -v`"


def kept_notice(engine: StackEngine) -> str:
    """What ``--keep`` left up."""
    return f"--keep: the stack is still up as compose project {engine.project}"
