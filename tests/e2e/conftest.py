"""Helpers for end-to-end runs of the real `hachaos` command on the real engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
HACHAOS = [sys.executable, "-m", "harness.cli"]


def run_scenario(
    scenario: str, out: Path, project: str, *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`hachaos run SCENARIO --quiet` into ``out`` under a given compose project."""
    return subprocess.run(
        [*HACHAOS, "run", scenario, "--quiet", "--out", str(out), "--project", project],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def project_containers(project: str) -> list[str]:
    """Names of every container (running or not) of a compose project."""
    out = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [line for line in out.splitlines() if line]


def end_children(root: Path) -> None:
    """End this test's Locust children (their command lines name the run folder), by pid."""
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(str(root) in a for a in p.info["cmdline"] or []):
                p.kill()
        except psutil.Error:
            continue


def only_run_dir(root: Path) -> Path:
    """The single run folder under an --out root."""
    runs = [p for p in root.glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines() if x]


@pytest.fixture
def down_after() -> Any:
    """Projects registered here are torn down after the test whatever happened."""
    projects: list[str] = []
    yield projects
    for project in projects:
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "-v", "--timeout", "1"],
            capture_output=True,
            check=False,
            timeout=120,
        )


def open_schedule(rps: float, total_s: float, workers: int) -> list[int]:
    """Every intended start (µs after t0) of a constant open schedule (``uniform``, seed
    0), all workers together: what a run records once each when nothing is lost."""
    from harness.load.shape import arrival_times, build_profile

    profile = build_profile(float(rps), (), total_s)
    out: list[int] = []
    for i in range(workers):
        out += [round(t * 1e6) for t in arrival_times(profile, i, workers, "uniform", 0)]
    return sorted(out)
