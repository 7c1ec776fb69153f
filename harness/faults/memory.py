"""memory: hold a bounded amount of memory inside the container, released on revert."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.clock import poll_until
from harness.errors import FaultError
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.units import MemorySize

_GONE_WAIT = 5.0  # s for the killed hog to exit


def hog_script(size: int, pidfile: str, deadline: float) -> str:
    """A shell that holds ``size`` bytes in a variable until killed or the deadline.

    Only sh, head, tr and sleep are needed (no python in the image). The
    ``sleep`` bounds the hog even if hachaos dies. The revert signals only the
    shell: its trap kills the sleep and reaps it before exiting, so nothing is
    orphaned to the container's init (which in most images never reaps). A TERM
    that lands while the bytes are read waits for the read, as POSIX defers traps
    during a foreground command.
    """
    return (
        "s=; trap 'kill $s 2>/dev/null; wait; exit 0' TERM; "
        f"echo $$ > {pidfile}; x=$(head -c {size} /dev/zero | tr '\\0' x); "
        f"sleep {int(deadline) + 1} & s=$!; echo $s > {pidfile}.sleep; wait"
    )


def _alive(pidfile: str) -> str:
    """Shell that exits 0 while the hog of ``pidfile`` is alive and not a zombie."""
    return (
        f'pid=$(cat {pidfile}) && kill -0 "$pid" 2>/dev/null && '
        f"! grep -q '^State:[[:space:]]*Z' \"/proc/$pid/status\" 2>/dev/null"
    )


class MemoryFault(WindowedFault):
    """Allocate memory inside the container up to a size."""

    # Its revert signals the hog by a pid read inside the container.
    namespaces = frozenset({"pid"})

    type: Literal["memory"]
    size: MemorySize = Field(description="memory to hold, e.g. 256MiB (at most 64GiB)")


@register
class Memory(Fault[MemoryFault]):
    """Verified by the resident size of the hog process, read from /proc."""

    spec_state = ("size",)

    @property
    def pidfile(self) -> str:
        return f"/tmp/.hachaos-mem-{self.state['tag']}.pid"

    def apply(self) -> None:
        script = hog_script(self.state["size"], self.pidfile, self.state["deadline"])
        self.each("apply", lambda t: self.ctx.containers.exec_in(t["id"], script, detach=True))

    def _rss(self, t: dict[str, Any]) -> int:
        code, out = self.ctx.containers.exec_in(
            t["id"], f"grep VmRSS /proc/$(cat {self.pidfile})/status 2>/dev/null"
        )
        parts = out.split()
        return int(parts[1]) * 1024 if code == 0 and len(parts) >= 2 else 0

    def verify(self) -> None:
        want = int(self.state["size"] * 0.9)

        def check(t: dict[str, Any]) -> None:
            rss = 0

            def full() -> bool:
                nonlocal rss
                rss = self._rss(t)
                return rss >= want

            if not poll_until(full, self.ctx.verify_timeout, 0.1, self.ctx.clock):
                raise FaultError(
                    f"memory: the hog in {t['name']} holds {rss} bytes, not {self.state['size']}",
                    hint="the container may lack sh/head/tr, or its memory limit is lower",
                )

        self.each("verify", check)

    def revert(self) -> None:
        # Only the shell: killing its sleep too raced its reaping (a shell killed before
        # it reaped the sleep left it a zombie of the container's init for good).
        script = f"kill $(cat {self.pidfile}) 2>/dev/null; true"
        self.each("revert", lambda t: self.ctx.containers.exec_in(t["id"], script))

    def verify_reverted(self) -> None:
        p = self.pidfile

        def check(t: dict[str, Any]) -> None:
            def gone() -> bool:
                # A zombie holds no memory: gone (an init that never reaps keeps it listed).
                code, _ = self.ctx.containers.exec_in(t["id"], _alive(p))
                return code != 0

            if not poll_until(gone, _GONE_WAIT, 0.1, self.ctx.clock):
                raise FaultError(f"memory: the hog in {t['name']} is still alive")
            self.ctx.containers.exec_in(t["id"], f"rm -f {p} {p}.sleep")

        self.each("revert", check)
