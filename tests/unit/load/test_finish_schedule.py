"""Before the run stops its load, it waits (bounded) until every worker's watermark has
passed the open schedule's end: the last arrivals are sent and their samples are in.

The driver's children are never spawned here: the master's start marker and the
workers' watermarks are written by hand, and time is a fake clock.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clock import FakeClock
from harness.load.chunks import write_watermark
from harness.load.driver import STARTED_MARKER, LoadDriver, LoadPlan
from harness.scenario.models import Load

T0 = 1_700_000_000.0  # the schedule's t0 (epoch s); it lasts 10 s, so it ends at T0 + 10
END_US = int((T0 + 10.0) * 1e6)


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoadDriver]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # private port locks
    (tmp_path / "tmp").mkdir()
    yield _driver(tmp_path / "out", Load(model="open", rps=10, timeout=2.0))


def _driver(out: Path, load: Load, workers: int = 2) -> LoadDriver:
    plan = LoadPlan("http://127.0.0.1:9", load, 10.0, 7, out, None, workers, "unit")
    d = LoadDriver(plan)
    d.samples_dir.mkdir(parents=True)
    marker = {"t0": T0, "started": T0 - 0.5, "workers": workers}
    (d.samples_dir / STARTED_MARKER).write_text(json.dumps(marker))
    assert d._started()  # what start() does once the master wrote the marker
    return d


def test_settled_at_once_when_every_worker_passed_the_end(driver: LoadDriver) -> None:
    write_watermark(driver.samples_dir, "w0", END_US)
    write_watermark(driver.samples_dir, "w1", END_US + 300_000)
    clock = FakeClock(wall=T0 + 10.2)
    assert driver.finish_schedule(clock) is True
    assert clock.sleeps == 0


def test_a_worker_behind_the_end_is_waited_for_then_given_up_on(driver: LoadDriver) -> None:
    write_watermark(driver.samples_dir, "w0", END_US)
    write_watermark(driver.samples_dir, "w1", END_US - 1)  # one µs short
    clock = FakeClock(wall=T0 + 9.0, mono=0.0)
    assert driver.finish_schedule(clock) is False
    # bound: 1 s to the end + the 2 s request timeout + two 1 s flushes = 5 s
    assert 5.0 <= clock.mono() <= 5.1 + 1e-9


def test_a_missing_worker_watermark_is_not_settled(driver: LoadDriver) -> None:
    write_watermark(driver.samples_dir, "w0", END_US + 5_000_000)  # w1 never wrote one
    clock = FakeClock(wall=T0 + 12.0, mono=0.0)
    assert driver.finish_schedule(clock) is False
    assert 2.0 <= clock.mono() <= 2.1 + 1e-9  # the end was 2 s ago: -2 + 2 + 2 = 2 s


def test_the_wait_ends_when_the_last_watermark_arrives(driver: LoadDriver) -> None:
    write_watermark(driver.samples_dir, "w0", END_US)

    class Arriving(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if self.mono() >= 1.45:  # w1's flush lands 1.45 s into the wait
                write_watermark(driver.samples_dir, "w1", END_US + 1)

    clock = Arriving(wall=T0 + 9.5, mono=0.0)
    assert driver.finish_schedule(clock) is True
    assert 1.45 <= clock.mono() < 1.55 + 1e-9  # the first 0.1 s poll after it


def test_a_closed_model_has_no_schedule_to_wait_for(tmp_path: Path) -> None:
    d = _driver(tmp_path / "closed", Load(model="closed", users=2))
    clock = FakeClock(wall=T0)
    assert d.finish_schedule(clock) is True
    assert clock.sleeps == 0
