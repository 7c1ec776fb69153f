"""disk: every step against a "container" that is a local folder, its scripts run with sh.

The fake filesystem has 1000 KiB, 100 KiB used by others, plus whatever the fill file
holds: stub `df` and `du` compute that from the file's real size, `fallocate` is missing
(so the script falls back to writing zeros with head), everything else is the real thing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_clock import ScriptedClock

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults import disk
from harness.faults.base import FaultContext
from harness.faults.disk import (
    Disk,
    DiskFault,
    absent_script,
    disk_path_problem,
    remove_script,
    resolve_script,
    usage_script,
)
from harness.scenario.plan import PlannedFault

KIB = 1024


class Box:
    """A container made of a folder; exec_in runs the script there with sh."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        self.calls: list[str] = []
        self.mount_table: dict[str, tuple[str, bool]] = {str(self.data): ("tmpfs", True)}
        used = f"$(( 100 + $(cat {self.data}/.hachaos-fill-* 2>/dev/null | wc -c) / {KIB} ))"
        self._stub(
            "df",
            f'[ "$3" = "{self.data}" ] || exit 7\n'  # always the fault's own folder
            f'echo "Filesystem 1024-blocks Used"; echo "/dev/x 1000 {used}"',
        )
        self._stub("du", 'printf "%s\\t%s\\n" $(( $(wc -c < "$3") / 1024 )) "$3"')
        self._stub("fallocate", "exit 1")

    def _stub(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def exec_in(self, container_id: str, script: str, *, detach: bool = False) -> tuple[int, str]:
        if container_id != "c1":
            raise TargetNotFound(f"{container_id} is gone")
        self.calls.append(script)
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        out = subprocess.run(
            ["sh", "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # as an engine exec answers
            text=True,
            timeout=20,
            check=False,
        )
        return out.returncode, out.stdout

    def mounts(self, container_id: str) -> dict[str, tuple[str, bool]]:
        return self.mount_table if container_id == "c1" else {}


def _state(box: Box, fill: float = 0.9, max_kib: int = 10_000) -> dict[str, Any]:
    return {
        "key": "disk-1#0",
        "targets": [{"id": "c1", "name": "app-1"}],
        "tag": "ab12",
        "path": "/data",
        "fill": fill,
        "max_kib": max_kib,
        "dirs": {"c1": str(box.data)},
        "deadline": 30.0,
    }


def _disk(box: Box, **kw: Any) -> Disk:
    ctx = FaultContext(project="p", run_id="r", containers=box, clock=ScriptedClock())  # type: ignore[arg-type]
    return Disk(ctx, _state(box, **kw))


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    b = Box(tmp_path)
    yield b
    for f in b.data.glob(".hachaos-fill-*"):
        f.unlink()  # also ends the watchdog, which polls for the file every second


def test_disk_fills_verifies_removes_and_sees_the_space_come_back(box: Box) -> None:
    fault = _disk(box)
    fault.apply()
    fill = box.data / ".hachaos-fill-ab12"
    assert fill.stat().st_size == 800 * KIB  # 90 % of 1000 KiB minus the 100 KiB in use
    fault.verify()
    fault.revert()
    assert not fill.exists()
    assert fault.state["freed"] == {"c1": [800, 900]}  # its KiB, and the use just before
    fault.verify_reverted()
    # a second revert finds no file and keeps what the first one saw
    fault.revert()
    assert fault.state["freed"] == {"c1": [800, 900]}


def test_disk_verify_accepts_a_hundredth_below_the_target(box: Box) -> None:
    """fill 0.9 on a filesystem 89 % full passes (the tolerance); 88.9 % does not."""
    (box.data / ".hachaos-fill-ab12").write_bytes(b"\0" * (790 * KIB))
    _disk(box).verify()
    (box.data / ".hachaos-fill-ab12").write_bytes(b"\0" * (789 * KIB))
    with pytest.raises(FaultError) as err:
        _disk(box).verify()
    assert err.value.message == f"disk: {box.data} in app-1 is 89% full"


def test_disk_apply_refuses_what_passes_the_cap_and_writes_nothing(box: Box) -> None:
    with pytest.raises(FaultError) as err:
        _disk(box, max_kib=799).apply()
    assert err.value.message == (
        f"disk: filling {box.data} in app-1 to 90% needs 800 KiB, above the cap of 799 KiB "
        "(2 GiB) per container; fill is also capped at 95%: nothing was written"
    )
    assert err.value.hint == "use a smaller filesystem (e.g. a tmpfs with `size=`) or a lower fill"
    assert list(box.data.iterdir()) == []


def test_disk_apply_fails_when_df_cannot_be_read(box: Box) -> None:
    box._stub("df", "exit 1")
    with pytest.raises(FaultError) as err:
        _disk(box).apply()
    assert err.value.message == (
        f"disk: cannot fill {box.data} in app-1: cannot read the usage with df\n"
    )


def test_disk_usage_must_be_two_numbers(box: Box) -> None:
    box._stub("df", 'echo "Filesystem 1024-blocks Used"; echo "/dev/x 1000 -"')
    with pytest.raises(FaultError) as err:
        _disk(box).verify()
    assert err.value.message == f"disk: cannot read usage of {box.data} in app-1"
    box._stub("df", "exit 1")
    with pytest.raises(FaultError):
        _disk(box).verify()


def test_disk_revert_fails_when_the_file_cannot_be_deleted(box: Box) -> None:
    (box.data / ".hachaos-fill-ab12").write_bytes(b"\0" * KIB)
    fault = _disk(box)
    fault.state["dirs"] = {"c1": str(box.data) + "/"}  # a trailing slash is not doubled
    box.exec_in = lambda cid, script, detach=False: (0, "FREED 1")  # type: ignore[method-assign]
    with pytest.raises(FaultError) as err:
        fault.revert()
    assert err.value.message == (
        f"disk: cannot delete {box.data}/.hachaos-fill-ab12 in app-1: FREED 1"
    )


@pytest.mark.parametrize("answer", [(1, "FREED 1 2"), (0, "GONE 1 2")])
def test_disk_revert_checks_code_and_marker(box: Box, answer: tuple[int, str]) -> None:
    fault = _disk(box)
    box.exec_in = lambda cid, script, detach=False: answer  # type: ignore[method-assign]
    with pytest.raises(FaultError, match="disk: cannot delete"):
        fault.revert()


def test_disk_verify_reverted_fails_while_a_process_holds_the_file(
    tmp_path: Path,
) -> None:
    box = Box(tmp_path)
    answers = {"test ! -e": (0, ""), "df -Pk": (0, "1000 900\n")}  # the space never came back
    box.exec_in = lambda cid, script, detach=False: next(  # type: ignore[method-assign]
        a for k, a in answers.items() if script.startswith(k)
    )
    clock = ScriptedClock(monos=[0.0, 5.0, 10.0, 10.5])
    fault = _disk(box)
    fault.ctx.clock = clock
    fault.state["freed"] = {"c1": [800 * KIB, 900]}
    with pytest.raises(FaultError) as err:
        fault.verify_reverted()
    assert err.value.message == (
        f"disk: {box.data}/.hachaos-fill-ab12 is deleted in app-1 but only 0 of 800 MiB came "
        "back: a process still holds the file open"
    )
    assert err.value.hint == (
        "find it with `ls -l /proc/*/fd | grep hachaos-fill` in the container and stop it"
    )
    # polls until past min(verify_timeout, 10 s): at 5 s and at exactly 10 s it waits on
    assert clock.naps == [0.2, 0.2]


def test_disk_verify_reverted_needs_90_percent_of_the_blocks_back(box: Box) -> None:
    """900 KiB used before, 100 KiB now: 800 came back. 800 >= 0.9 * 888 (799.2) passes,
    while 0.9 * 890 = 801 fails."""
    fault = _disk(box)
    fault.ctx.verify_timeout = 0.0
    fault.state["freed"] = {"c1": [888, 900]}
    fault.verify_reverted()
    fault.state["freed"] = {"c1": [890, 900]}
    with pytest.raises(FaultError, match="but only 0 of 0 MiB came back"):
        fault.verify_reverted()


def test_disk_verify_reverted_fails_while_the_file_exists(box: Box) -> None:
    (box.data / ".hachaos-fill-ab12").write_bytes(b"x")
    with pytest.raises(FaultError) as err:
        _disk(box).verify_reverted()
    assert err.value.message == f"disk: {box.data}/.hachaos-fill-ab12 still exists in app-1"


def test_disk_verify_reverted_without_a_record_only_checks_the_file(box: Box) -> None:
    _disk(box).verify_reverted()
    assert box.calls == [absent_script(f"{box.data}/.hachaos-fill-ab12")]


def test_disk_falls_back_to_the_path_when_no_dir_was_resolved(box: Box) -> None:
    fault = _disk(box)
    del fault.state["dirs"]
    assert fault._dir({"id": "c1"}) == "/data"
    assert fault._file({"id": "c1"}) == "/data/.hachaos-fill-ab12"


@pytest.mark.parametrize("step", ["verify", "revert", "verify_reverted"])
def test_disk_reports_a_vanished_target_with_its_phase(box: Box, step: str) -> None:
    fault = _disk(box)
    fault.state["targets"] = [{"id": "c9", "name": "app-9"}]
    gone: list[tuple[str, str, str]] = []
    fault.ctx.on_gone = lambda name, phase, reason: gone.append((name, phase, reason))
    getattr(fault, step)()
    assert gone == [("app-9", "verify" if step == "verify" else "revert", "c9 is gone")]


def test_disk_apply_reports_a_vanished_target(box: Box) -> None:
    fault = _disk(box)
    fault.state["targets"] = [{"id": "c9", "name": "app-9"}]
    gone: list[tuple[str, str, str]] = []
    fault.ctx.on_gone = lambda name, phase, reason: gone.append((name, phase, reason))
    with pytest.raises(FaultError):
        fault.apply()
    assert gone == [("app-9", "apply", "c9 is gone")]


# ------------------------------------------------------------------ planning: the refusals
def _step(path: str = "/data", fill: float = 0.5) -> PlannedFault:
    # built without validation, as a state from code that skipped it could hold it
    spec = DiskFault.model_construct(type="disk", path=path, fill=fill)
    return PlannedFault(0, 0, "disk-1", "disk", spec, "app", (1,), 0.0, 10.0)


def _plan_state(box: Box, step: PlannedFault) -> dict[str, Any]:
    ctx = FaultContext(project="p", run_id="r", containers=box)  # type: ignore[arg-type]
    return Disk.extra_state(step, [Target("c1", "app-1", "app", 1)], ctx)


def test_disk_plan_resolves_the_physical_folder(box: Box) -> None:
    link = box.root / "link"
    link.symlink_to(box.data)
    state = _plan_state(box, _step(str(link)))
    assert isinstance(state["max_kib"], int)  # journaled, and shown in KiB in messages
    assert state == {
        "path": str(link),
        "fill": 0.5,
        "max_kib": 2 * 1024 * 1024,
        "dirs": {"c1": str(box.data)},
    }


@pytest.mark.parametrize("fill", [0.0, 0.951, 1.0])
def test_disk_plan_refuses_a_fill_outside_the_cap(box: Box, fill: float) -> None:
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step(fill=fill))
    assert err.value.message == f"disk: fill {fill:.0%} is above the cap of 95%"


def test_disk_plan_accepts_the_cap_itself(box: Box) -> None:
    assert _plan_state(box, _step(str(box.data), fill=0.95))["fill"] == 0.95


def test_disk_plan_refuses_an_unsafe_path(box: Box) -> None:
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step("/data/../etc"))
    assert (
        err.value.message
        == "disk: refusing path: expected a path without '..', found '/data/../etc'"
    )


