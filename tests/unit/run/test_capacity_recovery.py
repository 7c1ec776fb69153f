"""After a bad capacity step: the rest with no load, the probes until the stack serves again
(3 in a row), and the bound after which the stack counts as metastable. Virtual time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.analysis.steady import Answer
from harness.clock import FakeClock
from harness.run.capacity_recovery import Probe, Recovery, recover, target_probe


def _scripted(verdicts: list[bool], clock: FakeClock, seen: list[float]) -> Probe:
    answers: Iterator[bool] = iter(verdicts)

    def probe() -> bool:
        seen.append(clock.mono() - 1000.0)  # FakeClock's monotonic time starts at 1000
        return next(answers)

    return probe


def test_no_probing_rests_exactly_the_recover_time() -> None:
    clock, seen = FakeClock(), list[float]()
    out = recover(clock, 5.0, 0.0, _scripted([], clock, seen))
    assert out == Recovery(5.0, True) and seen == []


def test_three_probes_in_a_row_and_a_failure_starts_the_count_again() -> None:
    """Rest 5 s, then a probe every 0.5 s: F T T F T T T -> served at the 7th, 8 s in."""
    clock, seen = FakeClock(), list[float]()
    probe = _scripted([False, True, True, False, True, True, True], clock, seen)
    out = recover(clock, 5.0, 60.0, probe)
    assert out == Recovery(8.0, True)
    assert seen == [5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0]


def test_a_stack_that_never_serves_is_given_up_at_the_bound() -> None:
    """No rest, 2 s bound: probes at 0, 0.5 ... 2.0 all fail; the one at 2.0 is the last."""
    clock, seen = FakeClock(), list[float]()
    out = recover(clock, 0.0, 2.0, _scripted([False] * 10, clock, seen))
    assert out == Recovery(2.0, False)
    assert seen == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_served_on_the_last_probe_before_the_bound_counts() -> None:
    clock, seen = FakeClock(), list[float]()
    probe = _scripted([False, True, True, True], clock, seen)
    assert recover(clock, 0.0, 1.5, probe) == Recovery(1.5, True)


@pytest.mark.parametrize(
    ("answer", "served"),
    [
        (Answer(200, b"", 299.0), True),
        (Answer(404, b"", 10.0), True),  # served: the root need not exist
        (Answer(200, b"", 300.0), True),  # exactly the bound
        (Answer(200, b"", 300.5), False),  # too slow
        (Answer(429, b"", 10.0), False),  # the stack sheds load
        (Answer(499, b"", 10.0), True),
        (Answer(500, b"", 10.0), False),
        (Answer(503, b"", 10.0), False),  # the balancer has no server left
        (Answer(0, b"", 300.0, "TimeoutError: timed out"), False),
    ],
)
def test_the_target_serves_with_an_answer_below_500_within_the_bound(
    answer: Answer, served: bool
) -> None:
    asked: list[tuple[str, float]] = []

    def get(url: str, timeout: float) -> Answer:
        asked.append((url, timeout))
        return answer

    assert target_probe("http://127.0.0.1:18080", 0.3, get=get)() is served
    assert asked == [("http://127.0.0.1:18080", 0.3)]


def test_the_steady_state_probes_must_pass_too_and_only_after_the_get() -> None:
    calls: list[str] = []

    def steady(ok: bool) -> Probe:
        def run() -> bool:
            calls.append("steady")
            return ok

        return run

    ok = Answer(200, b"", 1.0)
    down = Answer(503, b"", 1.0)
    assert target_probe("u", 1.0, steady(False), get=lambda u, t: ok)() is False
    assert target_probe("u", 1.0, steady(True), get=lambda u, t: ok)() is True
    assert calls == ["steady", "steady"]
    assert target_probe("u", 1.0, steady(True), get=lambda u, t: down)() is False
    assert calls == ["steady", "steady"]  # a failed GET is enough
