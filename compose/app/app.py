"""Reference app for hachaos: a tiny HTTP service backed by Redis.

GET /            read: a small JSON document (hits a Redis counter)
POST /items      write: stores the JSON body, returns 201 {"id": ...}
GET /items/{id}  read back a stored item (404 if missing)
GET /health      200 when Redis answers, 503 otherwise
"""

import json
import os
import socket
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

REPLICA = socket.gethostname()
DB = redis.Redis(
    host=os.environ.get("REDIS_HOST", "redis"),
    port=int(os.environ.get("REDIS_PORT", "6379")),
    socket_timeout=1.0,
    socket_connect_timeout=1.0,
    health_check_interval=5,
)
MAX_BODY = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a load balancer expects
    # Headers and body leave in two writes; with Nagle on, the body waits for the
    # peer's delayed ACK and every response gains ~40 ms on a keep-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: one line per request is too much under load
        pass

    def _send(self, code, payload):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Replica", REPLICA)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            if self.path == "/health":
                DB.ping()
                return self._send(200, {"status": "ok", "replica": REPLICA})
            if self.path == "/":
                hits = DB.incr("hits")
                return self._send(200, {"hello": "hachaos", "hits": hits, "replica": REPLICA})
            if self.path.startswith("/items/"):
                item_id = self.path[len("/items/"):]
                raw = DB.get(f"item:{item_id}")
                if raw is None:
                    return self._send(404, {"error": "not found", "id": item_id})
                return self._send(200, {"id": item_id, "item": json.loads(raw)})
            return self._send(404, {"error": "no such path"})
        except redis.RedisError as exc:
            return self._send(503, {"error": f"redis: {exc}"})

    def do_POST(self):
        if self.path != "/items":
            return self._send(404, {"error": "no such path"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, {"error": "body too large"})
        raw = self.rfile.read(length) if length else b"{}"
        try:
            json.loads(raw)
        except ValueError:
            return self._send(400, {"error": "body must be JSON"})
        item_id = uuid.uuid4().hex
        try:
            DB.set(f"item:{item_id}", raw)
        except redis.RedisError as exc:
            return self._send(503, {"error": f"redis: {exc}"})
        return self._send(201, {"id": item_id, "replica": REPLICA})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


if __name__ == "__main__":
    Server(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
