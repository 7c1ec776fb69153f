"""Waits of the driver on its workers: all joined (remote ones) and all past the schedule.

Both read only files the Locust children write (the master's roster, the workers'
watermarks); both are bounded in time and say what they saw when the bound ran out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.errors import LoadError
from harness.load.children import log_tail
from harness.load.chunks import read_watermarks
from harness.load.roster import Roster, WorkerEntry


@dataclass(frozen=True)
class JoinWait:
    """What waiting for the workers to join needs."""

    expected: int
    timeout: float
    address: str  # the master's HOST:PORT, for the messages
    master_log: Path
    read_roster: Callable[[], Roster]
    master_ended: Callable[[], str | None]  # how the master ended, None while it runs
    explain_missing: Callable[[list[WorkerEntry]], str] | None = None


def wait_joined(wait: JoinWait, clock: Clock = REAL_CLOCK) -> None:
    """Return once exactly ``expected`` workers joined and had their clock measured;
    LoadError naming what joined (and what an engine says of the rest) otherwise."""
    roster = Roster()

    def ready() -> bool:
        nonlocal roster
        ended = wait.master_ended()
        if ended is not None:
            raise LoadError(
                f"the load master {ended} while waiting for its workers:\n"
                f"{log_tail(wait.master_log)}",
                hint=f"full logs in {wait.master_log.parent}",
            )
        roster = wait.read_roster()
        return len(roster.synced()) >= wait.expected

    if poll_until(ready, wait.timeout, 0.25, clock):
        joined = roster.joined()
        if len(joined) > wait.expected:
            names = ", ".join(w.describe() for w in joined)
            raise LoadError(
                f"{len(joined)} load workers joined the master, {wait.expected} expected "
                f"({names}): an unexpected worker would send part of the schedule",
                hint=f"stop the extra workers; the master listens on {wait.address}",
            )
        return
    joined = roster.joined()
    missing = wait.expected - len(joined)
    names = ", ".join(f"{w.describe()} (clock {w.clock()})" for w in joined) or "none"
    why = wait.explain_missing(joined) if wait.explain_missing is not None else ""
    raise LoadError(
        f"{missing} of {wait.expected} load workers did not join the master on "
        f"{wait.address} within {wait.timeout:.0f} s; joined: {names}"
        + (f"; {why}" if why else ""),
        hint="check that every worker can reach that address (docs/load.md#distributed-"
        f"workers); the master's log: {wait.master_log}",
    )


def wait_schedule_done(
    samples_dir: Path,
    workers: int,
    until_wall: float,
    grace: float,
    lost: Callable[[], bool],
    clock: Clock = REAL_CLOCK,
) -> bool:
    """Wait until every one of ``workers`` vouched (its watermark) for all it sent before
    ``until_wall``, the schedule's end, at most until ``grace`` s after that end.

    True once settled, or at once when ``lost()`` says a child is gone (nothing more will
    come); False when the bound ran out.
    """
    until_us = until_wall * 1e6

    def settled() -> bool:
        if lost():
            return True
        marks = read_watermarks(samples_dir)
        return len(marks) >= workers and min(marks.values()) >= until_us

    bound = until_wall - clock.wall() + grace
    return bool(poll_until(settled, max(bound, 0.0), 0.1, clock))
