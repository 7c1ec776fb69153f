"""Reference app for hachaos: a tiny HTTP service backed by Redis.

GET /            read: a small JSON document (hits a Redis counter)
POST /items      write: stores the JSON body, returns 201 {"id": ...}
GET /items/{id}  read back a stored item (404 if missing)
GET /health      200 when Redis answers, 503 otherwise

A register and a list per key, for checks.consistency (docs/consistency.md), each
one atomic Redis command (the cas a Lua script, which Redis runs atomically):
GET /kv/{key}            200 {"key", "value"}, 404 when the key has no value
PUT /kv/{key}            body {"value": v}: SET; 200
POST /kv/{key}/cas       body {"from": a, "to": b}: 200 if the value was a (now b), 409 if not
GET /list/{key}          200 {"key", "elements": [...]} (empty list: [])
POST /list/{key}         body {"element": e}: RPUSH; 200
With REDIS_WAIT_REPLICAS these writes wait for replicas too (503 when too few acknowledged),
and so do these reads, behind a fence write: a primary cut off from its replicas answers 503.
A command Redis refused before running it (READONLY on a replica, NOREPLICAS under
min-replicas-to-write) answers 421: nothing was applied (acks.py).

Redis is REDIS_HOST:REDIS_PORT, or, when REDIS_SENTINELS ("host:port,...") is set,
the primary that those Sentinels name for REDIS_MASTER_NAME: the app asks them
again every REDIS_FOLLOW_S seconds and moves every connection to a new primary
after a failover. REDIS_WAIT_REPLICAS=N (default 0) sends each write as
SET + WAIT N REDIS_WAIT_TIMEOUT_MS on one connection and answers 201 only when
N replicas acknowledged it (503 otherwise: applied here, maybe lost in a failover).

Service time and concurrency (docs/capacity.md), both off by default:
WORK_MS=T makes every request but /health take T ms more (a sleep, so the CPU
stays free: on a small machine shared with the load generator, capacity is then
bound by the app's concurrency, not by the cores); WORKERS=N serves at most N
requests at a time, the others wait for a slot. One replica then carries at most
N * 1000 / T requests/s. WORK_MS alone (WORKERS=0: unbounded) adds T ms of
latency without any limit. RATE_LIMIT=R plants a hard limit: a token bucket
(RATE_BURST tokens, default R / 5) lets R requests/s through per replica and
answers the others 429 at once, without taking a slot.
"""

import json
import os
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from acks import judge

REPLICA = socket.gethostname()
MAX_BODY = 64 * 1024
WAIT_REPLICAS = int(os.environ.get("REDIS_WAIT_REPLICAS", "0"))
WAIT_TIMEOUT_MS = int(os.environ.get("REDIS_WAIT_TIMEOUT_MS", "500"))
WORK_S = max(float(os.environ.get("WORK_MS", "0") or 0), 0.0) / 1000.0
WORKERS = max(int(os.environ.get("WORKERS", "0") or 0), 0)
RATE_LIMIT = max(float(os.environ.get("RATE_LIMIT", "0") or 0), 0.0)
RATE_BURST = max(float(os.environ.get("RATE_BURST", "0") or 0), 0.0) or max(RATE_LIMIT / 5, 1.0)
CLIENT_OPTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, "health_check_interval": 5}


def _follow(pool, period):
    """Ask the Sentinels for the primary every ``period`` s; a new address drops idle
    connections to the old one (redis-py's pool does that), and busy ones are closed
    when they are returned. Without it a connection would keep writing to a demoted
    or cut-off primary until that one fails it."""
    while True:
        time.sleep(period)
        try:
            pool.get_master_address()
        except redis.RedisError:
            pass  # no primary agreed on right now (failover under way): keep the old one


def connect():
    sentinels = os.environ.get("REDIS_SENTINELS", "").strip()
    if not sentinels:
        return redis.Redis(
            host=os.environ.get("REDIS_HOST", "redis"),
            port=int(os.environ.get("REDIS_PORT", "6379")),
            **CLIENT_OPTS,
        )
    from redis.sentinel import Sentinel

    nodes = [(h, int(p)) for h, _, p in (n.strip().rpartition(":") for n in sentinels.split(","))]
    sentinel = Sentinel(nodes, sentinel_kwargs={"socket_timeout": 0.5, "socket_connect_timeout": 0.5})
    db = sentinel.master_for(os.environ.get("REDIS_MASTER_NAME", "mymaster"), **CLIENT_OPTS)
    period = float(os.environ.get("REDIS_FOLLOW_S", "0.5"))
    threading.Thread(target=_follow, args=(db.connection_pool, period), daemon=True).start()
    return db


DB = connect()
# A request waits here for one of WORKERS slots (none when WORKERS=0): beyond
# WORKERS * 1000 / WORK_MS requests/s the queue grows and latency climbs.
SLOTS = threading.BoundedSemaphore(WORKERS) if WORKERS else None


