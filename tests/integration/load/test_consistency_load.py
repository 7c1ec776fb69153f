"""The consistency workload end to end: real Locust children against a tiny in-process store."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.analysis.consistency.check import check_history
from harness.analysis.consistency.history import from_rows
from harness.load.driver import LoadDriver, LoadPlan
from harness.run.consistency import HISTORY_FILE, merge_history
from harness.scenario.consistency import ConsistencyCheck
from harness.scenario.models import Load

pytestmark = pytest.mark.timeout(120)

_PATH = re.compile(r"^/(kv|list)/([A-Za-z0-9._-]+)(/cas)?$")


class Store:
    """A linearizable register and list per key (one lock), or a forgetful one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kv: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.stale = False  # a register read returns the key's first value, forever
        self.forget_every = 0  # acknowledge every Nth append without keeping it
        self.first: dict[str, str] = {}
        self.appends = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: Store

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, doc: object) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        m = _PATH.match(self.path)
        if m is None:
            return self._send(404, {})
        kind, key, _ = m.groups()
        with self.store.lock:
            if kind == "list":
                return self._send(200, {"elements": list(self.store.lists.get(key, []))})
            if key not in self.store.kv:
                return self._send(404, {})
            value = self.store.first[key] if self.store.stale else self.store.kv[key]
            return self._send(200, {"data": {"v": int(value)}})

    def do_PUT(self) -> None:
        m = _PATH.match(self.path)
        assert m is not None
        kind, key, cas = m.groups()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.store.lock:
            if cas:
                if self.store.kv.get(key) != body["from"]:
                    return self._send(412, {})
                self.store.kv[key] = body["to"]
            elif kind == "kv":
                self.store.kv[key] = body["value"]
                self.store.first.setdefault(key, body["value"])
            else:
                self.store.appends += 1
                every = self.store.forget_every
                if not every or self.store.appends % every:
                    self.store.lists.setdefault(key, []).append(body["element"])
        return self._send(204, None)


@pytest.fixture
def store_url() -> Iterator[tuple[Store, str]]:
    store = Store()
    handler = type("H", (_Handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield store, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _run(
    url: str, tmp: Path, spec: ConsistencyCheck, total: float = 4.0
) -> list[dict[str, object]]:
    load = Load(model="open", rps=60, timeout=2.0)
    plan = LoadPlan(
        target_url=url,
        load=load,
        total_seconds=total,
        seed=3,
        out_dir=tmp,
        locustfile=None,
        workers=2,
        run_id="ctest",
        consistency=spec,
    )
    driver = LoadDriver(plan)
    try:
        driver.start()
        while driver.running():
            time.sleep(0.3)
    finally:
        driver.stop()
    return merge_history(tmp)


REGISTER = {
    "model": "register",
    "share": 1.0,
    "ops_per_key": 40,
    "keys": 2,
    "read": {"path": "/kv/{key}", "value": "$.data.v"},
    "write": {"method": "PUT", "path": "/kv/{key}", "json": {"value": "{value}"}},
    "cas": {
        "method": "PUT",
        "path": "/kv/{key}/cas",
        "json": {"from": "{expected}", "to": "{value}"},
    },
}


def test_register_history_of_a_linearizable_store(
    store_url: tuple[Store, str], tmp_path: Path
) -> None:
    _, url = store_url
    rows = _run(url, tmp_path, ConsistencyCheck.model_validate(REGISTER))
    assert (tmp_path / HISTORY_FILE).is_file()
    assert 120 <= len(rows) <= 245  # 60/s for 4 s (a busy host drops some arrivals)
    assert {r["f"] for r in rows} == {"read", "write", "cas"}
    # a busy host times some out (info); a cas that found another value is a definite mismatch
    assert sum(r["type"] == "ok" for r in rows) > len(rows) // 2
    assert all(r["type"] == "fail" for r in rows if r.get("mismatch"))
    processes = {r["process"] for r in rows}
    assert {p.split(".")[0] for p in processes} == {"w0", "w1"}
    keys = {r["key"] for r in rows}
    assert all(re.fullmatch(r"k[0-9a-f]{8}-[0-9]+", k) for k in keys)
    assert 4 <= len(keys) <= 14  # 2 at a time, rotating every 40 * 2 / 60 s
    invokes = [r["invoke_ns"] for r in rows]
    assert invokes == sorted(invokes)
    result = check_history(from_rows(rows), "register")
    assert [c["anomalies"] for c in result["checks"]] == [0, 0, 0, 0, 0]


def test_register_history_of_a_stale_store_has_witnesses(
    store_url: tuple[Store, str], tmp_path: Path
) -> None:
    store, url = store_url
    store.stale = True
    spec = ConsistencyCheck.model_validate({**REGISTER, "cas": None, "mix": {"cas": 0}})
    rows = _run(url, tmp_path, spec, total=3.0)
    result = check_history(from_rows(rows), "register")
    counts = {c["check"]: c["anomalies"] for c in result["checks"]}
    assert counts["linearizability"] >= 1
    assert counts["stale reads"] >= 1
    assert result["linearizability"]["checker"] == "fast (Gibbons-Korach)"
    witness = next(w for w in result["witnesses"] if w["kind"] == "stale-read")
    write, read = witness["ops"]
    assert write["f"] == "write" and read["f"] == "read"
    assert write["complete_ns"] < read["invoke_ns"]  # the missed write completed first


LIST = {
    "model": "list-append",
    "share": 1.0,
    "ops_per_key": 40,
    "keys": 1,
    "read": {"path": "/list/{key}", "value": "$.elements"},
    "append": {"method": "PUT", "path": "/list/{key}", "json": {"element": "{value}"}},
}


def test_list_history_finds_acknowledged_appends_that_vanished(
    store_url: tuple[Store, str], tmp_path: Path
) -> None:
    store, url = store_url
    store.forget_every = 5
    rows = _run(url, tmp_path, ConsistencyCheck.model_validate(LIST), total=3.0)
    assert {r["f"] for r in rows} == {"read", "append"}
    reads = [r for r in rows if r["f"] == "read" and r["type"] == "ok"]
    assert all(isinstance(r["elements"], list) for r in reads)
    result = check_history(from_rows(rows), "list-append")
    counts = {c["check"]: c["anomalies"] for c in result["checks"]}
    assert counts["lost appends"] >= 1
    assert counts["duplicates"] == counts["incompatible orders"] == 0
