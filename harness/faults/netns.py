"""Shared base of network faults: rules live in a helper in the target's netns.

Dead-man switch: the helper installs its rules, prints READY and waits. When it
gets SIGTERM, or when its own deadline (planned window + margin) passes, it
removes the rules and exits. A ``kill -9`` of hachaos therefore cannot leave a
network fault behind for longer than the deadline.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import Fault, FaultContext
from harness.scenario.models import NetworkFault
from harness.scenario.plan import PlannedFault

NetT = TypeVar("NetT", bound=NetworkFault)


def helper_script(apply: str, revert: str, deadline: float) -> str:
    """The helper's whole life: apply, wait, revert on TERM or at the deadline."""
    return (
        f"revert() {{ {revert}\n}}\n"
        "trap 'revert >/dev/null 2>&1; echo REVERTED; exit 0' TERM INT HUP\n"
        "revert >/dev/null 2>&1\n"
        # Not `if ! ( set -e ...)`: sh ignores set -e inside a tested command, so a failed
        # line before the last one would go unnoticed.
        f"( set -e\n{apply}\n) 2>&1\n"
        "if [ $? -ne 0 ]; then echo FAILED; revert >/dev/null 2>&1; exit 1; fi\n"
        "echo READY\n"
        f"sleep {int(deadline) + 1} & wait $!\n"
        "revert >/dev/null 2>&1; echo EXPIRED\n"
    )


class NetnsFault(Fault[NetT]):
    """A fault made of commands run in each target's network namespace."""

    uses_helper = True
    acts_in = frozenset({"network"})
    # The helper's only capabilities (every other one is dropped).
    helper_caps: tuple[str, ...] = ("NET_ADMIN",)

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        """Shell snippets for one target: apply, revert, present, absent."""
        raise NotImplementedError

    @classmethod
    def plan(cls, step: PlannedFault, targets: list[Target], ctx: FaultContext) -> dict[str, Any]:
        state = super().plan(step, targets, ctx)
        tag = state["tag"]
        state["scripts"] = {t.id: cls.scripts(step, t, tag, ctx) for t in targets}
        state["helpers"] = {t.id: f"hachaos-{ctx.run_id[:24]}-{tag}-{t.number}" for t in targets}
        return state

    def _start(self, t: dict[str, Any]) -> None:
        s = self.state["scripts"][t["id"]]
        script = helper_script(s["apply"], s["revert"], self.state["deadline"])
        self.ctx.helpers.start_netns_helper(
            t["id"],
            self.state["helpers"][t["id"]],
            script,
            run_id=self.ctx.run_id,
            project=self.ctx.project,
            caps=self.helper_caps,
        )

    def _parallel(self, phase: str, fn: Any) -> None:
        """Run ``fn`` per live target in parallel; vanished targets are reported."""
        live = self.targets
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(live)))) as pool:
            results = list(pool.map(lambda t: _catch(fn, t), live))
        for t, exc in zip(live, results, strict=True):
            if isinstance(exc, TargetNotFound):
                self.mark_gone(t, phase, str(exc))
            elif exc is not None:
                raise exc
        if phase == "apply" and not self.targets:
            raise FaultError(f"every target of {self.state['key']} vanished")

    def apply(self) -> None:
        def start_and_wait(t: dict[str, Any]) -> None:
            self._start(t)
            self.ctx.helpers.wait_for_line(self.state["helpers"][t["id"]], "READY", timeout=20)

        self._parallel("apply", start_and_wait)

    def _check(self, t: dict[str, Any], which: str) -> bool:
        script = self.state["scripts"][t["id"]][which]
        helper = self.state["helpers"][t["id"]]
        if self.ctx.helpers.is_running(helper):
            code, _ = self.ctx.helpers.exec_in(helper, script)
            return code == 0
        if not self.ctx.containers.exists(t["id"]):
            raise TargetNotFound(f"{t['name']} is gone")
        code, _ = self.ctx.helpers.run_once(
            ["sh", "-c", script],
            run_id=self.ctx.run_id,
            project=self.ctx.project,
            network_mode=f"container:{t['id']}",
            cap_add=["NET_ADMIN"],
        )
        return code == 0

    def verify(self) -> None:
        def check(t: dict[str, Any]) -> None:
            if not self._check(t, "present"):
                raise FaultError(f"{self.type} rules are not in effect in {t['name']}'s netns")

        self._parallel("verify", check)

    def revert(self) -> None:
        def undo(t: dict[str, Any]) -> None:
            helper = self.state["helpers"][t["id"]]
            script = self.state["scripts"][t["id"]]["revert"]
            if self.ctx.helpers.is_running(helper):
                self.ctx.helpers.exec_in(helper, f"{{ {script}\n}} >/dev/null 2>&1; true")
                return
            if not self.ctx.containers.exists(t["id"]):
                raise TargetNotFound(f"{t['name']} is gone")
            # The helper died without its trap (e.g. docker kill): undo from a fresh one.
            self.ctx.helpers.run_once(
                ["sh", "-c", f"{{ {script}\n}} >/dev/null 2>&1; true"],
                run_id=self.ctx.run_id,
                project=self.ctx.project,
                network_mode=f"container:{t['id']}",
                cap_add=["NET_ADMIN"],
            )

        self._parallel("revert", undo)

    def verify_reverted(self) -> None:
        def check(t: dict[str, Any]) -> None:
            if not self._check(t, "absent"):
                raise FaultError(f"{self.type} rules are still present in {t['name']}'s netns")

        self._parallel("revert", check)

    def release(self) -> None:
        for helper in self.state["helpers"].values():
            self.ctx.helpers.stop_helper(helper, timeout=5)


