"""The history tests run once on SQLite and once on a real PostgreSQL server, started by
scripts/ensure-postgres from Debian's packages (unix socket only) for the session."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "analysis"))  # hachaos_runfolder


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server; its URL (database ``postgres``)."""
    folder = tempfile.mkdtemp(prefix="hachaos-pg-")
    script = ROOT / "scripts" / "ensure-postgres"
    started = subprocess.run(
        ["bash", str(script), "start", folder],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"ensure-postgres start failed:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", folder], timeout=120, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server: str) -> str:
    """A new, empty database on the server; its URL."""
    url = make_url(server)
    name = f"t_{uuid.uuid4().hex[:16]}"
    host = url.query["host"]
    assert isinstance(host, str)
    with psycopg.connect(dbname="postgres", user="hachaos", host=host, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history database of each backend, as `--history` takes it."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite")
    return fresh_database(request.getfixturevalue("postgres_server"))
