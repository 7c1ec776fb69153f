"""Each audit rule on tiny canonical compose dicts, with hand-written expectations."""

from __future__ import annotations

from typing import Any

import pytest

from harness.audit.facts import is_secret_env
from harness.audit.review import review
from harness.audit.rules import RULES, is_root

# A service that passes every per-service rule (the baseline the cases then break).
HARD: dict[str, Any] = {
    "user": "10001",
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
    "restart": "always",
    "healthcheck": {"test": ["CMD", "true"]},
    "deploy": {"resources": {"limits": {"memory": "134217728", "cpus": 0.5, "pids": 64}}},
}


def rules_of(services: dict[str, dict[str, Any]], **kw: Any) -> list[tuple[str, str, str]]:
    raw = {"services": services}
    result = review(raw, "", "c.yaml", **kw)
    return [(f.rule, f.severity, f.service) for f in result.findings]


def one(**overrides: Any) -> list[tuple[str, str, str]]:
    svc = {**HARD, **overrides}
    return rules_of({"s": {k: v for k, v in svc.items() if v is not None}})


def test_hardened_service_has_no_finding() -> None:
    assert one() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"user": None}, [("root-user", "high", "s")]),
        ({"user": "root"}, [("root-user", "high", "s")]),
        ({"user": "0:0"}, [("root-user", "high", "s")]),
        ({"privileged": True}, [("privileged", "critical", "s")]),
        ({"cap_add": ["SYS_ADMIN"]}, [("cap-add", "high", "s")]),
        ({"cap_add": ["CHOWN"]}, [("cap-add", "medium", "s")]),
        (
            {"volumes": [{"type": "bind", "source": "/var/run/docker.sock", "target": "/s"}]},
            [("docker-socket", "critical", "s")],
        ),
        ({"network_mode": "host"}, [("host-namespace", "high", "s")]),
        ({"pid": "host", "ipc": "host"}, [("host-namespace", "high", "s")] * 2),
        (
            {"ports": [{"target": 80, "published": "8080"}]},
            [("port-all-interfaces", "high", "s"), ("single-replica", "medium", "s")],
        ),
        ({"healthcheck": {"disable": True}}, [("no-healthcheck", "medium", "s")]),
        ({"healthcheck": None}, [("no-healthcheck", "medium", "s")]),
        ({"restart": None}, [("no-restart-policy", "medium", "s")]),
        ({"restart": "no"}, [("no-restart-policy", "medium", "s")]),
        (
            {"deploy": {"resources": {"limits": {"memory": "1g"}}}},
            [("no-resource-limits", "medium", "s")],
        ),
        ({"environment": {"DB_PASSWORD": "hunter2"}}, [("secret-in-environment", "high", "s")]),
        ({"environment": {"DB_PASSWORD_FILE": "/run/secrets/db"}}, []),
        ({"read_only": None}, [("writable-root-fs", "medium", "s")]),
        ({"security_opt": None}, [("no-new-privileges", "medium", "s")]),
        ({"cap_drop": ["NET_RAW"]}, [("no-cap-drop", "low", "s")]),
    ],
)
def test_each_rule(overrides: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert one(**overrides) == expected


def test_restart_policy_from_deploy_and_limits_from_short_keys_count() -> None:
    assert (
        one(
            restart=None,
            deploy={"restart_policy": {"condition": "on-failure"}},
            mem_limit="64m",
            cpus=0.25,
            pids_limit=32,
        )
        == []
    )


def test_port_on_loopback_is_not_all_interfaces() -> None:
    ports = [{"host_ip": "127.0.0.1", "target": 80}]
    assert one(ports=ports, deploy={**HARD["deploy"], "replicas": 2}) == []


def test_image_user_and_healthcheck_count_when_compose_sets_none() -> None:
    svc = {**HARD, "image": "img"}
    del svc["user"], svc["healthcheck"]
    images = {"img": {"User": "app", "Healthcheck": {"Test": ["CMD-SHELL", "true"]}}}
    assert rules_of({"s": svc}, images=images) == []
    root_image = {"img": {"User": "", "Healthcheck": None}}
    assert rules_of({"s": svc}, images=root_image) == [
        ("root-user", "high", "s"),
        ("no-healthcheck", "medium", "s"),
    ]


def test_one_network_shared_by_every_service() -> None:
    three = {n: dict(HARD) for n in ("lb", "app", "db")}
    assert rules_of(three) == [("shared-network", "medium", "*")]
    split = {
        "lb": {**HARD, "networks": {"front": None}},
        "app": {**HARD, "networks": {"front": None, "back": None}},
        "db": {**HARD, "networks": {"back": None}},
    }
    assert rules_of(split) == []
    # Two services must talk to each other anyway: no finding.
    assert rules_of({"app": dict(HARD), "db": dict(HARD)}) == []


def test_single_replica_behind_a_load_balancer_is_fine() -> None:
    loopback = [{"host_ip": "127.0.0.1", "target": 8080}]
    fronted = {
        "lb": {**HARD, "image": "x/haproxy:1", "ports": loopback},
        "app": {**HARD, "deploy": {**HARD["deploy"], "replicas": 3}},
    }
    assert rules_of(fronted) == []
    direct = {"app": {**HARD, "ports": loopback}}
    assert rules_of(direct) == [("single-replica", "medium", "app")]


def test_live_container_config_wins_over_the_file() -> None:
    # The file says non-root and read-only; the running container says otherwise.
    doc = {
        "Config": {"User": "", "Env": ["API_TOKEN=abc"], "Healthcheck": {"Test": ["NONE"]}},
        "HostConfig": {
            "Privileged": False,
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            "ReadonlyRootfs": False,
            "RestartPolicy": {"Name": "always"},
            "Memory": 1 << 27,
            "NanoCpus": 500_000_000,
            "PidsLimit": 64,
            "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
        },
        "Mounts": [{"Source": "/run/docker.sock", "Destination": "/var/run/docker.sock"}],
        "NetworkSettings": {"Networks": {"p_default": {}}},
    }
    got = rules_of({"s": dict(HARD)}, live={"s": [doc, doc]}, project="p")
    assert got == [
        ("docker-socket", "critical", "s"),
        ("port-all-interfaces", "high", "s"),
        ("root-user", "high", "s"),
        ("secret-in-environment", "high", "s"),
        ("no-healthcheck", "medium", "s"),
        ("writable-root-fs", "medium", "s"),
    ]


@pytest.mark.parametrize(
    ("user", "root"),
    [
        (None, True),
        ("", True),
        ("root", True),
        ("0", True),
        ("0:1000", True),
        ("app", False),
        ("1000:0", False),
    ],
)
def test_is_root(user: str | None, root: bool) -> None:
    assert is_root(user) is root


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("POSTGRES_PASSWORD", "x", True),
        ("api_key", "x", True),
        ("GITHUB_TOKEN", "x", True),
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/pw", False),
        ("DB_PASSWORD", "", False),
        ("DB_PASSWORD", None, False),
        ("REDIS_HOST", "redis", False),
    ],
)
def test_is_secret_env(name: str, value: object, secret: bool) -> None:
    assert is_secret_env(name, value) is secret


def test_every_issue_rule_is_in_the_catalogue() -> None:
    wanted = {
        "root-user", "privileged", "cap-add", "docker-socket", "host-namespace",
        "port-all-interfaces", "no-healthcheck", "no-restart-policy", "no-resource-limits",
        "secret-in-environment", "writable-root-fs", "no-new-privileges", "shared-network",
        "single-replica",
    }  # fmt: skip
    assert wanted <= set(RULES)
