"""The fault proxy on the real engine: measured effect against the configured value.

A client runs in the target's network namespace (a throwaway container with
``--network container:<web-1>``, as root, so it is redirected like the app) and
measures from the outside what the proxy does. Rules and processes are read
back independently of harness code.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from conftest import Stack, container, sdk
from faultkit import events, planned, runner

from harness.engine import helpers

pytestmark = pytest.mark.docker

# One client: `times HOST PORT PATH N [TIMEOUT]`, `download HOST PORT PATH`, `reset HOST PORT`.
CLIENT = r"""
import http.client, json, socket, subprocess, sys, time
mode = sys.argv[1]
def get(host, port, path, timeout=10):
    t = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse(); body = r.read()
        return r.status, time.perf_counter() - t, len(body)
    except OSError as e:
        return type(e).__name__, time.perf_counter() - t, 0
    finally:
        c.close()
if mode == "times":
    host, port, path, n = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 10
    out = [get(host, port, path, timeout)[:2] for _ in range(n)]
    print(json.dumps(out))
elif mode == "download":
    status, took, size = get(sys.argv[2], int(sys.argv[3]), sys.argv[4], timeout=30)
    print(json.dumps([status, took, size]))
elif mode == "reset":
    # Connect before the fault, wait until its nat chain exists, then use the old socket.
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
    for _ in range(300):
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        if rules.count("-A OUTPUT -p tcp -j HACHAOS-P") == 2:  # nat and filter jumps: applied
            break
        time.sleep(0.1)
    else:
        print(json.dumps("no fault")); sys.exit()
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(100)
        outcome = "answered" if data else "eof"
    except OSError as e:
        outcome = type(e).__name__
    print(json.dumps([outcome, get(sys.argv[2], int(sys.argv[3]), "/")[0]]))
"""


def _client(stack: Stack, *args: str, detach: bool = False) -> Any:
    """Run the client in web-1's netns; returns its JSON output (or the container)."""
    web = container(stack.project, "web", 1)
    c = sdk().containers.run(
        helpers.HELPER_IMAGE,
        ["python3", "-c", CLIENT, *args],
        network_mode=f"container:{web.id}",
        cap_add=["NET_ADMIN"],  # only to read the rules (reset mode)
        detach=True,
    )
    if detach:
        return c
    return _result(c)


def _result(c: Any) -> Any:
    try:
        c.wait(timeout=120)
        return json.loads(c.logs(stdout=True, stderr=False).decode().strip().splitlines()[-1])
    finally:
        c.remove(force=True)


def _peer_ip(stack: Stack) -> str:
    nets = container(stack.project, "peer", 1).attrs["NetworkSettings"]["Networks"]
    return str(next(iter(nets.values()))["IPAddress"])


def _median(samples: list[list[Any]]) -> float:
    return statistics.median(t for _, t in samples)


def _netns_state(stack: Stack) -> tuple[str, str]:
    """(iptables-save, listening TCP sockets) of web-1's netns, read by a plain container."""
    web = container(stack.project, "web", 1)
    c = sdk().containers.run(
        helpers.HELPER_IMAGE,
        ["sh", "-c", "iptables-save; echo ====; ss -Hltn"],
        network_mode=f"container:{web.id}",
        cap_add=["NET_ADMIN"],
        detach=True,
    )
    try:
        c.wait(timeout=30)
        rules, _, listening = c.logs().decode().partition("====")
        return rules, listening
    finally:
        c.remove(force=True)


TO_PEER = {"to": {"service": "peer", "port": 8080}}


@pytest.mark.parametrize(("direction", "want"), [("egress", 0.2), ("both", 0.4)])
def test_latency_200ms_median_within_10_percent(
    stack: Stack, tmp_path: Path, direction: str, want: float
) -> None:
    ip = _peer_ip(stack)
    base = _median(_client(stack, "times", ip, "8080", "/", "25"))
    r = runner(stack.project, tmp_path)
    step = planned("latency", "web", (1,), delay="200ms", direction=direction, **TO_PEER)
    r.preflight([step])
    r.apply(step, planned_wall=0.0)
    try:
        samples = _client(stack, "times", ip, "8080", "/", "25")
    finally:
        r.revert(step)
    assert all(status == 200 for status, _ in samples)
    added = _median(samples) - base
    print(
        f"latency 200ms {direction}: base p50 {base * 1e3:.2f} ms, added p50 {added * 1e3:.1f} ms"
    )
    assert want * 0.9 <= added <= want * 1.1
    assert events(tmp_path, "fault.preflight")[0]["mechanism"] == "proxy"
    assert events(tmp_path, "fault.apply")[0]["mechanism"] == "proxy"
    after = _median(_client(stack, "times", ip, "8080", "/", "10"))
    assert after < base + 0.02  # reverted: no delay left


