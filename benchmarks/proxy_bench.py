"""Throughput and latency through the fault proxy against a direct connection.

A tiny keep-alive HTTP server (asyncio, this process's child) answers on
127.0.0.1; clients use 1 or 4 keep-alive connections, paced at 1,000 req/s in
total and then unpaced (as fast as they can). The proxy runs exactly as in a
fault: the helper image's python3 (+ uvloop) in a container, here with host
networking and ``--upstream`` instead of an iptables REDIRECT, in two modes:
``forward`` (TCP copy, what latency/slow use when idle) and ``http`` (the
HTTP/1.1 parser of http-error/http-delay, matching nothing).

    .venv/bin/python benchmarks/proxy_bench.py [--seconds 2] [--rounds 3] [--local]

Goal (issue 15): proxied throughput >= 0.8 of direct at 1,000 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.engine import helpers
from harness.faults.proxy import faultproxy

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4 :]
            self.t.write(RESPONSE * n)  # type: ignore[attr-defined]


def _serve(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


def _client(port: int, conns: int, rate: float | None, seconds: float) -> tuple[float, list[float]]:
    """(requests/s achieved, latencies in s from the *scheduled* send time)."""
    lat: list[list[float]] = [[] for _ in range(conns)]
    done = [0] * conns
    start = time.perf_counter() + 0.2

    def one(i: int) -> None:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        period = conns / rate if rate else 0.0
        k = 0
        while True:
            due = start + k * period + (i * period / conns)
            now = time.perf_counter()
            if now - start > seconds:
                break
            if due > now:
                time.sleep(due - now)
            sent = due if rate else time.perf_counter()
            s.sendall(REQUEST)
            got = b""
            while not got.endswith(b"ok"):
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed")
                got += chunk
            lat[i].append(time.perf_counter() - sent)
            done[i] += 1
            k += 1
        s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds, [x for per in lat for x in per]


def _proxy(mode: str, upstream: int, local: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    argv = ["--mode", "forward" if mode == "forward" else "http-error"]
    if mode == "http":
        argv += ["--path-prefix", "/never", "--fraction", "1"]
    name = f"hachaos-proxy-bench-{port}"
    run = ["docker", "run", "--rm", "--name", name, "--network", "host", helpers.HELPER_IMAGE,
           "python3", helpers.PROXY_PATH]  # fmt: skip
    if local:
        run = [sys.executable, str(Path(faultproxy.__file__))]
    proc = subprocess.Popen(
        [*run, "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream}",
         "--deadline", "300", *argv],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("LISTENING"):
        raise SystemExit(f"proxy did not start: {line!r}")
    return proc, port


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="per round and path")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--local", action="store_true", help="run the proxy with this python")
    args = ap.parse_args()
    helpers.ensure_image()
    upstream = _free_port()
    server = mp.Process(target=_serve, args=(upstream,), daemon=True)
    server.start()
    time.sleep(0.5)
    proxies = {m: _proxy(m, upstream, args.local) for m in ("forward", "http")}
    ports = {"direct": upstream, **{m: p for m, (_, p) in proxies.items()}}
    where = sys.executable if args.local else helpers.HELPER_IMAGE
    print(
        f"proxy bench: {args.rounds} interleaved rounds of {args.seconds:g} s per cell "
        f"(medians), proxy run by {where}, load average {os.getloadavg()[0]:.1f}"
    )
    print("| load | conns | path | req/s | vs direct | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    try:
        for rate in (1000.0, None):
            for conns in (1, 4):
                # Paths take turns, so the shared machine's noise hits each alike.
                got: dict[str, list[float]] = {p: [] for p in ports}
                lats: dict[str, list[float]] = {p: [] for p in ports}
                for _ in range(args.rounds):
                    for path, port in ports.items():
                        n, lat = _client(port, conns, rate, args.seconds)
                        got[path].append(n)
                        lats[path] += lat
                direct = statistics.median(got["direct"])
                for path in ports:
                    rps = statistics.median(got[path])
                    q = statistics.quantiles(lats[path], n=100)
                    print(
                        f"| {'1,000 req/s' if rate else 'unpaced'} | {conns} | {path} "
                        f"| {rps:,.0f} | {rps / direct:.2f} | {q[49] * 1e3:.3f} "
                        f"| {q[98] * 1e3:.3f} |",
                        flush=True,
                    )
    finally:
        for m, (proc, port) in proxies.items():
            proc.terminate()
            subprocess.run(
                ["docker", "rm", "-f", f"hachaos-proxy-bench-{port}"],
                capture_output=True,
                check=False,
            )
            proc.wait(timeout=30)
            del m
        server.terminate()


if __name__ == "__main__":
    main()
