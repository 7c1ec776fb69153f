"""Orders API for hachaos's e2e tests (stdlib only, state in memory).

GET  /api/healthz                 200 {"ok": true}
POST /api/orders {"ref": str}     201 {"order": {"id": int, "ref": str}}
GET  /api/orders/<id>             200 {"order": {...}} | 404
GET  /api/orders/by-ref/<ref>     200 {"order": {...}} | 404
POST /api/drafts, GET /api/drafts/<id>, /api/drafts/by-ref/<ref>: the same, apart
POST /api/notes (form: text=...)  201 {"note": {"id": int}}

Orders only, deterministically, so a test knows what a read-back must find:
DROP_EVERY=N (N > 0): the N-th, 2N-th, ... order id is acknowledged with 201
but never stored. SLOW_EVERY=M (M > 0): order id k*M answers after SLOW_S
seconds (longer than the test's client timeout), stored when k is even and
not stored when k is odd: writes that time out, some landed, some not.
"""

import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROP_EVERY = int(os.environ.get("DROP_EVERY", "0") or 0)
SLOW_EVERY = int(os.environ.get("SLOW_EVERY", "0") or 0)
SLOW_S = float(os.environ.get("SLOW_S", "1.5") or 1.5)
MAX_BODY = 65536
LOCK = threading.Lock()
STORE: dict[str, dict[int, dict]] = {"order": {}, "draft": {}}
BY_REF: dict[str, dict[str, int]] = {"order": {}, "draft": {}}
COUNTER = {"order": 0, "draft": 0, "note": 0}
KINDS = {"orders": "order", "drafts": "draft"}


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
        parts = path.split("/", 4)  # "", "api", collection, id | "by-ref", ref
        kind = KINDS.get(parts[2]) if len(parts) > 3 and parts[1] == "api" else None
        if kind is None:
            return self._send(404, {"error": "no such path"})
        with LOCK:
            if parts[3] == "by-ref" and len(parts) == 5:
                oid = BY_REF[kind].get(urllib.parse.unquote(parts[4]))
            elif len(parts) == 4 and parts[3].isdigit():
                oid = int(parts[3])
            else:
                return self._send(400, {"error": "expected /<id> or /by-ref/<ref>"})
            found = STORE[kind].get(oid) if oid is not None else None
        return self._send(200, {kind: found}) if found else self._send(404, {})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        raw = self._body()
        kind = {"/api/orders": "order", "/api/drafts": "draft"}.get(path)
        if kind is not None:
            try:
                ref = json.loads(raw)["ref"]
            except (ValueError, KeyError, TypeError):
                return self._send(400, {"error": "expected JSON {ref}"})
            if not isinstance(ref, str) or not ref:
                return self._send(400, {"error": "ref is a non-empty string"})
            with LOCK:
                COUNTER[kind] += 1
                oid = COUNTER[kind]
            doc = {"id": oid, "ref": ref}
            keep = True
            if kind == "order" and DROP_EVERY and oid % DROP_EVERY == 0:
                keep = False
            if kind == "order" and SLOW_EVERY and oid % SLOW_EVERY == 0:
                time.sleep(SLOW_S)
                keep = (oid // SLOW_EVERY) % 2 == 0
            if keep:
                with LOCK:
                    STORE[kind][oid] = doc
                    BY_REF[kind][ref] = oid
            return self._send(201, {kind: doc})
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
