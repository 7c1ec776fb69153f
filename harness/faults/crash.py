"""crash: kill the main process from the host pid namespace; the restart policy applies."""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from pydantic import Field

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext, InstantFault, wait_restarted
from harness.faults.registry import register
from harness.scenario.base import MAX_NAME
from harness.scenario.models import SIGNAL_PATTERN, FaultBase
from harness.scenario.plan import PlannedFault

_CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")
SIGNAL = re.compile(r"^[A-Z][A-Z0-9+-]{0,11}$|^[0-9]{1,2}$")


def kill_script(signal: str, victims: list[tuple[int, str]]) -> str:
    """Signal each ``(host pid, container id)`` only while the pid is that container's.

    A pid read from the engine may be reused by the time the helper runs (the
    target restarted, a host process took its number). So every pid is checked
    twice: its cgroup must name the container and its start time (field 22 of
    /proc/PID/stat, in ticks since boot) must not change between the check and
    the kill. If any pid fails the first check, nothing is signalled; the second
    check runs just before each kill, so a pid failing it stops the loop there.
    """
    if not SIGNAL.fullmatch(signal):
        raise FaultError(f"crash: refusing signal {signal!r}")
    for pid, cid in victims:
        if pid <= 1 or not _CONTAINER_ID.fullmatch(cid):
            raise FaultError(f"crash: refusing pid {pid} of container {cid[:12]!r}")
    pairs = " ".join(shlex.quote(f"{pid}:{cid}") for pid, cid in victims)
    return (
        # starttime is field 22; the comm field (2) may hold spaces, so cut after ') '.
        "start() { sed 's/^.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f20; }\n"
        'mine() { grep -qF -- "$2" /proc/$1/cgroup 2>/dev/null; }\n'
        "seen=''\n"
        f"for v in {pairs}; do\n"
        '  pid=${v%%:*}; cid=${v#*:}; s=$(start "$pid")\n'
        '  if [ -z "$s" ] || ! mine "$pid" "$cid"; then\n'
        '    echo "REFUSED: pid $pid is not a process of container $cid"; exit 3\n'
        "  fi\n"
        '  seen="$seen $pid:$s"\n'
        "done\n"
        "set -- $seen\n"
        f"for v in {pairs}; do\n"
        "  pid=${v%%:*}; cid=${v#*:}; want=${1#*:}; shift\n"
        '  if [ "$(start "$pid")" != "$want" ] || ! mine "$pid" "$cid"; then\n'
        '    echo "REFUSED: pid $pid changed before the kill"; exit 3\n'
        "  fi\n"
        f'  kill -s {shlex.quote(signal)} "$pid" || exit 1\n'
        "done\n"
    )


class CrashFault(FaultBase):
    """Kill the main process from the host pid namespace; the restart policy applies."""

    instant = True
    namespaces = frozenset({"pid"})

    type: Literal["crash"]
    signal: str = Field(
        default="SIGKILL",
        pattern=SIGNAL_PATTERN,
        max_length=MAX_NAME,
        description="signal sent to the main process",
    )


@register
class Crash(InstantFault[CrashFault]):
    """A short-lived ``--pid host`` helper signals the host pid.

    That works without hachaos running on the engine's host. The engine sees a
    process that died on its own, so ``restart: always/on-failure`` brings the
    container back; verify waits for that.
    """

    uses_helper = True

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        for t in targets:
            policy = ctx.containers.inspect(t.id)["HostConfig"].get("RestartPolicy") or {}
            if policy.get("Name", "") in ("", "no"):
                raise FaultError(
                    f"crash: {t.name} has no restart policy, so it would stay down",
                    hint="add `restart: always` (or on-failure) to the service, "
                    "or use a `kill` fault with a window",
                )
        signal = cls.spec_of(step).signal.removeprefix("SIG")
        return {**super().extra_state(step, targets, ctx), "signal": signal}

    def apply(self) -> None:
        victims: list[tuple[int, str]] = []
        for t in self.targets:
            try:
                pid = self.ctx.containers.host_pid(t["id"])
            except TargetNotFound as exc:
                self.mark_gone(t, "apply", str(exc))
                continue
            if pid <= 0:
                raise FaultError(f"crash: {t['name']} is not running")
            victims.append((pid, t["id"]))
        if not victims:
            raise FaultError(f"every target of {self.state['key']} vanished")
        code, out = self.ctx.helpers.run_once(
            ["sh", "-c", kill_script(self.state["signal"], victims)],
            run_id=self.ctx.run_id,
            project=self.ctx.project,
            pid_mode="host",
            # Root with CAP_KILL in the host pid namespace is enough; --privileged is
            # refused by some engines (rootless, nested) and is not needed.
            cap_add=["KILL"],
        )
        if code != 0:
            pids = [pid for pid, _ in victims]
            raise FaultError(f"crash: kill of host pids {pids} failed: {out.strip()}")

    def verify(self) -> None:
        wait_restarted(self, "verify", self.state["started"])
