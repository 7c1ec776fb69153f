"""disk: fill a path's filesystem up to a level with one hachaos-named file."""

from __future__ import annotations

from typing import Any

from harness.engine import containers
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import DiskFault
from harness.scenario.plan import PlannedFault

USAGE = "df -Pk {path} | awk 'NR==2 {{print $2, $3}}'"


def fill_script(path: str, file: str, fill: float) -> str:
    """Allocate ``fill * size - used`` bytes; fallocate, or zeros where it is missing."""
    return (
        f"set -- $({USAGE.format(path=path)}); "
        f"need=$(( ($1 * {int(fill * 10000)} / 10000 - $2) * 1024 )); "
        f'[ "$need" -le 0 ] && exit 0; '
        f"fallocate -l $need {file} 2>/dev/null || head -c $need /dev/zero > {file}"
    )


@register
class Disk(Fault):
    """Verified with ``df`` inside the container. Beware: on the overlay root
    (e.g. ``/tmp``) the filesystem is the engine host's disk; prefer a volume."""

    type = "disk"

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        assert isinstance(step.spec, DiskFault)
        return {"path": step.spec.path, "fill": step.spec.fill}

    @property
    def file(self) -> str:
        return f"{self.state['path'].rstrip('/')}/.hachaos-fill-{self.state['tag']}"

    def apply(self) -> None:
        script = fill_script(self.state["path"], self.file, self.state["fill"])

        def fill(t: dict[str, Any]) -> None:
            code, out = containers.exec_in(t["id"], script)
            if code != 0:
                raise FaultError(f"disk: cannot fill {self.state['path']} in {t['name']}: {out}")

        self.each("apply", fill)

    def _usage(self, t: dict[str, Any]) -> float:
        code, out = containers.exec_in(t["id"], USAGE.format(path=self.state["path"]))
        parts = out.split()
        if code != 0 or len(parts) != 2:
            raise FaultError(f"disk: cannot read usage of {self.state['path']} in {t['name']}")
        return int(parts[1]) / max(int(parts[0]), 1)

    def verify(self) -> None:
        def check(t: dict[str, Any]) -> None:
            used = self._usage(t)
            if used < self.state["fill"] - 0.01:
                raise FaultError(f"disk: {self.state['path']} in {t['name']} is {used:.0%} full")

        self.each("verify", check)

    def revert(self) -> None:
        self.each("revert", lambda t: containers.exec_in(t["id"], f"rm -f {self.file}"))

    def verify_reverted(self) -> None:
        def check(t: dict[str, Any]) -> None:
            code, _ = containers.exec_in(t["id"], f"test ! -e {self.file}")
            if code != 0:
                raise FaultError(f"disk: {self.file} still exists in {t['name']}")

        self.each("revert", check)
