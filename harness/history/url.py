"""Where the history lives: ``--history``, else $HACHAOS_HISTORY, else a SQLite file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from harness.errors import ScenarioError

ENV_VAR = "HACHAOS_HISTORY"
DEFAULT_FILE = "history.sqlite"
OFF = ("off", "none", "no")
_HINT = (
    "give a SQLite file (reports/history.sqlite, sqlite:///path) or a PostgreSQL URL "
    "(postgresql://user@host/db, postgresql:///db?host=/run/socket-dir); `off` records nothing"
)


def history_url(option: str | None, root: Path, env: Mapping[str, str] | None = None) -> URL | None:
    """The database of the history; None when turned off (``--history off``).

    ``root`` is the reports root: the default is ``<root>/history.sqlite``.
    """
    text = option if option is not None else (env if env is not None else os.environ).get(ENV_VAR)
    if text is None or not text.strip():
        return sqlite_url(root / DEFAULT_FILE)
    text = text.strip()
    if text.lower() in OFF:
        return None
    if "://" not in text:  # a bare path is a SQLite file
        return sqlite_url(Path(text))
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ScenarioError(f"invalid history URL {redacted(text)!r}: {exc}", hint=_HINT) from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite" and url.database:
        return sqlite_url(Path(url.database))
    raise ScenarioError(
        f"unsupported history database {url.drivername!r} in {redacted(text)!r}", hint=_HINT
    )


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=str(path))


def redacted(url: URL | str) -> str:
    """The URL without its password, for messages and reports."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparsable URL>"
    return url.render_as_string(hide_password=True)
