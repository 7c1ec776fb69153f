"""The plain, JSON-portable load settings handed from the driver to the Locust children.

The children get these as the ``--hachaos-config`` argument of the master;
Locust forwards custom arguments to every worker in its spawn message, so a
worker on another machine learns the same settings without a shared file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# A request that starts later than this after its intended time counts as late.
LATE_TOLERANCE_MS = 10.0


@dataclass(frozen=True)
class StageSpec:
    """One stage of the load shape (users or requests/s)."""

    kind: str  # ramp | step | spike
    target: float
    duration: float


@dataclass(frozen=True)
class LoadConfig:
    """Everything a Locust child needs to know about the run."""

    target_url: str
    model: str  # open | closed
    total_seconds: float
    run_id: str
    seed: int = 0
    users: int | None = None
    spawn_rate: float = 10.0
    rps: float | None = None
    arrivals: str = "uniform"  # open model: uniform | poisson
    stages: tuple[StageSpec, ...] = ()
    mix: tuple[float, float, float] = (70.0, 20.0, 10.0)  # read, write, read_item
    timeout: float = 2.0
    think_time: float = 0.0
    workers: int = 1
    late_tolerance_ms: float = LATE_TOLERANCE_MS
    max_in_flight: int | None = None  # open model, per worker; None = derived
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise for the command line of the master."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LoadConfig:
        """Inverse of :meth:`to_json`."""
        raw = json.loads(text)
        raw["stages"] = tuple(StageSpec(**s) for s in raw.get("stages", ()))
        raw["mix"] = tuple(raw.get("mix", (70.0, 20.0, 10.0)))
        return cls(**raw)

    def peak_level(self) -> float:
        """The highest users or requests/s the shape ever asks for."""
        base = (self.rps if self.model == "open" else self.users) or 0.0
        return max([float(base), *(s.target for s in self.stages)])

    def in_flight_cap(self) -> int:
        """Open model: requests one worker may have outstanding before it drops new ones.

        A fully stalled target holds every request for ``timeout`` seconds, so
        ``peak rate x timeout`` in flight is what the schedule needs; above
        that (with headroom) the generator itself is the bottleneck.
        """
        if self.max_in_flight is not None:
            return self.max_in_flight
        per_worker = self.peak_level() * self.timeout / max(self.workers, 1)
        return int(per_worker * 1.5) + 16
