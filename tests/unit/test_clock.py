"""poll_until: its boundaries, on an injected fake clock (nothing here sleeps)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.clock import FakeClock, poll_until

T0 = 1_000.0  # FakeClock's monotonic start


def _recorder(
    clock: FakeClock, answers: list[object], cost: float = 0.0
) -> tuple[Callable[[], object], list[float]]:
    """A predicate that answers from ``answers`` (the last one for ever after), taking
    ``cost`` seconds of the clock per try, and the list of times (s after T0) it was tried."""
    tries: list[float] = []

    def predicate() -> object:
        tries.append(clock.mono() - T0)
        clock.advance(cost)
        return answers[min(len(tries), len(answers)) - 1]

    return predicate, tries


def test_the_first_try_is_at_once_and_a_truthy_answer_returns_it_without_sleeping() -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, ["ready"])
    assert poll_until(predicate, timeout=10.0, interval=0.25, clock=clock) == "ready"
    assert tries == [0.0]
    assert clock.sleeps == 0 and clock.mono() == T0


def test_it_sleeps_interval_between_tries_and_returns_the_first_truthy_value() -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, [0, "", None, ["up"], "later"])
    assert poll_until(predicate, timeout=10.0, interval=0.25, clock=clock) == ["up"]
    assert tries == [0.0, 0.25, 0.5, 0.75]
    assert clock.sleeps == 3


def test_a_try_exactly_at_the_deadline_is_followed_by_one_more_past_it() -> None:
    """Timeout 1 s, interval 0.25 s: tries at 0 .. 1.0 (the deadline itself), then 1.25,
    the first past the deadline, is the last; the last falsy answer is returned."""
    clock = FakeClock()
    predicate, tries = _recorder(clock, [0, 0, 0, 0, 0, None])
    assert poll_until(predicate, timeout=1.0, interval=0.25, clock=clock) is None
    assert tries == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert clock.sleeps == 5  # none after the last try


def test_the_last_try_past_the_deadline_may_still_succeed() -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, [False] * 5 + [True])
    assert poll_until(predicate, timeout=1.0, interval=0.25, clock=clock) is True
    assert tries[-1] == 1.25


def test_an_interval_that_does_not_divide_the_timeout_overshoots_by_less_than_one() -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, [False])
    assert poll_until(predicate, timeout=1.0, interval=0.375, clock=clock) is False
    assert tries == [0.0, 0.375, 0.75, 1.125]


def test_a_zero_timeout_on_a_clock_that_stands_still_tries_twice() -> None:
    """The try at t0 is at the deadline, not past it, so one more follows after a nap."""
    clock = FakeClock()
    predicate, tries = _recorder(clock, [False])
    assert poll_until(predicate, timeout=0.0, interval=0.5, clock=clock) is False
    assert tries == [0.0, 0.5]


def test_the_time_the_predicate_takes_counts_against_the_timeout() -> None:
    """Each try costs 0.5 s: tried at 0 (done at 0.5), at 0.75 (done at 1.25, past 1 s)."""
    clock = FakeClock()
    predicate, tries = _recorder(clock, [False], cost=0.5)
    assert poll_until(predicate, timeout=1.0, interval=0.25, clock=clock) is False
    assert tries == [0.0, 0.75]


def test_an_exception_from_the_predicate_ends_polling_at_once() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def predicate() -> bool:
        calls.append(clock.mono())
        if len(calls) == 2:
            raise RuntimeError("the thing waited for is gone")
        return False

    with pytest.raises(RuntimeError, match="is gone"):
        poll_until(predicate, timeout=10.0, interval=1.0, clock=clock)
    assert calls == [T0, T0 + 1.0]


@pytest.mark.parametrize(
    ("timeout", "interval", "message"),
    [
        (1.0, 0.0, "poll interval must be positive, not 0.0"),
        (1.0, -0.5, "poll interval must be positive, not -0.5"),
        (-0.001, 0.1, "poll timeout must not be negative, not -0.001"),
    ],
)
def test_an_unbounded_loop_is_refused_before_the_first_try(
    timeout: float, interval: float, message: str
) -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, [True])
    with pytest.raises(ValueError) as err:
        poll_until(predicate, timeout=timeout, interval=interval, clock=clock)
    assert str(err.value) == message
    assert tries == []


@pytest.mark.parametrize(("timeout", "interval"), [(5.0, 0.1), (60.0, 0.5), (0.3, 1.0)])
def test_the_number_of_tries_is_bounded_by_timeout_over_interval_plus_two(
    timeout: float, interval: float
) -> None:
    clock = FakeClock()
    predicate, tries = _recorder(clock, [False])
    poll_until(predicate, timeout=timeout, interval=interval, clock=clock)
    assert len(tries) <= timeout / interval + 2
    assert tries[-2] <= timeout < tries[-1]  # the last try is the first past the deadline
