"""The fault proxy's pieces and the shell it is started from, on tiny hand-made inputs."""

from __future__ import annotations

import asyncio
import random
import shlex
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.errors import FaultError
from harness.faults.catalog import FaultSpec
from harness.faults.latency import LatencyFault, choose_mechanism
from harness.faults.proxied import PROXY_UID, proxy_scripts
from harness.faults.proxy import faultproxy as fp

_ADAPTER: TypeAdapter[Any] = TypeAdapter(FaultSpec)


def fault(**body: Any) -> Any:
    return _ADAPTER.validate_python({"target": {"service": "app"}, "at": 0, "for": 5, **body})


# ---------------------------------------------------------------- HTTP parsing
def test_parse_head_splits_start_line_and_joins_repeated_headers() -> None:
    head = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: a\r\naccept:  b \r\n\r\n"
    start, headers = fp.parse_head(head)
    assert start == ["GET", "/a?b=1", "HTTP/1.1"]
    assert headers == {"host": "x", "accept": "a,b"}


def test_parse_head_refuses_a_header_without_colon() -> None:
    with pytest.raises(fp.ProtocolError):
        fp.parse_head(b"GET / HTTP/1.1\r\nbroken\r\n\r\n")


@pytest.mark.parametrize(
    ("headers", "want"),
    [
        ({"transfer-encoding": "gzip, chunked"}, ("chunked", 0)),
        ({"content-length": "12"}, ("length", 12)),
        ({}, ("none", 0)),
    ],
)
def test_body_kind(headers: dict[str, str], want: tuple[str, int]) -> None:
    assert fp.body_kind(headers) == want


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_body_kind_refuses_bad_lengths(value: str) -> None:
    with pytest.raises(fp.ProtocolError):
        fp.body_kind({"content-length": value})


@pytest.mark.parametrize(
    ("version", "connection", "close"),
    [
        ("HTTP/1.1", "", False),
        ("HTTP/1.1", "close", True),
        ("HTTP/1.0", "", True),
        ("HTTP/1.0", "Keep-Alive", False),
    ],
)
def test_wants_close(version: str, connection: str, close: bool) -> None:
    assert fp.wants_close(version, {"connection": connection}) is close


def test_error_response_is_a_complete_http_message() -> None:
    body = b"hachaos fault proxy: injected 503\n"
    assert fp.error_response(503, close=False) == (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 34\r\nX-Hachaos-Fault: http-error\r\n"
        b"Connection: keep-alive\r\n\r\n" + body
    )
    assert len(body) == 34


def test_copy_body_stops_exactly_at_the_end_of_a_chunked_body() -> None:
    async def run() -> tuple[bytes, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nT: 1\r\n\r\nNEXT")
        reader.feed_eof()
        sink = _Sink()
        await fp.copy_body(reader, sink, "chunked", 0)  # type: ignore[arg-type]
        return sink.data, await reader.read()

    copied, rest = asyncio.run(run())
    assert copied == b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nT: 1\r\n\r\n"
    assert rest == b"NEXT"


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None


def test_matches_method_and_path_prefix() -> None:
    proxy = fp.Proxy(fp.parse_args(["--method", "post", "--path-prefix", "/items"]))
    assert proxy.matches("POST", "/items/7")
    assert not proxy.matches("GET", "/items/7")
    assert not proxy.matches("POST", "/")
    assert proxy.matches("POST", "http://host:80/items")  # absolute form


# ---------------------------------------------------------------- shaping
def test_delayer_adds_the_delay_and_keeps_order() -> None:
    d = fp.Delayer(0.2, 0.0, random.Random(0))
    assert d.due(10.0, 0.0) == pytest.approx(10.2)
    assert d.due(10.0, 10.5) == 10.5  # never before the previous chunk


def test_bucket_spaces_writes_by_size_over_rate() -> None:
    b = fp.Bucket(1000.0)  # bytes/s
    assert b.reserve(500, now=0.0) == 0.0
    assert b.reserve(500, now=0.0) == pytest.approx(0.5)
    assert b.reserve(100, now=0.2) == pytest.approx(0.8)  # queued behind the first 1000 B
    assert b.reserve(100, now=5.0) == 0.0  # idle time is not saved up


@pytest.mark.parametrize(
    "argv",
    [
        ["--fraction", "1.5"],
        ["--delay", "-1"],
        ["--status", "99"],
        ["--mode", "nope"],
        ["--method", "X" * 40],
        ["--listen", "nohostport"],
    ],
)
def test_parse_args_refuses_out_of_bounds_values(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        fp.parse_args(argv)


# ---------------------------------------------------------------- shell
def test_proxy_scripts_redirect_and_reset_only_the_peers() -> None:
    s = proxy_scripts("ab12cd34", ["--mode", "blackhole"], ["10.0.0.5"], 6379, 40.0)
    chain = "HACHAOS-Pab12cd34"
    assert (
        f'iptables -w -t nat -A {chain} -p tcp -d 10.0.0.5 --dport 6379 -j REDIRECT --to-ports "$P"'
        in s["apply"]
    )
    assert f"-A {chain} -m owner --uid-owner {PROXY_UID} -j RETURN" in s["apply"]
    assert "--ctdir ORIGINAL -j REJECT --reject-with tcp-reset" in s["apply"]
    assert "--deadline 45" in s["apply"]
    assert f"iptables -w -t nat -X {chain}" in s["revert"]
    assert f"grep -q -- {chain}" in s["absent"]


def test_proxy_scripts_quote_every_argument() -> None:
    nasty = "/a';touch /x;'$(id)"
    s = proxy_scripts("ab12cd34", ["--path-prefix", nasty], None, None, 10.0)
    line = next(x for x in s["apply"].splitlines() if "faultproxy.py" in x)
    argv = shlex.split(line.split(">", 1)[0])
    assert argv[argv.index("--path-prefix") + 1] == nasty


def test_proxy_scripts_refuse_a_non_ipv4_peer() -> None:
    with pytest.raises(FaultError):
        proxy_scripts("ab12cd34", [], ["10.0.0.5; reboot"], 80, 10.0)


# ---------------------------------------------------------------- latency mechanism
@pytest.mark.parametrize(
    ("extra", "netem", "want"),
    [
        ({}, True, "netem"),
        ({}, False, "proxy"),
        ({"direction": "ingress"}, True, "proxy"),
        ({"to": {"service": "redis", "port": 6379}}, True, "proxy"),
        ({"mechanism": "proxy"}, True, "proxy"),
        ({"mechanism": "netem"}, True, "netem"),
    ],
)
def test_choose_mechanism(extra: dict[str, Any], netem: bool, want: str) -> None:
    spec = fault(type="latency", delay="100ms", **extra)
    assert isinstance(spec, LatencyFault)
    assert choose_mechanism(spec, netem) == want


def test_netem_required_but_missing_is_refused() -> None:
    spec = fault(type="latency", delay="100ms", mechanism="netem")
    with pytest.raises(FaultError, match="sch_netem"):
        choose_mechanism(spec, netem=False)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "latency", "delay": "1s", "mechanism": "netem", "direction": "both"},
        {"type": "latency", "delay": "2m"},
        {"type": "slow", "rate": "fast"},
        {"type": "http-error", "status": 200},
        {"type": "http-error", "path_prefix": "/a b"},
        {"type": "http-error", "method": "get"},
        {"type": "blackhole", "to": {"service": "redis", "port": 0}},
        {"type": "blackhole", "to": {"service": "re dis", "port": 1}},
    ],
)
def test_invalid_proxied_faults_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        fault(**body)


