"""The history store: RunRecords and SuiteRecords in SQLite or PostgreSQL.

Every write is one transaction: a run, its figures and its checks land together or not at
all, so a writer killed half-way (a cancelled CI job) leaves no partial run. Database
errors are translated here into HistoryError (exit 3) with what to do next.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, create_engine, event, func, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from harness.analysis.runrecord import CheckValue, HostNoise, RunRecord, SuiteRecord
from harness.errors import HistoryError
from harness.history import migrate
from harness.history.schema import checks, figures, runs, suites
from harness.history.url import redacted

_SQLITE_BUSY_S = 30.0  # how long a writer waits for another's lock before failing
MAX_LIST = 10_000  # runs read per query at most: every input is bounded


def _engine(url: URL) -> Engine:
    if url.drivername == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # SQLAlchemy, not pysqlite, begins transactions
            dbapi.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # The write lock at BEGIN: DDL and DML of one transaction commit together.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:  # psycopg is the `postgres` extra
        raise HistoryError(
            f"a PostgreSQL history needs psycopg ({exc.name} is not installed)",
            hint="pip install 'hachaos[postgres]'",
        ) from exc


class HistoryStore:
    """One history database; opening it migrates it to this hachaos's schema."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.where = redacted(url)
        self._engine = _engine(url)
        with self._transaction("migrating") as conn:
            migrate.upgrade(conn)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except HistoryError:
            raise
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise HistoryError(
                f"run history {self.where}: {what} failed: {_first_line(exc)}",
                hint="check that the database is reachable and writable, or pass "
                "--history off to run without recording",
            ) from exc

    # ------------------------------------------------------------------ writes
    def add_run(self, record: RunRecord) -> bool:
        """Record a run with its figures and checks; False when it was recorded before."""
        try:
            with self._transaction(f"recording run {record.run_id}") as conn:
                if _run_pk(conn, record.run_id) is not None:
                    return False
                pk = insert_run(conn, record)
                insert_figures(conn, pk, record)
                insert_checks(conn, pk, record)
        except IntegrityError:  # another writer recorded the same run meanwhile
            return False
        return True

    def add_suite(self, record: SuiteRecord) -> bool:
        """Record a suite; False when it was recorded before."""
        try:
            with self._transaction(f"recording suite {record.suite}") as conn:
                found = conn.execute(select(suites.c.id).where(suites.c.suite == record.suite))
                if found.first() is not None:
                    return False
                conn.execute(
                    insert(suites).values(
                        suite=record.suite,
                        started_at=record.started_at,
                        wall_s=record.wall_s,
                        tags=list(record.tags),
                        suite_dir=record.suite_dir,
                        git_commit=record.git_commit,
                        counts=dict(record.counts),
                        unexpected=record.unexpected,
                        recorded_at=time.time(),
                    )
                )
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------ reads
    def scenarios(self) -> list[str]:
        """Every scenario with a recorded run, by name."""
        with self._transaction("reading scenarios") as conn:
            rows = conn.execute(select(runs.c.scenario).distinct().order_by(runs.c.scenario))
            return [r[0] for r in rows]

    def count(self) -> int:
        with self._transaction("counting runs") as conn:
            return int(conn.execute(select(func.count()).select_from(runs)).scalar_one())

    def runs(
        self,
        scenario: str | None = None,
        *,
        limit: int = MAX_LIST,
        before: float | None = None,
        env_class: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first: of one scenario, started before ``before``, of one class."""
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc())
        if scenario is not None:
            query = query.where(runs.c.scenario == scenario)
        if before is not None:
            query = query.where(runs.c.started_at < before)
        if env_class is not None:
            query = query.where(runs.c.env_class == env_class)
        query = query.limit(max(0, min(limit, MAX_LIST)))
        with self._transaction("reading runs") as conn:
            rows = list(conn.execute(query))
            return _records(conn, rows)

    def run(self, run_id: str) -> RunRecord | None:
        with self._transaction(f"reading run {run_id}") as conn:
            rows = list(conn.execute(select(runs).where(runs.c.run_id == run_id)))
            found = _records(conn, rows)
            return found[0] if found else None

    def suites(self, limit: int = MAX_LIST) -> list[SuiteRecord]:
        """Suites, newest first."""
        query = select(suites).order_by(suites.c.started_at.desc()).limit(min(limit, MAX_LIST))
        with self._transaction("reading suites") as conn:
            return [
                SuiteRecord(
                    suite=r.suite,
                    started_at=r.started_at,
                    suite_dir=r.suite_dir,
                    wall_s=r.wall_s,
                    tags=tuple(r.tags or ()),
                    git_commit=r.git_commit,
                    counts=dict(r.counts or {}),
                    unexpected=r.unexpected,
                )
                for r in conn.execute(query)
            ]


# One function per table, so that a test can stop a writer between them (kill -9).
def insert_run(conn: Connection, r: RunRecord) -> int:
    host = r.host
    result = conn.execute(
        insert(runs).values(
            run_id=r.run_id,
            scenario=r.scenario,
            verdict=r.verdict,
            expected=r.expected,
            started_at=r.started_at,
            duration_s=r.duration_s,
            scenario_file=r.scenario_file,
            scenario_sha256=r.scenario_sha256,
            git_commit=r.git_commit,
            hachaos=r.hachaos,
            tags=list(r.tags),
            run_dir=r.run_dir,
            engine=r.engine,
            host_cores=r.host_cores,
            env_class=r.env_class,
            platform=r.platform,
            suite=r.suite,
            repeat_group=r.repeat,
            repetition=r.repetition,
            host_load=host.load if host else None,
            host_steal=host.steal if host else None,
            host_other_cpu=host.other_cpu if host else None,
            host_busy=host.busy if host else None,
            host_note=host.note if host else None,
            recorded_at=time.time(),
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def insert_figures(conn: Connection, pk: int, r: RunRecord) -> None:
    rows = [{"run": pk, "name": k, "value": v} for k, v in r.figures.items()]
    if rows:
        conn.execute(insert(figures), rows)


def insert_checks(conn: Connection, pk: int, r: RunRecord) -> None:
    rows = [
        {
            "run": pk,
            "position": i,
            "name": c.name,
            "phase": c.phase,
            "measured": c.measured,
            "threshold": c.threshold,
            "unit": c.unit,
            "passed": c.passed,
        }
        for i, c in enumerate(r.checks)
    ]
    if rows:
        conn.execute(insert(checks), rows)


def _run_pk(conn: Connection, run_id: str) -> int | None:
    row = conn.execute(select(runs.c.id).where(runs.c.run_id == run_id)).first()
    return None if row is None else int(row[0])


def _records(conn: Connection, rows: Sequence[Row[Any]]) -> list[RunRecord]:
    """RunRecords of ``runs`` rows, their figures and checks read in two queries."""
    pks = [r.id for r in rows]
    figs: dict[int, dict[str, float | None]] = {pk: {} for pk in pks}
    chks: dict[int, list[CheckValue]] = {pk: [] for pk in pks}
    for chunk in _chunks(pks, 500):  # bounded IN lists
        for f in conn.execute(select(figures).where(figures.c.run.in_(chunk))):
            figs[f.run][f.name] = f.value
        query = select(checks).where(checks.c.run.in_(chunk)).order_by(checks.c.position)
        for c in conn.execute(query):
            chks[c.run].append(
                CheckValue(c.name, c.phase, c.measured, c.threshold, c.unit, bool(c.passed))
            )
    return [_record(r, figs[r.id], chks[r.id]) for r in rows]


def _record(r: Row[Any], figs: dict[str, float | None], chks: list[CheckValue]) -> RunRecord:
    host = None
    if r.host_busy is not None:
        host = HostNoise(
            r.host_load,
            r.host_cores,
            r.host_steal,
            r.host_other_cpu,
            bool(r.host_busy),
            r.host_note or "",
        )
    return RunRecord(
        run_id=r.run_id,
        scenario=r.scenario,
        verdict=r.verdict,
        started_at=r.started_at,
        scenario_file=r.scenario_file,
        scenario_sha256=r.scenario_sha256,
        git_commit=r.git_commit,
        hachaos=r.hachaos,
        tags=tuple(r.tags or ()),
        expected=r.expected,
        duration_s=r.duration_s,
        run_dir=r.run_dir,
        engine=r.engine,
        host_cores=r.host_cores,
        platform=r.platform,
        suite=r.suite,
        repeat=r.repeat_group,
        repetition=r.repetition,
        host=host,
        figures=figs,
        checks=tuple(chks),
    )


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
