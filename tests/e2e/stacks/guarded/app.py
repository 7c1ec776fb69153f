"""A tiny service whose endpoints are not the reference app's.

GET /ping            "pong" (healthcheck)
GET /                {"service": NAME} (the built-in workload's read)
GET /api/status      {"service": NAME, "state": STATE, "queue": QUEUE}
GET /api/orders      a fixed list of orders
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("SERVICE_NAME", "guarded")
STATE = os.environ.get("STATE", "ok")
QUEUE = int(os.environ.get("QUEUE", "0"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, payload):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/ping":
            self._send(200, "pong")
        elif path == "/":
            self._send(200, {"service": NAME})
        elif path == "/api/status":
            self._send(200, {"service": NAME, "state": STATE, "queue": QUEUE})
        elif path == "/api/orders":
            self._send(200, {"orders": [{"id": 1, "ref": "a"}, {"id": 2, "ref": "b"}]})
        else:
            self._send(404, {"error": "not found"})


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "9000"))), Handler).serve_forever()
