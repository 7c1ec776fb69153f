"""hachaos fault proxy: a transparent TCP/HTTP proxy that injects one fault.

Runs inside a helper container that shares the target's network namespace. An
iptables ``nat OUTPUT`` REDIRECT sends the target's new connections here; the
original destination comes from ``SO_ORIGINAL_DST`` and the proxy connects
there as its own uid, which the rules exempt. Pure stdlib (uvloop when
installed). It exits by itself after ``--deadline`` seconds (dead-man switch)
and closes every connection it holds when it exits.

Modes: forward (no fault), latency, slow, http-error, http-delay, blackhole.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

SO_ORIGINAL_DST = 80
MAX_HEAD = 64 * 1024  # request or response head
MAX_LINE = 8 * 1024  # chunk-size / trailer line
CHUNK = 64 * 1024
DIRECTIONS = ("egress", "ingress", "both")
REASONS = {
    400: "Bad Request",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

DRAIN = 3.0  # on stop: how long idle-closing may take before the rest is closed
IDLE = 0.1  # a connection with nothing in flight for this long is closed on stop


class Activity:
    """What a connection has in flight: closing it is safe when nothing is."""

    def __init__(self) -> None:
        self.busy = 0  # chunks read and not yet written, or an HTTP exchange under way
        self.last = time.monotonic()
        # The client spoke last: an answer may be on its way (request/response protocols).
        self.awaiting = False

    def start(self) -> None:
        self.busy += 1
        self.last = time.monotonic()

    def done(self, way: str = "") -> None:
        self.busy -= 1
        self.last = time.monotonic()
        if way:
            self.awaiting = way == "egress"

    def idle(self, now: float) -> bool:
        return self.busy <= 0 and not self.awaiting and now - self.last >= IDLE


class ProtocolError(Exception):
    """The stream is not the HTTP/1.x this proxy understands."""


@dataclass(frozen=True)
class Request:
    """A parsed request head, as a mode handler sees it."""

    version: str
    headers: dict[str, str]
    kind: str  # body framing: chunked | length | none
    length: int


# ---------------------------------------------------------------- arguments
def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {text}")
    return value


def _bounded(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside [{lo}, {hi}]")
        return value

    return parse


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, _port(port)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Every value is bounded here, so a bad argv fails before anything listens."""
    p = argparse.ArgumentParser(prog="faultproxy", description=__doc__)
    p.add_argument("--mode", choices=MODES, default="forward")
    p.add_argument("--listen", type=_hostport, default=("127.0.0.1", 0))
    p.add_argument("--port-file", help="write the listening port here once bound")
    p.add_argument("--upstream", type=_hostport, help="fixed destination (tests, benchmarks)")
    p.add_argument("--deadline", type=_bounded(0.1, 7 * 86400), default=3600.0)
    p.add_argument("--uid", type=int, help="drop to this uid/gid once listening")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-conns", type=int, choices=range(1, 65537), default=4096)
    p.add_argument("--direction", choices=DIRECTIONS, default="egress")
    p.add_argument("--delay", type=_bounded(0, 3600), default=0.0, help="seconds")
    p.add_argument("--jitter", type=_bounded(0, 3600), default=0.0, help="seconds (normal sd)")
    p.add_argument("--rate", type=_bounded(1, 1e12), default=1e12, help="bytes/s per direction")
    p.add_argument("--fraction", type=_bounded(0, 1), default=1.0)
    p.add_argument("--status", type=int, choices=range(100, 600), default=503)
    p.add_argument("--action", choices=("status", "reset"), default="status")
    p.add_argument("--method", default="", help="only requests with this method")
    p.add_argument("--path-prefix", default="", help="only requests whose path starts so")
    p.add_argument("--on", choices=("request", "response"), default="request")
    args = p.parse_args(argv)
    if len(args.method) > 32 or len(args.path_prefix) > 1024:
        p.error("--method or --path-prefix too long")
    return args


# ---------------------------------------------------------------- shaping
class Delayer:
    """Forward each chunk ``delay`` (+ normal jitter) after it arrived, keeping order."""

    def __init__(self, delay: float, jitter: float, rng: random.Random) -> None:
        self.delay, self.jitter, self.rng = delay, jitter, rng

    def due(self, arrived: float, previous: float) -> float:
        extra = self.delay
        if self.jitter:
            extra = max(0.0, self.rng.gauss(self.delay, self.jitter))
        return max(arrived + extra, previous)


