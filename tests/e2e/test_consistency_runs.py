"""checks.consistency end to end: a split brain shows anomalies with witnesses, a stack the
tests define passes with only its API's paths and JSON paths.

- `scenarios/partition-redis-primary-consistency.yaml` (the replicated store's fast
  variant cut in two, docs/consistency.md): the history must hold at least one
  non-linearizable key or stale read, each with a witness, and the run exits 1;
- `tests/e2e/scenarios/docstore-consistency.yaml`: a document store with its own API
  shape (tests/e2e/stacks/docstore), killed mid-run: every check passes, exit 0.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import load_json, only_run_dir, project_containers, run_scenario

pytestmark = [pytest.mark.e2e]


def _run(scenario: str, tmp_path: Path, down_after: list[str], tag: str) -> tuple[Any, Path]:
    project = f"hachaos-e2e-{tag}-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario(scenario, tmp_path, project, timeout=400)
    run_dir = only_run_dir(tmp_path)
    assert project_containers(project) == [], "the stack was not torn down"
    return proc, run_dir


def _history(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _assert_final_reads(c: dict[str, Any], run_dir: Path) -> None:
    """The faults healed, every key was read once more; the tries are history rows."""
    final = c["final_reads"]
    assert final is not None and final["selected"] == final["keys"] >= 1, final
    assert final["ok"] + final["failed"] + final["unread"] == final["selected"], final
    assert final["ok"] >= 1 and c["final_read_keys"] == final["ok"], final
    rows = [r for r in _history(run_dir) if r.get("phase") == "final"]
    assert len(rows) == final["tries"] and {r["f"] for r in rows} == {"read"}, rows[:3]
    last_worker = max(r["invoke_ns"] for r in _history(run_dir) if r.get("phase") != "final")
    assert min(r["invoke_ns"] for r in rows) > last_worker  # after the load, not during it


@pytest.mark.slow
def test_split_brain_breaks_linearizability_with_a_witness(
    tmp_path: Path, down_after: list[str]
) -> None:
    proc, run_dir = _run(
        "scenarios/partition-redis-primary-consistency.yaml", tmp_path, down_after, "cons"
    )
    log = proc.stdout + proc.stderr
    c = load_json(run_dir / "consistency.json")
    summary = load_json(run_dir / "summary.json")
    assert c["error"] is None, c
    assert c["types"]["ok"] > 100, c  # 40 ops/s for 32 s: many answered, even on a busy host
    counts = {row["check"]: row["anomalies"] for row in c["checks"]}
    assert counts["linearizability"] + counts["stale reads"] >= 1, c["checks"]
    witnesses = [w for w in c["witnesses"] if w["kind"] in ("non-linearizable", "stale-read")]
    assert witnesses, c["witnesses"]
    for w in witnesses:  # each witness is a few real operations of the history
        assert 1 <= len(w["ops"]) <= 12, w
        history = {(r["process"], r["invoke_ns"]) for r in _history(run_dir)}
        assert all((o["process"], o["invoke_ns"]) in history for o in w["ops"]), w
    stale = [w for w in c["witnesses"] if w["kind"] == "stale-read"]
    for w in stale:  # the write it missed had completed before the stale read began
        newer, read = w["ops"][0], w["ops"][-1]
        assert newer["complete_ns"] < read["invoke_ns"] and w["behind_ms"] > 0, w
    _assert_final_reads(c, run_dir)
    failed = [ch["name"] for ch in summary["checks"] if not ch["passed"]]
    assert any(name.startswith("consistency: ") for name in failed), failed
    assert summary["verdict"] == "fail" and proc.returncode == 1, log
    html = (run_dir / "report.html").read_text()
    assert 'id="consistency"' in html and 'class="witness"' in html
    assert "<script src" not in html
    junit = (run_dir / "junit.xml").read_text()
    assert junit.count('name="consistency: ') == len(c["checks"])


def test_any_http_api_is_checked_from_its_paths_and_json_paths(
    tmp_path: Path, down_after: list[str]
) -> None:
    proc, run_dir = _run(
        "tests/e2e/scenarios/docstore-consistency.yaml", tmp_path, down_after, "doc"
    )
    log = proc.stdout + proc.stderr
    c = load_json(run_dir / "consistency.json")
    assert c["error"] is None, c
    rows = _history(run_dir)
    assert {r["f"] for r in rows} == {"read", "write", "cas"}
    # the API's own statuses became Jepsen outcomes: 410 = no value yet, 412 = mismatch
    assert any(r["f"] == "read" and r["status"] == 410 and r["type"] == "ok" for r in rows)
    answered = [r for r in rows if r["f"] == "cas" and r["status"] >= 300]  # a 5xx is info
    assert all(r.get("mismatch") for r in answered if r["status"] == 412), answered[:3]
    reads = [r for r in rows if r["f"] == "read" and r["status"] == 200]
    assert reads and all(isinstance(r["value"], str) for r in reads)  # $.doc.body.text
    # the kill made some operations fail or time out; a process retires after an info
    assert c["types"].get("info", 0) + c["types"].get("fail", 0) > 0, c["types"]
    last_invoke: dict[str, int] = {}
    for r in rows:
        last_invoke[r["process"]] = max(last_invoke.get(r["process"], 0), r["invoke_ns"])
    infos = [r for r in rows if r["type"] == "info"]
    assert all(last_invoke[r["process"]] == r["invoke_ns"] for r in infos), infos[:3]
    assert c["types"]["ok"] > 100, c["types"]
    _assert_final_reads(c, run_dir)
    assert all(row["anomalies"] == 0 and row["unknown"] is None for row in c["checks"]), c
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "pass" and proc.returncode == 0, log
