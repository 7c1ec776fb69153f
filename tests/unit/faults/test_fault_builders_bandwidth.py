"""bandwidth: the tc scripts run with sh against stub `ls` and `tc` (three interfaces, one lo)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stub_path import StubPath

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.bandwidth import Bandwidth, BandwidthFault, qdisc_scripts, rate_bits
from harness.faults.base import FaultContext
from harness.scenario.plan import PlannedFault

TARGET = Target(id="c1", name="app-1", service="app", number=1)


def _scripts(rate: str) -> dict[str, str]:
    spec = BandwidthFault.model_validate(
        {"type": "bandwidth", "target": {"service": "app"}, "at": 0, "for": 10, "rate": rate}
    )
    step = PlannedFault(0, 0, "bw-1", "bandwidth", spec, "app", (1,), 0.0, 10.0)
    return Bandwidth.scripts(step, TARGET, "ab12", FaultContext(project="p", run_id="r"))


class Netns(StubPath):
    """A fake netns: `ls` lists eth0, lo, eth1; `tc` logs its calls and keeps one root qdisc
    per interface in a file, as the kernel would."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.qdisc = folder / "qdisc"
        self.qdisc.mkdir()
        self.stub("ls", 'printf "eth0\\nlo\\neth1\\n"')
        self.stub(
            "tc",
            f'echo "tc $*" >> {self.log}\n'
            "dev=$4\n"
            'case "$2" in\n'
            f'  replace) shift 5; echo "qdisc $1 8001: root refcnt 2 $*" > {self.qdisc}/$dev;;\n'
            f"  del) [ -e {self.qdisc}/$dev ] || exit 2; rm {self.qdisc}/$dev;;\n"
            f"  show) cat {self.qdisc}/$dev 2>/dev/null"
            ' || echo "qdisc noqueue 0: root refcnt 2";;\n'
            "esac",
        )


@pytest.mark.parametrize(
    ("rate", "burst"),
    [
        ("8mbit", 20000),  # 8e6 bit/s / 8 = 1e6 B/s; 20 ms of it = 20 000 B
        ("1mbit", 4096),  # 2 500 B would be below tbf's floor of 4 096
        ("1gbit", 2_500_000),
    ],
)
def test_bandwidth_apply_puts_a_tbf_on_every_interface_but_lo(
    tmp_path: Path, rate: str, burst: int
) -> None:
    ns = Netns(tmp_path)
    assert ns.sh(_scripts(rate)["apply"]) == 0
    assert ns.calls() == [
        f"tc qdisc replace dev eth0 root tbf rate {rate} burst {burst} latency 400ms",
        f"tc qdisc replace dev eth1 root tbf rate {rate} burst {burst} latency 400ms",
    ]


def test_bandwidth_present_absent_and_revert_follow_the_qdiscs(tmp_path: Path) -> None:
    ns = Netns(tmp_path)
    s = _scripts("8mbit")
    assert ns.sh(s["present"]) != 0 and ns.sh(s["absent"]) == 0  # nothing applied yet
    ns.sh(s["apply"])
    assert ns.sh(s["present"]) == 0 and ns.sh(s["absent"]) != 0
    (ns.qdisc / "eth1").unlink()  # one interface lost its qdisc: neither present nor absent
    assert ns.sh(s["present"]) != 0 and ns.sh(s["absent"]) != 0
    ns.calls()
    assert ns.sh(s["revert"]) == 0  # eth1 has nothing to delete: not an error
    assert ns.calls() == ["tc qdisc del dev eth0 root", "tc qdisc del dev eth1 root"]
    assert ns.sh(s["present"]) != 0 and ns.sh(s["absent"]) == 0


def test_qdisc_checks_match_the_kind_as_a_whole_word(tmp_path: Path) -> None:
    """A netem check must not be satisfied by some other qdisc's line."""
    ns = Netns(tmp_path)
    ns.sh(qdisc_scripts("tbf rate 1mbit burst 4096 latency 400ms", "tbf")["apply"])
    netem = qdisc_scripts("netem delay 100.000ms", "netem")
    assert ns.sh(netem["present"]) != 0 and ns.sh(netem["absent"]) == 0
    ns.sh(netem["apply"])
    assert ns.sh(netem["present"]) == 0


def test_rate_bits_refuses_anything_but_a_tc_rate() -> None:
    with pytest.raises(FaultError) as err:
        rate_bits("1mbps")
    assert err.value.message == "refusing rate '1mbps': expected e.g. 256kbit or 1mbit"
