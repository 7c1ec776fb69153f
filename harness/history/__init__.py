"""The run history: every run and suite in SQLite (default) or PostgreSQL (docs/history.md).

The only package that talks to a database (SQLAlchemy Core, Alembic migrations, psycopg).
"""
