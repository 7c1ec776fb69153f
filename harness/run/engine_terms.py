"""What ``harness/run/`` asks of an engine by its name: the engine registry answers.

The port for a run and the words a notice uses for the stack and its removal are
lookups in harness/engine/registry.py, never a comparison of names
(tests/unit/arch/test_engine_names.py); whether the live compose review runs is a
detected protocol (``LiveAudit``, harness/run/deploy.py).
"""

from __future__ import annotations

from harness.engine import registry as engines
from harness.engine.port import StackEngine
from harness.scenario.models import Scenario


def default_engine(scenario: Scenario, project: str, run_id: str) -> StackEngine:
    """The engine adapter that ``stack.engine`` names, with ``stack.overrides`` layered on."""
    definition = scenario.resolve_path(scenario.stack.definition())
    engine = engines.for_stack(scenario.stack, definition, project, run_id)
    overrides = [scenario.resolve_path(f) for f in scenario.stack.overrides]
    return engine.with_overrides(overrides) if overrides else engine


def stack_noun(engine: StackEngine) -> str:
    """What the engine calls a deployed stack, for messages."""
    return engines.get(engine.kind).noun


def removal_hint(engine: StackEngine) -> str:
    """How a user removes the stack after a failed teardown: cleanup, or the engine's own
    command."""
    by_hand = engines.get(engine.kind).removal_hint(engine.project, engine.journal_record())
    return f"`hachaos cleanup --project {engine.project}` or by hand: `{by_hand}`"


def kept_notice(engine: StackEngine) -> str:
    """What ``--keep`` left up."""
    return f"--keep: the stack is still up as {stack_noun(engine)} {engine.project}"