class Bucket:
    """Per-connection, per-direction byte rate: sleep so bytes/rate never runs ahead."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.free_at = 0.0

    def reserve(self, n: int, now: float) -> float:
        """Seconds to wait before sending ``n`` bytes at ``now``."""
        start = max(self.free_at, now)
        self.free_at = start + n / self.rate
        return start - now

    async def take(self, n: int) -> None:
        wait = self.reserve(n, time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    act: Activity | None = None,
    way: str = "",
) -> None:
    """Copy until EOF, then half-close the other side."""
    act = act or Activity()
    while data := await reader.read(CHUNK):
        act.start()
        writer.write(data)
        await writer.drain()
        act.done(way)
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


async def _delayed_pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delayer: Delayer,
    act: Activity,
    way: str,
) -> None:
    """Reads keep going while earlier chunks wait, so delay does not cap throughput."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=256)

    async def read() -> None:
        last = 0.0
        while data := await reader.read(CHUNK):
            act.start()
            last = delayer.due(time.monotonic(), last)
            await queue.put((last, data))
        await queue.put((0.0, b""))

    task = asyncio.ensure_future(read())
    try:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
            act.done(way)
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()
    finally:
        task.cancel()


async def _slow_pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    bucket: Bucket,
    act: Activity,
    way: str,
) -> None:
    size = int(max(512, min(CHUNK, bucket.rate / 20)))  # ~50 ms of traffic per write
    while data := await reader.read(size):
        act.start()
        await bucket.take(len(data))
        writer.write(data)
        await writer.drain()
        act.done(way)
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


# ---------------------------------------------------------------- HTTP/1.x
async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """One message head up to and including the blank line; None on a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise ProtocolError("connection closed inside a message head") from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("message head too large") from exc
    return head


def parse_head(head: bytes) -> tuple[list[str], dict[str, str]]:
    """Start line split in three, and lower-cased headers (repeated ones joined by ',')."""
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0].split(" ", 2)
    if len(start) < 2:
        raise ProtocolError(f"bad start line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:80]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    return start, headers


def body_kind(headers: dict[str, str]) -> tuple[str, int]:
    """('chunked', 0), ('length', n) or ('none', 0) for a request."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked", 0
    if "content-length" in headers:
        try:
            n = int(headers["content-length"].split(",")[0])
        except ValueError as exc:
            raise ProtocolError("bad Content-Length") from exc
        if n < 0:
            raise ProtocolError("negative Content-Length")
        return "length", n
    return "none", 0


async def copy_body(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | None,
    kind: str,
    length: int,
) -> None:
    """Stream one message body (``writer`` None: discard it)."""

    def out(data: bytes) -> None:
        if writer is not None:
            writer.write(data)

    if kind == "length":
        left = length
        while left > 0:
            data = await reader.read(min(CHUNK, left))
            if not data:
                raise ProtocolError("connection closed inside a body")
            left -= len(data)
            out(data)
            if writer is not None:
                await writer.drain()
    elif kind == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            if len(line) > MAX_LINE:
                raise ProtocolError("chunk-size line too long")
            out(line)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise ProtocolError("bad chunk size") from exc
            if size == 0:
                while True:  # trailers up to the blank line
                    trailer = await reader.readuntil(b"\r\n")
                    out(trailer)
                    if trailer == b"\r\n":
                        break
                break
            await copy_body(reader, writer, "length", size + 2)  # data + CRLF
    elif kind == "close":
        while data := await reader.read(CHUNK):
            out(data)
            if writer is not None:
                await writer.drain()
    if writer is not None:
        await writer.drain()


def wants_close(version: str, headers: dict[str, str]) -> bool:
    conn = headers.get("connection", "").lower()
    if version.upper() == "HTTP/1.0":
        return "keep-alive" not in conn
    return "close" in conn


def error_response(status: int, close: bool) -> bytes:
    reason = REASONS.get(status, "Injected")
    body = f"hachaos fault proxy: injected {status}\n".encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nX-Hachaos-Fault: http-error\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode() + body


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashed server would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# ---------------------------------------------------------------- fault modes
class Leg(NamedTuple):
    """One direction of a connection: copied from ``r`` to ``w``."""

    r: asyncio.StreamReader
    w: asyncio.StreamWriter
    act: Activity
    way: str  # egress | ingress


class Mode:
    """How one fault mode serves a connection: ``forward``, the default, copies bytes."""

    upstream = True  # connects to the destination
    http = False  # serves HTTP/1.x exchanges (else copies bytes both ways)
    drains = True  # on stop, idle connections are closed gently (FIN) for a while

    def pipe(self, proxy: Proxy, leg: Leg) -> Awaitable[None]:
        """The copy of one faulted direction."""
        return _pipe(*leg)

    async def request(
        self, proxy: Proxy, cr: asyncio.StreamReader, cw: asyncio.StreamWriter, request: Request
    ) -> bool | None:
        """A faulted request: None forwards it; a bool answered it (True: keep the connection)."""
        return None

    def delays_response(self, proxy: Proxy) -> bool:
        """Whether a faulted request's response is held back by ``--delay``."""
        return False


