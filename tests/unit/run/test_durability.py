"""The durability checker against a local HTTP server whose answers are known exactly."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.load.chunks import SampleBuffer
from harness.run.durability import check_durability, load_acked, verify_run, write_result
from harness.scenario.models import DurabilityCheck

# id -> what the server does with GET /items/<id>
STORED = {f"ok{i}": f"run-1-{i}" for i in range(6)}  # 200 with the right key
LOST = {"gone1", "gone2"}  # 404
WRONG = {"bad1"}  # 200 with another key
BROKEN = {"err1"}  # 500


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        item_id = self.path.removeprefix("/items/")
        self.server.seen.append(item_id)  # type: ignore[attr-defined]
        if item_id in STORED:
            code, body = 200, {"id": item_id, "item": {"key": STORED[item_id], "run": "run"}}
        elif item_id in WRONG:
            code, body = 200, {"id": item_id, "item": {"key": "someone-else", "run": "run"}}
        elif item_id in BROKEN:
            code, body = 500, {"error": "boom"}
        else:
            code, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default 5 drops SYNs of 8 parallel readers: 1 s retries


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/"


def _samples(path: Path, acked: dict[str, str], extra_rows: bool = True) -> Path:
    """samples.parquet with one acknowledged write per entry, plus rows that are not writes."""
    buf = SampleBuffer()
    for i, (item_id, key) in enumerate(acked.items()):
        buf.append(0, 1000 + i, 1.0, 201, "ok", 10, "POST /items", f"{item_id} {key}")
    if extra_rows:
        buf.append(0, 5000, 1.0, 200, "ok", 10, "GET /", "")
        buf.append(0, 5001, 1.0, 200, "ok", 10, "GET /items/{id}", "ok0")  # a read, not a write
        buf.append(0, 5002, 1.0, 503, "http_5xx", 10, "POST /items", "")  # never acknowledged
        buf.append(0, 5003, 1.0, 201, "ok", 10, "POST /items", "ok0 run-1-0")  # same id twice
    pq.write_table(buf.drain("w0"), path)
    return path


def _all_ids() -> dict[str, str]:
    ids = dict(STORED)
    ids.update({i: f"key-{i}" for i in sorted(LOST | WRONG | BROKEN)})
    return ids


def test_every_class_is_counted_exactly(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    samples = _samples(tmp_path / "samples.parquet", _all_ids())
    r = check_durability(samples, _url(server), "run-1", max_reads=100, timeout_s=10, concurrency=3)
    assert (r.acked, r.selected, r.checked) == (10, 10, 10)
    assert (r.ok, r.lost, r.corrupt, r.unknown, r.unchecked) == (6, 2, 1, 1, 0)
    assert r.lost_ids == ["gone1", "gone2"]
    assert r.corrupt_ids == ["bad1"]
    assert r.unknown_reasons == {"HTTP 500": 1}
    assert r.sampled is False and r.error is None
    assert sorted(server.seen) == sorted(_all_ids())  # type: ignore[attr-defined]


def test_max_reads_takes_a_seeded_sample(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    samples = _samples(tmp_path / "samples.parquet", _all_ids())
    a = check_durability(samples, _url(server), "run-1", max_reads=4, timeout_s=10, seed=3)
    first = sorted(server.seen)  # type: ignore[attr-defined]
    server.seen.clear()  # type: ignore[attr-defined]
    b = check_durability(samples, _url(server), "run-1", max_reads=4, timeout_s=10, seed=3)
    assert (a.acked, a.selected, a.checked, a.sampled) == (10, 4, 4, True)
    assert a.ok + a.lost + a.corrupt + a.unknown == 4
    assert sorted(server.seen) == first  # type: ignore[attr-defined]
    assert (a.ok, a.lost, a.corrupt, a.unknown) == (b.ok, b.lost, b.corrupt, b.unknown)


def test_unreachable_target_is_unknown_never_lost(tmp_path: Path) -> None:
    samples = _samples(tmp_path / "samples.parquet", {"a": "ka", "b": "kb"}, extra_rows=False)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = srv.server_address[1]
    srv.server_close()  # nothing listens there any more: connection refused
    r = check_durability(samples, f"http://127.0.0.1:{port}", "run-1", max_reads=10, timeout_s=5)
    assert (r.checked, r.unknown, r.lost, r.ok) == (2, 2, 0, 0)


def test_time_budget_leaves_the_rest_unchecked(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    samples = _samples(tmp_path / "samples.parquet", _all_ids())
    r = check_durability(samples, _url(server), "run-1", max_reads=100, timeout_s=1e-9)
    assert (r.selected, r.checked, r.unchecked) == (10, 0, 10)
    assert server.seen == []  # type: ignore[attr-defined]


def test_only_loopback_targets_are_read(tmp_path: Path) -> None:
    samples = _samples(tmp_path / "samples.parquet", {"a": "ka"})
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        check_durability(samples, "http://192.0.2.1:80", "run-1", max_reads=1, timeout_s=1)


def test_samples_without_the_item_column_have_no_acked_write(tmp_path: Path) -> None:
    old = pa.table({"status": pa.array([201], pa.int32()), "name": ["POST /items"]})
    pq.write_table(old, tmp_path / "samples.parquet")
    assert load_acked(tmp_path / "samples.parquet") == []


def test_verify_run_records_its_own_failure(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    # no samples.parquet: the check cannot run; that is recorded, not raised
    spec = DurabilityCheck(timeout=2)
    r = verify_run(
        tmp_path, _url(server), "run-1", spec, ready_url=_url(server) + "items/ok0", seed=0
    )
    assert r.error is not None and "durability check failed" in r.error
    saved = json.loads((tmp_path / "durability.json").read_text())
    assert saved["error"] == r.error and saved["checked"] == 0


def test_write_result_round_trips(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    samples = _samples(tmp_path / "samples.parquet", _all_ids())
    r = check_durability(samples, _url(server), "run-1", max_reads=100, timeout_s=10)
    saved = json.loads(write_result(tmp_path, r).read_text())
    assert saved == json.loads(json.dumps(r.to_dict()))
    assert saved["ok"] + saved["lost"] + saved["corrupt"] + saved["unknown"] == saved["checked"]


def test_timed_out_writes_of_the_built_in_workload_are_counted_apart(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    # a 201 whose body timed out and a write with no answer: in doubt, never acked or lost
    buf = SampleBuffer()
    buf.append(0, 1000, 1.0, 201, "ok", 10, "POST /items", "ok0 run-1-0")
    buf.append(0, 1001, 500.0, 201, "timeout", 0, "POST /items", "? run-1-7")
    buf.append(0, 1002, 500.0, 0, "timeout", 0, "POST /items", "? run-1-8")
    buf.append(0, 1003, 1.0, 0, "reset", 0, "POST /items", "? run-1-9")  # not a timeout
    samples = tmp_path / "samples.parquet"
    pq.write_table(buf.drain("w0"), samples)
    r = check_durability(samples, _url(server), "run-1", max_reads=100, timeout_s=10)
    assert (r.acked, r.ok, r.lost) == (1, 1, 0)
    assert (r.timed_out, r.timed_out_unknown, r.timed_out_landed) == (2, 2, 0)
    assert r.notes == [
        "2 write(s) timed out; the built-in app has no read by key, so whether they landed"
        " is unknown"
    ]
