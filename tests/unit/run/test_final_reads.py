"""The final reads of checks.consistency against a tiny local API, on virtual time.

Time is a FakeClock (it moves only when the code sleeps) and the history's
nanosecond clock a counter, so every figure below is counted by hand.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from harness.analysis.consistency.check import check_history
from harness.analysis.consistency.history import from_rows
from harness.clock import FakeClock
from harness.load.workloads.consistency_config import HISTORY_DIR, write_history_chunk
from harness.run.consistency import HISTORY_FILE, chunk_events, merge_history
from harness.run.final_reads import PHASE, history_keys, read_finally
from harness.scenario.consistency import ConsistencyCheck


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def _answer(self, status: int, doc: object) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, body: bytes) -> None:
        srv: Any = self.server
        with srv.lock:
            srv.seen.append((self.command, self.path, body))
            tries = srv.tries.setdefault(self.path, 0) + 1
            srv.tries[self.path] = tries
        key = self.path.rsplit("/", 1)[-1]
        if tries <= srv.busy.get(key, 0):
            return self._answer(503, {"error": "busy"})
        if key not in srv.values:
            return self._answer(404, {})
        if self.path.startswith("/list/"):
            return self._answer(200, {"elements": srv.values[key]})
        return self._answer(200, {"data": {"v": srv.values[key]}})

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))


@pytest.fixture
def server() -> Iterator[Any]:
    srv: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.seen, srv.tries = [], {}
    srv.values = {"a": "1", "b": "2"}
    srv.busy = {}  # key -> how many tries answer 503 before the real answer
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _spec(model: str = "register", **final: Any) -> ConsistencyCheck:
    ops: dict[str, Any] = {
        "read": {"path": "/kv/{key}", "value": "$.data.v"},
        "write": {"method": "PUT", "path": "/kv/{key}", "json": {"value": "{value}"}},
    }
    if model == "list-append":
        ops = {
            "read": {"path": "/list/{key}", "value": "$.elements"},
            "append": {"path": "/list/{key}", "json": {"element": "{value}"}},
        }
    return ConsistencyCheck.model_validate(
        {"model": model, **ops, "final_reads": {"settle": "2s", **final}}
    )


def _url(srv: Any) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def _read(
    tmp_path: Path, srv: Any, spec: ConsistencyCheck, keys: list[str], **kw: Any
) -> tuple[Any, list[dict[str, Any]], FakeClock]:
    clock = FakeClock(mono=100.0)
    ticks = count(1_000, 10)
    result = read_finally(
        tmp_path,
        spec,
        keys,
        _url(srv),
        "run1",
        read_timeout=2.0,
        clock=clock,
        now_ns=lambda: next(ticks),
        **kw,
    )
    return result, chunk_events(tmp_path), clock


def test_every_key_is_read_once_after_the_settle_time_and_recorded(
    tmp_path: Path, server: Any
) -> None:
    result, events, clock = _read(tmp_path, server, _spec(concurrency=1), ["a", "b", "c"])
    assert (result.keys, result.selected, result.ok, result.failed, result.unread) == (
        3,
        3,
        3,
        0,
        0,
    )
    assert result.tries == 3 and result.waited_s == 2.0  # the settle time, nothing else
    assert clock.mono() == 102.0
    assert sorted(p for _, p, _ in server.seen) == ["/kv/a", "/kv/b", "/kv/c"]
    invokes = [e for e in events if e["event"] == "invoke"]
    completes = [e for e in events if e["event"] == "complete"]
    assert [e["key"] for e in invokes] == ["a", "b", "c"]  # one reader: history order
    assert {e["phase"] for e in invokes} == {PHASE}
    assert len({e["process"] for e in invokes}) == 3  # each try its own process
    # the counter: invoke 1000, complete 1010, then 1020/1030, 1040/1050
    assert [e["invoke_ns"] for e in invokes] == [1000, 1020, 1040]
    assert [(e["type"], e["value"], e["complete_ns"]) for e in completes] == [
        ("ok", "1", 1010),
        ("ok", "2", 1030),
        ("ok", None, 1050),  # 404: missing, the key has no value
    ]


def test_a_failing_key_is_tried_again_after_a_pause_until_it_answers(
    tmp_path: Path, server: Any
) -> None:
    server.busy = {"a": 2}
    result, events, clock = _read(tmp_path, server, _spec(concurrency=1), ["a"])
    assert (result.ok, result.failed, result.tries) == (1, 0, 3)
    assert clock.mono() == 100.0 + 2.0 + 0.5 + 1.0  # settle, then two pauses (doubling)
    types = [e["type"] for e in events if e["event"] == "complete"]
    assert types == ["info", "info", "ok"]  # a 503 may or may not have read: info
    processes = [e["process"] for e in events if e["event"] == "invoke"]
    assert len(set(processes)) == 3


def test_a_key_that_never_answers_is_failed_after_its_attempts(tmp_path: Path, server: Any) -> None:
    server.busy = {"a": 99}
    result, _, _ = _read(tmp_path, server, _spec(concurrency=1, attempts=3), ["a", "b"])
    assert (result.ok, result.failed, result.unread, result.tries) == (1, 1, 0, 4)


def test_the_time_budget_leaves_keys_unread(tmp_path: Path, server: Any) -> None:
    # key a never answers: tries at t = 0, 0.5, 1.5, 3.5, 7.5, 11.5 (of the reads:
    # pauses 0.5, 1, 2, 4, then 4 at most), then the pause reaches the 12 s budget;
    # b is never tried
    server.busy = {"a": 99}
    spec = _spec(concurrency=1, attempts=100, timeout="12s")
    result, _, _ = _read(tmp_path, server, spec, ["a", "b"])
    assert (result.ok, result.failed, result.unread, result.tries) == (0, 1, 1, 6)
    assert result.elapsed_s == 12.0
    assert any("1 key(s) unread" in n for n in result.notes)


def test_max_keys_reads_the_first_keys_of_the_history(tmp_path: Path, server: Any) -> None:
    result, events, _ = _read(tmp_path, server, _spec(max_keys=2), ["b", "a", "c"])
    assert (result.keys, result.selected, result.ok) == (3, 2, 2)
    assert sorted(e["key"] for e in events if e["event"] == "invoke") == ["a", "b"]
    assert result.notes == ["1 key(s) past max_keys are not read"]


def test_a_signal_stops_the_final_reads(tmp_path: Path, server: Any) -> None:
    result, events, clock = _read(tmp_path, server, _spec(), ["a", "b"], cancelled=lambda: True)
    assert (result.ok, result.failed, result.unread, result.tries) == (0, 0, 2, 0)
    assert events == [] and server.seen == []
    assert clock.mono() == 100.0  # the settle wait ends at once too


def test_the_target_not_being_ready_is_noted_and_the_keys_are_read_anyway(
    tmp_path: Path, server: Any
) -> None:
    asked: list[float] = []

    def wait(timeout: float) -> float:
        asked.append(timeout)
        raise RuntimeError("not ready")

    result, _, _ = _read(tmp_path, server, _spec(timeout="90s"), ["a"], wait=wait)
    assert asked == [60.0]  # the ready wait is bounded too
    assert result.ok == 1
    assert result.notes == ["the target was not ready before the final reads: not ready"]


def test_the_final_reads_may_use_their_own_request(tmp_path: Path, server: Any) -> None:
    spec = _spec(
        read={
            "method": "POST",
            "path": "/kv/{key}",
            "json": {"run": "{run_id}", "who": "{process}"},
            "value": "$.data.v",
        }
    )
    result, events, _ = _read(tmp_path, server, spec, ["a"])
    assert result.ok == 1
    method, path, body = server.seen[0]
    assert (method, path) == ("POST", "/kv/a")
    assert json.loads(body) == {"run": "run1", "who": "final.0"}
    assert [e.get("value") for e in events if e["event"] == "complete"] == ["1"]


def test_list_reads_record_their_elements(tmp_path: Path, server: Any) -> None:
    server.values = {"l": ["5", "7"]}
    result, events, _ = _read(tmp_path, server, _spec("list-append"), ["l", "m"])
    assert result.ok == 2
    done = sorted(e["elements"] for e in events if e["event"] == "complete")
    assert done == [[], ["5", "7"]]  # m: 404, the empty list


def test_only_a_loopback_target_is_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not a 127\.0\.0\.1 URL"):
        read_finally(tmp_path, _spec(), ["a"], "http://10.1.2.3:80", "r", read_timeout=1.0)


def test_history_keys_are_the_workers_keys_first_seen_first() -> None:
    events = [
        {"event": "invoke", "key": "k2", "op": "1"},
        {"event": "complete", "op": "1"},
        {"event": "invoke", "key": "k1", "op": "2"},
        {"event": "invoke", "key": "k2", "op": "3"},
        {"event": "invoke", "key": "k9", "op": "4", "phase": PHASE},
    ]
    assert history_keys(events) == ["k2", "k1"]


def _worker_event(op: str, event: str, **row: Any) -> dict[str, Any]:
    return {"op": op, "event": event, **row}


def test_a_lost_append_is_judged_against_the_final_read(tmp_path: Path, server: Any) -> None:
    # the workers appended 5 and 7 (both acknowledged) and read [5] in between; the
    # final read finds only [5]: 7 is lost, and the witness is the final read
    rows = [
        _worker_event("w0:0", "invoke", process="w0.0", f="append", key="l", value="5",
                      invoke_ns=10),
        _worker_event("w0:0", "complete", type="ok", complete_ns=20, status=200),
        _worker_event("w0:1", "invoke", process="w0.0", f="read", key="l", invoke_ns=30),
        _worker_event("w0:1", "complete", type="ok", complete_ns=40, status=200,
                      elements=["5"]),
        _worker_event("w0:2", "invoke", process="w0.0", f="append", key="l", value="7",
                      invoke_ns=50),
        _worker_event("w0:2", "complete", type="ok", complete_ns=60, status=200),
    ]  # fmt: skip
    write_history_chunk(rows, tmp_path / "samples" / HISTORY_DIR, "w0", 0)
    server.values = {"l": ["5"]}
    keys = history_keys(chunk_events(tmp_path))
    result, _, _ = _read(tmp_path, server, _spec("list-append"), keys)
    assert result.ok == 1
    ops = from_rows(merge_history(tmp_path))
    assert (tmp_path / HISTORY_FILE).exists()
    assert [(o.f, o.final) for o in ops] == [
        ("append", False),
        ("read", False),
        ("append", False),
        ("read", True),
    ]
    checked = check_history(ops, "list-append")
    # the final read also missed a write that completed before it: a stale read too
    assert checked["anomalies"] == {"lost-append": 1, "stale-read": 1}
    assert checked["final_read_keys"] == 1
    (witness,) = [w for w in checked["witnesses"] if w["kind"] == "lost-append"]
    assert witness["text"] == (
        "append(l, 7) was acknowledged, and the key's final read (after the faults) lacks it"
    )
    assert [o["text"] for o in witness["ops"]] == ["append(l, 7)", "read(l) → [5]"]
    assert witness["ops"][1]["final"] is True


def test_a_lost_write_shows_as_a_stale_final_read_with_a_witness(
    tmp_path: Path, server: Any
) -> None:
    # acknowledged writes of 1 then 2 (no read during the load: nothing to judge);
    # the store kept 1 after the faults: the final read is stale by 1 version
    rows = [
        _worker_event("w0:0", "invoke", process="w0.0", f="write", key="a", value="1",
                      invoke_ns=10),
        _worker_event("w0:0", "complete", type="ok", complete_ns=20, status=200),
        _worker_event("w0:1", "invoke", process="w0.1", f="write", key="a", value="2",
                      invoke_ns=30),
        _worker_event("w0:1", "complete", type="ok", complete_ns=40, status=200),
    ]  # fmt: skip
    write_history_chunk(rows, tmp_path / "samples" / HISTORY_DIR, "w0", 0)
    server.values = {"a": "1"}
    result, _, _ = _read(tmp_path, server, _spec(), history_keys(chunk_events(tmp_path)))
    assert result.ok == 1
    checked = check_history(from_rows(merge_history(tmp_path)), "register")
    assert checked["anomalies"] == {"non-linearizable": 1, "stale-read": 1}
    (stale,) = [w for w in checked["witnesses"] if w["kind"] == "stale-read"]
    assert [o["text"] for o in stale["ops"]] == ["write(a, 2)", "read(a) → 1"]
    assert stale["ops"][1]["final"] is True and stale["behind_versions"] == 1
