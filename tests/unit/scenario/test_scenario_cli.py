"""`hachaos validate`, `plan` and `schema` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.app import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
VALID = FIXTURES / "valid" / "full.yaml"
# Any engine call would fail against this socket, so exit 0 proves none happened.
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/hachaos-no-engine.sock"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_ok_without_an_engine(runner: CliRunner, repo_root: Path) -> None:
    files = [VALID, *sorted((repo_root / "scenarios").glob("*.yaml"))]
    result = runner.invoke(app, ["validate", *map(str, files)], env=NO_ENGINE)
    assert result.exit_code == 0, result.output
    for file in files:
        assert f"ok {file}" in result.output


def test_validate_reports_every_problem_and_exits_2(runner: CliRunner) -> None:
    bad = FIXTURES / "invalid" / "target-unknown-key.yaml"
    result = runner.invoke(app, ["validate", str(VALID), str(bad)], env=NO_ENGINE)
    assert result.exit_code == 2
    assert f"ok {VALID}" in result.output
    assert f"{bad}: 2 problems" in result.output
    assert f"{bad}:5:25: stack.target.prt: unknown key 'prt'" in result.output
    assert "(did you mean 'port'?)" in result.output


def test_validate_never_touches_the_engine(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.engine.client as engine_client

    def refuse() -> None:
        raise AssertionError("validate must not call the Docker engine")

    monkeypatch.setattr(engine_client, "client", refuse)
    bad = FIXTURES / "invalid" / "overlap.yaml"
    result = runner.invoke(app, ["validate", str(VALID), str(bad)], env=NO_ENGINE)
    assert result.exit_code == 2
    assert "overlaps kill-1#0" in result.output


def test_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_plan_prints_the_timeline_and_seed(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(VALID)], env={**NO_ENGINE, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "seed 7" in result.output
    for key in ("kill-1#0", "partition-2#0", "crash-3#0", "pause-4#2", "(instant)"):
        assert key in result.output
    again = runner.invoke(app, ["plan", str(VALID)], env={**NO_ENGINE, "COLUMNS": "200"})
    assert again.output == result.output


def test_plan_json_follows_the_seed(runner: CliRunner) -> None:
    def plan(seed: int) -> dict[str, object]:
        result = runner.invoke(app, ["plan", str(VALID), "--json", "--seed", str(seed)])
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.output)
        return data

    first, same, other = plan(11), plan(11), plan(12)
    assert first == same
    assert first["seed"] == 11 and other["seed"] == 12
    assert first["steps"] != other["steps"]  # jitter and random picks moved
    steps = first["steps"]
    assert isinstance(steps, list)
    assert [s["key"] for s in steps][:3] == ["kill-1#0", "partition-2#0", "crash-3#0"]
    assert steps[1]["replicas"] == [1, 2]  # pick: first, 50% of 3 rounds up to 2


def test_plan_of_an_invalid_file_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(FIXTURES / "invalid" / "fault-type-typo.yaml")])
    assert result.exit_code == 2
    assert "did you mean 'partition'?" in result.output


def test_schema_is_json_schema_by_alias(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert "source" not in schema["properties"]
    kill = schema["$defs"]["KillFault"]["properties"]
    assert "for" in kill and "for_" not in kill
    mapping = schema["properties"]["faults"]["items"]["discriminator"]["mapping"]
    assert "partition" in mapping
