"""`hachaos cleanup --images` wiring through the engine registry (the pruning itself runs
on the real engine in tests/integration/engine/test_build_images.py)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import cleanup_cmd
from harness.cli.app import app
from harness.engine.compose import images as compose_images
from harness.errors import EngineError
from harness.faults.heal import CleanupResult


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    monkeypatch.setattr(
        cleanup_cmd, "heal", lambda **kw: seen.append(("heal", kw)) or CleanupResult()
    )

    def prune(**kw: Any) -> list[str]:
        seen.append(("prune", kw))
        return ["hachaos-build/web:0123456789ab"]

    # what the engines registered (Compose and Swarm share this builder) calls it
    monkeypatch.setattr(compose_images, "prune_builds", prune)
    return seen


def test_images_are_pruned_only_when_asked(calls: list[Any]) -> None:
    plain = CliRunner().invoke(app, ["cleanup"])
    assert plain.exit_code == 0 and "nothing to clean up" in plain.output
    assert [c[0] for c in calls] == ["heal"]
    result = CliRunner().invoke(app, ["cleanup", "--images", "--keep", "1"])
    assert result.exit_code == 0, result.output
    assert calls[-1] == ("prune", {"keep": 1})
    assert [c[0] for c in calls] == ["heal", "heal", "prune"]  # once, not once per engine
    assert "removed build image hachaos-build/web:0123456789ab" in result.output


def test_the_default_keeps_two_and_a_bad_keep_is_refused(calls: list[Any]) -> None:
    assert CliRunner().invoke(app, ["cleanup", "--images"]).exit_code == 0
    assert calls[-1] == ("prune", {"keep": 2})
    assert CliRunner().invoke(app, ["cleanup", "--images", "--keep", "-1"]).exit_code == 2


def test_an_engine_error_while_pruning_is_exit_3(
    calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> list[str]:
        raise EngineError("listing hachaos build images: engine gone")

    monkeypatch.setattr(compose_images, "prune_builds", broken)
    result = CliRunner().invoke(app, ["cleanup", "--images"])
    assert result.exit_code == 3 and "engine gone" in result.output