def test_disk_plan_refuses_what_is_not_a_directory(box: Box) -> None:
    missing = box.root / "nope"
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step(str(missing)))
    assert err.value.message.startswith(f"disk: {missing} is not a directory in app-1: ")
    assert "nope" in err.value.message.split(": ", 2)[2]  # the shell's own complaint


def test_disk_plan_refuses_a_folder_that_resolves_to_an_unsafe_path(box: Box) -> None:
    odd = box.root / "we ird"
    odd.mkdir()
    link = box.root / "ok"
    link.symlink_to(odd)
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step(str(link)))
    assert err.value.message == f"disk: {link} in app-1 resolves to an unsafe path {str(odd)!r}"


def test_disk_plan_refuses_the_overlay_root(box: Box) -> None:
    box.mount_table = {}
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step(str(box.data)))
    assert err.value.message == (
        f"disk: {box.data} in app-1 is on the container's root filesystem (overlay), "
        "which is the engine host's disk: refused"
    )
    assert err.value.hint == (
        "mount a tmpfs (compose `tmpfs: [/data:size=64m]`) or a volume and point `path` at it"
    )


@pytest.mark.parametrize(
    ("mount", "words"),
    [(("tmpfs", False), "a read-only tmpfs"), (("npipe", True), "a npipe")],
)
def test_disk_plan_refuses_a_read_only_or_odd_mount(
    box: Box, mount: tuple[str, bool], words: str
) -> None:
    box.mount_table = {str(box.data): mount}
    with pytest.raises(FaultError) as err:
        _plan_state(box, _step(str(box.data)))
    assert err.value.message == (
        f"disk: {box.data} in app-1 is on {words} mount at {box.data}: refused"
    )
    assert err.value.hint == "use a writable volume, bind mount or tmpfs"