class Latency(Mode):
    def pipe(self, proxy: Proxy, leg: Leg) -> Awaitable[None]:
        return _delayed_pipe(leg.r, leg.w, proxy.delayer, leg.act, leg.way)


class Slow(Mode):
    def pipe(self, proxy: Proxy, leg: Leg) -> Awaitable[None]:
        return _slow_pipe(leg.r, leg.w, Bucket(proxy.args.rate), leg.act, leg.way)


class HttpError(Mode):
    http = True

    async def request(
        self, proxy: Proxy, cr: asyncio.StreamReader, cw: asyncio.StreamWriter, request: Request
    ) -> bool | None:
        a = proxy.args
        if a.action == "reset":
            _reset(cw)
            return False
        await copy_body(cr, None, request.kind, request.length)
        close = wants_close(request.version, request.headers)
        cw.write(error_response(a.status, close))
        await cw.drain()
        return not close


class HttpDelay(Mode):
    http = True

    async def request(
        self, proxy: Proxy, cr: asyncio.StreamReader, cw: asyncio.StreamWriter, request: Request
    ) -> bool | None:
        if proxy.args.on == "request":
            await asyncio.sleep(proxy.args.delay)
        return None

    def delays_response(self, proxy: Proxy) -> bool:
        return bool(proxy.args.on == "response")


class Blackhole(Mode):
    upstream = False  # swallows what it is sent, never answers
    drains = False  # its connections are hung by design: closed at once


MODES: dict[str, Mode] = {
    "forward": Mode(),
    "latency": Latency(),
    "slow": Slow(),
    "http-error": HttpError(),
    "http-delay": HttpDelay(),
    "blackhole": Blackhole(),
}


