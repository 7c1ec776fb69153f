"""`hachaos plan` lists the stop conditions and steady-state probes under the timeline."""

from __future__ import annotations

from harness.cli.plan_cmd import guard_lines
from harness.faults.catalog import Scenario

BASE = {
    "version": 1,
    "name": "p",
    "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:1/"},
    "load": {"model": "open", "rps": 1},
    "timing": {"duration": "40s"},
}


def test_guard_lines() -> None:
    scenario = Scenario.model_validate(
        {
            **BASE,
            "abort": {
                "conditions": [
                    {"type": "error_rate", "above": "20%", "over": "5s"},
                    {"type": "command", "argv": ["./lag.sh", "-q"], "failures": 2},
                ]
            },
            "steady_state": {"probes": [{"path": "/health"}, {"name": "jobs", "path": "/q"}]},
        }
    )
    assert guard_lines(scenario) == [
        "abort when (t = 0 … 40s): error rate > 20% over 5s",
        "abort when (t = 0 … 40s): command ./lag.sh -q failed 2x in a row",
        "steady state (before the first fault and after the cooldown): /health",
        "steady state (before the first fault and after the cooldown): jobs",
    ]
    assert guard_lines(Scenario.model_validate(BASE)) == []