class _Work:
    """Hold a worker slot for WORK_MS around a request's own work."""

    def __enter__(self):
        if SLOTS is not None:
            SLOTS.acquire()
        if WORK_S:
            time.sleep(WORK_S)
        return self

    def __exit__(self, *exc):
        if SLOTS is not None:
            SLOTS.release()
        return False


WORK = _Work()


class _Bucket:
    """A token bucket: RATE_LIMIT tokens a second, at most RATE_BURST saved up."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


BUCKET = _Bucket(RATE_LIMIT, RATE_BURST) if RATE_LIMIT else None


def store(key, value):
    """SET, then (when asked to) WAIT for replicas on the same connection; returns
    None when the write is acknowledged, or (status, why) when it is not."""
    return replicated(lambda pipe: pipe.set(key, value))[1]


def replicated(command, fence=False):
    """Run ``command(pipe)`` (one atomic Redis command) and, when asked to, WAIT for
    replicas on the same connection; returns (its reply, None) when acknowledged,
    else (None, (status, why)): acks.judge says which status.

    ``fence`` (a read): WAIT only counts this connection's writes, so a fence write
    follows the read; a primary cut off from its replicas then refuses to answer it,
    instead of serving a value that a failover is about to throw away."""
    # WAIT counts replicas that have this connection's writes, so both commands
    # must travel on one connection: a pipeline, not two calls on the pool.
    pipe = DB.pipeline(transaction=False)
    command(pipe)
    if WAIT_REPLICAS and fence:
        pipe.incr("hachaos:fence")
    if WAIT_REPLICAS:
        pipe.wait(WAIT_REPLICAS, WAIT_TIMEOUT_MS)
    # Errors as replies: a refusal (nothing applied) must not read as an unknown.
    return judge(pipe.execute(raise_on_error=False), WAIT_REPLICAS)


# compare-and-set in one step: Redis runs a script atomically
CAS = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0"
KEY = re.compile(r"^/(kv|list)/([A-Za-z0-9._-]{1,200})(/cas)?$")


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
        if self.path == "/health":  # never queued: a busy replica is still alive
            try:
                DB.ping()
            except redis.RedisError as exc:
                return self._send(503, {"error": f"redis: {exc}"})
            return self._send(200, {"status": "ok", "replica": REPLICA})
        if BUCKET is not None and not BUCKET.take():
            return self._send(429, {"error": "rate limit"})
        with WORK:
            return self._get()

    def _get(self):
        try:
            if self.path == "/":
                hits = DB.incr("hits")
                return self._send(200, {"hello": "hachaos", "hits": hits, "replica": REPLICA})
            route = KEY.match(self.path)
            if route and not route.group(3):
                kind, key = route.group(1), route.group(2)
                if kind == "kv":
                    value, refused = replicated(lambda pipe: pipe.get(f"kv:{key}"), fence=True)
                else:
                    value, refused = replicated(
                        lambda pipe: pipe.lrange(f"list:{key}", 0, -1), fence=True
                    )
                if refused:
                    return self._send(refused[0], {"error": refused[1]})
                if kind == "list":
                    return self._send(200, {"key": key, "elements": [e.decode() for e in value]})
                if value is None:
                    return self._send(404, {"error": "no value", "key": key})
                return self._send(200, {"key": key, "value": value.decode()})
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
        if BUCKET is not None and not BUCKET.take():
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= MAX_BODY:
                self.rfile.read(length)  # keep the connection usable
            return self._send(429, {"error": "rate limit"})
        with WORK:
            return self._post()

    def do_PUT(self):
        with WORK:
            return self._post()

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
        if cas:
            args = (f"kv:{key}", body["from"], body["to"])
            reply, refused = replicated(lambda pipe: pipe.eval(CAS, 1, *args))
        elif kind == "kv":
            reply, refused = replicated(lambda pipe: pipe.set(f"kv:{key}", body["value"]))
        else:
            reply, refused = replicated(lambda pipe: pipe.rpush(f"list:{key}", body["element"]))
        if refused:
            return self._send(refused[0], {"error": refused[1]})
        if cas and reply != 1:
            return self._send(409, {"error": "the value was not the expected one", "key": key})
        return self._send(200, {"key": key, "replica": REPLICA})

    def _post(self):
        route = KEY.match(self.path)
        if route:
            try:
                return self._consistency(route)
            except redis.RedisError as exc:
                return self._send(503, {"error": f"redis: {exc}"})
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
            refused = store(f"item:{item_id}", raw)
        except redis.RedisError as exc:
            return self._send(503, {"error": f"redis: {exc}"})
        if refused:
            return self._send(refused[0], {"error": refused[1]})
        return self._send(201, {"id": item_id, "replica": REPLICA})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


if __name__ == "__main__":
    Server(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()
