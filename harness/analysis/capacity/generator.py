"""How much load generator a rate needs, from a step where the generator was the limit.

Two cases, told apart by the busiest worker's CPU:

- a worker ran flat out (at least ``SATURATED_CPU`` % of a core): the step shows
  what one worker sustains, ``rate / workers`` at ``cpu_max`` %; scaled to a
  comfortable ``TARGET_CPU`` it gives the workers the goal rate needs, as local
  processes up to the machine's cores and the rest as workers on other machines
  (docs/load.md#distributed-workers);
- no worker was busy, yet requests went out late: the host itself was short of
  CPU (other processes, the stack under test), so more workers on it would not
  help; the load must run on a quieter host or on other machines.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

TARGET_CPU = 75.0  # % of a core a worker should run at to keep its schedule
SATURATED_CPU = 90.0  # at or above: the worker itself was the limit


class GeneratorAdvice(BaseModel):
    """What it takes to offer ``goal_rps`` without the generator being the limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goal_rps: float
    per_worker_rps: float  # what one worker carries at TARGET_CPU (busy worker) or carried
    workers: int  # in all
    local: int  # of them, processes on this machine (one per core)
    remote: int  # on other machines
    busy_host: bool  # no worker was busy: the host was short of CPU
    cpu_max: float
    host_load: float | None  # 1-minute load average at the step's end
    cores: int

    def text(self) -> str:
        """One sentence for the reports."""
        if self.busy_host:
            load = "" if self.host_load is None else f" (load average {self.host_load:.1f}"
            load += "" if self.host_load is None else f" on {self.cores} cores)"
            return (
                f"the load workers were not busy (at most {self.cpu_max:.0f} % CPU) yet sent"
                f" late: the host was short of CPU{load}; run the load on a quieter host, or"
                " as workers on other machines (docs/load.md#distributed-workers)"
            )
        where = f"{self.local} load process(es) here (load.processes)"
        if self.remote:
            where += f" and {self.remote} worker(s) on other machines"
        return (
            f"to offer {self.goal_rps:g}/s, run {self.workers} load workers: {where};"
            f" one carried about {self.per_worker_rps:.0f}/s"
        )


def advise(
    rate: float,
    workers: int,
    cpu_max: float,
    goal_rps: float,
    cores: int,
    host_load: float | None = None,
) -> GeneratorAdvice:
    """Workers needed for ``goal_rps``, from a step at ``rate`` with ``workers`` workers
    whose busiest ran at ``cpu_max`` % of a core, on a machine with ``cores`` cores."""
    if rate <= 0 or workers < 1 or cores < 1:
        raise ValueError("advise needs a positive rate, workers and cores")
    busy_host = cpu_max < SATURATED_CPU
    per_worker = rate / workers * TARGET_CPU / max(cpu_max, TARGET_CPU)
    needed = max(math.ceil(goal_rps / per_worker - 1e-9), workers + 1)
    local = min(needed, cores)
    return GeneratorAdvice(
        goal_rps=goal_rps,
        per_worker_rps=per_worker,
        workers=needed,
        local=local,
        remote=needed - local,
        busy_host=busy_host,
        cpu_max=cpu_max,
        host_load=host_load,
        cores=cores,
    )
