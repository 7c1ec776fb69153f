"""What every fault type is: four verified steps over a JSON-able undo state.

A fault is built from its ``state`` alone (targets, original values, helper
names, rule tags...). The state is journaled before apply, so the very same
``revert`` code undoes a fault at the end of a run and after a crash.
"""

from __future__ import annotations

import builtins
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast, final

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.engine import containers as engine_containers
from harness.engine import helpers as engine_helpers
from harness.engine import registry as engines
from harness.engine.capabilities import Nodes, Services, TaskReplacement
from harness.engine.containers import Target
from harness.errors import FaultError, HarnessError, TargetNotFound
from harness.faults.ports import Containers, Helpers
from harness.scenario.models import FaultBase
from harness.scenario.namespaces import ENGINE_SETTINGS, namespace_refusal
from harness.scenario.plan import PlannedFault

SpecT = TypeVar("SpecT", bound=FaultBase)

GoneCallback = Callable[[str, str, str], None]  # (container name, phase, reason)


def _ignore_gone(name: str, phase: str, reason: str) -> None:
    return None


@dataclass
class FaultContext:
    """What a fault needs from the run besides its own state."""

    project: str
    run_id: str
    on_gone: GoneCallback = _ignore_gone
    # Dead-man margin: helpers outlive their planned window by this much at most.
    margin: float = 30.0
    verify_timeout: float = 30.0
    # Engine access: the engine's (Docker's modules unless it registered its own; set in
    # __post_init__), or fakes in unit tests.
    containers: Containers = None  # type: ignore[assignment]
    helpers: Helpers = None  # type: ignore[assignment]
    engine: str = field(default_factory=lambda: engines.default().name)  # stack.engine
    # The engine's calls beyond containers (tasks, services, nodes); default: the
    # registered engine's. Which ones it has is the engine's capabilities.
    platform: object = None
    clock: Clock = REAL_CLOCK  # what the waits poll on (a fake one in unit tests)

    def __post_init__(self) -> None:
        kind = engines.get(self.engine)
        if self.platform is None:
            self.platform = kind.platform
        if self.containers is None:
            self.containers = cast(Containers, kind.containers or engine_containers)
        if self.helpers is None:
            self.helpers = cast(Helpers, kind.helpers or engine_helpers)

    def capabilities(self) -> frozenset[str]:
        """What the run's engine can do beyond containers (harness/engine/capabilities.py)."""
        return engines.get(self.engine).capabilities

    # Typed views of the platform; Fault.preflight has checked the spec's ``needs``.
    @property
    def tasks(self) -> TaskReplacement:
        return cast(TaskReplacement, self.platform)

    @property
    def services(self) -> Services:
        return cast(Services, self.platform)

    @property
    def nodes(self) -> Nodes:
        return cast(Nodes, self.platform)


