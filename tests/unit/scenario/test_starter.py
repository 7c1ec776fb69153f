"""`hachaos init`'s starter: entry choice, ready path, and files that validate as written.

Compose documents here are hand-written canonical `compose config` output (no engine).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.faults.catalog import Scenario
from harness.run.validate import check_scenario
from harness.scenario.compose import parse_compose_config
from harness.scenario.starter import (
    StarterError,
    healthcheck_path,
    pick_entry,
    render_starter,
    scenario_name,
)


def _svc(**kw: Any) -> dict[str, Any]:
    ports = kw.pop("ports", ())
    out: dict[str, Any] = {"image": kw.pop("image", "x"), **kw}
    if ports:
        out["ports"] = [{"target": p, "published": "0", "host_ip": "127.0.0.1"} for p in ports]
    return out


HA = {
    "services": {
        "app": _svc(deploy={"replicas": 3}, depends_on={"redis": {"condition": "service_healthy"}}),
        "edge": _svc(image="haproxy:2", ports=[8080], depends_on={"app": {}}, restart="always"),
        "redis": _svc(image="redis:7"),
    }
}
# the app and the database both publish: the app (HTTP port, the front) wins
APP_DB = {
    "services": {
        "db": _svc(image="postgres:16", ports=[5432]),
        "api": _svc(
            ports=[8000],
            depends_on={"db": {}},
            healthcheck={"test": ["CMD-SHELL", "curl -fsS http://localhost:8000/v1/health?deep=1"]},
        ),
    }
}


def _config(raw: dict[str, Any]) -> Any:
    return parse_compose_config(Path("/stacks/shop/compose.yaml"), raw)


def test_a_load_balancer_by_image_is_the_entry() -> None:
    entry = pick_entry(_config(HA))
    assert (entry.service, entry.port, entry.scheme) == ("edge", 8080, "http")
    assert "load balancer" in entry.why


def test_an_http_port_beats_a_database_port_and_the_front_beats_what_it_uses() -> None:
    entry = pick_entry(_config(APP_DB))
    assert (entry.service, entry.port) == ("api", 8000)
    assert entry.why == "the front of the stack: it depends on db"


def test_tls_ports_get_https_and_http_ports_are_preferred_within_a_service() -> None:
    raw = {"services": {"web": _svc(ports=[9999, 443])}}
    entry = pick_entry(_config(raw))
    assert (entry.port, entry.scheme) == (443, "https")


def test_no_published_port_is_refused_with_what_to_do() -> None:
    with pytest.raises(StarterError, match=r"127\.0\.0\.1:0:8080"):
        pick_entry(_config({"services": {"a": _svc()}}))


@pytest.mark.parametrize(
    ("test", "path"),
    [
        (["CMD", "python3", "-c", "urlopen('http://127.0.0.1:8000/health', timeout=1)"], "/health"),
        ("wget -q -O- http://localhost/ready || exit 1", "/ready"),
        (["CMD-SHELL", "curl -f http://localhost:8000/v1/health?deep=1"], "/v1/health?deep=1"),
        (["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"], None),
        (["CMD", "curl", "http://x/$(rm -rf /)"], None),  # never copied into the file
    ],
)
def test_ready_path_from_the_healthcheck(test: Any, path: str | None) -> None:
    raw = {"services": {"a": _svc(healthcheck={"test": test})}}
    assert healthcheck_path(raw, "a") == path
    raw = {"services": {"a": _svc(healthcheck={"test": test, "disable": True})}}
    assert healthcheck_path(raw, "a") is None


def test_name_from_the_compose_folder() -> None:
    assert scenario_name("../compose/web-ha/compose.yaml") == "web-ha-starter"
    assert scenario_name("compose.yaml") == "compose-starter"
    assert scenario_name("../my stack!/docker-compose.yml") == "my-stack-starter"


def _validate(text: str, raw: dict[str, Any]) -> Scenario:
    scenario = Scenario.model_validate(yaml.safe_load(text))
    assert check_scenario(scenario, _config(raw)) == []
    return scenario


def _uncommented(text: str, index: int) -> str:
    """The starter with suggested fault ``index`` uncommented, as its comment tells."""
    lines = text.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith("  # - type:")][index]
    out = [("faults:" if line == "faults: []" else line) for line in lines[:start]]
    i = start
    while i < len(lines) and re.match(r"  #( -|  ) ", lines[i]):
        out.append("  " + lines[i][4:])
        i += 1
    return "\n".join(out + [line for line in lines[i:] if not line.startswith("  # ")])


@pytest.mark.parametrize("raw", [HA, APP_DB], ids=["ha", "app-db"])
@pytest.mark.parametrize("duration", [60.0, 8.0])
def test_the_starter_validates_as_written_and_with_each_suggestion(
    raw: dict[str, Any], duration: float
) -> None:
    starter = render_starter(_config(raw), "../shop/compose.yaml", duration=duration, rps=15)
    scenario = _validate(starter.text, raw)
    assert scenario.faults == [] and scenario.load.rps == 15
    assert scenario.timing.duration == duration
    assert len(starter.suggestions) == len(raw["services"])
    for k in range(len(raw["services"])):
        fault = _validate(_uncommented(starter.text, k), raw).faults
        assert len(fault) == 1


def test_the_starter_file_of_a_stack() -> None:
    starter = render_starter(_config(APP_DB), "../shop/compose.yaml")
    scenario = _validate(starter.text, APP_DB)
    assert scenario.name == "shop-starter"
    assert scenario.stack.compose == "../shop/compose.yaml"
    assert scenario.stack.target.model_dump() == {"service": "api", "port": 8000, "scheme": "http"}
    assert scenario.stack.ready_path == "/v1/health?deep=1"
    assert [r.path for r in scenario.load.requests] == ["/v1/health?deep=1"]
    assert scenario.checks.availability.overall == 0.99
    # the database is killed (a store), the single-replica entry frozen briefly
    kinds = {s.split(":")[0]: s for s in starter.suggestions}
    assert "data store" in kinds["db"] and "entry" in kinds["api"]
    db_fault = _validate(_uncommented(starter.text, 1), APP_DB).faults[0]
    assert (db_fault.type, db_fault.target.service, db_fault.at, db_fault.for_) == (
        "kill",
        "db",
        15.0,
        5.0,
    )
