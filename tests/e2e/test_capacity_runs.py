"""`hachaos capacity` for real: a planted limit found, a slow generator caught.

Each experiment deploys compose/rate-limited under projects of its own; the
test reads their names from each configuration's deployment.json and checks
nothing of them is left.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, project_containers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _capacity(scenario: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, "capacity", scenario, "--out", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _experiment(out: Path, down_after: list[str]) -> tuple[Path, dict[str, Any]]:
    (folder,) = [p for p in out.glob("*/*") if p.is_dir()]
    for deployment in folder.glob("*/deployment.json"):
        down_after.append(json.loads(deployment.read_text())["project"])
    return folder, json.loads((folder / "capacity.json").read_text())


def test_the_planted_limit_is_found_within_five_percent(
    tmp_path: Path, down_after: list[str]
) -> None:
    proc = _capacity("scenarios/capacity-planted-limit.yaml", tmp_path)
    folder, doc = _experiment(tmp_path, down_after)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (config,) = doc["configurations"]
    search = config["healthy"]
    assert search["stop"] == "converged", search["stop"]
    assert 95 <= search["capacity"] <= 105  # the app's token bucket: 100/s
    assert search["first_bad"] <= 110
    assert len(search["steps"]) <= 10
    assert doc["verdict"] == "pass"
    for name in ("capacity.html", "capacity.md", "junit.xml", "scenario.yaml"):
        assert (folder / name).is_file(), name
    for step in search["steps"]:
        assert (folder / step["samples"]).is_file()
    assert all(project_containers(p) == [] for p in down_after)  # torn down


def test_one_worker_against_a_very_fast_target_is_generator_bound(
    tmp_path: Path, down_after: list[str]
) -> None:
    proc = _capacity("tests/e2e/scenarios/capacity-generator-bound.yaml", tmp_path)
    folder, doc = _experiment(tmp_path, down_after)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # no check: unchecked
    search = doc["configurations"][0]["healthy"]
    assert search["stop"] == "generator", [s["verdict"] for s in search["steps"]]
    last = search["steps"][-1]
    assert last["verdict"]["verdict"] == "generator"
    assert last["generator"]["workers"] == 1
    advice = search["generator_advice"]
    assert advice["workers"] >= 2
    assert "the load generator, not the stack, was the limit" in proc.stdout
    assert "generator-bound" in (folder / "capacity.md").read_text()
    assert all(project_containers(p) == [] for p in down_after)