class Fault(ABC, Generic[SpecT]):
    """A fault type's behaviour: ``class Kill(Fault[KillFault])`` implements the steps.

    ``@register`` fills the class-level facts from the spec model ``SpecT`` (its
    ``type``, ``instant`` and ``namespaces``, the last being the namespaces of the
    target the fault acts in), so they are written once, in the spec.
    """

    type: ClassVar[str]
    spec_model: ClassVar[builtins.type[FaultBase]]
    instant: ClassVar[bool] = False  # no revert step; the stack heals itself
    uses_helper: ClassVar[bool] = False  # needs the helper image
    namespaces: ClassVar[frozenset[str]] = frozenset()
    # Namespaces this behaviour acts in whatever the spec: its spec must declare them
    # (so validation refuses targets that borrow them); checked by @register.
    acts_in: ClassVar[frozenset[str]] = frozenset()
    # Spec fields copied as they are into the undo state (the state alone reverts).
    spec_state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: FaultContext, state: dict[str, Any]) -> None:
        self.ctx = ctx
        self.state = state
        self.gone: set[str] = set(state.get("gone", []))

    # ------------------------------------------------------------------ planning
    @classmethod
    def spec_of(cls, step: PlannedFault) -> SpecT:
        """The step's validated spec, as this type's model."""
        if not isinstance(step.spec, cls.spec_model):
            raise FaultError(
                f"{step.key}: a {cls.type} fault cannot run a {type(step.spec).__name__}"
            )
        return cast(SpecT, step.spec)

    @final
    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        """Check, before the run starts, that this fault can work here: the stack's engine
        has the capabilities its spec needs (``needs``), then the type's own
        :meth:`check_support`."""
        missing = cls.spec_model.needs - ctx.capabilities()
        if missing:
            able = [e for e in engines.names() if missing <= engines.get(e).capabilities]
            raise FaultError(
                f"a `{cls.type}` fault needs an engine with {', '.join(sorted(missing))}, but "
                f"this stack runs on {ctx.engine}",
                hint=(
                    f"set `stack.engine: {' or '.join(able)}` (with a stack file made for it) "
                    "or drop the fault"
                    if able
                    else "drop the fault: no registered engine can run it"
                ),
            )
        cls.check_support(step, ctx)

    @classmethod
    def check_support(cls, step: PlannedFault, ctx: FaultContext) -> None:
        """What this type needs beyond its engine's capabilities (a kernel feature, several
        nodes...)."""

    @classmethod
    def mechanism(cls, step: PlannedFault, ctx: FaultContext) -> str | None:
        """How the fault will be made (e.g. netem or proxy) where a type has a choice."""
        return None

    @classmethod
    def plan(cls, step: PlannedFault, targets: list[Target], ctx: FaultContext) -> dict[str, Any]:
        """The undo state, computed before anything is changed."""
        cls.refuse_shared_namespaces(targets, ctx)
        window = (step.end - step.start) if step.end is not None else 0.0
        return {
            "key": step.key,
            "targets": [asdict(t) for t in targets],
            "tag": secrets.token_hex(4),
            "deadline": max(window, 0.0) + ctx.margin,
            **cls.extra_state(step, targets, ctx),
        }

    @classmethod
    def refuse_shared_namespaces(cls, targets: list[Target], ctx: FaultContext) -> None:
        """Re-check on the live containers what validation checked on the compose file
        (the stack may have changed since), before anything is journaled or applied."""
        if not cls.namespaces:
            return
        for t in targets:
            shared: Mapping[str, str | None] = ctx.containers.shared_namespaces(t.id)
            why = namespace_refusal(cls.type, cls.namespaces, shared, ENGINE_SETTINGS)
            if why:
                raise FaultError(
                    f"{t.name} {why}, nothing was applied",
                    hint="give the service its own namespace (drop `network_mode`/`pid` "
                    "from its compose service) or target another service",
                )

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        """Type-specific state (spec values, original settings)."""
        spec = cls.spec_of(step)
        return {name: getattr(spec, name) for name in cls.spec_state}

    # ------------------------------------------------------------------ steps
    @abstractmethod
    def apply(self) -> None:
        """Inject the fault."""

    @abstractmethod
    def verify(self) -> None:
        """Raise FaultError unless the fault is in effect on the engine."""

    def revert(self) -> None:
        """Undo the fault (idempotent; tolerates vanished targets)."""

    def verify_reverted(self) -> None:
        """Raise FaultError unless the fault is gone."""

    def release(self) -> None:
        """Free resources after a verified revert (e.g. stop helpers)."""

    @final
    def undo(self, verified: Callable[[], None] = lambda: None) -> HarnessError | None:
        """Undo the fault, in the one order there is: revert, verify_reverted, release.

        Raises (HarnessError or anything else) when the fault is not verifiably gone.
        ``verified`` runs once it is, before the release (the runner journals and
        times the revert there). A release that fails after that does not make the
        fault active again (only, say, a helper is left, which cleanup removes): its
        error is returned, for the caller to report.
        """
        self.revert()
        self.verify_reverted()
        verified()
        try:
            self.release()
        except HarnessError as exc:
            return exc
        return None

    # ------------------------------------------------------------------ helpers
    @property
    def targets(self) -> list[dict[str, Any]]:
        """Targets not known to have vanished."""
        return [t for t in self.state["targets"] if t["id"] not in self.gone]

    def names(self) -> list[str]:
        """Container names of every target."""
        return [t["name"] for t in self.state["targets"]]

    def each(self, phase: str, fn: Callable[[dict[str, Any]], object]) -> None:
        """Run ``fn`` per live target; a vanished target is reported, not fatal."""
        for t in self.targets:
            try:
                fn(t)
            except TargetNotFound as exc:
                self.mark_gone(t, phase, str(exc))
        if phase == "apply" and not self.targets:
            raise FaultError(
                f"every target of {self.state['key']} vanished before the fault applied"
            )

    def mark_gone(self, target: dict[str, Any], phase: str, reason: str) -> None:
        """Remember and report a target that was removed by someone else."""
        if target["id"] in self.gone:
            return
        self.gone.add(target["id"])
        self.state["gone"] = sorted(self.gone)
        self.ctx.on_gone(target["name"], phase, reason)

    def wait_all(
        self, phase: str, wanted: set[str], what: str, timeout: float | None = None
    ) -> None:
        """Wait until every live target's status is in ``wanted``."""
        limit = self.ctx.verify_timeout if timeout is None else timeout

        def check(t: dict[str, Any]) -> None:
            got = self.ctx.containers.wait_status(t["id"], wanted, timeout=limit)
            if got not in wanted:
                raise FaultError(f"{t['name']} is {got}, expected {what} after {limit:.0f}s")

        self.each(phase, check)


