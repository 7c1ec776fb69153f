"""The generic read-back (write, id, read, compare, lookup) against a tiny local API."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from harness.load.chunks import SampleBuffer
from harness.run.durability import check_durability, load_acked, load_timed_out, lookup_of
from harness.scenario.models import DurabilityCheck

# id -> (status, body) of GET /api/o/<id>; keys are "k<id>"
ORDERS: dict[str, tuple[int, Any]] = {
    "1": (200, {"order": {"id": 1, "ref": "k1"}}),
    "2": (200, {"order": {"id": 2, "ref": "k2"}}),
    "a/b c": (200, {"order": {"id": "a/b c", "ref": "ka/b c"}}),  # needs percent-encoding
    "3": (404, {}),
    "4": (410, {}),
    "5": (200, {"order": {"id": 5, "ref": "someone else"}}),
    "6": (200, "not an object"),
    "7": (503, {}),
}
LANDED = {"t1", "t2"}  # keys GET /api/by-ref/<key> finds; any other key: 404, "t9": 500


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("X-Key")))  # type: ignore[attr-defined]
        path = urllib.parse.unquote(self.path)
        if path.startswith("/api/by-ref/"):
            key = path.removeprefix("/api/by-ref/")
            code, body = (200, {}) if key in LANDED else (500 if key == "t9" else 404, {})
        else:
            code, body = ORDERS.get(path.removeprefix("/api/o/"), (404, {}))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _samples(path: Path) -> Path:
    buf = SampleBuffer()
    for i, item_id in enumerate(ORDERS):
        item = f"{urllib.parse.quote(item_id, safe='')} k{item_id}"
        buf.append(0, 1000 + i, 1.0, 201, "ok", 10, "POST /api/o", item)
    buf.append(0, 2000, 1.0, 200, "ok", 10, "GET /api/o/{captured.x}", "")  # not a write
    for j, key in enumerate(["t1", "t2", "t3", "t9", "t1"]):  # t1 twice: counted once
        buf.append(0, 3000 + j, 2000.0, 0, "timeout", 0, "POST /api/o", f"? {key}")
    buf.append(0, 4000, 1.0, 0, "refused", 0, "POST /api/o", "? t4")  # never sent
    pq.write_table(buf.drain("w0"), path)
    return path


def _spec(**change: Any) -> DurabilityCheck:
    spec: dict[str, Any] = {
        "write": {"path": "/api/o", "json": {"ref": "{key}"}},
        "id": "$.order.id",
        "read": {"path": "/api/o/{id}", "headers": {"X-Key": "{key}"}},
        "compare": {"$.order.ref": "{key}", "$.order.id": "{id}"},
        "lookup": {"path": "/api/by-ref/{key}"},
    }
    spec.update(change)
    return DurabilityCheck.model_validate({k: v for k, v in spec.items() if v is not None})


def _url(srv: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/"


def test_encoded_ids_and_timed_out_keys_are_read_from_the_samples(tmp_path: Path) -> None:
    samples = _samples(tmp_path / "samples.parquet")
    assert [i for i, _ in load_acked(samples, encoded=True)] == list(ORDERS)
    assert load_timed_out(samples) == ["t1", "t2", "t3", "t9"]


def test_every_class_and_every_timed_out_write_is_counted(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    r = check_durability(
        _samples(tmp_path / "samples.parquet"),
        _url(server),
        "run",
        max_reads=100,
        timeout_s=10,
        concurrency=3,
        spec=_spec(),
    )
    # ok: 1, 2, "a/b c" (numeric ids compare as text); lost: 404 and 410; corrupt: 5, 6
    assert (r.acked, r.ok, r.lost, r.corrupt, r.unknown, r.unchecked) == (8, 3, 2, 2, 1, 0)
    assert r.lost_ids == ["3", "4"] and r.corrupt_ids == ["5", "6"]
    assert r.unknown_reasons == {"HTTP 503": 1}
    assert (r.timed_out, r.timed_out_landed, r.timed_out_not_landed, r.timed_out_unknown) == (
        4,
        2,
        1,
        1,
    )
    seen = server.seen  # type: ignore[attr-defined]
    # the id went into the path percent-encoded; the header got the write's key
    assert ("/api/o/a%2Fb%20c", "ka/b c") in seen
    assert sorted(p for p, _ in seen if p.startswith("/api/by-ref/")) == [
        f"/api/by-ref/{k}" for k in ("t1", "t2", "t3", "t9")
    ]


def test_without_a_lookup_timed_out_writes_stay_unknown(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    spec = _spec(lookup=None)
    assert lookup_of(spec) is None
    r = check_durability(
        _samples(tmp_path / "samples.parquet"), _url(server), "run", max_reads=100,
        timeout_s=10, spec=spec,
    )  # fmt: skip
    assert (r.timed_out, r.timed_out_landed, r.timed_out_not_landed, r.timed_out_unknown) == (
        4,
        0,
        0,
        4,
    )
    assert any("give `lookup`" in n for n in r.notes)


def test_a_read_by_key_doubles_as_the_lookup() -> None:
    spec = _spec(read={"path": "/api/by-ref/{key}"}, lookup=None, compare={})
    assert lookup_of(spec) == spec.read


def test_built_in_check_ignores_generic_rows(tmp_path: Path) -> None:
    # the built-in read-back never reads timed-out rows as acknowledged writes
    samples = _samples(tmp_path / "samples.parquet")
    assert "?" not in [i for i, _ in load_acked(samples)]
