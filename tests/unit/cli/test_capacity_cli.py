"""`hachaos capacity` and `hachaos plan` on experiments, without an engine."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from harness.cli import capacity_cmd
from harness.cli.app import app
from harness.cli.capacity_cmd import with_settings
from harness.errors import ScenarioError
from harness.run.validate import validate_file
from tests.unit.capacity_samples import configuration, document

ROOT = Path(__file__).resolve().parents[3]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/hachaos-no-engine.sock"}


def test_plan_says_what_an_experiment_will_deploy_and_search() -> None:
    result = CliRunner().invoke(
        app, ["plan", str(ROOT / "scenarios/capacity-web-ha-scaling.yaml")], env=NO_ENGINE
    )
    assert result.exit_code == 0, result.output
    assert "capacity experiment (docs/capacity.md): 3 deployment(s), one search each" in (
        result.output
    )
    assert "search: from 20/s, + 20/s per step, at most 300/s, to 5 %" in result.output
    for count in (1, 2, 3):
        assert f"deployment: default @ {count} replicas" in result.output


def test_a_run_scenario_becomes_a_search_with_max_rps() -> None:
    sc, _ = validate_file(ROOT / "scenarios/kill-replica.yaml")
    with pytest.raises(ScenarioError, match="has no `experiment` block") as info:
        with_settings(sc, {"max_rps": None})
    assert info.value.hint is not None and "--max-rps" in info.value.hint
    search, left_out = with_settings(sc, {"max_rps": 300.0, "start": 50.0, "hold": "5s"})
    assert search.experiment is not None
    capacity = search.experiment.capacity
    assert (capacity.max_rps, capacity.start, capacity.hold) == (300.0, 50.0, 5.0)
    assert search.load.model == "open" and search.load.rps == 50.0
    assert search.faults == [] and "faults" in left_out
    assert search.checks.availability.overall == sc.checks.availability.overall
    assert search.source == sc.source
    assert search.timing.duration == 5.0  # one step's hold, filled in


def test_capacity_on_a_run_scenario_without_max_rps_exits_2() -> None:
    result = CliRunner().invoke(
        app, ["capacity", str(ROOT / "scenarios/baseline.yaml")], env=NO_ENGINE
    )
    assert result.exit_code == 2
    assert "has no `experiment` block" in result.output


def test_invalid_settings_exit_2_before_anything_is_deployed() -> None:
    result = CliRunner().invoke(
        app,
        ["capacity", str(ROOT / "scenarios/capacity-planted-limit.yaml"), "--start", "900"],
        env=NO_ENGINE,
    )
    assert result.exit_code == 2
    assert "`start` (900/s) is above `max_rps` (400/s)" in result.output


def test_repeat_bad_reaches_the_search_and_is_bounded() -> None:
    sc, _ = validate_file(ROOT / "scenarios/capacity-planted-limit.yaml")
    assert sc.experiment is not None and sc.experiment.capacity.repeat_bad == 0
    search, _ = with_settings(sc, {"repeat_bad": 2})
    assert search.experiment is not None
    assert search.experiment.capacity.repeat_bad == 2
    result = CliRunner().invoke(
        app,
        ["capacity", str(ROOT / "scenarios/capacity-planted-limit.yaml"), "--repeat-bad", "5"],
        env=NO_ENGINE,
    )
    assert result.exit_code == 2  # at most 3 repeats: every step stays bounded


def test_the_outcome_names_the_faults_only_where_they_were_held(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(capacity_cmd, "console", Console(file=out, width=300))
    failed = configuration("cache", 1, 120.0, None, 60.0).model_copy(
        update={"error": "deploying failed: app is unhealthy"}
    )
    doc = document(
        configurations=(
            configuration("plain", 1, 50.0, None, 60.0),
            configuration("plain", 2, 90.0, 50.0, 60.0),
            failed,
        ),
        verdict="error",
        verdict_reasons=("cache @ 1 replicas: deploying failed: app is unhealthy",),
    )
    capacity_cmd.print_outcome(doc, None, tmp_path)
    lines = out.getvalue().splitlines()
    assert "  plain @ 1 replicas: 50/s (first bad 52.5/s)" in lines  # no faults: not named
    assert (
        "  plain @ 2 replicas: 90/s (first bad 94.5/s); with the faults held 50/s (first bad 55/s)"
        in lines
    )
    assert sum("app is unhealthy" in line for line in lines) == 1  # once, in the verdict