@pytest.mark.parametrize("kind", ["volume", "bind", "tmpfs"])
def test_disk_plan_accepts_every_writable_kind(box: Box, kind: str) -> None:
    box.mount_table = {str(box.data): (kind, True)}
    assert _plan_state(box, _step(str(box.data)))["dirs"] == {"c1": str(box.data)}


# ------------------------------------------------------------------ the snippets themselves
def test_disk_path_problem_texts() -> None:
    assert disk_path_problem("/data/x_y-1.2") is None
    assert disk_path_problem("/" + "a" * 254) is None
    assert disk_path_problem("/" + "a" * 255) == (
        "expected an absolute path of letters, digits, '.', '_', '-' and '/' "
        f"(at most 255 characters), found {'/' + 'a' * 255!r}"
    )
    assert disk_path_problem("data") is not None
    assert disk_path_problem("/a/../b") == "expected a path without '..', found '/a/../b'"
    assert disk_path_problem("/a/..b") is None  # a name that starts with dots is fine


def test_disk_spec_refuses_a_fill_above_the_cap() -> None:
    body = {"type": "disk", "target": {"service": "app"}, "at": 0, "for": 10}
    assert DiskFault.model_validate({**body, "fill": 0.95}).fill == 0.95
    with pytest.raises(
        ValueError,
        match=r"`fill` is capped at 95% of the filesystem \(and at "
        r"2 GiB written per container\), found 96%",
    ):
        DiskFault.model_validate({**body, "fill": 0.96})
    with pytest.raises(ValueError, match=r"expected a path without '\.\.'"):
        DiskFault.model_validate({**body, "path": "/a/../b"})


