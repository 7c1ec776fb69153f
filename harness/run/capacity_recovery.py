"""After a bad capacity step: no load until the stack serves again (a metastable one never does).

A stack pushed past its limit can stay overloaded once the load is gone: requests
queued that nobody waits for any more, and retries (HAProxy's `retry-on
response-timeout`) that multiply them. The next step would measure that backlog,
not the rate it offers. So the search rests ``recover`` seconds, then probes until
the stack answers ``IN_A_ROW`` probes in a row in time; a stack that does not within
``recover_max`` more seconds is metastable, and the search stops there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.analysis.steady import Answer
from harness.clock import Clock
from harness.run.guards import http_get

IN_A_ROW = 3  # probes answered in time, one after the other
PROBE_EVERY_S = 0.5

Probe = Callable[[], bool]
Getter = Callable[[str, float], Answer]  # (url, timeout in s)


@dataclass(frozen=True)
class Recovery:
    """How long the stack had no load, and whether it served again within the bound."""

    rested_s: float
    recovered: bool


def target_probe(
    target_url: str, within_s: float, steady: Probe | None = None, get: Getter = http_get
) -> Probe:
    """One GET of the target: an answer below 500, not 429, within ``within_s`` (an
    overloaded stack times out, or its balancer has no server left and answers 503);
    then the scenario's steady-state probes, when it has some."""

    def probe() -> bool:
        answer = get(target_url, within_s)
        served = (
            not answer.error
            and 0 < answer.status < 500
            and answer.status != 429
            and answer.latency_ms <= within_s * 1000.0
        )
        return served and (steady is None or steady())

    return probe


def recover(clock: Clock, rest_s: float, max_s: float, probe: Probe) -> Recovery:
    """No load for ``rest_s``; then, unless ``max_s`` is 0, probe every ``PROBE_EVERY_S``
    until ``IN_A_ROW`` probes in a row pass or ``max_s`` more seconds have gone by."""
    start = clock.mono()
    clock.sleep(rest_s)
    if max_s <= 0:
        return Recovery(clock.mono() - start, True)
    deadline = clock.mono() + max_s
    in_a_row = 0
    while True:
        in_a_row = in_a_row + 1 if probe() else 0
        if in_a_row >= IN_A_ROW:
            return Recovery(clock.mono() - start, True)
        if clock.mono() >= deadline:
            return Recovery(clock.mono() - start, False)
        clock.sleep(PROBE_EVERY_S)
