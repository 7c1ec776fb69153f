"""The crash-safe journal: what is pending after a crash, and liveness of its writer."""

from __future__ import annotations

import json
from pathlib import Path

from harness.evidence.journal import Journal, read_journal, state_dir


def test_pending_is_what_was_not_confirmed_reverted_newest_first(tmp_path: Path) -> None:
    j = Journal("r1", "p", [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    s1 = j.intent("kill-1#0", "kill", {"targets": ["x"]})
    j.mark("applied", s1)
    s2 = j.intent("pause-2#0", "pause", {"targets": ["y"]})  # crashed before "applied"
    s3 = j.intent("cpu-3#0", "cpu", {"original": {"x": {"CpuQuota": 0}}})
    j.mark("applied", s3)
    j.mark("revert", s3)
    j.mark("reverted", s3)
    for path in (tmp_path / "a.jsonl", tmp_path / "b.jsonl"):
        jf = read_journal(path)
        assert [(p.seq, p.key) for p in jf.pending] == [(s2, "pause-2#0"), (s1, "kill-1#0")]
        assert jf.pending[1].state == {"targets": ["x"]}
        assert not jf.closed and jf.run_id == "r1" and jf.project == "p"


def test_closed_journal_has_nothing_pending(tmp_path: Path) -> None:
    j = Journal("r2", "p", [tmp_path / "j.jsonl"])
    j.mark("reverted", j.intent("kill-1#0", "kill", {}))
    assert j.close() is True
    jf = read_journal(tmp_path / "j.jsonl")
    assert jf.closed and jf.pending == []


def test_close_is_refused_while_an_intent_has_no_reverted_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal("r2b", "p", [path])
    s1 = j.intent("kill-1#0", "kill", {"targets": ["x"]})
    j.mark("applied", s1)
    j.mark("revert", s1)
    j.mark("revert_failed", s1, error="engine said no")
    assert j.close() is False
    ops = [json.loads(line)["op"] for line in path.read_text().splitlines()]
    assert "closed" not in ops
    jf = read_journal(path)
    assert [p.key for p in jf.pending] == ["kill-1#0"] and not jf.closed


def test_a_closed_line_never_hides_an_unreverted_intent(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal("r2c", "p", [path])
    s1 = j.intent("kill-1#0", "kill", {"targets": ["x"]})
    s2 = j.intent("pause-2#0", "pause", {"targets": ["y"]})
    j.mark("reverted", s2)
    # What today's runner wrote after a failed revert: `closed` with s1 unsettled.
    with path.open("a") as fh:
        fh.write(json.dumps({"op": "closed", "run_id": "r2c", "project": "p"}) + "\n")
    jf = read_journal(path)
    assert [(p.seq, p.key) for p in jf.pending] == [(s1, "kill-1#0")]
    assert not jf.closed


def test_one_journal_per_file(tmp_path: Path) -> None:
    import pytest

    Journal("r2d", "p", [tmp_path / "j.jsonl"])
    with pytest.raises(FileExistsError):
        Journal("r2d", "p", [tmp_path / "j.jsonl"])


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal("r3", "p", [path])
    j.intent("kill-1#0", "kill", {})
    with path.open("a") as fh:
        fh.write('{"op":"reverted","seq"')  # the crash hit mid-write
    assert [p.key for p in read_journal(path).pending] == ["kill-1#0"]


def test_every_line_is_one_json_object(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal("r4", "p", [path])
    j.mark("applied", j.intent("k#0", "kill", {"a": 1}))
    ops = [json.loads(line)["op"] for line in path.read_text().splitlines()]
    assert ops == ["open", "intent", "applied"]


def test_writer_liveness(tmp_path: Path, monkeypatch: object) -> None:
    path = tmp_path / "live.jsonl"
    Journal("r5", "p", [path])
    assert read_journal(path).alive()  # this very process
    lines = path.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["pid_started"] -= 1000  # same pid, different process start: pid reused
    path.write_text(json.dumps(entry) + "\n")
    assert not read_journal(path).alive()


def test_state_folder_follows_xdg(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_STATE_HOME", str(tmp_path))
    try:
        folder = tmp_path / "hachaos" / "journal"
        Journal("r6", "p", [folder / "r6.jsonl"])
        assert state_dir() == folder
        assert [read_journal(p).run_id for p in sorted(folder.glob("*.jsonl"))] == ["r6"]
    finally:
        mp.undo()
