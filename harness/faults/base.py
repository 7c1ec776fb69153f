"""What every fault type is: four verified steps over a JSON-able undo state.

A fault is built from its ``state`` alone (targets, original values, helper
names, rule tags...). The state is journaled before apply, so the very same
``revert`` code undoes a fault at the end of a run and after a crash.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from harness.engine import containers
from harness.engine.compose_config import shares_namespace
from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.scenario.plan import PlannedFault

GoneCallback = Callable[[str, str, str], None]  # (container name, phase, reason)

# What a fault that acts in a namespace would hit when the target only borrows it.
COMPOSE_SETTINGS = {"network": "network_mode", "pid": "pid"}
ENGINE_SETTINGS = {"network": "NetworkMode", "pid": "PidMode"}
_HAZARD = {
    "network": "change the iptables/tc rules, and so the traffic, of {owner}",
    "pid": "signal processes by pid in the pid namespace of {owner}",
}


def namespace_refusal(
    fault_type: str,
    needs: frozenset[str],
    modes: Mapping[str, str | None],
    settings: Mapping[str, str],
) -> str | None:
    """Why a ``fault_type`` fault acting in ``needs`` must not hit a target whose
    namespace modes are ``modes`` (``{"network": "host", "pid": None}``), or None.

    ``settings`` names each namespace's setting as the user sees it
    (``network_mode`` in a compose file, ``NetworkMode`` on the engine).
    """
    for ns in sorted(needs):
        mode = modes.get(ns)
        if not shares_namespace(mode):
            continue
        mode = str(mode)
        kind, _, ref = mode.partition(":")
        ref = ref[:12] if len(ref) == 64 else ref
        owner = "the host" if mode == "host" else f"{kind} {ref!r}"
        return (
            f"has `{settings[ns]}: {mode}`, so a `{fault_type}` fault would "
            f"{_HAZARD[ns].format(owner=owner)}: refused"
        )
    return None


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
    engine: str = "compose"  # the engine port's kind: "compose" | "swarm"


class Fault(ABC):
    """A fault type. Subclasses set ``type`` and implement the four steps."""

    type: ClassVar[str]
    instant: ClassVar[bool] = False  # no revert step; the stack heals itself
    uses_helper: ClassVar[bool] = False  # needs the helper image
    # Namespaces of the target the fault acts in ("network", "pid"). A target
    # that shares one of them with the host or another container is refused.
    namespaces: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: FaultContext, state: dict[str, Any]) -> None:
        self.ctx = ctx
        self.state = state
        self.gone: set[str] = set(state.get("gone", []))

    # ------------------------------------------------------------------ planning
    @classmethod  # noqa: B027
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        """Check, before the run starts, that this fault can work here."""

    @classmethod
    def mechanism(cls, step: PlannedFault, ctx: FaultContext) -> str | None:
        """How the fault will be made (e.g. netem or proxy) where a type has a choice."""
        return None

    @classmethod
    def plan(cls, step: PlannedFault, targets: list[Target], ctx: FaultContext) -> dict[str, Any]:
        """The undo state, computed before anything is changed."""
        cls.refuse_shared_namespaces(targets)
        window = (step.end - step.start) if step.end is not None else 0.0
        return {
            "key": step.key,
            "targets": [asdict(t) for t in targets],
            "tag": secrets.token_hex(4),
            "deadline": max(window, 0.0) + ctx.margin,
            **cls.extra_state(step, targets, ctx),
        }

    @classmethod
    def refuse_shared_namespaces(cls, targets: list[Target]) -> None:
        """Re-check on the live containers what validation checked on the compose file
        (the stack may have changed since), before anything is journaled or applied."""
        if not cls.namespaces:
            return
        for t in targets:
            shared: Mapping[str, str | None] = containers.shared_namespaces(t.id)
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
        return {}

    # ------------------------------------------------------------------ steps
    @abstractmethod
    def apply(self) -> None:
        """Inject the fault."""

    @abstractmethod
    def verify(self) -> None:
        """Raise FaultError unless the fault is in effect on the engine."""

    def revert(self) -> None:  # noqa: B027
        """Undo the fault (idempotent; tolerates vanished targets)."""

    def verify_reverted(self) -> None:  # noqa: B027
        """Raise FaultError unless the fault is gone."""

    def release(self) -> None:  # noqa: B027
        """Free resources after a verified revert (e.g. stop helpers)."""

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
            got = containers.wait_status(t["id"], wanted, timeout=limit)
            if got not in wanted:
                raise FaultError(f"{t['name']} is {got}, expected {what} after {limit:.0f}s")

        self.each(phase, check)


def started_at(container_id: str) -> str:
    """The container's StartedAt (changes on every start)."""
    return str(containers.state(container_id).get("StartedAt", ""))


def wait_restarted(
    fault: Fault, phase: str, before: dict[str, str], timeout: float | None = None
) -> None:
    """Wait until every target started again after ``before`` and is running."""
    limit = fault.ctx.verify_timeout if timeout is None else timeout

    def check(t: dict[str, Any]) -> None:
        deadline = time.monotonic() + limit
        while True:
            st = containers.state(t["id"])
            if st.get("StartedAt") != before.get(t["id"]) and st.get("Status") == "running":
                return
            if time.monotonic() > deadline:
                raise FaultError(
                    f"{t['name']} did not come back within {limit:.0f}s "
                    f"(status {st.get('Status')}, restart policy must bring it back)"
                )
            time.sleep(0.05)

    fault.each(phase, check)


class InstantFault(Fault):
    """Self-healing faults: applied and verified, never reverted by hachaos.

    ``revert`` only starts targets left stopped, for cleanup after a crash.
    """

    instant = True

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        return {"started": {t.id: started_at(t.id) for t in targets}, **cls.spec_state(step)}

    @classmethod
    def spec_state(cls, step: PlannedFault) -> dict[str, Any]:
        """Spec values the fault needs."""
        return {}

    def revert(self) -> None:
        def ensure(t: dict[str, Any]) -> None:
            if containers.status(t["id"]) in {"exited", "created", "dead"}:
                containers.start(t["id"])

        self.each("revert", ensure)

    def verify_reverted(self) -> None:
        self.wait_all("revert", {"running"}, "running")
