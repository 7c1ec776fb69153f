"""Two runs at once never collide: reserved ports and journal lines."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import EngineError
from harness.evidence.journal import Journal, append_to
from harness.ports import port_taken, reserve_loopback_port

FORK = multiprocessing.get_context("fork")


def _reserve_and_hold(folder: str, count: int, barrier: Any, out: Any) -> None:
    barrier.wait()
    held = [reserve_loopback_port(Path(folder)) for _ in range(count)]
    out.put([r.port for r in held])
    barrier.wait()  # hold every reservation until all processes reported theirs


def test_concurrent_reservations_never_share_a_port(
    tmp_path: Path, fan_out: Callable[..., list[Any]]
) -> None:
    procs, per_proc = 4, 10
    ports = fan_out(_reserve_and_hold, (str(tmp_path), per_proc), procs)
    assert len(ports) == procs * per_proc
    assert len(set(ports)) == len(ports)


def _from(numbers: list[int]) -> Any:
    it: Iterator[int] = iter(numbers)
    return lambda: next(it)


def _reserve_in_child(folder: str, numbers: list[int], out: Any) -> None:
    out.put(reserve_loopback_port(Path(folder), candidates=_from(numbers)).port)


def _in_child(folder: Path, numbers: list[int]) -> int:
    out = FORK.Queue()
    child = FORK.Process(target=_reserve_in_child, args=(str(folder), numbers, out))
    child.start()
    port = int(out.get(timeout=30))
    child.join(timeout=30)
    return port


def test_a_held_port_is_never_handed_to_another_process(tmp_path: Path) -> None:
    mine = reserve_loopback_port(tmp_path)
    # Even when it is proposed first (as the kernel may do once the run's own
    # container is down), another process skips the held port.
    assert _in_child(tmp_path, [mine.port, mine.port, 1]) == 1
    mine.release()
    assert not mine.held
    assert _in_child(tmp_path, [mine.port]) == mine.port


def _hold_forever(folder: str, port: int, out: Any) -> None:
    held = reserve_loopback_port(Path(folder), candidates=_from([port]))
    out.put("held")
    signal.pause()
    held.release()  # never reached: the test kills this process


def test_a_killed_run_frees_its_reservation(tmp_path: Path) -> None:
    out = FORK.Queue()
    child = FORK.Process(target=_hold_forever, args=(str(tmp_path), 7, out))
    child.start()
    assert out.get(timeout=30) == "held"
    with pytest.raises(EngineError, match="no free loopback port"):
        reserve_loopback_port(tmp_path, candidates=lambda: 7)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)  # no cleanup code runs; the kernel drops the lock
    child.join(timeout=30)
    assert reserve_loopback_port(tmp_path, candidates=lambda: 7).port == 7


def test_the_lock_folder_must_be_a_real_folder(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(EngineError, match="not a folder owned by this user"):
        reserve_loopback_port(tmp_path / "link")


def test_port_taken_reads_the_engines_messages() -> None:
    docker = (
        "Error response from daemon: driver failed programming external connectivity on"
        " endpoint p-lb-1: Bind for 127.0.0.1:41234 failed: port is already allocated"
    )
    proxy = "listen tcp4 127.0.0.1:41234: bind: address already in use"
    assert port_taken(docker, 41234) and port_taken(proxy, 41234)
    assert not port_taken(docker, 4123)  # another port: not ours to retry
    assert not port_taken("Bind for 127.0.0.1:41234 failed: no space left", 41234)


# ---------------------------------------------------------------- journal lines
_BIG = "x" * 200_000  # far above a pipe's atomic size, and a page or more


def _append_many(path: str, who: str, count: int, barrier: Any = None) -> None:
    if barrier is not None:
        barrier.wait()
    for n in range(count):
        append_to(Path(path), {"op": "note", "who": who, "n": n, "pad": _BIG})


def test_concurrent_journal_appends_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    journal = Journal("r", "p", [path])
    # Fork first, while no thread holds a lock on the file, then start together.
    barrier = FORK.Barrier(3 + 1)
    procs = [
        FORK.Process(target=_append_many, args=(str(path), f"p{i}", 10, barrier)) for i in range(3)
    ]
    for proc in procs:
        proc.start()
    threads = [
        threading.Thread(target=_append_many, args=(str(path), f"t{i}", 10)) for i in range(4)
    ]
    barrier.wait()
    for thread in threads:
        thread.start()
    for n in range(10):  # the run's own writer, at the same time
        journal.mark("revert", n, pad=_BIG)
    for thread in threads:
        thread.join(timeout=60)
    for proc in procs:
        proc.join(timeout=60)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(entries) == 1 + 10 + 4 * 10 + 3 * 10  # open + marks + threads + processes
    notes = sorted((e["who"], e["n"]) for e in entries if e["op"] == "note")
    who = [f"t{i}" for i in range(4)] + [f"p{i}" for i in range(3)]
    assert notes == sorted((w, n) for w in who for n in range(10))
    assert all(len(e["pad"]) == len(_BIG) for e in entries if e["op"] != "open")
