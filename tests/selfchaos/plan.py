"""The seeded list of kill points: (scenario, stage to kill in, offset inside it).

Every fault type gets kill points in its own stages (apply; for windowed faults
also active and revert). The stages every run has (deploy, readiness, warmup,
teardown, report, and a random moment) are spread over the scenarios round-robin
in a seeded order, so a long run covers each (stage, fault type) pair over seeds.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

# Faults that happen at once and heal by themselves: no window, no revert.
INSTANT = frozenset({"crash", "restart", "rolling-restart"})
FAULT_STAGES = ("apply", "active", "revert")
COMMON_STAGES = ("deploy", "readiness", "warmup", "teardown", "report", "random")

# Once the stage is reached, wait a seeded time in [lo, hi) seconds before SIGKILL.
# Ranges are chosen to land inside each stage as these short scenarios play it
# (deploy ~8 s, warmup 2 s, a fault window 3 s; apply/revert last 0.1-2 s).
OFFSETS: dict[str, tuple[float, float]] = {
    "deploy": (0.0, 3.0),
    "readiness": (0.0, 0.4),
    "warmup": (0.0, 1.6),
    "apply": (0.0, 0.02),
    "active": (0.2, 2.0),
    "revert": (0.0, 0.02),
    "teardown": (0.0, 2.0),
    "report": (0.0, 0.3),
    "random": (0.0, 25.0),  # from the start of the process
}


@dataclass(frozen=True)
class KillPoint:
    """One case of the driver."""

    seed: int
    scenario: str  # file name under scenarios/, without .yaml
    fault: str  # fault type
    stack: str  # web-ha | web-single | web-swarm
    stage: str  # stage to kill in (or "random")
    offset: float  # s after the stage was reached (after process start for "random")
    cleanup_kills: int  # how many cleanups to SIGKILL before the one that must finish

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def scenario_info(name: str) -> tuple[str, str]:
    """(fault type, stack) of one of the driver's scenarios."""
    data = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text())
    compose = str(data["stack"]["compose"])
    stack = next((s for s in ("web-swarm", "web-ha") if s in compose), "web-single")
    return str(data["faults"][0]["type"]), stack


def needs_swarm(points: list[KillPoint]) -> bool:
    """Whether a run of ``points`` inits and leaves a swarm (the driver then holds the
    machine's swarm lock, and counts the swarm and its networks as its own)."""
    return any(p.stack == "web-swarm" for p in points)


def scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def full_plan(seed: int, *, scenario_names: list[str] | None = None) -> list[KillPoint]:
    """Every fault stage of every scenario, plus the common stages spread round-robin.

    With the 21 scenarios here: 18 windowed x 3 + 3 instant x 1 = 57 fault-stage
    points, and 3 rounds of the 6 common stages = 18: 75 kill points.
    """
    rng = random.Random(seed)
    names = scenario_names or scenarios()
    pairs: list[tuple[str, str]] = []
    for name in names:
        fault, _ = scenario_info(name)
        stages = ("apply",) if fault in INSTANT else FAULT_STAGES
        pairs += [(name, s) for s in stages]
    order = names[:]
    rng.shuffle(order)
    rounds = 3
    for r in range(rounds):
        for i, stage in enumerate(COMMON_STAGES):
            pairs.append((order[(r * len(COMMON_STAGES) + i) % len(order)], stage))
    return [_point(rng, seed, name, stage) for name, stage in pairs]


def subset_plan(seed: int) -> list[KillPoint]:
    """The fast subset for `make test`: 8 kill points over 4 fault types, short stages."""
    rng = random.Random(seed)
    pairs = [
        ("ha-kill", "active"),
        ("ha-kill", "deploy"),
        ("ha-pause", "revert"),
        ("ha-pause", "readiness"),
        ("ha-partition", "apply"),
        ("ha-partition", "active"),
        ("single-disk", "active"),
        ("single-disk", "warmup"),
    ]
    return [_point(rng, seed, name, stage) for name, stage in pairs]


def swarm_plan(seed: int) -> list[KillPoint]:
    """The Swarm points (``--swarm``): a run that created a swarm, killed while it deploys,
    while a task is killed and while it tears down; cleanup must also leave that swarm
    and remove the docker_gwbridge network it made."""
    rng = random.Random(seed)
    stages = ("deploy", "readiness", "active", "revert", "teardown")
    return [_point(rng, seed, "swarm-kill", stage) for stage in stages]


def _point(rng: random.Random, seed: int, name: str, stage: str) -> KillPoint:
    lo, hi = OFFSETS[stage]
    fault, stack = scenario_info(name)
    # One cleanup in three is itself SIGKILLed mid-way, then run again.
    kills = 1 if rng.random() < 1 / 3 else 0
    return KillPoint(seed, name, fault, stack, stage, round(rng.uniform(lo, hi), 3), kills)
