"""Run evidence survives a host crash: write → fsync(file) → rename → fsync(folder).

``os.fsync`` and ``os.replace`` are wrapped (the real calls still happen) to
record their order; an fsync is identified by the path its descriptor points at.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.evidence.folder import write_json_atomic
from harness.load.chunks import SampleBuffer, merge_chunks, write_chunk
from harness.report.writer import write_text

Call = tuple[Any, ...]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    recorded: list[Call] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        # the size at fsync time proves the write happened before it
        recorded.append(("fsync", path, path.stat().st_size if path.is_file() else None))
        real_fsync(fd)

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        recorded.append(("replace", Path(src), Path(dst)))
        real_replace(src, dst, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return recorded


def _table(worker: str, rows: int) -> Any:
    buf = SampleBuffer()
    for i in range(rows):
        buf.append(0, 1_000_000 + i, 1.5, 200, "ok", 10, "GET /")
    return buf.drain(worker)


def _assert_durable(calls: list[Call], final: Path) -> None:
    tmp = calls[0][1]
    assert tmp != final and tmp.parent == final.parent
    assert calls == [
        ("fsync", tmp, final.stat().st_size),  # the whole content, before the rename
        ("replace", tmp, final),
        ("fsync", final.parent, None),
    ]


def test_chunk_is_fsynced_then_renamed_then_folder_fsynced(
    tmp_path: Path, calls: list[Call]
) -> None:
    final = write_chunk(_table("w0", 3), tmp_path, "w0", 7)
    assert final == tmp_path / "w0-000007.parquet"
    _assert_durable(calls, final)


def test_merge_is_durable_before_the_chunks_go(
    tmp_path: Path, calls: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = tmp_path / "samples"
    write_chunk(_table("w0", 2), chunks, "w0", 0)
    write_chunk(_table("w1", 1), chunks, "w1", 0)
    calls.clear()
    real_unlink: Callable[..., None] = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        calls.append(("unlink", self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    dest = tmp_path / "samples.parquet"
    assert merge_chunks(chunks, dest).requests == 3
    _assert_durable(calls[:3], dest)
    # only once the merge is on disk are the chunks removed
    assert sorted(calls[3:]) == [
        ("unlink", chunks / "w0-000000.parquet"),
        ("unlink", chunks / "w1-000000.parquet"),
    ]


def test_run_json_is_durable(tmp_path: Path, calls: list[Call]) -> None:
    write_json_atomic(tmp_path / "run.json", {"outcome": "completed"})
    _assert_durable(calls, tmp_path / "run.json")


def test_report_file_is_durable(tmp_path: Path, calls: list[Call]) -> None:
    write_text(tmp_path / "summary.md", "# PASS\n")
    _assert_durable(calls, tmp_path / "summary.md")
