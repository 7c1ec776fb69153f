"""disk: fill a path's filesystem up to a level with one hachaos-named file.

Safety: only a directory on a volume, bind mount or tmpfs is filled (on the
container's overlay root the file would land on the engine host's disk). The
fill is capped (a share of the filesystem and an absolute size). A watchdog
started next to the file deletes it at the deadline (window + margin) even if
hachaos is killed. The revert checks with ``df`` that the space came back: a
process that keeps the deleted file open keeps its blocks. Every value that
reaches a shell is validated and ``shlex.quote``d.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from pydantic import Field, field_validator

from harness.clock import poll_until
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.base import MAX_TEXT
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Fraction

# The path reaches a shell inside the target: absolute, a safe character set, bounded.
DISK_PATH_PATTERN = r"^/[A-Za-z0-9._/-]{0,254}$"
DISK_MAX_FILL = 0.95  # of the filesystem
DISK_MAX_BYTES = 2 * 2**30  # written by one fault in one container

FILL_REFUSED = 3  # exit code of the fill script when the cap would be passed
FREED_SHARE = 0.9  # of the file's blocks that must come back after the delete


def disk_path_problem(path: str) -> str | None:
    """Why ``path`` may not be a disk fault's path, or None (also re-checked at apply)."""
    if not re.fullmatch(DISK_PATH_PATTERN, path):
        return (
            "expected an absolute path of letters, digits, '.', '_', '-' and '/' "
            f"(at most 255 characters), found {path!r}"
        )
    if ".." in path.split("/"):
        return f"expected a path without '..', found {path!r}"
    return None


class DiskFault(WindowedFault):
    """Fill a path inside the container up to a level (a volume, bind mount or tmpfs)."""

    type: Literal["disk"]
    path: str = Field(
        default="/tmp",
        max_length=MAX_TEXT,
        description="directory to fill; must be on a volume, bind mount or tmpfs",
    )
    fill: Fraction = Field(default=0.95, description="target usage of the filesystem")

    @field_validator("path")
    @classmethod
    def _safe_path(cls, path: str) -> str:
        problem = disk_path_problem(path)
        if problem:
            raise ValueError(problem)
        return path

    @field_validator("fill")
    @classmethod
    def _fill_cap(cls, fill: float) -> float:
        if fill > DISK_MAX_FILL:
            raise ValueError(
                f"`fill` is capped at {DISK_MAX_FILL:.0%} of the filesystem (and at "
                f"{DISK_MAX_BYTES // 2**30} GiB written per container), found {fill:.0%}"
            )
        return fill


def usage_script(folder: str) -> str:
    """Prints the filesystem's size and used KiB."""
    return f"df -Pk -- {shlex.quote(folder)} | awk 'NR==2 {{print $2, $3}}'"


def resolve_script(path: str) -> str:
    """Prints the physical path (symlinks resolved); fails unless it is a directory."""
    return f"cd -- {shlex.quote(path)} && pwd -P"


def fill_script(folder: str, file: str, fill: float, max_kib: int, deadline: float) -> str:
    """Allocate ``fill * size - used`` KiB in ``file`` unless that passes ``max_kib``.

    The watchdog starts once the (still empty) file exists and leaves as soon as
    it is gone, so it outlives neither the revert nor the deadline.
    """
    f = shlex.quote(file)
    return (
        f"set -- $({usage_script(folder)})\n"
        '[ $# -eq 2 ] || { echo "cannot read the usage with df"; exit 1; }\n'
        f"need=$(( $1 * {round(fill * 10000)} / 10000 - $2 ))\n"
        'if [ "$need" -le 0 ]; then echo "FILLED 0"; exit 0; fi\n'
        f'if [ "$need" -gt {int(max_kib)} ]; then echo "NEED $need"; exit {FILL_REFUSED}; fi\n'
        f": > {f}\n"
        f"( i=0; while [ $i -lt {int(deadline) + 1} ] && [ -e {f} ]; do sleep 1; i=$((i+1)); done;"
        f" rm -f -- {f} ) </dev/null >/dev/null 2>&1 &\n"
        f"fallocate -l $((need * 1024)) -- {f} 2>/dev/null"
        f" || head -c $((need * 1024)) /dev/zero > {f} || exit 1\n"
        'echo "FILLED $need"\n'
    )


def remove_script(folder: str, file: str) -> str:
    """Delete ``file``; prints its allocated KiB and the used KiB just before."""
    f = shlex.quote(file)
    return (
        f"if [ -e {f} ]; then a=$(du -k -- {f} | cut -f1); set -- $({usage_script(folder)});"
        f' rm -f -- {f} || exit 1; echo "FREED $a $2"; else echo "FREED 0 0"; fi'
    )


def absent_script(file: str) -> str:
    """Succeeds when ``file`` is gone."""
    return f"test ! -e {shlex.quote(file)}"


def covering_mount(path: str, mounts: dict[str, tuple[str, bool]]) -> str | None:
    """The mount point that holds ``path`` (longest prefix, whole components), or None."""
    best: str | None = None
    for dest in mounts:
        base = dest.rstrip("/") or "/"
        inside = path == base or path.startswith(base if base == "/" else base + "/")
        if inside and (best is None or len(base) > len(best.rstrip("/") or "/")):
            best = dest
    return best


