"""The soak scenarios (scenarios/soak/): valid, tagged `soak` only, long, and explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run.validate import validate_file

ROOT = Path(__file__).resolve().parents[3]
SOAKS = sorted((ROOT / "scenarios" / "soak").glob("*.yaml"))


def test_there_is_a_soak() -> None:
    assert [p.stem for p in SOAKS] == ["soak-web-ha"]


@pytest.mark.parametrize("path", SOAKS, ids=lambda p: p.stem)
def test_a_soak_is_in_no_suite_of_the_library(path: Path) -> None:
    sc, _ = validate_file(path)
    assert sc.name == path.stem
    assert "soak" in sc.tags
    assert not {"smoke", "nightly", "release"} & set(sc.tags)  # an hour is not a suite's
    assert "Expected verdict: PASS" in path.read_text(encoding="utf-8")


def test_soak_web_ha_is_an_hour_at_300_rps_with_a_fault_every_ten_minutes() -> None:
    sc, _ = validate_file(ROOT / "scenarios" / "soak" / "soak-web-ha.yaml")
    assert sc.timing.duration == 3600.0
    assert (sc.load.model, sc.load.rps) == ("open", 300.0)
    (fault,) = sc.faults
    assert (fault.at, fault.repeat, fault.every) == (300.0, 6, 600.0)
