"""read_compose_config goes through `docker compose config`, which needs no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.compose.config import read_compose_config
from harness.errors import ScenarioError
from harness.scenario.compose import replica_counts

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "compose" / "tiny.yaml"


def test_reads_services_ports_and_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/hachaos-no-engine.sock")
    config = read_compose_config(TINY, project="hachaos-unit")
    assert sorted(config.services) == ["app", "lb", "redis"]
    assert config.replicas() == {"app": 3, "lb": 1, "redis": 1}
    assert config.services["lb"].ports == (8080,)
    assert config.services["app"].ports == ()
    assert config.services["app"].networks == ("default",)
    assert config.services["redis"].image == "debian:bookworm-slim"
    assert config.services["redis"].build is False
    assert config.raw["name"] == "hachaos-unit"


def test_replica_counts_prefer_scale_and_default_to_one() -> None:
    raw = {
        "services": {
            "a": {"deploy": {"replicas": 4}},
            "b": {"scale": 2, "deploy": {"replicas": 5}},
            "c": {},
            "d": None,
        }
    }
    assert replica_counts(raw) == {"a": 4, "b": 2, "c": 1, "d": 1}


def test_invalid_compose_file_carries_composes_message(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  web:\n    image: x\n    ports: 8080\n")
    with pytest.raises(ScenarioError) as info:
        read_compose_config(broken)
    assert "is invalid" in info.value.message
    assert "ports" in info.value.message  # Compose's own explanation


def test_missing_compose_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="does not exist"):
        read_compose_config(tmp_path / "nope.yaml")
