"""Run folder and project naming."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from harness.run.folder import new_run_dir, project_name, write_json_atomic

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
