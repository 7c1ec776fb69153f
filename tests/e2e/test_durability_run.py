"""Kill Redis under a write-heavy load, then read every acknowledged write back, for real."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.e2e.conftest import events, load_json, only_run_dir, project_containers, run_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECK = "durability: lost acknowledged writes <= 0"


def test_kill_redis_reads_acknowledged_writes_back(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-dur-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = run_scenario("scenarios/kill-redis.yaml", tmp_path, project)
    log = proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path)
    summary = load_json(run_dir / "summary.json")
    d = load_json(run_dir / "durability.json")

    # the samples recorded the acknowledged writes, and the checker found all of them
    table = pq.read_table(run_dir / "samples.parquet", columns=["name", "status", "item"])
    created = table.filter(
        pc.and_(pc.equal(table["name"], "POST /items"), pc.equal(table["status"], 201))
    )
    assert created.num_rows > 0, log
    assert all(" " in item for item in created["item"].to_pylist())
    assert d["acked"] == created.num_rows  # ids are unique server-side uuids
    assert d["error"] is None, d
    assert d["selected"] == min(d["acked"], 20000)
    assert d["checked"] == d["selected"] and d["unchecked"] == 0, d
    assert d["ok"] + d["lost"] + d["corrupt"] + d["unknown"] == d["checked"]
    assert d["ok"] > 0
    assert len(d["lost_ids"]) == min(d["lost"], 100)

    # the event, the summary, the check and JUnit agree with durability.json
    (event,) = [e for e in events(run_dir) if e["kind"] == "durability"]
    assert (event["acked"], event["lost"], event["corrupt"]) == (
        d["acked"],
        d["lost"],
        d["corrupt"],
    )
    assert summary["durability"] == d
    (check,) = [c for c in summary["checks"] if c["name"] == CHECK]
    lost = d["lost"] + d["corrupt"]
    assert check["measured"] == lost and check["passed"] == (lost == 0)
    cases = ET.parse(run_dir / "junit.xml").getroot().iter("testcase")
    durability_case = [c for c in cases if c.get("name") == CHECK]
    assert len(durability_case) == 1
    assert (durability_case[0].find("failure") is None) == (lost == 0)

    # Redis down means 503s: the availability checks reflect the outage, not a hoped-for value
    assert summary["metrics"]["during_faults"]["availability"] < 0.5
    assert summary["metrics"]["baseline"]["availability"] >= 0.999
    # the verdict follows from what was measured (lost writes fail it), not from a hope
    failed = {c["name"] for c in summary["checks"] if not c["passed"]}
    assert (CHECK in failed) == (lost > 0)
    assert summary["verdict"] == ("fail" if failed else "pass"), summary["verdict_reasons"]
    assert proc.returncode == (1 if failed else 0), log
    assert project_containers(project) == []  # torn down after the read-back
