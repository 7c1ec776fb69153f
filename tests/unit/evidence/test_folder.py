"""Run folder and project naming."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.evidence.folder import new_run_dir, new_run_id, project_name, write_json_atomic

NOW = datetime(2026, 11, 27, 15, 30, 0, tzinfo=UTC)


def test_run_dir_is_scenario_then_utc_stamp_and_never_reused(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "kill-replica", NOW)
    second = new_run_dir(tmp_path, "kill-replica", NOW)
    assert first == tmp_path / "kill-replica" / "20261127T153000Z"
    assert second == tmp_path / "kill-replica" / "20261127T153000Z-2"
    assert first.is_dir()
    assert second.is_dir()


def test_project_name_prefers_overrides_then_makes_a_unique_valid_one() -> None:
    assert project_name("x", None, "given") == "given"
    assert project_name("x", "cli", "file") == "cli"
    a, b = project_name("Kill Replica!"), project_name("Kill Replica!")
    assert a != b
    assert re.fullmatch(r"hachaos-kill-replica-[0-9a-f]{6}", a)


def test_write_json_atomic_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def _make_dirs(root: str, count: int, barrier: Any, out: Any) -> None:
    barrier.wait()  # every process starts claiming names at the same moment
    try:
        out.put([str(new_run_dir(Path(root), "same-second", NOW)) for _ in range(count)])
    except Exception as exc:
        out.put([repr(exc)])


def test_processes_in_the_same_second_get_distinct_run_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fan_out: Callable[..., list[Any]]
) -> None:
    real_mkdir = Path.mkdir

    def slow_mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.02)  # widens any window between "is the name free?" and taking it
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", slow_mkdir)
    procs, per_proc = 4, 2
    made = fan_out(_make_dirs, (str(tmp_path), per_proc), procs)  # forked: slow mkdir too
    assert len(made) == len(set(made)) == procs * per_proc
    on_disk = {str(p) for p in (tmp_path / "same-second").iterdir()}
    assert on_disk == set(made)
    names = {Path(d).name for d in made}
    assert names == {"20261127T153000Z"} | {f"20261127T153000Z-{n}" for n in range(2, 9)}


def test_run_ids_differ_within_one_second_and_their_prefix_too() -> None:
    ids = {new_run_id("hachaos-same", NOW) for _ in range(50)}
    assert len(ids) == 50
    assert len({i[:24] for i in ids}) == 50  # helper names use the first 24 characters
    assert all(re.fullmatch(r"20261127T153000Z-[0-9a-f]{6}-hachaos-same", i) for i in ids)
