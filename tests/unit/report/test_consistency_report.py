"""checks.consistency in the SLO checks and in every report format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.analysis.slo import consistency_checks
from harness.analysis.summary_model import Consistency
from harness.report.consistency_section import consistency_rows, timeline, witnesses
from harness.run.consistency import HISTORY_FILE, merge_history

T0 = 1_000_000_000
WITNESS: dict[str, Any] = {
    "kind": "G-single-realtime",
    "key": "k1",
    "text": "dependency cycle",
    "ops": [
        {
            "index": 1,
            "process": "w0.1",
            "f": "append",
            "key": "k1",
            "value": "y",
            "type": "ok",
            "mismatch": False,
            "invoke_ns": T0 + 20_000_000,
            "complete_ns": T0 + 30_000_000,
            "text": "append(k1, y)",
        },
        {
            "index": 2,
            "process": "w0.2",
            "f": "read",
            "key": "k1",
            "value": ["x"],
            "type": "ok",
            "mismatch": False,
            "invoke_ns": T0 + 40_000_000,
            "complete_ns": T0 + 50_000_000,
            "text": "read(k1) → [x]",
        },
        {
            "index": 3,
            "process": "w0.3",
            "f": "append",
            "key": "k1",
            "value": "z",
            "type": "info",
            "mismatch": False,
            "invoke_ns": T0 + 45_000_000,
            "complete_ns": T0 + 50_000_000,
            "text": "append(k1, z)",
        },
    ],
    "edges": [[2, 1, "rw"], [1, 2, "rt"]],
}
RESULT: dict[str, Any] = {
    "model": "list-append",
    "operations": 3,
    "keys": 1,
    "processes": 3,
    "types": {"info": 1, "ok": 12},
    "checks": [
        {"check": "lost appends", "anomalies": 0, "unknown": None},
        {"check": "dependency cycles", "anomalies": 1, "unknown": None},
    ],
    "anomalies": {"G-single-realtime": 1},
    "stale": {
        "reads": 1,
        "stale": 1,
        "ms": {"p50": 10.0, "p99": 10.0, "max": 10.0},
        "versions": {"p50": 1.0, "p99": 1.0, "max": 1.0},
    },
    "witnesses": [WITNESS],
    "t0_mono_ns": T0,
    "elapsed_s": 0.01,
}


def test_one_check_per_consistency_check() -> None:
    checks = consistency_checks(0, RESULT)
    assert [(c.name, c.measured, c.passed) for c in checks] == [
        ("consistency: lost appends <= 0 anomalies", 0.0, True),
        ("consistency: dependency cycles <= 0 anomalies", 1.0, False),
    ]
    assert [c.passed for c in consistency_checks(1, RESULT)] == [True, True]
    assert checks[0].detail == "list-append, 3 ops"


def test_undecided_missing_and_empty_histories_never_pass() -> None:
    undecided = {
        **RESULT,
        "checks": [{"check": "linearizability", "anomalies": 0, "unknown": "1 key(s) undecided"}],
    }
    (check,) = consistency_checks(5, undecided)
    assert (check.measured, check.passed, check.detail) == (
        None,
        False,
        "unknown: 1 key(s) undecided",
    )
    for data, why in (
        (None, "consistency.json is missing"),
        ({"model": "register", "error": "the consistency check failed: boom"}, "boom"),
        ({**RESULT, "operations": 0, "types": {}}, "only 0 of 0 operations succeeded"),
        ({**RESULT, "operations": 99, "types": {"ok": 9, "info": 90}}, "only 9 of 99 operations"),
    ):
        (check,) = consistency_checks(0, data)
        assert check.name == "consistency: history checked" and not check.passed
        assert why in check.detail


def test_rows_and_witness_times_are_relative_to_t0() -> None:
    c = Consistency.model_validate(RESULT)
    rows = dict(consistency_rows(c))
    assert rows["operations"] == "3 (info 1, ok 12) on 1 keys by 3 processes"
    assert rows["dependency cycles"] == "1"
    assert rows["stale reads"] == "1 of 1 reads; behind by 10 ms median, 10 ms max; 1 versions max"
    (view,) = witnesses(c)
    assert view.rows == [
        ("w0.1", "append(k1, y)", "ok", "20.0", "30.0"),
        ("w0.2", "read(k1) → [x]", "ok", "40.0", "50.0"),
        ("w0.3", "append(k1, z)", "info", "45.0", "never"),
    ]
    assert dict(consistency_rows(Consistency(model="register", error="x"))) == {
        "could not check": "x"
    }


def test_witness_picture_has_a_row_per_process_and_the_cycle() -> None:
    svg = timeline(WITNESS)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3 and svg.count("marker-end=") == 2  # bars, cycle edges
    assert 'fill-opacity="0.35"' in svg  # the info append fades out: it may still land
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert len(svg) < 4000
    assert timeline({"ops": []}) == ""


def test_merge_pairs_the_workers_events(tmp_path: Path) -> None:
    folder = tmp_path / "samples" / "history"
    folder.mkdir(parents=True)
    (folder / "w0-000000.jsonl").write_text(
        json.dumps(
            {
                "op": "w0:1",
                "event": "invoke",
                "process": "p",
                "f": "read",
                "key": "k",
                "invoke_ns": 5,
            }
        )
        + "\n"
        + json.dumps(
            {
                "op": "w0:1",
                "event": "complete",
                "type": "ok",
                "complete_ns": 8,
                "status": 200,
                "value": None,
            }
        )
        + "\n{torn"
    )
    (folder / "w1-000000.jsonl").write_text(
        json.dumps(
            {
                "op": "w1:1",
                "event": "invoke",
                "process": "q",
                "f": "write",
                "key": "k",
                "value": "1",
                "invoke_ns": 2,
            }
        )
        + "\n"
    )
    rows = merge_history(tmp_path)
    assert [(r["op"], r["type"], r["complete_ns"]) for r in rows] == [
        ("w1:1", "info", 8),
        ("w0:1", "ok", 8),
    ]
    assert not list(folder.glob("*.jsonl"))  # merged chunks are removed
    lines = (tmp_path / HISTORY_FILE).read_text().splitlines()
    assert [json.loads(line)["op"] for line in lines] == ["w1:1", "w0:1"]
    assert merge_history(tmp_path) == rows  # a second merge reads history.jsonl


def test_the_final_reads_row_says_what_the_phase_did() -> None:
    final = {"keys": 14, "selected": 14, "ok": 12, "failed": 1, "unread": 1, "tries": 19}
    final |= {"waited_s": 5.25, "elapsed_s": 3.5, "notes": ["1 key(s) unread: timeout"]}
    c = Consistency.model_validate({**RESULT, "final_reads": final, "final_read_keys": 11})
    assert dict(consistency_rows(c))["final reads"] == (
        "12 of 14 keys read after the faults (19 tries, 3.5 s, after waiting 5.25 s);"
        " 1 failed, 1 unread; 1 key(s) unread: timeout; 11 keys with an ok final read in"
        " the history"
    )
    quiet = {**final, "ok": 14, "failed": 0, "unread": 0, "notes": []}
    c = Consistency.model_validate({**RESULT, "final_reads": quiet, "final_read_keys": 14})
    assert dict(consistency_rows(c))["final reads"] == (
        "14 of 14 keys read after the faults (19 tries, 3.5 s, after waiting 5.25 s)"
    )
    assert "final reads" not in dict(consistency_rows(Consistency.model_validate(RESULT)))
