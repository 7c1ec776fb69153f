"""compose/web-ha-replicated: the `safe` variant is the `fast` one plus WAIT for every
replica and min-replicas-to-write, nothing else.

Both files go through `docker compose config` (no engine), as hachaos reads them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.engine.compose.config import read_compose_config

NO_ENGINE = "unix:///nonexistent/hachaos-no-engine.sock"


@pytest.fixture
def variants(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    folder = repo_root / "compose" / "web-ha-replicated"
    fast = read_compose_config(folder / "compose.yaml", project="hachaos-unit")
    safe = read_compose_config(folder / "compose.safe.yaml", project="hachaos-unit")
    return fast, safe


def test_the_topology_the_scenarios_target(variants: tuple[Any, Any]) -> None:
    for config in variants:
        assert config.replicas() == {
            "lb": 1,
            "app": 3,
            "redis-primary": 1,
            "redis-replica": 2,
            "sentinel": 3,
        }
        app_env = config.raw["services"]["app"]["environment"]
        assert app_env["REDIS_SENTINELS"] == "sentinel:26379"
        replica_cmd = config.raw["services"]["redis-replica"]["command"]
        assert replica_cmd[-3:] == ["--replicaof", "redis-primary", "6379"]
        # the partition fault refuses shared namespaces: every service has its own
        assert all(s.network_mode is None and s.pid is None for s in config.services.values())


def test_safe_differs_from_fast_only_by_the_wait(variants: tuple[Any, Any]) -> None:
    fast, safe = variants
    assert fast.raw["services"]["app"]["environment"]["REDIS_WAIT_REPLICAS"] == "0"
    safe_env = safe.raw["services"]["app"]["environment"]
    assert (safe_env["REDIS_WAIT_REPLICAS"], safe_env["REDIS_WAIT_TIMEOUT_MS"]) == ("2", "500")
    expected = copy.deepcopy(fast.raw["services"])
    expected["app"]["environment"].update(REDIS_WAIT_REPLICAS="2", REDIS_WAIT_TIMEOUT_MS="500")
    refuse = ["--min-replicas-to-write", "2", "--min-replicas-max-lag", "3"]
    refuse += ["--repl-diskless-sync-delay", "0"]
    expected["redis-primary"]["command"] += refuse
    replica_cmd = expected["redis-replica"]["command"]
    expected["redis-replica"]["command"] = replica_cmd[:-3] + refuse + replica_cmd[-3:]
    assert safe.raw["services"] == expected


def test_safe_acknowledges_only_what_every_redis_node_holds(variants: tuple[Any, Any]) -> None:
    # WAIT 1 of 2 replicas lost acknowledged writes in a failover (docs/consistency.md):
    # the app must wait for every replica, and a primary short of them must refuse.
    _, safe = variants
    replicas = safe.replicas()["redis-replica"]
    assert int(safe.raw["services"]["app"]["environment"]["REDIS_WAIT_REPLICAS"]) == replicas
    for service in ("redis-primary", "redis-replica"):
        cmd = safe.raw["services"][service]["command"]
        assert int(cmd[cmd.index("--min-replicas-to-write") + 1]) == replicas
