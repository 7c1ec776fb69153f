"""The analysis streams the samples chunk by chunk, in start order, whatever the file's order.

The conftest cuts every run of these tests into chunks of 7 rows; the figures here are
the hand-computed ones of the reference kill run (tests/unit/analysis/hachaos_runfolder.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hachaos_runfolder import kill_run, samples, scenario, write_run
from hdrh.histogram import HdrHistogram

from harness.analysis import sample_file
from harness.analysis.inputs import load_run
from harness.analysis.latency import HIGHEST_US, Histogram, counts_index
from harness.analysis.sample_file import SampleFile
from harness.analysis.summary import analyse
from harness.evidence.samples import MERGE_KEY, conform, sort_into, sorted_by

CHECKS = {"recovery": {"window": 5, "slo": 0.99}}


def _figures(run: Path) -> tuple[object, ...]:
    s = analyse(load_run(run)).to_json_dict()
    m, (f,) = s["metrics"], s["faults"]
    return (
        s["headline"]["warmup_requests"],
        (m["overall"]["requests"], m["overall"]["ok"]),
        (m["recovery"]["requests"], m["recovery"]["duration_s"]),
        (f["failures"], f["failures_in_window"], f["detection_s"]),
        (round(f["outage_s"], 9), round(f["ttr_s"], 9)),
        (s["timeseries"]["requests"][19], s["timeseries"]["failed"][25]),
    )


KILL_RUN = (50, (600, 480), (20, 2.0), (120, 100, 0.0), (12.0, 2.0), (10, 10))


def test_a_shuffled_samples_file_gives_the_figures_of_the_sorted_one(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    table = pq.read_table(run / "samples.parquet")
    order = np.random.default_rng(3).permutation(table.num_rows)
    pq.write_table(table.take(order), run / "samples.parquet", row_group_size=50)
    assert not SampleFile.open(run / "samples.parquet", []).ordered
    assert _figures(run) == KILL_RUN


def test_a_file_that_declares_its_order_is_read_as_it_is(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", CHECKS)
    path = run / "samples.parquet"
    sort_into([conform(pq.read_table(path))], path)
    assert sorted_by(path) == MERGE_KEY
    assert SampleFile.open(path, []).ordered
    assert _figures(run) == KILL_RUN


@pytest.mark.parametrize("chunk_rows", [1, 2, 650, 10_000])
def test_every_chunk_size_gives_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    monkeypatch.setattr(sample_file, "CHUNK_ROWS", chunk_rows)
    assert _figures(kill_run(tmp_path / "run", CHECKS)) == KILL_RUN


def test_a_run_of_warmup_only_measures_nothing(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run", samples([-3.0, -2.0, -1.0], ["ok"] * 3), [], scenario_doc=scenario()
    )
    s = analyse(load_run(run)).to_json_dict()
    assert s["headline"]["warmup_requests"] == 3
    assert s["metrics"]["overall"]["requests"] == 0
    assert "no measured request: every metric is empty" in s["warnings"]


def test_null_start_times_count_as_warmup_wherever_they_are(tmp_path: Path) -> None:
    frame = samples([1.0, 2.0, 3.0], ["ok", "ok", "ok"])
    frame["start_us"] = frame["start_us"].astype("Int64")
    frame.loc[1, "start_us"] = None  # unreadable time: t = -t0, before the run
    run = write_run(tmp_path / "run", frame, [], scenario_doc=scenario())
    s = analyse(load_run(run)).to_json_dict()
    assert s["headline"]["warmup_requests"] == 1
    assert s["metrics"]["overall"]["requests"] == 2


def test_histograms_merged_chunk_by_chunk_equal_the_hdrhistogram_package() -> None:
    rng = np.random.default_rng(11)
    values = rng.lognormal(9, 2, 20_000).astype(np.int64).clip(0, HIGHEST_US)
    merged = Histogram.empty()
    reference = HdrHistogram(1, HIGHEST_US, 3)
    for part in np.array_split(values, 13):
        merged.record(counts_index(part), part)
        one = HdrHistogram(1, HIGHEST_US, 3)
        for v in part:
            one.record_value(int(v))
        reference.add(one)  # the package's own exact merge
    assert np.array_equal(np.asarray(reference.counts[: reference.counts_len]), merged.counts)
    assert merged.max_value() == reference.get_max_value()
    assert merged.value_at([50.0, 99.0, 99.99]).tolist() == [
        reference.get_value_at_percentile(p) for p in (50.0, 99.0, 99.99)
    ]
