"""check_scenario against a hand-made compose config: exact paths, wording and edges.

Each expected problem is written out in full, so a check that reports the wrong
path, drops a word of its advice, stops after the first hit or lets an edge case
through fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.faults.catalog import Scenario
from harness.run.validate import check_scenario
from harness.scenario.compose import ComposeConfig, ServiceInfo


def service(
    name: str, *, replicas: int = 1, ports: tuple[int, ...] = (), network_mode: str | None = None
) -> ServiceInfo:
    return ServiceInfo(
        name=name, replicas=replicas, ports=ports, networks=("default",), restart=None,
        image=None, build=False, network_mode=network_mode,
    )  # fmt: skip


COMPOSE = ComposeConfig(
    path=Path("/stacks/compose.yaml"),
    services={
        "lb": service("lb", ports=(8080, 8443)),
        "app": service("app", replicas=3),
        "redis": service("redis"),
        "sidecar": service("sidecar", network_mode="host"),
    },
    raw={},
)


def scenario(
    *faults: dict[str, Any],
    target: Any = None,
    duration: str = "120s",
    checks: dict[str, Any] | None = None,
) -> Scenario:
    return Scenario.model_validate(
        {
            "checks": checks or {},
            "version": 1,
            "name": "semantics-exact",
            "stack": {
                "compose": "c.yaml",
                "target": target or {"service": "lb", "port": 8080},
            },
            "load": {"users": 1},
            "timing": {"duration": duration},
            "faults": list(faults),
        }
    )


def problems(scn: Scenario, compose: ComposeConfig = COMPOSE) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in check_scenario(scn, compose)]


def pause(service_name: str, at: str, **more: Any) -> dict[str, Any]:
    return {"type": "pause", "target": {"service": service_name}, "at": at, "for": "5s", **more}


def test_unpublished_target_port_lists_what_is_published() -> None:
    assert problems(scenario(target={"service": "lb", "port": 9000})) == [
        (
            "stack.target.port",
            "service 'lb' does not publish container port 9000; it publishes 8080, 8443",
        )
    ]
    assert problems(scenario(target={"service": "redis", "port": 6379})) == [
        ("stack.target.port", "service 'redis' does not publish container port 6379;"
         " it publishes no port"),
    ]  # fmt: skip


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http:///x"])
def test_a_target_that_is_not_an_http_url(url: str) -> None:
    assert problems(scenario(target=url)) == [
        ("stack.target", f"expected a URL such as http://127.0.0.1:8080/, found {url!r}")
    ]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "https://localhost:8443/"])
def test_local_http_and_https_targets_are_fine(url: str) -> None:
    assert problems(scenario(target=url)) == []


def test_unknown_services_name_every_known_one() -> None:
    assert problems(scenario(pause("db", "10s"))) == [
        (
            "faults[0].target.service",
            "unknown service 'db'; compose.yaml has: app, lb, redis, sidecar",
        )
    ]
    empty = ComposeConfig(path=Path("/s/empty.yaml"), services={}, raw={})
    assert problems(scenario(target="http://127.0.0.1:1/"), empty) == []
    assert problems(scenario(pause("db", "10s"), target="http://127.0.0.1:1/"), empty) == [
        ("faults[0].target.service", "unknown service 'db'; empty.yaml has: none")
    ]


def test_every_bad_selector_is_reported_not_just_the_first() -> None:
    found = problems(
        scenario(
            {"type": "pause", "target": {"service": "db"}, "at": "10s", "for": "5s"},
            {"type": "pause", "target": {"service": "app", "count": 4}, "at": "10s", "for": "5s"},
        )
    )
    assert ("faults[1].target", "the selector wants 4 containers but service 'app' has 3"
            " replicas") in found  # fmt: skip


def test_a_fault_may_start_exactly_at_zero_and_end_exactly_at_the_end() -> None:
    assert problems(scenario(pause("redis", "0s"))) == []
    assert problems(scenario(pause("redis", "115s"))) == []  # 115 + 5 = 120 = duration
    assert problems(scenario(pause("redis", "0.5s"))) == []


def test_windows_outside_the_run_are_worded_by_kind() -> None:
    assert problems(scenario(pause("redis", "116s"))) == [
        (
            "faults[0]",
            "the fault lasts until 121s, after the run ends at timing.duration = 120s;"
            " shorten it or lengthen the run",
        )
    ]
    assert problems(scenario(pause("redis", "1s", jitter="2s"))) == [
        (
            "faults[0].at",
            "the fault may start at -1s, before the run starts at 0s; move `at` later"
            " or reduce `jitter`",
        )
    ]
    restart = {"type": "restart", "target": {"service": "redis"}, "at": "10s", "repeat": 2}
    assert problems(scenario({**restart, "every": "115s"})) == [
        (
            "faults[0]",
            "occurrence 2 of 2 happens at 125s, after the run ends at timing.duration = 120s;"
            " shorten it or lengthen the run",
        )
    ]
    assert problems(scenario({**restart, "every": "50s", "jitter": "12s"})) == [
        (
            "faults[0].at",
            "occurrence 1 of 2 may happen at -2s, before the run starts at 0s; move `at` later"
            " or reduce `jitter`",
        )
    ]


def test_an_instant_fault_only_needs_its_instant_inside_the_run() -> None:
    # `for` on an instant fault does not make it last: 118 s is inside a 120 s run.
    restart = {"type": "restart", "target": {"service": "redis"}, "at": "118s", "for": "5s"}
    assert problems(scenario(restart)) == []


def test_overlaps_are_reported_once_per_pair_with_the_shared_replicas() -> None:
    everything = {"service": "app", "all": True}
    found = problems(
        scenario(
            {"type": "pause", "target": everything, "at": "10s", "for": "10s", "name": "a"},
            {
                "type": "stop",
                "target": everything,
                "at": "15s",
                "for": "1s",
                "repeat": 2,
                "every": "2s",
                "name": "b",
            },
            {"type": "kill", "target": everything, "at": "40s", "for": "10s", "name": "c"},
            {"type": "pause", "target": everything, "at": "45s", "for": "10s", "name": "d"},
        )
    )
    assert found == [
        (
            "faults[1]",
            "b#0 overlaps a#0 on app replica(s) 1, 2, 3 (seed 0); move it, or set"
            " `allow_overlap: true` on one of them",
        ),
        (
            "faults[3]",
            "d#0 overlaps c#0 on app replica(s) 1, 2, 3 (seed 0); move it, or set"
            " `allow_overlap: true` on one of them",
        ),
    ]


def test_allow_overlap_on_either_fault_is_enough() -> None:
    one = pause("redis", "10s", allow_overlap=True)
    other = pause("redis", "12s", name="other")
    assert problems(scenario(one, other)) == []
    assert problems(scenario(pause("redis", "10s"), {**other, "allow_overlap": True})) == []


def test_an_allowed_overlap_does_not_hide_a_later_one() -> None:
    found = problems(
        scenario(
            pause("redis", "10s", allow_overlap=True, name="x"),
            pause("redis", "12s", name="y"),
            pause("redis", "40s", name="z"),
            pause("redis", "42s", name="w"),
        )
    )
    assert [path for path, _ in found] == ["faults[3]"]
    assert found[0][1].startswith("w#0 overlaps z#0 on redis replica(s) 1 (seed 0)")


def test_isolation_rules_name_their_own_path() -> None:
    rules = {"deny": [{"from": "lb", "to": "db"}], "allow": [{"from": "cache", "to": "app"}]}
    found = problems(scenario(checks={"isolation": rules}))
    assert [path for path, _ in found] == [
        "checks.isolation.deny[0].to",
        "checks.isolation.allow[0].from",
    ]


def test_a_namespace_refusal_after_an_unknown_service_is_still_reported() -> None:
    loss = {"type": "loss", "target": {"service": "sidecar"}, "at": "30s", "for": "5s"}
    found = problems(scenario(pause("db", "10s"), {**loss, "percent": "10%"}))
    assert [path for path, _ in found] == ["faults[0].target.service", "faults[1].target.service"]
    assert found[1][1].startswith("service 'sidecar' has `network_mode: host`")


def test_a_chosen_name_that_equals_a_later_automatic_name() -> None:
    # faults[1] is automatically "pause-2"; the first fault chose that name by hand.
    found = problems(scenario(pause("redis", "10s", name="pause-2"), pause("app", "30s")))
    assert found == [
        (
            "faults[0].name",
            "fault name 'pause-2' is also the automatic name (type-position) of faults[1];"
            " give every fault its own name",
        )
    ]
    # ... and the other way round: the automatic name comes first, the hand-made second.
    found = problems(scenario(pause("redis", "10s"), pause("app", "30s", name="pause-1")))
    assert found == [
        (
            "faults[1].name",
            "fault name 'pause-1' is also the automatic name (type-position) of faults[0];"
            " give every fault its own name",
        )
    ]


def test_a_sub_second_jitter_is_worded_as_a_possibility() -> None:
    assert problems(scenario(pause("redis", "0.2s", jitter="0.5s"))) == [
        (
            "faults[0].at",
            "the fault may start at -0.3s, before the run starts at 0s; move `at` later"
            " or reduce `jitter`",
        )
    ]
    assert problems(scenario(pause("redis", "114s", jitter="2s"))) == [
        (
            "faults[0]",
            "the fault may last until 121s, after the run ends at timing.duration = 120s;"
            " shorten it or lengthen the run",
        )
    ]
