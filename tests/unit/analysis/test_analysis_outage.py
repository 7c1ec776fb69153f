"""A fault's outage: from a failure until the service is back, by hand on tiny timelines.

"Back" at a successful request s: more successes than failures among the requests
started in [s, s + 1 s), s included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hachaos_runfolder import fault_events, samples, steady, write_run

from harness.analysis.inputs import load_run
from harness.analysis.recovery import OUTAGE_WINDOW_S, Requests, longest_failure_span, outage
from harness.analysis.summary import analyse

EVERYTHING = (0.0, 100.0)


def reqs(*pairs: tuple[float, str]) -> Requests:
    return Requests(np.array([t for t, _ in pairs]), np.array([o == "S" for _, o in pairs]))


def test_the_window_is_one_second() -> None:
    assert OUTAGE_WINDOW_S == 1.0


def test_a_lone_success_amid_failures_does_not_split_the_outage() -> None:
    # 0.2 S looks ahead at S 0.2, F 0.3, F 0.4 (1 : 2): not back. 1.5 S: S, S, S: back.
    r = reqs((0.0, "F"), (0.1, "F"), (0.2, "S"), (0.3, "F"), (0.4, "F"),
             (1.5, "S"), (1.6, "S"), (1.7, "S"))  # fmt: skip
    assert outage(r, EVERYTHING) == (1.5, 0.0)
    # The plain consecutive-failure span would have said 1.2 s (0.3 -> 1.5).
    assert longest_failure_span(r) == (pytest.approx(1.2), 0.3)


def test_a_tie_is_not_back_yet() -> None:
    # 1.0 S sees S 1.0, F 1.5 (1 : 1): not back; 2.0 S sees S 2.0, S 2.5: back.
    r = reqs((0.5, "F"), (1.0, "S"), (1.5, "F"), (2.0, "S"), (2.5, "S"))
    assert outage(r, EVERYTHING) == (1.5, 0.5)


def test_the_look_ahead_ends_just_before_one_second() -> None:
    # 1.0 S sees S 1.0, F 1.1, F 1.2, F 1.3, S 1.4 (2 : 3): not back. 1.4 S sees only
    # itself in [1.4, 2.4): the F at exactly 2.4 is outside -> back at 1.4.
    r = reqs((0.0, "F"), (1.0, "S"), (1.1, "F"), (1.2, "F"), (1.3, "F"), (1.4, "S"),
             (2.4, "F"), (2.5, "S"), (2.6, "S"))  # fmt: skip
    assert outage(r, EVERYTHING) == (1.4, 0.0)


def test_a_sporadic_failure_is_a_short_outage() -> None:
    r = reqs((0.0, "S"), (0.1, "S"), (0.2, "F"), (0.3, "S"), (0.4, "S"), (0.5, "S"))
    assert outage(r, EVERYTHING) == (pytest.approx(0.1), 0.2)


def test_an_outage_never_back_spans_to_its_last_failure() -> None:
    r = reqs((0.0, "S"), (1.0, "F"), (1.2, "S"), (1.3, "F"), (1.4, "F"))
    assert outage(r, EVERYTHING) == (pytest.approx(0.4), 1.0)


def test_the_longest_of_two_outages_and_the_starting_window() -> None:
    r = reqs((0.0, "F"), (0.5, "S"), (0.6, "S"),  # outage 0.0 -> 0.5
             (3.0, "F"), (3.2, "F"), (4.0, "S"), (4.1, "S"))  # fmt: skip  # 3.0 -> 4.0
    assert outage(r, EVERYTHING) == (pytest.approx(1.0), 3.0)
    assert outage(r, (0.0, 3.0)) == (0.5, 0.0)  # the second starts at b: not this fault's
    assert outage(r, (0.4, 3.0)) == (0.5, 0.0)  # under way at a = 0.4 (ends at 0.5)
    assert outage(r, (0.5, 3.0)) == (0.0, None)  # over by a = 0.5
    assert outage(r, (2.0, 10.0)) == (pytest.approx(1.0), 3.0)


def test_no_failure_no_outage() -> None:
    assert outage(reqs((0.0, "S"), (0.1, "S")), EVERYTHING) == (0.0, None)


def test_a_lucky_request_inside_a_kill_does_not_halve_the_faults_outage(tmp_path: Path) -> None:
    # Refused 20.0 .. 22.9, one ok at 23.0, refused 23.1 .. 24.9, ok from 25.0 at 10 req/s.
    # 23.0 sees 1 ok and 9 refused in [23.0, 24.0): not back; 25.0 is. Outage 20.0 -> 25.0.
    frame = pd.concat(
        [
            steady(0, 20, 10),
            steady(20, 23, 10, "refused"),
            samples([23.0], ["ok"]),
            steady(23.1, 25, 10, "refused"),
            steady(25, 60, 10),
        ],
        ignore_index=True,
    )
    run = write_run(tmp_path / "run", frame, fault_events("k", 20.0, 20.1, 24.0))
    s = analyse(load_run(run)).to_json_dict()
    (f,) = s["faults"]
    assert (f["outage_s"], f["outage_start_s"]) == (pytest.approx(5.0), 20.0)
    # The overall longest failure span still counts consecutive failures only.
    assert s["longest_failure_span"]["seconds"] == pytest.approx(3.0)
