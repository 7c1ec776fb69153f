"""The first history schema: runs, their figures and checks, suites.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_runs()
    _create_results()
    _create_suites()


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(200), nullable=False, unique=True),
        sa.Column("scenario", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("expected", sa.String(20), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("duration_s", sa.Float),
        sa.Column("scenario_file", sa.Text, nullable=False),
        sa.Column("scenario_sha256", sa.String(64)),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("hachaos", sa.String(40)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("engine", sa.String(40), nullable=False),
        sa.Column("host_cores", sa.Integer),
        sa.Column("env_class", sa.String(100), nullable=False),
        sa.Column("platform", sa.Text),
        sa.Column("suite", sa.String(200)),
        sa.Column("repeat_group", sa.String(200)),
        sa.Column("repetition", sa.Integer),
        sa.Column("host_load", sa.Float),
        sa.Column("host_steal", sa.Float),
        sa.Column("host_other_cpu", sa.Float),
        sa.Column("host_busy", sa.Boolean),
        sa.Column("host_note", sa.Text),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_index("ix_runs_scenario_started", "runs", ["scenario", "started_at"])


def _create_results() -> None:
    """A run's figures and checks."""
    op.create_table(
        "figures",
        sa.Column(
            "run", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("value", sa.Float),
    )
    op.create_table(
        "checks",
        sa.Column(
            "run", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phase", sa.String(200), nullable=False),
        sa.Column("measured", sa.Float),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
    )


def _create_suites() -> None:
    op.create_table(
        "suites",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suite", sa.String(200), nullable=False, unique=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("wall_s", sa.Float),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("suite_dir", sa.Text, nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("unexpected", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("suites", "checks", "figures"):
        op.drop_table(table)
    op.drop_index("ix_runs_scenario_started", "runs")
    op.drop_table("runs")