# ---------------------------------------------------------------- stop (revert)
def test_stop_finishes_the_exchange_in_flight_then_closes_with_fin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On revert a pooled client loses no request: answer first, then a clean EOF.

    Events order the steps: the upstream holds its answer until the stop has begun
    (the idle connection got its EOF), so no sleep races another on a loaded machine.
    """
    monkeypatch.setattr(fp, "DRAIN", 600.0)  # only the events decide; the test's timeout bounds it

    async def run() -> tuple[bytes, bytes, bytes, bytes, int]:
        got_slow, answer_now = asyncio.Event(), asyncio.Event()

        async def upstream(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while data := await r.read(100):
                if data == b"slow":
                    got_slow.set()
                    await answer_now.wait()
                w.write(data.upper())
                await w.drain()
            w.close()

        up = await asyncio.start_server(upstream, "127.0.0.1", 0)
        port = up.sockets[0].getsockname()[1]
        proxy = fp.Proxy(fp.parse_args(["--upstream", f"127.0.0.1:{port}"]))
        front = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        fport = front.sockets[0].getsockname()[1]
        idle_r, idle_w = await asyncio.open_connection("127.0.0.1", fport)
        busy_r, busy_w = await asyncio.open_connection("127.0.0.1", fport)
        idle_w.write(b"ping")
        pong = await idle_r.read(100)
        busy_w.write(b"slow")
        await got_slow.wait()  # in flight: the proxy passed it on, no answer yet
        front.close()
        stopping = asyncio.create_task(proxy.drain())
        idle_eof = await idle_r.read(100)  # the stop began and closed the idle connection
        still_open = len(proxy.active)
        answer_now.set()
        answer = await busy_r.read(100)
        busy_eof = await busy_r.read(100)
        await stopping
        for w in (idle_w, busy_w):
            w.close()
        up.close()
        await up.wait_closed()
        return pong, idle_eof, answer, busy_eof, still_open

    pong, idle_eof, answer, busy_eof, still_open = asyncio.run(asyncio.wait_for(run(), 60))
    assert (pong, idle_eof) == (b"PING", b"")
    assert still_open == 1  # the busy one waits for its answer
    assert (answer, busy_eof) == (b"SLOW", b"")  # a reset would raise instead


def test_proxy_exits_by_itself_at_its_deadline(capsys: pytest.CaptureFixture[str]) -> None:
    """Dead-man: without any signal the proxy stops after --deadline seconds."""
    args = fp.parse_args(["--deadline", "0.2", "--mode", "blackhole"])
    asyncio.run(asyncio.wait_for(fp.Proxy(args).serve(), timeout=10))
    out = capsys.readouterr().out
    assert out.startswith("LISTENING ") and "STATS " in out
