"""Bring a history database to the schema of this hachaos (Alembic, versioned migrations).

Each upgrade runs in one transaction that first takes the database's write lock (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so two hachaos starting at once on a new
database migrate it once, and a killed migration leaves the previous version.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text

from harness.errors import HistoryError

SCRIPTS = "harness.history:migrations"
_PG_LOCK_KEY = 0x68616368  # "hach": one advisory lock for every hachaos migration


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPTS)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest schema revision this hachaos knows."""
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


def current(connection: Connection) -> str | None:
    """The database's schema revision (None: an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, target: str = "head") -> None:
    """Migrate inside the caller's transaction, which holds the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    found = current(connection)
    scripts = ScriptDirectory.from_config(_config())
    if found is not None and found not in {s.revision for s in scripts.walk_revisions()}:
        raise HistoryError(
            f"the history database is at schema revision {found!r}, which this hachaos "
            "does not know (a newer hachaos wrote it)",
            hint="upgrade hachaos, or point --history at another database",
        )
    if found == head() and target == "head":
        return
    try:
        command.upgrade(_config(connection), target)
    except CommandError as exc:
        raise HistoryError(f"migrating the history database failed: {exc}") from exc