# ---------------------------------------------------------------- the proxy
class Proxy:
    """One listening socket, one fault mode, shared seeded randomness and counters."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode = MODES[args.mode]
        self.rng = random.Random(args.seed)
        self.stats = {"connections": 0, "requests": 0, "injected": 0, "refused": 0}
        self.active: dict[asyncio.Task[None], Activity] = {}
        self.delayer = Delayer(args.delay, args.jitter, self.rng)
        self.faulting = True  # False while draining: connections pass untouched

    def destination(self, writer: asyncio.StreamWriter) -> tuple[str, int] | None:
        if self.args.upstream:
            host, port = self.args.upstream
            return str(host), int(port)
        sock = writer.get_extra_info("socket")
        try:
            raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        except OSError:
            return None
        port, packed = struct.unpack_from("!2xH4s", raw)
        host = socket.inet_ntoa(packed)
        if (host, port) == writer.get_extra_info("sockname")[:2]:
            return None  # not redirected: connecting would loop back here
        return host, port

    async def handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self.active) >= self.args.max_conns:
            self.stats["refused"] += 1
            cw.transport.abort()
            return
        act = self.active[task] = Activity()
        self.stats["connections"] += 1
        uw: asyncio.StreamWriter | None = None
        _nodelay(cw)  # a head and its body leave in two writes: no Nagle stall between them
        try:
            if not self.mode.upstream:
                await copy_body(cr, None, "close", 0)  # swallow, never answer
                return
            dest = self.destination(cw)
            if dest is None:
                return
            ur, uw = await asyncio.open_connection(*dest, limit=MAX_HEAD)
            _nodelay(uw)
            if self.mode.http:
                await self.http(cr, cw, ur, uw, act)
            else:
                await asyncio.gather(
                    self.stream(cr, uw, "egress", act), self.stream(ur, cw, "ingress", act)
                )
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError):
            pass
        except asyncio.CancelledError:
            pass  # shutdown: the connection simply ends (asyncio would log a cancelled handler)
        finally:
            self.active.pop(task, None)
            for w in (cw, uw):
                if w is not None:
                    w.close()

    def stream(
        self, r: asyncio.StreamReader, w: asyncio.StreamWriter, way: str, act: Activity
    ) -> Awaitable[None]:
        if self.args.direction in (way, "both"):
            return self.mode.pipe(self, Leg(r, w, act, way))
        return _pipe(r, w, act, way)

    def matches(self, method: str, target: str) -> bool:
        a = self.args
        if a.method and method.upper() != a.method.upper():
            return False
        path = target
        if "://" in path:  # absolute form: keep only the path
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path.startswith(a.path_prefix)

    async def http(
        self,
        cr: asyncio.StreamReader,
        cw: asyncio.StreamWriter,
        ur: asyncio.StreamReader,
        uw: asyncio.StreamWriter,
        act: Activity,
    ) -> None:
        """Serial request/response loop; anything not HTTP/1.x falls back to raw copying."""
        while True:
            head = await read_head(cr)
            if head is None:
                return
            act.start()
            if not await self.exchange(head, cr, cw, ur, uw, act):
                return
            act.done()

    async def exchange(
        self,
        head: bytes,
        cr: asyncio.StreamReader,
        cw: asyncio.StreamWriter,
        ur: asyncio.StreamReader,
        uw: asyncio.StreamWriter,
        act: Activity,
    ) -> bool:
        """One request and its response (or injected answer); False: the connection ends."""
        a = self.args
        try:
            (method, target, *rest), headers = parse_head(head)
        except ProtocolError:
            uw.write(head)
            await asyncio.gather(_pipe(cr, uw, act, "egress"), _pipe(ur, cw, act, "ingress"))
            return False
        version = rest[0] if rest else "HTTP/1.0"
        self.stats["requests"] += 1
        kind, length = body_kind(headers)
        upgrade = method.upper() == "CONNECT" or "upgrade" in headers.get("connection", "")
        hit = self.faulting and self.matches(method, target) and self.rng.random() < a.fraction
        if hit:
            self.stats["injected"] += 1
            answered = await self.mode.request(
                self, cr, cw, Request(version, headers, kind, length)
            )
            if answered is not None:
                return answered
        uw.write(head)
        if upgrade:
            await asyncio.gather(_pipe(cr, uw, act, "egress"), _pipe(ur, cw, act, "ingress"))
            return False
        await copy_body(cr, uw, kind, length)
        close = await self.response(ur, cw, method, hit and self.mode.delays_response(self))
        return not (close or wants_close(version, headers))

    async def response(
        self,
        ur: asyncio.StreamReader,
        cw: asyncio.StreamWriter,
        method: str,
        delay: bool,
    ) -> bool:
        """Forward one response (after any 1xx); True when the connection must close."""
        while True:
            head = await read_head(ur)
            if head is None:
                return True
            (version, status, *_), headers = parse_head(head)
            code = int(status) if status.isdigit() else 0
            if delay:
                await asyncio.sleep(self.args.delay)
                delay = False
            cw.write(head)
            if code == 101:
                await _pipe(ur, cw)
                return True
            if 100 <= code < 200:
                continue
            break
        if method.upper() == "HEAD" or code in (204, 304):
            kind, length = "none", 0
        else:
            kind, length = body_kind(headers)
            if kind == "none":
                kind = "close"  # no framing: the body ends when the server closes
        await copy_body(ur, cw, kind, length)
        return kind == "close" or wants_close(version, headers)

    async def drain(self) -> None:
        """Stop faulting; close each connection once nothing is in flight (FIN, not RST).

        A pooled client (redis-py, HAProxy) sees an idle connection closed and
        reconnects directly, instead of losing a request to a reset. A
        blackhole's connections are hung by design and closed at once.
        """
        self.faulting = False
        self.delayer.delay = self.delayer.jitter = 0.0
        if self.mode.drains:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.close_idle(), timeout=DRAIN)
        for task in list(self.active):
            task.cancel()
        await asyncio.gather(*self.active, return_exceptions=True)

    async def close_idle(self) -> None:
        """Close each connection once it is idle, until none is left (bounded by the caller)."""
        while self.active:
            now = time.monotonic()
            for task, act in list(self.active.items()):
                if act.idle(now):
                    task.cancel()
            await asyncio.sleep(0.02)

    async def serve(self) -> None:
        a = self.args
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        server = await asyncio.start_server(
            self.handle, a.listen[0], a.listen[1], limit=MAX_HEAD, backlog=1024
        )
        port = server.sockets[0].getsockname()[1]
        if a.uid is not None:  # rules exempt this uid; nothing else needs root
            os.setgroups([])
            os.setgid(a.uid)
            os.setuid(a.uid)
        if a.port_file:
            with open(a.port_file + ".tmp", "w") as fh:
                fh.write(f"{port}\n")
            os.replace(a.port_file + ".tmp", a.port_file)
        print(f"LISTENING {port} mode={a.mode}", flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=a.deadline)
        server.close()
        await self.drain()
        print("STATS " + json.dumps(self.stats), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Proxy(args).serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