@register
class Disk(Fault[DiskFault]):
    """Verified with ``df`` inside the container (the target needs sh, df and awk)."""

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        spec = cls.spec_of(step)
        # Re-checked here: the state may come from code that skipped validation.
        problem = disk_path_problem(spec.path)
        if problem:
            raise FaultError(f"disk: refusing path: {problem}")
        if not 0 < spec.fill <= DISK_MAX_FILL:
            raise FaultError(f"disk: fill {spec.fill:.0%} is above the cap of {DISK_MAX_FILL:.0%}")
        return {
            "path": spec.path,
            "fill": spec.fill,
            "max_kib": DISK_MAX_BYTES // 1024,
            "dirs": {t.id: cls._checked_dir(t, spec.path, ctx) for t in targets},
        }

    @classmethod
    def _checked_dir(cls, t: Target, path: str, ctx: FaultContext) -> str:
        """The physical directory to fill, refused unless a volume/bind/tmpfs holds it."""
        code, out = ctx.containers.exec_in(t.id, resolve_script(path))
        lines = out.strip().splitlines()
        if code != 0 or not lines:
            raise FaultError(f"disk: {path} is not a directory in {t.name}: {out.strip()}")
        folder = lines[-1]
        if disk_path_problem(folder):
            raise FaultError(f"disk: {path} in {t.name} resolves to an unsafe path {folder!r}")
        mounts = ctx.containers.mounts(t.id)
        mount = covering_mount(folder, mounts)
        if mount is None:
            raise FaultError(
                f"disk: {path} in {t.name} is on the container's root filesystem (overlay), "
                "which is the engine host's disk: refused",
                hint="mount a tmpfs (compose `tmpfs: [/data:size=64m]`) or a volume and "
                "point `path` at it",
            )
        kind, writable = mounts[mount]
        if kind not in ("volume", "bind", "tmpfs") or not writable:
            raise FaultError(
                f"disk: {path} in {t.name} is on a {'read-only ' if not writable else ''}"
                f"{kind} mount at {mount}: refused",
                hint="use a writable volume, bind mount or tmpfs",
            )
        return folder

    def _dir(self, t: dict[str, Any]) -> str:
        dirs: dict[str, str] = self.state.get("dirs") or {}
        return str(dirs.get(t["id"], self.state["path"]))

    def _file(self, t: dict[str, Any]) -> str:
        return f"{self._dir(t).rstrip('/')}/.hachaos-fill-{self.state['tag']}"

    def apply(self) -> None:
        def fill(t: dict[str, Any]) -> None:
            script = fill_script(
                self._dir(t),
                self._file(t),
                self.state["fill"],
                self.state["max_kib"],
                self.state["deadline"],
            )
            code, out = self.ctx.containers.exec_in(t["id"], script)
            if code == FILL_REFUSED:
                need = out.split()[-1] if out.split() else "?"
                raise FaultError(
                    f"disk: filling {self._dir(t)} in {t['name']} to {self.state['fill']:.0%} "
                    f"needs {need} KiB, above the cap of {self.state['max_kib']} KiB "
                    f"({DISK_MAX_BYTES // 2**30} GiB) per container; fill is also capped at "
                    f"{DISK_MAX_FILL:.0%}: nothing was written",
                    hint="use a smaller filesystem (e.g. a tmpfs with `size=`) or a lower fill",
                )
            if code != 0:
                raise FaultError(f"disk: cannot fill {self._dir(t)} in {t['name']}: {out}")

        self.each("apply", fill)

    def _usage(self, t: dict[str, Any]) -> tuple[int, int]:
        code, out = self.ctx.containers.exec_in(t["id"], usage_script(self._dir(t)))
        parts = out.split()
        if code != 0 or len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise FaultError(f"disk: cannot read usage of {self._dir(t)} in {t['name']}")
        return int(parts[0]), int(parts[1])

    def verify(self) -> None:
        def check(t: dict[str, Any]) -> None:
            size, used = self._usage(t)
            share = used / max(size, 1)
            if share < self.state["fill"] - 0.01:
                raise FaultError(f"disk: {self._dir(t)} in {t['name']} is {share:.0%} full")

        self.each("verify", check)

    def revert(self) -> None:
        freed: dict[str, list[int]] = self.state.setdefault("freed", {})

        def remove(t: dict[str, Any]) -> None:
            code, out = self.ctx.containers.exec_in(
                t["id"], remove_script(self._dir(t), self._file(t))
            )
            parts = out.split()
            if code != 0 or len(parts) != 3 or parts[0] != "FREED":
                raise FaultError(f"disk: cannot delete {self._file(t)} in {t['name']}: {out}")
            size, used = int(parts[1]), int(parts[2])
            if size > 0:  # a second revert finds no file: keep what the first one saw
                freed[t["id"]] = [size, used]

        self.each("revert", remove)

    def verify_reverted(self) -> None:
        freed: dict[str, list[int]] = self.state.get("freed") or {}

        def check(t: dict[str, Any]) -> None:
            code, _ = self.ctx.containers.exec_in(t["id"], absent_script(self._file(t)))
            if code != 0:
                raise FaultError(f"disk: {self._file(t)} still exists in {t['name']}")
            if t["id"] not in freed:
                return
            size, before = freed[t["id"]]
            back = 0

            def freed_again() -> bool:
                nonlocal back
                back = before - self._usage(t)[1]
                return back >= FREED_SHARE * size

            if not poll_until(freed_again, min(self.ctx.verify_timeout, 10.0), 0.2, self.ctx.clock):
                raise FaultError(
                    f"disk: {self._file(t)} is deleted in {t['name']} but only "
                    f"{max(back, 0) // 1024} of {size // 1024} MiB came back: a process "
                    "still holds the file open",
                    hint="find it with `ls -l /proc/*/fd | grep hachaos-fill` in the "
                    "container and stop it",
                )

        self.each("revert", check)
