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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class WorkerPlacement:
    """A group of load workers an engine runs beside its stack (docs/load.md)."""

    replicas: int
    command: tuple[str, ...]  # run in the image; joins the master
    env: Mapping[str, str] = field(default_factory=dict)
    image: str | None = None  # None: build the worker image from ``bundle``
    # Files of the default image (destination -> source), the Python they need, its tag.
    bundle: tuple[tuple[str, Path], ...] = ()
    python: str = ""
    digest: str = ""
    near: str | None = None  # the stack service whose network the workers join (the target)


@dataclass(frozen=True)
class WorkerTask:
    """One placed worker as the platform reports it."""

    name: str  # e.g. the task's slot, the pod's name
    node: str  # the node it runs (or was meant to run) on
    host: str  # the host name the worker reports to the master
    state: str
    error: str = ""

    def describe(self) -> str:
        what = f"{self.name} on {self.node or 'no node yet'}: {self.state}"
        return f"{what} ({self.error})" if self.error else what


@runtime_checkable
class LoadWorkers(Protocol):
    """The engine runs Locust workers beside the stack, spread over its nodes.

    Detected with ``isinstance``; the platform's ``load-workers`` capability
    (harness/engine/capabilities.py) lets validation accept ``load.workers.<engine>`` and
    cleanup remove a dead run's workers.
    """

    def worker_master_address(self) -> str:
        """The address of this host that the platform's workers reach (the master binds it)."""
        ...

    def worker_target(self, service: str, port: int, scheme: str) -> str:
        """The URL of ``service:port`` as a placed worker reaches it."""
        ...

    def place_workers(self, placement: WorkerPlacement) -> dict[str, Any]:
        """Start the workers; returns the journal fields cleanup needs (written before)."""
        ...

    def worker_record(self) -> dict[str, Any]:
        """The journal fields of the workers :meth:`place_workers` will create."""
        ...

    def worker_tasks(self) -> list[WorkerTask]:
        """The placed workers as the platform sees them (for a missing one: why)."""
        ...

    def remove_workers(self) -> str:
        """Remove the placed workers and wait until they are gone; returns what there was."""
        ...
