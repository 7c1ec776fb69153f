"""Reference app on PostgreSQL: the same HTTP API as compose/app/app.py.

GET /            read: a small JSON document (bumps a counter row)
POST /items      write: stores the JSON body, returns 201 {"id": ...}
GET /items/{id}  read back a stored item (404 if missing)
GET /health      200 when PostgreSQL answers, 503 otherwise

A register and a list per key, for checks.consistency (docs/consistency.md), each
one SQL statement (row locks make the cas and the append atomic):
GET /kv/{key}            200 {"key", "value"}, 404 when the key has no value
PUT /kv/{key}            body {"value": v}: upsert; 200
POST /kv/{key}/cas       body {"from": a, "to": b}: 200 if the value was a (now b), 409 if not
GET /list/{key}          200 {"key", "elements": [...]} (empty list: [])
POST /list/{key}         body {"element": e}: append to the key's array; 200

The database password comes from a compose secret file, never from the environment.
"""

import json
import os
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.pool

REPLICA = socket.gethostname()
MAX_BODY = 64 * 1024
POOL_SIZE = int(os.environ.get("DB_POOL", "16"))
_pool_lock = threading.Lock()
_pool = None
# psycopg2's pool raises at once when every connection is busy; a request waits
# for one instead (briefly), so a short DB stall does not turn into a burst of 503s.
_slots = threading.BoundedSemaphore(POOL_SIZE)


_last_address = {}


def _address(host):
    """The database's address: looked up for every new connection, the last good answer
    kept for when Docker's embedded DNS does not answer (seen on a busy host)."""
    try:
        _last_address[host] = socket.gethostbyname(host)
    except OSError:
        if host not in _last_address:
            raise
    return _last_address[host]


class _Pool(psycopg2.pool.ThreadedConnectionPool):
    def _connect(self, key=None):
        self._kwargs["hostaddr"] = _address(self._kwargs["host"])
        return super()._connect(key)


def _password():
    with open(os.environ.get("DB_PASSWORD_FILE", "/run/secrets/db_password")) as f:
        return f.read().strip()


def pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(
                1,
                POOL_SIZE + 1,  # + the health check's own connection
                host=os.environ.get("DB_HOST", "db"),
                port=int(os.environ.get("DB_PORT", "5432")),
                dbname="app",
                user="app",
                password=_password(),
                connect_timeout=1,
                options="-c statement_timeout=1500",
                # a partition leaves a connection waiting on a dead peer: give up after 2 s
                # (libpq's TCP_USER_TIMEOUT and keepalives) instead of TCP's minutes
                tcp_user_timeout=2000,
                keepalives=1,
                keepalives_idle=1,
                keepalives_interval=1,
                keepalives_count=2,
            )
        return _pool


def query(sql, args=(), fetch=True, *, durable=True, slot=True):
    """One statement in its own transaction; a broken connection is discarded.

    ``durable=False`` commits without waiting for the WAL flush (the hit
    counter): only acknowledged item writes must survive a crash.
    ``slot=False`` (the health check) skips the wait for a free connection, so
    a busy replica still reports healthy and is not taken out of the balancer.
    """
    if slot and not _slots.acquire(timeout=1.0):
        raise psycopg2.OperationalError("no free database connection within 1 s")
    try:
        p = pool()
        conn = p.getconn()
        broken = False
        try:
            with conn:
                with conn.cursor() as cur:
                    if not durable:
                        cur.execute("SET LOCAL synchronous_commit TO OFF")
                    cur.execute(sql, args)
                    return cur.fetchone() if fetch else None
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        finally:
            p.putconn(conn, close=broken or conn.closed != 0)
    finally:
        if slot:
            _slots.release()


KEY = re.compile(r"^/(kv|list)/([A-Za-z0-9._-]{1,200})(/cas)?$")
# One statement each: the upsert and the append lock the key's row, so concurrent
# writers of one key are applied one after the other, in commit order.
SQL = {
    "write": "INSERT INTO kv (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
    "cas": "UPDATE kv SET v = %s WHERE k = %s AND v = %s RETURNING k",
    "append": "INSERT INTO lists (k, elements) VALUES (%s, ARRAY[%s]) ON CONFLICT (k)"
    " DO UPDATE SET elements = lists.elements || EXCLUDED.elements",
}


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
        self.send_header("X-Replica", REPLICA)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            if self.path == "/health":
                query("SELECT 1", slot=False)
                return self._send(200, {"status": "ok", "replica": REPLICA})
            if self.path == "/":
                (hits,) = query(
                    "UPDATE hits SET n = n + 1 WHERE k = 1 RETURNING n", durable=False
                )
                return self._send(200, {"hello": "hachaos", "hits": hits, "replica": REPLICA})
            route = KEY.match(self.path)
            if route and not route.group(3):
                kind, key = route.group(1), route.group(2)
                if kind == "kv":
                    row = query("SELECT v FROM kv WHERE k = %s", (key,))
                    if row is None:
                        return self._send(404, {"error": "no value", "key": key})
                    return self._send(200, {"key": key, "value": row[0]})
                row = query("SELECT elements FROM lists WHERE k = %s", (key,))
                return self._send(200, {"key": key, "elements": list(row[0]) if row else []})
            if self.path.startswith("/items/"):
                item_id = self.path[len("/items/"):]
                row = query("SELECT body FROM items WHERE id = %s", (item_id,))
                if row is None:
                    return self._send(404, {"error": "not found", "id": item_id})
                return self._send(200, {"id": item_id, "item": json.loads(row[0])})
            return self._send(404, {"error": "no such path"})
        except psycopg2.Error as exc:
            return self._send(503, {"error": f"db: {exc.__class__.__name__}"})

    def do_PUT(self):
        return self.do_POST()

    def _body(self):
        """The JSON object of the request body, or None (after answering 4xx)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": "body too large"})
            return None
        try:
            body = json.loads(self.rfile.read(length) if length else b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send(400, {"error": "body must be a JSON object"})
            return None
        return body

    def _consistency(self, route):
        """The register and list writes (module docstring)."""
        kind, key, cas = route.groups()
        body = self._body()
        if body is None:
            return None
        want = ("from", "to") if cas else ("value",) if kind == "kv" else ("element",)
        if not all(isinstance(body.get(k), str) for k in want):
            return self._send(400, {"error": f"the body needs text {', '.join(want)}"})
        try:
            if cas:
                swapped = query(SQL["cas"], (body["to"], key, body["from"]))
                if swapped is None:
                    return self._send(409, {"error": "the value was not the expected one"})
            elif kind == "kv":
                query(SQL["write"], (key, body["value"]), False)
            else:
                query(SQL["append"], (key, body["element"]), False)
        except psycopg2.Error as exc:
            return self._send(503, {"error": f"db: {exc.__class__.__name__}"})
        return self._send(200, {"key": key, "replica": REPLICA})

    def do_POST(self):
        route = KEY.match(self.path)
        if route:
            return self._consistency(route)
        if self.path != "/items" or self.command != "POST":
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
            query("INSERT INTO items (id, body) VALUES (%s, %s)", (item_id, raw.decode()), False)
        except psycopg2.Error as exc:
            return self._send(503, {"error": f"db: {exc.__class__.__name__}"})
        return self._send(201, {"id": item_id, "replica": REPLICA})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


if __name__ == "__main__":
    Server(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