def test_usage_resolve_remove_scripts_run_with_sh(box: Box) -> None:
    assert box.exec_in("c1", usage_script(str(box.data))) == (0, "1000 100\n")
    assert box.exec_in("c1", resolve_script(str(box.data))) == (0, f"{box.data}\n")
    assert box.exec_in("c1", resolve_script(str(box.root / "none")))[0] != 0
    fill = box.data / ".f"
    assert box.exec_in("c1", remove_script(str(box.data), str(fill))) == (0, "FREED 0 0\n")
    fill.write_bytes(b"\0" * (3 * KIB))
    assert box.exec_in("c1", remove_script(str(box.data), str(fill))) == (0, "FREED 3 100\n")
    assert not fill.exists()
    assert box.exec_in("c1", absent_script(str(fill)))[0] == 0
    fill.write_bytes(b"")
    assert box.exec_in("c1", absent_script(str(fill)))[0] != 0


def test_fill_watchdog_deletes_the_file_at_the_deadline(box: Box) -> None:
    """deadline 0: the watchdog looks once, sleeps a second, then removes the file."""
    file = box.data / ".hachaos-fill-ab12"
    code, out = box.exec_in("c1", disk.fill_script(str(box.data), str(file), 0.2, 10_000, 0))
    assert (code, out) == (0, "FILLED 100\n")
    for _ in range(200):  # up to 10 s
        if not file.exists():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert not file.exists()


