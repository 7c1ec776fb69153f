"""Each worker's clock offset to the master, estimated from timed ping exchanges.

Latency is a difference of two readings of one worker's clock and needs no shared
clock. Start times do: fault windows and phases are judged on the master's clock (the
orchestrator runs on the master's host). The master pings each worker a few times over
Locust's own connection (:mod:`harness.load.roster`): it notes its clock when it sends
(``sent``) and when the answer arrives (``received``); the worker answers with its own
clock (``worker``). With the exchange of the shortest round trip, the worker's offset is
``worker - (sent + received) / 2``, off by at most half that round trip (the one-way
delays are unknown, their sum is not). A worker whose offset exceeds that uncertainty
shifts every time it records (start times, the watermark) and every schedule instant it
waits for onto the master's clock: :func:`master_time`.

Pure: no gevent, no Locust.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

PINGS = 8  # exchanges per measurement; the shortest round trip is used
PING_GAP_S = 0.02
PING_TIMEOUT_S = 1.0
RESYNC_S = 30.0  # measured again this often during the run (drift)


@dataclass
class ClockState:
    """This process's correction: its clock minus the master's (seconds), once applied."""

    offset_s: float = 0.0


CLOCK = ClockState()


def master_time() -> float:
    """Now on the master's clock (this process's clock less the applied offset)."""
    return time.time() - CLOCK.offset_s


@dataclass(frozen=True)
class Exchange:
    """One ping: master clock at send and at receipt, worker clock in between."""

    sent: float
    worker: float
    received: float

    @property
    def rtt(self) -> float:
        return self.received - self.sent


@dataclass(frozen=True)
class Offset:
    """A worker's clock minus the master's, with the bound of its error."""

    offset_s: float
    rtt_s: float  # of the exchange it comes from
    exchanges: int

    @property
    def uncertainty_s(self) -> float:
        """The true offset is within ``offset_s ± uncertainty_s``."""
        return self.rtt_s / 2

    @property
    def significant(self) -> bool:
        """Whether the clocks differ by more than the measurement can tell apart."""
        return abs(self.offset_s) > self.uncertainty_s


def estimate(exchanges: Iterable[Exchange]) -> Offset | None:
    """The offset from the exchange with the shortest round trip (None: no exchange)."""
    valid = [e for e in exchanges if e.rtt >= 0]
    if not valid:
        return None
    best = min(valid, key=lambda e: e.rtt)
    return Offset(best.worker - (best.sent + best.received) / 2, best.rtt, len(valid))
