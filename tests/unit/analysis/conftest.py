"""Make the shared run-folder builder importable (tests/ has no packages); analyse in chunks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.analysis import sample_file

sys.path.insert(0, str(Path(__file__).parent))

TEST_CHUNK_ROWS = 7


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyse every hand-computed run here in chunks of 7 rows: each figure then crosses
    chunk boundaries (at the default of a million rows a chunk, these runs are one chunk)."""
    monkeypatch.setattr(sample_file, "CHUNK_ROWS", TEST_CHUNK_ROWS)
