"""`hachaos worker --master HOST:PORT` and `load.workers.remote.listen` addresses."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.load.worker import parse_master
from harness.scenario.workers import check_bind_address, split_listen


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("10.0.0.5:6000", ("10.0.0.5", 6000)),
        ("10.0.0.5", ("10.0.0.5", 5557)),
        ("loadbox.example:5558", ("loadbox.example", 5558)),
        ("[fd00::5]:6000", ("fd00::5", 6000)),
        ("fd00::5", ("fd00::5", 5557)),
    ],
)
def test_master_addresses(text: str, want: tuple[str, int]) -> None:
    assert parse_master(text) == want


@pytest.mark.parametrize("text", ["", ":5557", "10.0.0.5:0", "10.0.0.5:99999", "a b:1", "h;x:1"])
def test_bad_master_addresses_are_refused(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_master(text)


def test_listen_takes_an_ip_address_and_a_port() -> None:
    assert split_listen("10.0.0.5:5557") == ("10.0.0.5", 5557)
    assert split_listen("[fd00::1]:80") == ("fd00::1", 80)
    assert check_bind_address("0.0.0.0") == "0.0.0.0"  # all interfaces only when written
    for bad in ("10.0.0.5", "myhost:5557", "10.0.0.5:0", "10.0.0.5:x"):
        with pytest.raises(ValueError):
            split_listen(bad)
