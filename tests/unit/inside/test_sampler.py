"""The container sampler over a scripted ContainerStats source, on virtual time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq

from harness.engine.stats import ContainerStats, StackContainer, StatsReading
from harness.records import CONTAINER_COLUMNS
from harness.run.clock import FakeClock
from harness.run.sampler import ContainerSampler, cpu_pct


def reading(wall: float, cpu_s: float, mem: int = 100) -> StatsReading:
    return StatsReading(wall, int(cpu_s * 1e9), mem, 1000, 10, 20, 30, 40, 5)


class Scripted:
    """Containers by round, and the readings each stream yields."""

    def __init__(self) -> None:
        self.state = "running"
        self.streams: dict[str, list[StatsReading]] = {}
        self.restarts = 0
        self.inspected = 0

    def stack_containers(self) -> list[StackContainer]:
        return [StackContainer("abc123def4567890", "app", 2, self.state, "healthy", "Up", ())]

    def stats_stream(self, container_id: str) -> Iterator[StatsReading]:
        yield from self.streams.pop(container_id, [])

    def restart_count(self, container_id: str) -> int | None:
        self.inspected += 1
        return self.restarts


def inline(follow: Callable[[], None], _cid: str) -> threading.Thread:
    follow()  # the stream's readings are taken in at once; the "thread" has ended
    return threading.Thread()


def test_cpu_percent_is_cpu_time_over_wall_time() -> None:
    assert cpu_pct(reading(10.0, 1.0), reading(12.0, 2.0)) == 50.0  # 1 s of CPU in 2 s
    assert cpu_pct(None, reading(12.0, 2.0)) is None
    assert cpu_pct(reading(12.0, 2.0), reading(12.0, 3.0)) is None  # same instant
    assert cpu_pct(reading(10.0, 5.0), reading(12.0, 1.0)) is None  # counter restarted


def test_rows_follow_the_container_through_a_stop(tmp_path: Path) -> None:
    clock = FakeClock(wall=100.0)
    src = Scripted()
    assert isinstance(src, ContainerStats)
    sampler = ContainerSampler(src, tmp_path, clock=clock, start_stream=inline)
    src.streams["abc123def4567890"] = [reading(99.5, 1.0)]
    sampler.sample_round()  # first reading: no CPU yet
    clock.advance(1.0)
    src.streams["abc123def4567890"] = [reading(100.5, 1.25, mem=300)]
    sampler.sample_round()  # 0.25 s CPU in 1 s -> 25 %
    clock.advance(1.0)
    src.state = "exited"
    sampler.sample_round()  # stopped: no values
    sampler.stop()
    rows = pq.read_table(tmp_path / "containers.parquet").to_pylist()
    assert tuple(rows[0]) == CONTAINER_COLUMNS
    assert [r["wall"] for r in rows] == [100.0, 101.0, 102.0]
    assert [r["cpu_pct"] for r in rows] == [None, 25.0, None]
    assert [r["mem_bytes"] for r in rows] == [100, 300, None]
    assert [r["state"] for r in rows] == ["running", "running", "exited"]
    assert rows[1]["service"] == "app" and rows[1]["replica"] == 2
    assert rows[1]["container"] == "abc123def456"
    assert rows[1]["net_rx"] == 10 and rows[1]["blk_write"] == 40 and rows[1]["pids"] == 5


def test_a_stale_reading_is_not_used(tmp_path: Path) -> None:
    clock = FakeClock(wall=100.0)
    src = Scripted()
    sampler = ContainerSampler(src, tmp_path, clock=clock, start_stream=inline)
    src.streams["abc123def4567890"] = [reading(100.0, 1.0)]
    sampler.sample_round()
    clock.advance(3.5)  # no new reading for 3.5 rounds: more than STALE_AFTER intervals
    sampler.sample_round()
    assert [r["mem_bytes"] for r in sampler.rows] == [100, None]


def test_restart_counts_are_asked_on_a_change_or_every_ten_seconds(tmp_path: Path) -> None:
    clock = FakeClock(wall=100.0)
    src = Scripted()
    hold = threading.Event()

    def alive(_follow: Callable[[], None], _cid: str) -> threading.Thread:
        t = threading.Thread(target=hold.wait, daemon=True)  # a stream that has not ended
        t.start()
        return t

    sampler = ContainerSampler(src, tmp_path, clock=clock, start_stream=alive)
    src.restarts = 2
    try:
        for _ in range(12):  # t = 0 .. 11 s
            sampler.sample_round()
            clock.advance(1.0)
        assert src.inspected == 2  # at t = 0 and at t = 10 (RECHECK_S)
        src.state = "restarting"
        src.restarts = 3
        sampler.sample_round()  # a state change: asked at once
        assert src.inspected == 3
        assert [r["restarts"] for r in sampler.rows] == [2] * 12 + [3]
    finally:
        hold.set()


def test_an_ended_stream_triggers_a_restart_check(tmp_path: Path) -> None:
    src = Scripted()
    sampler = ContainerSampler(src, tmp_path, clock=FakeClock(), start_stream=inline)
    for _ in range(3):
        sampler.sample_round()  # the inline stream ends at once: a restart may have happened
    assert src.inspected == 3


def test_stop_writes_an_empty_file_when_nothing_was_sampled(tmp_path: Path) -> None:
    sampler = ContainerSampler(Scripted(), tmp_path, clock=FakeClock(), start_stream=inline)
    sampler.stop()
    assert pq.read_table(tmp_path / "containers.parquet").num_rows == 0
