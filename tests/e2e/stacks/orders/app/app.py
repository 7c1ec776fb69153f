"""Orders API for hachaos's e2e tests (stdlib only, state in memory).

GET  /api/healthz                 200 {"ok": true}
POST /api/orders {"ref": str}     201 {"order": {"id": int, "ref": str}}
GET  /api/orders/<id>             200 {"order": {...}} | 404
GET  /api/orders/by-ref/<ref>     200 {"order": {...}} | 404
POST /api/notes (form: text=...)  201 {"note": {"id": int}}

DROP_EVERY=N (N > 0): the N-th, 2N-th, ... order id is acknowledged with 201
but never stored, deterministically, so a test knows exactly which ids a
read-back must report as lost.
"""

import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROP_EVERY = int(os.environ.get("DROP_EVERY", "0") or 0)
MAX_BODY = 65536
LOCK = threading.Lock()
ORDERS: dict[int, dict] = {}
BY_REF: dict[str, int] = {}
COUNTER = {"order": 0, "note": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY)) if length else b""

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/healthz":
            return self._send(200, {"ok": True})
        if path.startswith("/api/orders/by-ref/"):
            ref = urllib.parse.unquote(path[len("/api/orders/by-ref/") :])
            with LOCK:
                oid = BY_REF.get(ref)
                order = ORDERS.get(oid) if oid is not None else None
            return self._send(200, {"order": order}) if order else self._send(404, {})
        if path.startswith("/api/orders/"):
            try:
                oid = int(path[len("/api/orders/") :])
            except ValueError:
                return self._send(400, {"error": "id is a number"})
            with LOCK:
                order = ORDERS.get(oid)
            return self._send(200, {"order": order}) if order else self._send(404, {})
        return self._send(404, {"error": "no such path"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        raw = self._body()
        if path == "/api/orders":
            try:
                ref = json.loads(raw)["ref"]
            except (ValueError, KeyError, TypeError):
                return self._send(400, {"error": "expected JSON {ref}"})
            if not isinstance(ref, str) or not ref:
                return self._send(400, {"error": "ref is a non-empty string"})
            with LOCK:
                COUNTER["order"] += 1
                oid = COUNTER["order"]
                order = {"id": oid, "ref": ref}
                if not (DROP_EVERY and oid % DROP_EVERY == 0):
                    ORDERS[oid] = order
                    BY_REF[ref] = oid
            return self._send(201, {"order": order})
        if path == "/api/notes":
            form = urllib.parse.parse_qs(raw.decode(errors="replace"))
            if not form.get("text"):
                return self._send(400, {"error": "expected form field text"})
            with LOCK:
                COUNTER["note"] += 1
                nid = COUNTER["note"]
            return self._send(201, {"note": {"id": nid}})
        return self._send(404, {"error": "no such path"})

    def log_message(self, *_):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    Server(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
