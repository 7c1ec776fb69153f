"""The start gate between a pre-spawned load and its release (harness.load.gate)."""

from __future__ import annotations

from pathlib import Path

from harness.load.gate import POLL_S, Go, open_gate, read_gate, wait_gate


class FakeTime:
    """Virtual epoch clock; sleeping advances it, and may open the gate at a given time."""

    def __init__(self, gate: Path, opens_at: float | None) -> None:
        self.t = 1000.0
        self.gate, self.opens_at = gate, opens_at
        self.sleeps = 0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += seconds
        if self.opens_at is not None and self.t >= self.opens_at and not self.gate.exists():
            open_gate(self.gate, Go("http://127.0.0.1:5000", '{"target_url":"x"}'))


def test_a_closed_gate_reads_as_none_and_an_open_one_round_trips(tmp_path: Path) -> None:
    gate = tmp_path / "go.json"
    assert read_gate(gate) is None
    open_gate(gate, Go("http://127.0.0.1:5000", '{"a":1}'))
    assert read_gate(gate) == Go("http://127.0.0.1:5000", '{"a":1}')
    assert not (tmp_path / "go.json.tmp").exists()  # written aside, then renamed


def test_a_half_written_or_foreign_file_counts_as_closed(tmp_path: Path) -> None:
    gate = tmp_path / "go.json"
    gate.write_text('{"target_url": "http://x"')  # truncated JSON
    assert read_gate(gate) is None
    gate.write_text('{"other": 1}')
    assert read_gate(gate) is None


def test_wait_returns_the_go_once_the_gate_opens(tmp_path: Path) -> None:
    gate = tmp_path / "go.json"
    clock = FakeTime(gate, opens_at=1000.49)
    go = wait_gate(gate, deadline=1010.0, sleep=clock.sleep, now=clock.now)
    assert go == Go("http://127.0.0.1:5000", '{"target_url":"x"}')
    assert clock.sleeps == 10  # opens between the 9th and 10th poll of 0.05 s
    assert POLL_S == 0.05


def test_wait_gives_up_at_the_deadline(tmp_path: Path) -> None:
    gate = tmp_path / "go.json"
    clock = FakeTime(gate, opens_at=None)
    assert wait_gate(gate, deadline=1001.0, sleep=clock.sleep, now=clock.now) is None
    assert 1001.0 <= clock.t < 1001.0 + POLL_S + 1e-9  # stopped at the first poll past it


def test_an_already_open_gate_returns_without_sleeping(tmp_path: Path) -> None:
    gate = tmp_path / "go.json"
    open_gate(gate, Go("http://h:1", "{}"))
    clock = FakeTime(gate, opens_at=None)
    assert wait_gate(gate, deadline=0.0, sleep=clock.sleep, now=clock.now) == Go("http://h:1", "{}")
    assert clock.sleeps == 0
