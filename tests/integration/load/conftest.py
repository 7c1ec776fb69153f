"""A tiny stand-in for the reference stack, on 127.0.0.1, that can be told to misbehave."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest


@dataclass
class Behaviour:
    """What the server does; tests change it while load runs."""

    # ok | stall | error | close | mixed (cycles ok, error, close, stall) | slowbody (POST:
    # stores the item, sends 201 and half its body, then stalls stall_s)
    mode: str = "ok"
    stall_s: float = 5.0
    items: dict[str, bytes] = field(default_factory=dict)
    hits: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default of 5 drops SYNs under load, which looks like timeouts


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    behaviour: Behaviour
    ids = count(1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _misbehave(self) -> bool:
        b = self.behaviour
        b.hits += 1
        mode = b.mode
        if mode == "mixed":
            mode = ("ok", "error", "close", "stall")[b.hits % 4]
        if mode == "stall":
            time.sleep(b.stall_s)
        if mode == "error":
            self._send(500, b'{"error": "injected"}')
            return True
        if mode == "close":
            self.close_connection = True
            self.connection.close()
            return True
        return False

    def do_GET(self) -> None:
        if self._misbehave():
            return
        if self.path.startswith("/items/"):
            body = self.behaviour.items.get(self.path.rsplit("/", 1)[1])
            self._send(200, body) if body is not None else self._send(404, b"{}")
        else:
            self._send(200, b'{"hello": "world"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = self.rfile.read(length)
        if self._misbehave():
            return
        item_id = str(next(self.ids))
        self.behaviour.items[item_id] = payload
        body = json.dumps({"id": item_id}).encode()
        if self.behaviour.mode == "slowbody":  # the write landed; its answer never completes
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(self.behaviour.stall_s)
            self.close_connection = True
            return
        self._send(201, body)


@dataclass
class LocalServer:
    url: str
    behaviour: Behaviour


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A threaded HTTP server on 127.0.0.1:<free port> serving /, /items and /items/{id}."""
    behaviour = Behaviour()
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_address[1]}", behaviour)
    finally:
        server.shutdown()
        server.server_close()
