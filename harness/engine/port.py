"""The engine port: what a run needs from the thing that runs the stack.

The orchestrator, the fault runner and cleanup talk to a :class:`StackEngine`
only; each engine package (``harness/engine/<name>/``) implements it and registers
how to build one (harness/engine/registry.py). Optional abilities of a deployed
stack are small protocols the orchestrator detects (:class:`LiveAudit`).

Every method acts on the run's own stack only: the adapter re-checks the
stack's label on whatever the engine lists, so a look-alike object of another
stack is never selected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.engine.containers import Target

EmitFn = Callable[..., object]  # EventLog.emit(kind, **fields)


class StackEngine(Protocol):
    """One stack (compose project, swarm stack...) deployed under one run-scoped name."""

    @property
    def kind(self) -> str:
        """The engine's registered name (``stack.engine``)."""
        ...

    @property
    def project(self) -> str:
        """The run-scoped name: compose project or swarm stack."""
        ...

    @property
    def file(self) -> Path:
        """The stack definition (a compose file)."""
        ...

    def with_env(self, **env: str) -> StackEngine:
        """The same stack with more interpolation variables (e.g. a new port)."""
        ...

    def with_overrides(self, files: Sequence[Path]) -> StackEngine:
        """The same stack with more definition files layered over it, later ones winning
        (compose ``-f``, stack deploy ``-c``); ``stack.overrides`` and variants use it."""
        ...

    def with_replicas(self, service: str, count: int) -> StackEngine:
        """The same stack deployed with ``count`` replicas of ``service`` (a scaling curve
        deploys once per count)."""
        ...

    def existing(self) -> str | None:
        """What of the stack exists already (``2 containers (a, b)``), or None when nothing."""
        ...

    def deploy(self, *, ready_timeout: float) -> None:
        """Build the images, deploy, and wait until every service is running and healthy."""
        ...

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        """Host address and port that ``service:port`` is reachable on from this host."""
        ...

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Target]:
        """The containers (compose replicas, swarm tasks by slot) a fault targets.

        Raises FaultError when nothing matches.
        """
        ...

    def teardown(self) -> None:
        """Remove the stack (only called for stacks hachaos created)."""
        ...

    def sweep(self) -> str:
        """Remove whatever is left of the stack by label; returns what there was."""
        ...

    def environment(self) -> dict[str, Any]:
        """Engine facts for the report (versions, images, nodes)."""
        ...

    def journal_record(self) -> dict[str, Any]:
        """Fields of the journal's ``stack`` line that cleanup needs to remove the stack."""
        ...

    def observe(self, emit: EmitFn) -> None:
        """Start recording the engine's own view of replicas (no-op where there is none)."""
        ...

    def stop_observing(self) -> None:
        """Stop :meth:`observe` (idempotent)."""
        ...

    def finish(self) -> list[str]:
        """Last step after teardown (e.g. leave a swarm this run created); returns notices."""
        ...


@runtime_checkable
class DeployWarnings(Protocol):
    """The engine let the deploy go on past something it could not check (e.g. whether a
    Swarm service is reached by name); the run shows each line and the report repeats it."""

    def warnings(self) -> list[str]:
        """What the engine could not tell, one line each."""
        ...


@runtime_checkable
class LiveAudit(Protocol):
    """The deployed stack is a compose project whose running containers the security
    audit reads (harness/audit/live.py)."""

    def audited_project(self) -> tuple[Path, str]:
        """The compose file and the project name to audit."""
        ...