def test_disk_revert_records_even_a_single_kib(box: Box) -> None:
    (box.data / ".hachaos-fill-ab12").write_bytes(b"\0" * KIB)
    fault = _disk(box)
    fault.revert()
    assert fault.state["freed"] == {"c1": [1, 101]}


def test_disk_verify_on_a_one_kib_filesystem(box: Box) -> None:
    box._stub("df", 'echo "F K U"; echo "/dev/x 1 1"')
    _disk(box).verify()  # 1 of 1 KiB used: full


def test_disk_verify_reverted_passes_at_exactly_90_percent_back(box: Box) -> None:
    fault = _disk(box)
    fault.state["freed"] = {"c1": [1000, 1000]}  # 1000 - 100 = 900 = 0.9 * 1000 came back
    fault.verify_reverted()


def test_disk_verify_reverted_shows_what_came_back_in_mib(
    box: Box,
) -> None:
    answers = {"test ! -e": (0, ""), "df -Pk": (0, "1000 900\n")}
    box.exec_in = lambda cid, script, detach=False: next(  # type: ignore[method-assign]
        a for k, a in answers.items() if script.startswith(k)
    )
    fault = _disk(box)
    fault.ctx.verify_timeout = 0.0
    fault.state["freed"] = {"c1": [2000 * KIB, 900 + 1025 * KIB]}
    fault.ctx.clock = ScriptedClock(monos=[0.0, 1.0])
    with pytest.raises(FaultError, match="but only 1025 of 2000 MiB came back"):
        fault.verify_reverted()


@pytest.mark.parametrize(("out", "need"), [("df: warning\nNEED 800\n", "800"), ("", "?")])
def test_disk_apply_names_the_needed_kib_from_the_last_word(box: Box, out: str, need: str) -> None:
    box.exec_in = lambda cid, script, detach=False: (disk.FILL_REFUSED, out)  # type: ignore[method-assign]
    with pytest.raises(FaultError) as err:
        _disk(box).apply()
    assert f" needs {need} KiB, " in err.value.message


def test_disk_file_of_a_folder_whose_name_ends_in_x(box: Box) -> None:
    fault = _disk(box)
    fault.state["dirs"] = {"c1": "/dataX/"}
    assert fault._file({"id": "c1"}) == "/dataX/.hachaos-fill-ab12"


def test_fill_script_keeps_four_decimals_of_the_fill(tmp_path: Path) -> None:
    """100 000 KiB at 90 % with 400 used: 89 600 KiB needed (a 0.9001 would ask 89 610)."""
    box = Box(tmp_path)
    box._stub("df", 'echo "F K U"; echo "/dev/x 100000 400"')
    out = box.exec_in("c1", disk.fill_script(str(box.data), str(box.data / ".f"), 0.9, 1, 0))
    assert out == (disk.FILL_REFUSED, "NEED 89600\n")


def test_fill_watchdog_looks_once_a_second_until_one_past_the_deadline(tmp_path: Path) -> None:
    box = Box(tmp_path)
    real_sleep = shutil.which("sleep")
    log = tmp_path / "naps"
    box._stub("sleep", f'echo "sleep $*" >> {log}; {real_sleep} 0.1')
    box._stub("fallocate", "exit 0")
    file = box.data / ".hachaos-fill-ab12"
    code, _ = box.exec_in("c1", disk.fill_script(str(box.data), str(file), 0.2, 10_000, 2.7))
    assert code == 0
    for _ in range(200):  # up to 10 s
        if not file.exists():
            break
        subprocess.run([real_sleep or "sleep", "0.05"], check=True)
    assert not file.exists()
    assert log.read_text().splitlines() == ["sleep 1"] * 3


@pytest.mark.parametrize(
    ("path", "mounts", "mount"),
    [
        ("/data", {"/": ("bind", True)}, "/"),  # a bind of the whole root
        ("/mntX/a", {"/mntX": ("tmpfs", True)}, "/mntX"),
        ("/data/x", {"/data": ("tmpfs", True), "/data/": ("volume", True)}, "/data"),
    ],
)
def test_covering_mount_edge_cases(
    path: str, mounts: dict[str, tuple[str, bool]], mount: str
) -> None:
    assert disk.covering_mount(path, mounts) == mount