def _catch(fn: Any, t: dict[str, Any]) -> BaseException | None:
    try:
        fn(t)
    except Exception as exc:
        return exc
    return None


# ---------------------------------------------------------------- iptables snippets
def chain(tag: str) -> str:
    """Name of the fault's own iptables chain."""
    return f"HACHAOS-{tag}"


def iptables_scripts(tag: str, rules: list[str], direction: str) -> dict[str, str]:
    """Put ``rules`` in a private chain, jumped to from INPUT and/or OUTPUT per direction."""
    name = chain(tag)
    hooks = {"both": ["INPUT", "OUTPUT"], "inbound": ["INPUT"], "outbound": ["OUTPUT"]}[direction]
    apply = [f"iptables -w -N {name}"]
    apply += [f"iptables -w -A {name} {r}" for r in rules]
    apply += [f"iptables -w -I {h} 1 -j {name}" for h in hooks]
    revert = [f"iptables -w -D {h} -j {name} 2>/dev/null" for h in ("INPUT", "OUTPUT")]
    revert += [f"iptables -w -F {name} 2>/dev/null", f"iptables -w -X {name} 2>/dev/null; true"]
    present = " && ".join(
        [f"iptables -w -S {name} >/dev/null 2>&1"]
        + [f"iptables -w -C {h} -j {name}" for h in hooks]
    )
    return {
        "apply": "\n".join(apply),
        "revert": "\n".join(revert),
        "present": present,
        "absent": f"! iptables -w -S {name} >/dev/null 2>&1",
    }


def peer_addresses(ctx: FaultContext, target: Target, peers: list[str]) -> list[str]:
    """Addresses of every peer replica on every network shared with ``target``.

    ``peers`` empty means every other container of the project (isolate).
    """
    mine = ctx.containers.addresses(target.id)
    others = [
        p
        for p in ctx.containers.project_targets(ctx.project)
        if p.id != target.id and (not peers or p.service in peers)
    ]
    found: set[str] = set()
    for p in others:
        try:
            theirs = ctx.containers.addresses(p.id)
        except TargetNotFound:
            continue
        found.update(ip for net, ip in theirs.items() if net in mine and _is_ip(ip))
    return sorted(found)


def _is_ip(text: str) -> bool:
    """Engine answers reach iptables' command line: only real addresses pass."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