def started_at(ctx: FaultContext, container_id: str) -> str:
    """The container's StartedAt (changes on every start)."""
    return str(ctx.containers.state(container_id).get("StartedAt", ""))


def wait_restarted(
    fault: Fault[Any], phase: str, before: dict[str, str], timeout: float | None = None
) -> None:
    """Wait until every target started again after ``before`` and is running."""
    limit = fault.ctx.verify_timeout if timeout is None else timeout

    def check(t: dict[str, Any]) -> None:
        status: object = None

        def restarted() -> bool:
            nonlocal status
            st = fault.ctx.containers.state(t["id"])
            status = st.get("Status")
            return st.get("StartedAt") != before.get(t["id"]) and status == "running"

        if not poll_until(restarted, limit, 0.05, fault.ctx.clock):
            raise FaultError(
                f"{t['name']} did not come back within {limit:.0f}s "
                f"(status {status}, restart policy must bring it back)"
            )

    fault.each(phase, check)


class InstantFault(Fault[SpecT]):
    """Self-healing faults: applied and verified, never reverted by hachaos.

    ``revert`` only starts targets left stopped, for cleanup after a crash.
    """

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        started = {t.id: started_at(ctx, t.id) for t in targets}
        return {"started": started, **super().extra_state(step, targets, ctx)}

    def revert(self) -> None:
        def ensure(t: dict[str, Any]) -> None:
            if self.ctx.containers.status(t["id"]) in {"exited", "created", "dead"}:
                self.ctx.containers.start(t["id"])

        self.each("revert", ensure)

    def verify_reverted(self) -> None:
        self.wait_all("revert", {"running"}, "running")


DOWN = {"exited", "dead"}
SWARM_REPLACE_TIMEOUT = 60.0  # s a swarm task's replacement may take to run (and be healthy)


class StoppedFault(Fault[SpecT]):
    """Shared by kill and stop: the targets are down until the revert starts them."""

    # How long verify waits for the targets to be down.
    down_timeout: ClassVar[float] = 10.0

    @abstractmethod
    def halt(self, target: dict[str, Any]) -> None:
        """Bring one target down."""

    def apply(self) -> None:
        self.each("apply", self.halt)

    def verify(self) -> None:
        self.wait_all("verify", DOWN, "exited", timeout=self.down_timeout)

    def revert(self) -> None:
        """Start every target that is not running.

        A swarm task is never started again: Swarm replaces it with a new task, and
        a restarted old container would run beside it, unmanaged.
        """

        def up(t: dict[str, Any]) -> None:
            if not t.get("task") and self.ctx.containers.status(t["id"]) != "running":
                self.ctx.containers.start(t["id"])

        self.each("revert", up)

    def verify_reverted(self) -> None:
        """Every container target runs again; every swarm task target has a running
        replacement (recorded in the state as ``replaced``: the new task, when it ran)."""
        tasks = [t for t in self.targets if t.get("task")]
        plain = [t for t in self.targets if not t.get("task")]
        limit = self.ctx.verify_timeout
        for t in plain:
            try:
                got = self.ctx.containers.wait_status(t["id"], {"running"}, timeout=limit)
            except TargetNotFound as exc:
                self.mark_gone(t, "revert", str(exc))
                continue
            if got != "running":
                raise FaultError(f"{t['name']} is {got}, expected running after {limit:.0f}s")
        if not tasks:
            return
        try:
            # A new task may take a while on a busy node (image, start, health check).
            self.state["replaced"] = self.ctx.tasks.wait_replaced(
                self.ctx.project, tasks, max(limit, SWARM_REPLACE_TIMEOUT)
            )
        except TargetNotFound as exc:  # the stack is gone: nothing left to bring back
            for t in tasks:
                self.mark_gone(t, "revert", str(exc))
