"""Declarative requests and the generic durability check on a stack the tests define.

The orders API (tests/e2e/stacks/orders) has none of the reference app's
endpoints. The lossy variant acknowledges every 5th order id without storing
it, so the read-back inside the run must report exactly those ids as lost.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.e2e.conftest import load_json, only_run_dir, project_containers, run_scenario

pytestmark = [pytest.mark.e2e]

CHECK = "durability: lost acknowledged writes <= 0"


def _acked_ids(run_dir: Path, name: str) -> list[int]:
    table = pq.read_table(run_dir / "samples.parquet", columns=["name", "status", "item"])
    rows = table.to_pylist()
    return [
        int(r["item"].partition(" ")[0])
        for r in rows
        if r["name"] == name and r["status"] == 201 and r["item"]
    ]


def test_declared_requests_and_durability_on_a_safe_stack(
    tmp_path: Path, down_after: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    project = f"hachaos-e2e-req-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/orders-requests.yaml", tmp_path / "out", project)
    log = proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    d = load_json(run_dir / "durability.json")

    table = pq.read_table(run_dir / "samples.parquet", columns=["name", "outcome", "status"])
    by_name: dict[str, dict[str, int]] = {}
    for row in table.to_pylist():
        counts = by_name.setdefault(row["name"], {})
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    # every declared request ran under its own name; the durability write under its path
    assert set(by_name) == {
        "POST create draft",
        "GET read draft",
        "POST add note",
        "GET health as 204",
        "POST /api/orders",
    }, by_name
    assert by_name["POST create draft"].get("ok", 0) > 0
    # reads used ids captured from the creates: they were found (200 = expected)
    assert by_name["GET read draft"].get("ok", 0) > 0
    assert by_name["POST add note"].get("ok", 0) > 0  # the form body was accepted (201)
    # 200 where only 204 is expected: its own outcome class, never ok
    assert by_name["GET health as 204"].get("unexpected_status", 0) > 0
    assert by_name["GET health as 204"].get("ok", 0) == 0
    # the reports count it as a failure of its own (overall = the measured window only)
    assert summary["metrics"]["overall"]["outcomes"]["unexpected_status"] > 0

    # the generic read-back: every acknowledged write found with its key, none lost
    acked = _acked_ids(run_dir, "POST /api/orders")
    assert d["error"] is None, d
    assert d["acked"] == len(set(acked)) > 0
    assert (d["ok"], d["lost"], d["corrupt"], d["unknown"]) == (d["acked"], 0, 0, 0), d
    # every 7th order answers after 1.5 s (1 s client timeout): 7 is not stored, 14 is, ...
    table = pq.read_table(run_dir / "samples.parquet", columns=["name", "outcome", "item"])
    timed_out = {
        r["item"]
        for r in table.to_pylist()
        if r["name"] == "POST /api/orders" and r["outcome"] == "timeout"
    }
    assert all(item.startswith("? ") for item in timed_out)
    assert d["timed_out"] == len(timed_out) >= 2, d
    assert d["timed_out_landed"] > 0 and d["timed_out_not_landed"] > 0, d
    # only the odd multiples of 7 are dropped: at most every other timed-out write
    assert d["timed_out_not_landed"] <= (d["timed_out"] + 1) // 2, d
    assert d["timed_out_landed"] + d["timed_out_not_landed"] == d["timed_out"], d
    assert d["timed_out_unknown"] == 0, d
    (check,) = [c for c in summary["checks"] if c["name"] == CHECK]
    assert check["passed"] and check["measured"] == 0
    assert summary["verdict"] == "pass", summary["verdict_reasons"]
    assert proc.returncode == 0, log
    assert project_containers(project) == []


def test_generic_durability_names_exactly_the_dropped_ids(
    tmp_path: Path, down_after: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    project = f"hachaos-e2e-lossy-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("tests/e2e/scenarios/orders-lossy.yaml", tmp_path / "out", project)
    log = proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    d = load_json(run_dir / "durability.json")

    acked = sorted(set(_acked_ids(run_dir, "POST /api/orders")))
    dropped = [i for i in acked if i % 5 == 0]  # the app stores no multiple of 5
    assert len(acked) >= 20 and dropped, (acked, log)
    assert d["error"] is None, d
    assert d["acked"] == len(acked) and d["unchecked"] == 0, d
    assert d["lost"] == len(dropped) <= 100, d
    assert sorted(int(i) for i in d["lost_ids"]) == dropped
    assert d["ok"] == len(acked) - len(dropped) and d["corrupt"] == 0 and d["unknown"] == 0
    (check,) = [c for c in summary["checks"] if c["name"] == CHECK]
    assert not check["passed"] and check["measured"] == len(dropped)
    assert summary["verdict"] == "fail"
    assert proc.returncode == 1, log
    assert project_containers(project) == []
