"""How much load generator a rate needs, from a step where the generator was the limit.

One Locust worker process sustains some rate per core. A step where a worker
ran flat out (or fell behind its schedule) shows that rate: ``rate / workers``
at ``cpu_max`` % of a core. Scaled to a comfortable ``TARGET_CPU`` it gives the
workers the goal rate needs, as local processes up to the machine's cores and
the rest as workers on other machines (docs/load.md#distributed-workers).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

TARGET_CPU = 75.0  # % of a core a worker should run at to keep its schedule


class GeneratorAdvice(BaseModel):
    """Workers needed to offer ``goal_rps`` without being the limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goal_rps: float
    per_worker_rps: float  # what one worker carries at TARGET_CPU
    workers: int  # in all
    local: int  # of them, processes on this machine (one per core)
    remote: int  # on other machines

    def text(self) -> str:
        """One sentence for the reports."""
        where = f"{self.local} load process(es) here (load.processes)"
        if self.remote:
            where += f" and {self.remote} worker(s) on other machines"
        return (
            f"to offer {self.goal_rps:g}/s, run {self.workers} load workers: {where};"
            f" one carried about {self.per_worker_rps:.0f}/s"
        )


def advise(
    rate: float, workers: int, cpu_max: float, goal_rps: float, cores: int
) -> GeneratorAdvice:
    """Workers needed for ``goal_rps``, from a step at ``rate`` with ``workers`` workers
    whose busiest ran at ``cpu_max`` % of a core, on a machine with ``cores`` cores.

    A worker that was not busy (late for another reason: a loaded host) is not scaled
    up: what it carried is taken as its limit.
    """
    if rate <= 0 or workers < 1 or cores < 1:
        raise ValueError("advise needs a positive rate, workers and cores")
    per_worker = rate / workers * TARGET_CPU / max(cpu_max, TARGET_CPU)
    needed = max(math.ceil(goal_rps / per_worker - 1e-9), workers + 1)
    local = min(needed, cores)
    return GeneratorAdvice(
        goal_rps=goal_rps,
        per_worker_rps=per_worker,
        workers=needed,
        local=local,
        remote=needed - local,
    )
