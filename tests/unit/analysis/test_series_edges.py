"""Per-second series hold whole seconds of sending only: no false cliff at either end.

Tiny synthetic runs at 10 requests/s; every expected bucket is counted by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hachaos_runfolder import T0, meta, samples, steady, write_run

from harness.analysis.inputs import load_run
from harness.analysis.metrics import timeseries
from harness.analysis.samples import timeline
from harness.analysis.summary import analyse, series_span
from harness.analysis.summary_model import parse_summary
from harness.load.driver import sending_span
from harness.report.html import render_html


def _summary(tmp_path: Path, frame: Any, **run_meta: Any) -> dict[str, Any]:
    run = write_run(tmp_path / "run", frame, [], run_meta=meta(**run_meta))
    return analyse(load_run(run)).to_json_dict()


def _sending(start: float, end: float) -> dict[str, Any]:
    gen = meta()["generator"]
    return {**gen, "sending_from_wall": T0 + start, "sending_until_wall": T0 + end}


def test_a_load_that_starts_and_ends_inside_a_second_leaves_both_out(tmp_path: Path) -> None:
    # No warmup: the open schedule starts 0.4 s after t0 and runs its 10 s to 10.4 s.
    # Requests at 0.4, 0.5, … 10.3 (100). Whole seconds of sending within [0, 10]: 1 … 9.
    s = _summary(
        tmp_path,
        steady(0.4, 10.4, 10),
        warmup=0.0,
        duration=10.0,
        cooldown=0.0,
        ended_wall=T0 + 10.6,
        generator=_sending(0.4, 10.4),
    )
    ts = s["timeseries"]
    assert ts["t"] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert ts["requests"] == [10] * 9  # not 6 first and 4 last
    assert s["metrics"]["overall"]["requests"] == 100  # the edges still count


def test_a_load_running_since_the_warmup_keeps_the_first_second(tmp_path: Path) -> None:
    # Sending from 5 s before t0 (the warmup) to 0.3 s after the 3 s run.
    s = _summary(
        tmp_path,
        steady(-5, 3.3, 10),
        duration=3.0,
        cooldown=0.0,
        ended_wall=T0 + 3.5,
        generator=_sending(-5.0, 3.3),
    )
    assert (s["timeseries"]["t"], s["timeseries"]["requests"]) == ([0, 1, 2], [10, 10, 10])


def test_a_run_stopped_early_ends_at_its_last_whole_second(tmp_path: Path) -> None:
    # Interrupted 5.5 s after t0: measurement ends there, so [5, 6) is half measured.
    s = _summary(
        tmp_path,
        steady(0, 5.5, 10),
        duration=10.0,
        outcome="interrupted",
        ended_wall=T0 + 5.5,
        generator=_sending(-5.0, 10.0),
    )
    assert (s["timeseries"]["t"], s["timeseries"]["requests"]) == ([0, 1, 2, 3, 4], [10] * 5)


def test_a_generator_that_stops_before_the_end_cuts_the_series(tmp_path: Path) -> None:
    # The generator's span ended at 2.5 s of a 4 s run: [2, 3) is half sent.
    s = _summary(
        tmp_path,
        steady(0, 2.5, 10),
        duration=4.0,
        ended_wall=T0 + 4.0,
        generator=_sending(-1.0, 2.5),
    )
    assert (s["timeseries"]["t"], s["timeseries"]["requests"]) == ([0, 1], [10, 10])


def test_without_a_generator_span_the_series_cover_the_planned_run(tmp_path: Path) -> None:
    # Older run.json: [0, duration]; the request at 3.0 s (after the 3 s run) is in no bucket.
    s = _summary(tmp_path, steady(0, 3.1, 10), duration=3.0, ended_wall=T0 + 3.2)
    assert (s["timeseries"]["t"], s["timeseries"]["requests"]) == ([0, 1, 2], [10, 10, 10])
    assert s["metrics"]["overall"]["requests"] == 31


@pytest.mark.parametrize(
    ("run_meta", "end_s", "want"),
    [
        ({}, 60.0, (0.0, 60.0)),
        ({"generator": _sending(0.4, 60.4)}, 60.4, (0.4, 60.0)),
        ({"generator": _sending(-5.0, 55.0)}, 60.0, (0.0, 55.0)),
        ({"duration": 0.0}, 2.5, (0.0, 2.5)),  # no timing at all: up to the last request
        ({"outcome": "interrupted", "ended_wall": T0 + 7.25}, 7.25, (0.0, 7.25)),
    ],
)
def test_series_span(run_meta: dict[str, Any], end_s: float, want: tuple[float, float]) -> None:
    assert series_span(meta(**run_meta), end_s) == pytest.approx(want)


def test_timeseries_keeps_whole_seconds_between_start_and_end() -> None:
    frame = samples([0.1, 0.5, 1.0, 1.9, 2.0, 2.99, 3.0], ["ok"] * 6 + ["timeout"])
    ts = timeseries(timeline(frame, T0), end_s=3.0, start_s=0.5)
    assert (ts["t"], ts["requests"], ts["failed"]) == ([1, 2], [2, 2], [0, 0])
    # an end a hair below a whole second (wall-clock arithmetic) still keeps that second
    assert timeseries(timeline(frame, T0), end_s=2.9999999)["t"] == [0, 1, 2]
    assert timeseries(timeline(frame, T0), end_s=0.9, start_s=0.5)["t"] == []


def test_the_generator_reports_when_it_sends() -> None:
    marker = {"t0": 1000.5, "started": 1000.0, "workers": 2}
    assert sending_span("open", marker, 30.0) == (1000.5, 1030.5)  # the schedule's epoch
    assert sending_span("closed", marker, 30.0) == (1000.0, 1030.0)  # users start at once
    assert sending_span("closed", {"t0": 7.0}, 1.0) == (7.0, 8.0)  # older marker


def test_the_report_says_when_the_load_sent(tmp_path: Path) -> None:
    s = _summary(
        tmp_path,
        steady(0.4, 10.4, 10),
        warmup=0.0,
        duration=10.0,
        generator=_sending(0.4, 10.4),
    )
    html = render_html(parse_summary(s))
    assert "<code>0.400 s to 10.400 s after t0</code>" in html
    assert "sending_from_wall" not in html  # the raw epoch is not shown in the generator row
