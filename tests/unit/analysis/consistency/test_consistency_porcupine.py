"""The general checker gives Porcupine's verdict on every one of Porcupine's test histories.

Histories and verdicts: tests/fixtures/porcupine (MIT, see its README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from porcupine_kv import kv_step, parse_kv

from harness.analysis.consistency.check import check_history
from harness.analysis.consistency.jepsen_log import parse_register_log
from harness.analysis.consistency.models import register_calls, register_step
from harness.analysis.consistency.wgl import linearizable

DATA = Path(__file__).parents[3] / "fixtures" / "porcupine"
VERDICTS: dict[str, bool] = json.loads((DATA / "verdicts.json").read_text())["linearizable"]
ETCD = sorted(n for n in VERDICTS if n.startswith("etcd_"))
KV = sorted(n for n in VERDICTS if n.endswith(".txt"))


def test_every_published_history_has_a_verdict() -> None:
    # 102 etcd histories (etcd_095.log is empty: that cluster never started) and 6 kv ones
    assert len(ETCD) == 102
    assert len(KV) == 6
    assert "etcd_095.log" not in VERDICTS
    assert sum(VERDICTS[n] for n in ETCD) == 23  # linearizable ones, as porcupine_test.go says


@pytest.mark.parametrize("name", ETCD)
def test_etcd_history_gets_porcupines_verdict(name: str) -> None:
    ops = parse_register_log((DATA / "jepsen" / name).read_text().splitlines())
    calls, _ = register_calls(ops)
    result = linearizable(calls, None, register_step)
    assert result.verdict == ("ok" if VERDICTS[name] else "illegal")


@pytest.mark.parametrize("name", KV)
def test_kv_history_gets_porcupines_verdict(name: str) -> None:
    keys = parse_kv((DATA / "kv" / name).read_text().splitlines())
    verdicts = []
    for calls in keys.values():  # like Porcupine: the first illegal key decides
        verdicts.append(linearizable(calls, "", kv_step).verdict)
        if verdicts[-1] == "illegal":
            break
    assert "unknown" not in verdicts
    assert ("illegal" not in verdicts) == VERDICTS[name]


def test_parsed_etcd_history_keeps_jepsens_outcomes() -> None:
    ops = parse_register_log((DATA / "jepsen" / "etcd_000.log").read_text().splitlines())
    # counted with grep: 85 invokes, 16 :info (timed out), 20 cas that failed their comparison
    assert len(ops) == 85
    assert sum(o.type == "info" for o in ops) == 16
    assert sum(o.mismatch for o in ops) == 20  # ":fail :cas": the comparison failed
    first = ops[0]
    assert (first.process, first.f, first.invoke, first.complete) == ("0", "read", 0, 6)
    assert first.value is None and first.type == "ok"  # ":ok :read nil"


def test_check_history_witness_of_etcd_000_is_a_stale_read() -> None:
    ops = parse_register_log((DATA / "jepsen" / "etcd_000.log").read_text().splitlines())
    result = check_history(ops, "register")
    assert result["checks"] == [{"check": "linearizability", "anomalies": 1, "unknown": None}]
    (witness,) = result["witnesses"]
    # write 2 completed (line 8), write 1 completed (line 74), then a read (line 84) saw 2
    assert [o["text"] for o in witness["ops"]] == ["write(r, 2)", "write(r, 1)", "read(r) → 2"]
    assert [(o["invoke_ns"], o["complete_ns"]) for o in witness["ops"]] == [
        (3, 8),
        (73, 74),
        (84, 85),
    ]
