"""The Locust master's port is reserved (flock) from the driver's creation until stop(), so
another hachaos run starting at the same moment never picks it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from harness.errors import EngineError
from harness.load.driver import LoadDriver, LoadPlan
from harness.ports import reserve_loopback_port
from harness.scenario.models import Load


def test_the_master_port_is_held_until_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # private lock folder
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out").mkdir()
    plan = LoadPlan(
        target_url="http://127.0.0.1:9",
        load=Load(model="open", rps=1, timeout=0.5),
        total_seconds=1.0,
        seed=7,
        out_dir=tmp_path / "out",
        locustfile=None,
        workers=1,
        run_id="unit",
    )
    driver = LoadDriver(plan)
    port = driver.master_port
    # another process proposing the same number is refused while the driver holds it
    with pytest.raises(EngineError):
        reserve_loopback_port(candidates=lambda: port)
    driver.stop(timeout=1.0)  # nothing was started: stop only releases and merges
    again = reserve_loopback_port(candidates=lambda: port)
    assert again.port == port
    again.release()