def test_http_error_30_percent_over_2000_requests(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    step = planned("http-error", "web", (1,), percent="30%", status=503, **TO_PEER)
    r.apply(step, planned_wall=0.0)
    try:
        samples = _client(stack, "times", _peer_ip(stack), "8080", "/", "2000")
    finally:
        r.revert(step)
    codes = [status for status, _ in samples]
    errors = codes.count(503) / len(codes)
    print(f"http-error 30%: {errors:.2%} of {len(codes)} answered 503")
    assert set(codes) == {200, 503}
    assert 0.27 <= errors <= 0.33


def test_proxy_adds_under_1ms_to_p50_when_forwarding(stack: Stack, tmp_path: Path) -> None:
    ip = _peer_ip(stack)
    r = runner(stack.project, tmp_path)
    # Nothing matches the path: every request is parsed and forwarded untouched.
    step = planned("http-error", "web", (1,), path_prefix="/never", **TO_PEER)
    direct, proxied = [], []
    for _ in range(2):  # alternate to share the machine's noise
        direct += _client(stack, "times", ip, "8080", "/", "150")
        r.apply(step, planned_wall=0.0)
        try:
            proxied += _client(stack, "times", ip, "8080", "/", "150")
        finally:
            r.revert(step)
    assert all(status == 200 for status, _ in direct + proxied)
    overhead = _median(proxied) - _median(direct)
    print(
        f"proxy overhead: p50 direct {_median(direct) * 1000:.3f} ms, "
        f"proxied {_median(proxied) * 1000:.3f} ms, added {overhead * 1000:.3f} ms"
    )
    assert overhead < 0.001


def test_nothing_of_the_proxy_is_left_after_revert(stack: Stack, tmp_path: Path) -> None:
    rules_before, listening_before = _netns_state(stack)
    r = runner(stack.project, tmp_path)
    step = planned("blackhole", "web", (1,), **TO_PEER)
    r.apply(step, planned_wall=0.0)
    rules, listening = _netns_state(stack)
    assert "HACHAOS-P" in rules and "REDIRECT" in rules and "tcp-reset" in rules
    assert len(listening.splitlines()) == len(listening_before.splitlines()) + 1
    # Blackhole: the connect succeeds, the answer never comes.
    status, took = _client(stack, "times", _peer_ip(stack), "8080", "/", "1", "2")[0]
    assert status == "TimeoutError" and took >= 1.9
    r.revert(step)
    rules, listening = _netns_state(stack)
    assert "HACHAOS" not in rules
    assert rules.count("-A ") == rules_before.count("-A ")
    assert listening.split() == listening_before.split()
    running = [h for h in helpers.list_helpers(project=stack.project) if h["state"] == "running"]
    assert running == []
    assert _client(stack, "times", _peer_ip(stack), "8080", "/", "1")[0][0] == 200


def test_open_connections_are_reset_at_fault_start(stack: Stack, tmp_path: Path) -> None:
    client = _client(stack, "reset", _peer_ip(stack), "8080", detach=True)
    r = runner(stack.project, tmp_path)
    step = planned("http-error", "web", (1,), percent="100%", status=503, **TO_PEER)
    r.apply(step, planned_wall=0.0)
    try:
        old, new = _result(client)
    finally:
        r.revert(step)
    # The pre-fault connection cannot dodge the fault: aborted while idle (`ss -K`),
    # or reset on its next packet (REJECT) where the kernel cannot destroy sockets.
    assert old in ("ConnectionAbortedError", "ConnectionResetError")
    assert new == 503  # a new connection goes through the proxy


def test_slow_caps_each_connection(stack: Stack, tmp_path: Path) -> None:
    peer = container(stack.project, "peer", 1)
    assert peer.exec_run(["sh", "-c", "head -c 200000 /dev/zero > /www/big"]).exit_code == 0
    r = runner(stack.project, tmp_path)
    step = planned("slow", "web", (1,), rate="800kbit", direction="ingress", **TO_PEER)
    r.apply(step, planned_wall=0.0)
    try:
        status, took, size = _client(stack, "download", _peer_ip(stack), "8080", "/big")
    finally:
        r.revert(step)
    rate = size / took
    print(f"slow 800kbit (100000 B/s): measured {rate:.0f} B/s over {size} B")
    assert status == 200 and size == 200000
    assert 85_000 <= rate <= 105_000


def test_http_delay_hits_only_matching_paths(stack: Stack, tmp_path: Path) -> None:
    ip = _peer_ip(stack)
    base = _median(_client(stack, "times", ip, "8080", "/", "10"))
    r = runner(stack.project, tmp_path)
    step = planned(
        "http-delay", "web", (1,), delay="300ms", on="response", path_prefix="/index", **TO_PEER
    )
    r.apply(step, planned_wall=0.0)
    try:
        hit = _median(_client(stack, "times", ip, "8080", "/index.html", "10"))
        miss = _median(_client(stack, "times", ip, "8080", "/", "10"))
    finally:
        r.revert(step)
    print(
        f"http-delay 300ms: matching +{(hit - base) * 1e3:.1f} ms, other +{(miss - base) * 1e3:.1f}"
    )
    assert 0.27 <= hit - base <= 0.33
    assert miss - base < 0.02
