"""The history store on SQLite and on a real PostgreSQL: round trips, idempotence,
ordering and filters, versioned migrations, and a killed writer that leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from harness.analysis.runrecord import CheckValue, HostNoise, RunRecord, SuiteRecord
from harness.errors import HistoryError
from harness.history import migrate
from harness.history.schema import checks, figures, metadata, runs
from harness.history.store import HistoryStore
from harness.history.url import history_url as resolve

ROOT = Path(__file__).resolve().parents[3]


def open_store(url: str) -> HistoryStore:
    resolved = resolve(url, Path("unused"))
    assert resolved is not None
    return HistoryStore(resolved)


def record(run_id: str, scenario: str = "kill", at: float = 1000.0, **kw: object) -> RunRecord:
    base: dict[str, object] = {
        "run_id": run_id,
        "scenario": scenario,
        "verdict": "pass",
        "started_at": at,
        "scenario_file": "scenarios/kill.yaml",
        "scenario_sha256": "ab" * 32,
        "git_commit": "deadbeef" * 5,
        "hachaos": "0.1.0",
        "tags": ("nightly", "smoke"),
        "duration_s": 41.5,
        "run_dir": f"reports/{scenario}/{run_id}",
        "engine": "compose",
        "host_cores": 2,
        "platform": "Linux-x86_64",
        "suite": "20261127T050000Z",
        "host": HostNoise(15.25, 2, 0.0, 0.75, True, "host busy: load 15.2 on 2 cores"),
        "figures": {"availability": 0.9975, "p99_ms": 41.5, "lost_writes": None},
        "checks": (
            CheckValue("availability overall >= 99%", "overall", 0.9975, 0.99, "ratio", True),
            CheckValue("time to recover <= 5s", "fault:kill#0", None, 5.0, "s", False),
        ),
    }
    base.update(kw)
    return RunRecord(**base)  # type: ignore[arg-type]


def test_a_run_reads_back_exactly_as_written(history_url: str) -> None:
    with open_store(history_url) as store:
        written = record("r1")
        assert store.add_run(written) is True
        assert store.run("r1") == written
        assert store.runs() == [written]
        assert written.env_class == "compose, 2 cores"


def test_recording_a_run_twice_keeps_one(history_url: str) -> None:
    with open_store(history_url) as store:
        assert store.add_run(record("r1")) is True
        assert store.add_run(record("r1", verdict="fail")) is False
        assert store.count() == 1
        assert store.run("r1").verdict == "pass"  # type: ignore[union-attr]


def test_runs_are_newest_first_and_filtered(history_url: str) -> None:
    with open_store(history_url) as store:
        for i, (scenario, at, cores) in enumerate(
            [("kill", 10.0, 2), ("kill", 30.0, 2), ("kill", 20.0, 4), ("pause", 25.0, 2)]
        ):
            store.add_run(record(f"r{i}", scenario, at, host_cores=cores))
        assert [r.run_id for r in store.runs("kill")] == ["r1", "r2", "r0"]
        assert [r.run_id for r in store.runs("kill", before=30.0)] == ["r2", "r0"]
        assert [r.run_id for r in store.runs("kill", env_class="compose, 2 cores")] == [
            "r1",
            "r0",
        ]
        assert [r.run_id for r in store.runs(limit=2)] == ["r1", "r3"]
        assert store.scenarios() == ["kill", "pause"]


def test_a_suite_is_recorded_once(history_url: str) -> None:
    suite = SuiteRecord(
        "20261127T050000Z",
        99.0,
        "reports/_suite/x",
        120.5,
        ("nightly",),
        "abc",
        {"pass": 3, "fail": 1},
        1,
    )
    with open_store(history_url) as store:
        assert store.add_suite(suite) is True
        assert store.add_suite(suite) is False
        assert store.suites() == [suite]


def test_the_schema_is_versioned_and_matches_the_tables(history_url: str) -> None:
    store = open_store(history_url)
    store.close()
    open_store(history_url).close()  # a second open migrates nothing
    engine = create_engine(store.url)
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head() == "0001"
        # the migrations build exactly the tables schema.py declares
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_a_database_from_a_newer_hachaos_is_refused(history_url: str) -> None:
    store = open_store(history_url)
    store.close()
    engine = create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(HistoryError, match=r"revision .9999.*newer hachaos"):
        open_store(history_url)


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.analysis.runrecord import RunRecord, CheckValue
    from harness.history import store as st
    from harness.history.url import history_url

    real = st.insert_checks

    def stalled(conn, pk, record):
        real(conn, pk, record)  # every row written, the transaction still open
        print("written", flush=True)
        time.sleep(120)

    st.insert_checks = stalled
    store = st.HistoryStore(history_url(sys.argv[1], Path(".")))
    store.add_run(RunRecord(
        run_id="killed", scenario="kill", verdict="pass", started_at=5.0,
        figures={"availability": 1.0},
        checks=(CheckValue("c", "overall", 1.0, 0.9, "ratio", True),),
    ))
    """
)


def test_a_killed_writer_leaves_no_partial_run(history_url: str, tmp_path: Path) -> None:
    open_store(history_url).close()  # migrated first: the kill hits a run's write
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    child = subprocess.Popen(
        [sys.executable, str(script), history_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "written"
        time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    with open_store(history_url) as store:
        assert store.run("killed") is None
        engine = create_engine(store.url)
        with engine.connect() as conn:
            for table in (runs, figures, checks):
                assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        engine.dispose()
        # the database is usable at once: the lock died with the writer
        assert store.add_run(record("after")) is True
        assert [r.run_id for r in store.runs()] == ["after"]
