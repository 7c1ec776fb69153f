"""The history's tables (SQLAlchemy Core). Changed only together with a new migration
under migrations/versions/, which `tests/unit/history` checks against this metadata."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), nullable=False, unique=True),
    Column("scenario", String(200), nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("expected", String(20), nullable=False),
    Column("started_at", Float, nullable=False),  # epoch s (t0 of the measurement)
    Column("duration_s", Float),
    Column("scenario_file", Text, nullable=False),
    Column("scenario_sha256", String(64)),
    Column("git_commit", String(64)),
    Column("hachaos", String(40)),
    Column("tags", JSON, nullable=False),
    Column("run_dir", Text, nullable=False),
    Column("engine", String(40), nullable=False),
    Column("host_cores", Integer),
    Column("env_class", String(100), nullable=False),
    Column("platform", Text),
    Column("suite", String(200)),
    Column("repeat_group", String(200)),
    Column("repetition", Integer),
    Column("host_load", Float),
    Column("host_steal", Float),
    Column("host_other_cpu", Float),
    Column("host_busy", Boolean),
    Column("host_note", Text),
    Column("recorded_at", Float, nullable=False),
    Index("ix_runs_scenario_started", "scenario", "started_at"),
)

figures = Table(
    "figures",
    metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", Float),
)

checks = Table(
    "checks",
    metadata,
    Column("run", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("phase", String(200), nullable=False),
    Column("measured", Float),
    Column("threshold", Float, nullable=False),
    Column("unit", String(20), nullable=False),
    Column("passed", Boolean, nullable=False),
)

suites = Table(
    "suites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suite", String(200), nullable=False, unique=True),  # the suite folder's name
    Column("started_at", Float, nullable=False),
    Column("wall_s", Float),
    Column("tags", JSON, nullable=False),
    Column("suite_dir", Text, nullable=False),
    Column("git_commit", String(64)),
    Column("counts", JSON, nullable=False),
    Column("unexpected", Integer, nullable=False),
    Column("recorded_at", Float, nullable=False),
)
