"""Detection, longest failure span and time to recover on hand-made request sequences."""

from __future__ import annotations

import numpy as np
import pytest

from harness.analysis.recovery import (
    Requests,
    detection,
    longest_failure_span,
    time_to_recover,
)


def reqs(pattern: str, step: float = 1.0, start: float = 0.0) -> Requests:
    """``"..xx."``: one request per ``step`` s; ``.`` ok, ``x`` failed."""
    t = start + step * np.arange(len(pattern), dtype=np.float64)
    return Requests(t, np.array([c == "." for c in pattern]))


def test_detection_is_first_failure_after_injection() -> None:
    r = reqs("x...xx..")  # failure at 0 is before the injection at 2.5
    assert detection(r, 2.5, 8.0) == pytest.approx(1.5)
    assert detection(r, 6.0, 8.0) is None


def test_longest_failure_span_runs_to_next_success() -> None:
    r = reqs("..x...xxx..x")
    span, start = longest_failure_span(r)
    assert (span, start) == (3.0, 6.0)  # failures at 6,7,8; next success at 9


def test_failure_span_without_a_later_success_ends_at_last_failure() -> None:
    assert longest_failure_span(reqs("...xxx")) == (2.0, 3.0)
    assert longest_failure_span(reqs("....")) == (0.0, None)


def test_failure_span_restricted_to_runs_starting_in_a_range() -> None:
    r = reqs("xxxxx..x.")
    assert longest_failure_span(r, (6.0, 9.0)) == (1.0, 7.0)
    assert longest_failure_span(r, (5.0, 7.0)) == (0.0, None)


def test_time_to_recover_is_start_of_first_good_window() -> None:
    # 10 rps; failures until 3.95 s, then all ok. Revert at 2.0; window 1 s, SLO 100%.
    r = reqs("x" * 40 + "." * 60, step=0.1)
    assert time_to_recover(r, 2.0, 1.0, 1.0, 10.0) == pytest.approx(2.0)


def test_time_to_recover_zero_when_already_healthy() -> None:
    r = reqs("." * 50, step=0.1)
    assert time_to_recover(r, 1.0, 1.0, 0.99, 5.0) == 0.0


def test_time_to_recover_accepts_a_window_exactly_at_the_slo() -> None:
    # Window [0, 10) holds 10 requests with one failure: exactly 90%.
    r = reqs("x" + "." * 19)
    assert time_to_recover(r, 0.0, 10.0, 0.9, 20.0) == 0.0
    assert time_to_recover(r, 0.0, 10.0, 0.95, 20.0) == 1.0


def test_not_recovered_when_no_window_fits_before_the_end() -> None:
    r = reqs("xxxxxxx...")
    # The good tail starts at 7 s but a 5 s window would end at 12 s > end 10 s.
    assert time_to_recover(r, 0.0, 5.0, 0.99, 10.0) is None


def test_window_without_requests_does_not_count_as_recovered() -> None:
    r = Requests(np.array([0.0, 10.0]), np.array([False, True]))
    assert time_to_recover(r, 1.0, 2.0, 0.99, 20.0) == pytest.approx(9.0)
