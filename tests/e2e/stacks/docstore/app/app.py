"""Document store (e2e stack): documents with a text body and append-only journals.

GET  /v2/docs/{name}             200 {"doc": {"name", "rev", "body": {"text"}}}; 410 if none
PUT  /v2/docs/{name}             form text=...; 201 created, 200 replaced
POST /v2/docs/{name}:swap        JSON {"expect": {"text": a}, "set": {"text": b}}; 200, or 412
GET  /v2/journals/{name}         200 {"journal": {"name", "lines": [...]}} (none: [])
POST /v2/journals/{name}/lines   form line=...; 202
GET  /v2/status                  200 when the database answers

Every change is one SQLite transaction (WAL, synchronous=FULL) on a volume: a
killed process loses nothing it answered for, and one lock serialises writers.
"""

import json
import os
import re
import sqlite3
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB = os.environ.get("DB", "/data/docs.sqlite")
NAME = r"([A-Za-z0-9_.-]{1,200})"
ROUTES = [
    ("GET", re.compile(rf"^/v2/docs/{NAME}$"), "get_doc"),
    ("PUT", re.compile(rf"^/v2/docs/{NAME}$"), "put_doc"),
    ("POST", re.compile(rf"^/v2/docs/{NAME}:swap$"), "swap_doc"),
    ("GET", re.compile(rf"^/v2/journals/{NAME}$"), "get_journal"),
    ("POST", re.compile(rf"^/v2/journals/{NAME}/lines$"), "add_line"),
    ("GET", re.compile(r"^/v2/status$"), "status"),
]
LOCK = threading.Lock()
LOCAL = threading.local()


def db():
    conn = getattr(LOCAL, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, timeout=5, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        LOCAL.conn = conn
    return conn


def init():
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    with LOCK:
        conn = db()
        conn.execute("CREATE TABLE IF NOT EXISTS docs (name TEXT PRIMARY KEY, text TEXT, rev INT)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS lines (journal TEXT, seq INTEGER PRIMARY KEY, line TEXT)"
        )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 65536)) if length else b""

    def _form(self):
        return dict(urllib.parse.parse_qsl(self._body().decode()))

    def _route(self, method):
        for verb, pattern, name in ROUTES:
            m = pattern.match(self.path)
            if verb == method and m:
                try:
                    return getattr(self, name)(*m.groups())
                except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
                    return self._send(
                        503 if isinstance(exc, sqlite3.Error) else 400, {"error": str(exc)}
                    )
        return self._send(404, {"error": "no route"})

    def do_GET(self):
        self._route("GET")

    def do_PUT(self):
        self._route("PUT")

    def do_POST(self):
        self._route("POST")

    def status(self):
        db().execute("SELECT 1").fetchone()
        return self._send(200, {"ok": True})

    def get_doc(self, name):
        row = db().execute("SELECT text, rev FROM docs WHERE name = ?", (name,)).fetchone()
        if row is None:
            return self._send(410, {"gone": name})
        return self._send(200, {"doc": {"name": name, "rev": row[1], "body": {"text": row[0]}}})

    def put_doc(self, name):
        text = self._form()["text"]
        with LOCK:
            conn = db()
            conn.execute("BEGIN IMMEDIATE")
            found = conn.execute("SELECT rev FROM docs WHERE name = ?", (name,)).fetchone()
            conn.execute(
                "INSERT INTO docs VALUES (?, ?, 1) ON CONFLICT(name) DO UPDATE"
                " SET text = excluded.text, rev = rev + 1",
                (name, text),
            )
            conn.execute("COMMIT")
        return self._send(200 if found else 201, {"name": name})

    def swap_doc(self, name):
        req = json.loads(self._body())
        expect, new = req["expect"]["text"], req["set"]["text"]
        with LOCK:
            conn = db()
            conn.execute("BEGIN IMMEDIATE")
            changed = conn.execute(
                "UPDATE docs SET text = ?, rev = rev + 1 WHERE name = ? AND text = ?",
                (new, name, expect),
            ).rowcount
            conn.execute("COMMIT")
        if not changed:
            return self._send(412, {"error": "precondition failed"})
        return self._send(200, {"name": name})

    def get_journal(self, name):
        rows = db().execute("SELECT line FROM lines WHERE journal = ? ORDER BY seq", (name,))
        return self._send(200, {"journal": {"name": name, "lines": [r[0] for r in rows]}})

    def add_line(self, name):
        line = self._form()["line"]
        with LOCK:
            conn = db()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO lines (journal, line) VALUES (?, ?)", (name, line))
            conn.execute("COMMIT")
        return self._send(202, {"queued": False})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


if __name__ == "__main__":
    init()
    Server(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
