"""proxied: the proxy's scripts written out by hand, its revert run with sh against a real
process, the argv builders, and ProxyFault.scripts against a fake project."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.blackhole import Blackhole, BlackholeFault
from harness.faults.http_error import HttpErrorFault
from harness.faults.proxied import match_argv, peer_ips, proxy_args, proxy_scripts, seconds
from harness.scenario.models import PeerPort
from harness.scenario.plan import PlannedFault

N = "HACHAOS-Pab12"
F = "/tmp/hachaos-proxy-ab12"
CMD = (
    "python3 /opt/hachaos/faultproxy.py --mode blackhole --seed 7 --uid 1234567"
    f" --deadline 45 --port-file {F}.port"
)
START = [
    f"rm -f {F}.port",
    f"{CMD} >{F}.log 2>&1 &",
    f"echo $! >{F}.pid",
    f"i=0; while [ ! -s {F}.port ]; do i=$((i+1)); "
    f'if [ $i -gt 200 ] || ! kill -0 "$(cat {F}.pid)"; then cat {F}.log; exit 1; fi; '
    "sleep 0.05; done",
    f"P=$(cat {F}.port)",
    'case "$P" in ""|*[!0-9]*) echo "bad proxy port"; exit 1;; esac',
    f"iptables -w -t nat -N {N}",
    f"iptables -w -t nat -A {N} -m owner --uid-owner 1234567 -j RETURN",
    f"iptables -w -t nat -A {N} -d 127.0.0.0/8 -j RETURN",
]
HOOKS = [f"iptables -w -t nat -I OUTPUT 1 -p tcp -j {N}", f"iptables -w -I OUTPUT 1 -p tcp -j {N}"]
RST = "-m conntrack --ctdir ORIGINAL -j REJECT --reject-with tcp-reset"


def test_proxy_scripts_towards_two_peer_replicas_on_one_port() -> None:
    s = proxy_scripts(
        "ab12", ["--mode", "blackhole", "--seed", "7"], ["10.0.0.5", "10.0.0.6"], 6379, 40.0
    )
    assert s["apply"].splitlines() == [
        *START,
        f'iptables -w -t nat -A {N} -p tcp -d 10.0.0.5 --dport 6379 -j REDIRECT --to-ports "$P"',
        f'iptables -w -t nat -A {N} -p tcp -d 10.0.0.6 --dport 6379 -j REDIRECT --to-ports "$P"',
        f"iptables -w -N {N}",
        f"iptables -w -A {N} -m owner --uid-owner 1234567 -j RETURN",
        f"iptables -w -A {N} -d 127.0.0.0/8 -j RETURN",
        f"iptables -w -A {N} -p tcp -d 10.0.0.5 --dport 6379 {RST}",
        f"iptables -w -A {N} -p tcp -d 10.0.0.6 --dport 6379 {RST}",
        "ss -K -t state established dst 10.0.0.5 dport = :6379 >/dev/null 2>&1 || true",
        "ss -K -t state established dst 10.0.0.6 dport = :6379 >/dev/null 2>&1 || true",
        *HOOKS,
    ]
    assert s["revert"].splitlines() == [
        f"iptables -w -t nat -D OUTPUT -p tcp -j {N} 2>/dev/null",
        f"iptables -w -D OUTPUT -p tcp -j {N} 2>/dev/null",
        f"iptables -w -t nat -F {N} 2>/dev/null; iptables -w -t nat -X {N} 2>/dev/null",
        f"iptables -w -F {N} 2>/dev/null; iptables -w -X {N} 2>/dev/null",
        f'if [ -s {F}.pid ]; then pid=$(cat {F}.pid); kill "$pid" 2>/dev/null; '
        'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done; '
        f'kill -9 "$pid" 2>/dev/null; rm -f {F}.pid; fi',
        "true",
    ]
    assert s["present"] == (
        f"iptables -w -t nat -C OUTPUT -p tcp -j {N} && iptables -w -C OUTPUT -p tcp -j {N}"
        f' && kill -0 "$(cat {F}.pid)"'
    )
    assert s["absent"] == (
        f"! iptables-save | grep -q -- {N} && ! pgrep -u 1234567 -f -- {F}.port >/dev/null"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="starts a process as the proxy's uid")
def test_the_absent_check_sees_only_its_own_replicas_proxy(tmp_path: Path) -> None:
    """A helper with the host's pids (Kubernetes: hostPID) sees every proxy of the host:
    replica 2's proxy still running must not make replica 1's revert look undone."""
    tag = secrets.token_hex(6)
    stub = tmp_path / "iptables-save"
    stub.write_text("#!/bin/sh\nexit 0\n")  # no chain left
    stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}

    def proxy(replica: int) -> subprocess.Popen[bytes]:
        port_file = f"/tmp/hachaos-proxy-{tag}-{replica}.port"
        return subprocess.Popen(
            ["sh", "-c", "sleep 30", "proxy", "--port-file", port_file], user=1234567
        )

    def absent(replica: int) -> bool:
        script = proxy_scripts(tag, [], None, None, 1.0, replica)["absent"]
        return subprocess.run(["sh", "-c", script], env=env, check=False).returncode == 0

    other = proxy(2)  # Popen returns once the child has exec'd: its argv is visible
    try:
        assert absent(1) and not absent(2)
        mine = proxy(1)
        try:
            assert not absent(1)
        finally:
            mine.kill()
            mine.wait(timeout=10)
        assert absent(1)
    finally:
        other.kill()
        other.wait(timeout=10)


def test_proxy_scripts_for_all_egress_tcp() -> None:
    s = proxy_scripts("ab12", ["--mode", "blackhole", "--seed", "7"], None, None, 40.4)
    assert s["apply"].splitlines() == [
        *START,
        f'iptables -w -t nat -A {N} -p tcp -j REDIRECT --to-ports "$P"',
        f"iptables -w -N {N}",
        f"iptables -w -A {N} -m owner --uid-owner 1234567 -j RETURN",
        f"iptables -w -A {N} -d 127.0.0.0/8 -j RETURN",
        f"iptables -w -A {N} -p tcp {RST}",
        *HOOKS,
    ]


def test_proxy_scripts_to_a_peer_without_a_port_kill_no_connection() -> None:
    s = proxy_scripts("ab12", ["--mode", "blackhole", "--seed", "7"], ["10.0.0.5"], None, 40.0)
    lines = s["apply"].splitlines()
    assert f'iptables -w -t nat -A {N} -p tcp -d 10.0.0.5 -j REDIRECT --to-ports "$P"' in lines
    assert not any(x.startswith("ss ") for x in lines)


@pytest.mark.parametrize("ip", ["10.0.0.256", "10.0.0", "10.0.0.5.1", "a.b.c.d", "::1"])
def test_proxy_scripts_refuse_anything_but_ipv4(ip: str) -> None:
    with pytest.raises(FaultError) as err:
        proxy_scripts("ab12", [], [ip], 80, 1.0)
    assert err.value.message == f"unexpected peer address {ip!r} (only IPv4 is supported)"


def test_proxy_scripts_accept_the_highest_ipv4() -> None:
    assert "-d 255.255.255.255 " in proxy_scripts("ab12", [], ["255.255.255.255"], 80, 1.0)["apply"]


def test_proxy_revert_stops_the_proxy_and_forgets_its_pid(tmp_path: Path) -> None:
    tag = secrets.token_hex(6)  # the files live in /tmp: never collide
    s = proxy_scripts(tag, [], None, None, 1.0)
    stub = tmp_path / "iptables"
    stub.write_text("#!/bin/sh\nexit 1\n")  # nothing to remove: not an error
    stub.chmod(0o755)
    proxy = subprocess.Popen(["sleep", "30"])
    pidfile = Path(f"/tmp/hachaos-proxy-{tag}.pid")
    try:
        pidfile.write_text(f"{proxy.pid}\n")
        env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
        out = subprocess.run(["sh", "-c", s["revert"]], env=env, timeout=20, check=False)
        assert out.returncode == 0
        assert proxy.wait(timeout=10) == -signal.SIGTERM
        assert not pidfile.exists()
    finally:
        proxy.kill()
        proxy.wait(timeout=10)
        pidfile.unlink(missing_ok=True)


def test_argv_builders() -> None:
    assert seconds(0.1) == "0.100000"
    assert seconds(12.3456789) == "12.345679"
    assert proxy_args("slow") == ["--mode", "slow"]
    assert proxy_args("latency", ("--delay", "0.1"), ("--jitter", "0")) == [
        "--mode",
        "latency",
        "--delay",
        "0.1",
        "--jitter",
        "0",
    ]
    body = {"type": "http-error", "target": {"service": "app"}, "at": 0, "for": 5}
    spec = HttpErrorFault.model_validate({**body, "percent": 0.25})
    assert match_argv(spec) == ["--fraction", "0.250000", "--path-prefix", "/"]
    spec = HttpErrorFault.model_validate({**body, "method": "POST", "path_prefix": "/api"})
    assert match_argv(spec) == [
        "--fraction",
        "1.000000",
        "--path-prefix",
        "/api",
        "--method",
        "POST",
    ]


# ------------------------------------------------------------------ ProxyFault.scripts
class Project:
    def addresses(self, container_id: str) -> dict[str, str]:
        return {
            "me": {"back": "10.1.0.2", "front": "10.0.0.2"},
            "r1": {"back": "10.1.0.5", "other": "10.9.0.5"},
            "r2": {"back": "10.1.0.6"},
            "w2": {"back": "10.1.0.7"},
        }.get(container_id) or _gone(container_id)

    def project_targets(self, project: str) -> list[Target]:
        assert project == "proj"
        return [
            Target("me", "web-1", "web", 1),
            Target("w2", "web-2", "web", 2),
            Target("r1", "redis-1", "redis", 1),
            Target("r2", "redis-2", "redis", 2),
            Target("r3", "redis-3", "redis", 3),
        ]


def _gone(container_id: str) -> dict[str, str]:
    raise TargetNotFound(f"{container_id} is gone")


ME = Target("me", "web-1", "web", 1)


def _ctx() -> FaultContext:
    return FaultContext(project="proj", run_id="r", margin=5.0, containers=Project())  # type: ignore[arg-type]


def test_peer_ips_by_service_and_replica() -> None:
    ctx = _ctx()
    assert peer_ips(ctx, ME, PeerPort(service="redis", port=6379)) == ["10.1.0.5", "10.1.0.6"]
    assert peer_ips(ctx, ME, PeerPort(service="redis", port=6379, index=2)) == ["10.1.0.6"]
    # the target's own replica is never its peer; other replicas of its service can be
    assert peer_ips(ctx, ME, PeerPort(service="web", port=80)) == ["10.1.0.7"]


def _step(
    to: dict[str, Any] | None, index: int = 2, occurrence: int = 3, end: float | None = 12.5
) -> PlannedFault:
    body: dict[str, Any] = {"type": "blackhole", "target": {"service": "web"}, "at": 0, "for": 10}
    if to is not None:
        body["to"] = to
    spec = BlackholeFault.model_validate(body)
    return PlannedFault(index, occurrence, "bh", "blackhole", spec, "web", (1,), 2.5, end)


def test_proxy_fault_scripts_towards_a_peer() -> None:
    s = Blackhole.scripts(_step({"service": "redis", "port": 6379}), ME, "ab12", _ctx())
    # seed: fault 2 * 1 000 003 + occurrence 3 * 1009 + replica 1; deadline 10 s + 5 s margin
    argv = ["--mode", "blackhole", "--seed", str(2 * 1_000_003 + 3 * 1009 + 1)]
    assert s == proxy_scripts("ab12", argv, ["10.1.0.5", "10.1.0.6"], 6379, 15.0, 1)


def test_proxy_fault_scripts_for_all_egress_and_an_instant_window() -> None:
    s = Blackhole.scripts(_step(None, index=0, occurrence=0, end=None), ME, "ab12", _ctx())
    assert s == proxy_scripts("ab12", ["--mode", "blackhole", "--seed", "1"], None, None, 5.0, 1)


@pytest.mark.parametrize(
    ("to", "which"),
    [
        ({"service": "cache", "port": 1}, "cache"),
        ({"service": "redis", "port": 1, "index": 3}, "redis replica 3"),
    ],
)
def test_proxy_fault_scripts_refuse_a_peer_out_of_reach(to: dict[str, Any], which: str) -> None:
    with pytest.raises(FaultError) as err:
        Blackhole.scripts(_step(to), ME, "ab12", _ctx())
    assert err.value.message == f"blackhole: web-1 shares no network with {which} in project proj"
    assert err.value.hint == "check `to`: a service of the same compose project (and replica index)"


def test_proxy_fault_state_records_the_proxy_mechanism() -> None:
    assert Blackhole.extra_state(_step(None), [ME], _ctx()) == {"mechanism": "proxy"}
    assert Blackhole.mechanism(_step(None), _ctx()) == "proxy"
