"""Which Swarm stacks hachaos refuses on a kernel without IPVS (issue 22): only what cannot
work. A `vip` service breaks only when another service reaches it by name; one reached
only through a host-mode port works; where hachaos cannot tell, it warns and goes on.
Stacks here are hand-written `docker compose config` documents (canonical form)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.engine.compose.config import read_compose_config
from harness.engine.swarm import preflight
from harness.errors import ScenarioError

HOST_PORT = {"target": 9090, "published": "19090", "mode": "host", "protocol": "tcp"}
DNSRR = {"endpoint_mode": "dnsrr"}


def _stack(**services: dict[str, Any]) -> dict[str, Any]:
    return {"services": services}


def test_a_vip_entry_reached_only_through_its_host_port_runs() -> None:
    raw = _stack(
        front={"ports": [HOST_PORT], "environment": {"UPSTREAM": "api:8000"}},
        api={"deploy": DNSRR, "environment": {"REDIS_HOST": "store"}},
        store={"deploy": DNSRR},
    )
    assert preflight.hazards(raw) == ([], [])
    assert preflight.preflight(raw, Path("c.yaml"), proc=Path("/nonexistent")) == []


def test_the_stack_from_the_issue_is_no_longer_refused(tmp_path: Path) -> None:
    """Fails on the code before issue 22: `service 'front' uses endpoint_mode vip`."""
    root = Path(__file__).resolve().parents[3]
    file = root / "tests/e2e/stacks/swarm-vip-front/compose.yaml"
    raw = read_compose_config(file).raw
    assert preflight.preflight(raw, file, proc=tmp_path / "no-ip_vs") == []


@pytest.mark.parametrize(
    ("other", "where"),
    [
        ({"environment": {"REDIS_HOST": "store"}}, "environment REDIS_HOST"),
        ({"environment": {"URL": "redis://user@store/0"}}, "environment URL"),
        ({"environment": {"URL": "http://store"}}, "environment URL"),
        ({"command": ["redis-cli", "-h", "store", "ping"]}, "command"),
        ({"entrypoint": "wait-for store:6379 --"}, "entrypoint"),
        ({"healthcheck": {"test": ["CMD", "nc", "-z", "store", "6379"]}}, "health check"),
        ({"links": ["store:db"]}, "links"),
    ],
)
def test_a_vip_service_another_names_is_refused(other: dict[str, Any], where: str) -> None:
    raw = _stack(app={"deploy": DNSRR, **other}, store={})
    refusals, warnings = preflight.hazards(raw)
    assert refusals == [
        f"service 'store' uses endpoint_mode vip (the default) and service 'app' reaches it "
        f"by name ({where})"
    ]
    assert warnings == []


def test_names_in_a_build_context_and_in_mounted_files_are_read(tmp_path: Path) -> None:
    context = tmp_path / "lb"
    context.mkdir()
    (context / "haproxy.cfg").write_text("# in front of the store\nserver s1 store:6379\n")
    (context / "logo.png").write_bytes(b"\x89PNG\0store:6379")  # binary: not read
    mounted = tmp_path / "app.env"
    mounted.write_text("DB=store\n")
    built = _stack(lb={"deploy": DNSRR, "build": {"context": str(context)}}, store={})
    assert preflight.hazards(built)[0] == [
        "service 'store' uses endpoint_mode vip (the default) and service 'lb' reaches it by "
        "name (build context file haproxy.cfg)"
    ]
    bind = {"type": "bind", "source": str(mounted), "target": "/etc/app.env"}
    with_mount = _stack(app={"deploy": DNSRR, "volumes": [bind]}, store={})
    assert "(mounted file app.env)" in preflight.hazards(with_mount)[0][0]


def test_prose_task_lists_and_other_networks_are_not_a_reach() -> None:
    raw = _stack(
        front={"ports": [HOST_PORT], "networks": {"edge": None}},
        api={
            "deploy": DNSRR,
            "networks": {"inner": None},
            "environment": {"NOTE": "runs in front of the store", "PEERS": "tasks.front"},
        },
        other={"deploy": DNSRR, "networks": {"edge2": None}, "environment": {"H": "front"}},
    )
    assert preflight.hazards(raw) == ([], [])
    # On a shared network the same variable is a reach.
    raw["services"]["other"]["networks"] = {"edge": None}
    assert preflight.hazards(raw)[0] == [
        "service 'front' uses endpoint_mode vip (the default) and service 'other' reaches it "
        "by name (environment H)"
    ]


def test_a_dependency_that_names_it_nowhere_readable_is_a_warning() -> None:
    raw = _stack(
        worker={"deploy": DNSRR, "image": "vendor/worker", "depends_on": {"queue": {}}},
        queue={},
    )
    refusals, warnings = preflight.hazards(raw)
    assert refusals == []
    assert warnings == [
        "service 'queue' uses endpoint_mode vip and service 'worker' depends on it, but hachaos "
        "found the name 'queue' nowhere it can read in 'worker' (environment, command, health "
        "check, build context, mounted files): if it connects to 'queue' by name, that fails "
        "on this swarm (no IPVS); `deploy: {endpoint_mode: dnsrr}` makes sure"
    ]
    assert preflight.preflight(raw, Path("c.yaml"), proc=Path("/nonexistent")) == warnings


def test_an_ingress_port_is_refused_with_the_pattern_that_works(tmp_path: Path) -> None:
    raw = _stack(front={"deploy": DNSRR, "ports": [{"target": 80, "published": "8080"}]})
    with pytest.raises(ScenarioError) as err:
        preflight.preflight(raw, Path("c.yaml"), proc=tmp_path / "none")
    assert "publishes" in err.value.message and "in ingress mode" in err.value.message
    assert err.value.hint is not None and "mode: host" in err.value.hint


def test_a_large_context_is_read_within_its_bounds(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    for i in range(preflight.MAX_FILES + 50):
        (context / f"f{i:04d}.txt").write_text("nothing here\n")
    (context / "zzz.cfg").write_text("server store:6379\n")  # past the file bound
    big = context / "big.cfg"
    big.write_text("x" * preflight.MAX_FILE_BYTES + " store:6379\n")  # past the size bound
    raw = _stack(lb={"deploy": DNSRR, "build": {"context": str(context)}}, store={})
    assert preflight.hazards(raw) == ([], [])
