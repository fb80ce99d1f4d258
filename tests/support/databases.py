"""Real databases for tests: a fresh SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL databases are cloned from a template that is migrated once per test run
(``CREATE DATABASE … TEMPLATE …`` takes a few tens of milliseconds), so every test starts from
an empty, current schema and parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from store.db import make_engine, upgrade

PG_URL = os.environ.get("CASEWORK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_template: str | None = None
_pg_problem: str | None = None


def _admin() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def postgres_available() -> str | None:
    """None when PostgreSQL can be used, else why not."""
    global _pg_problem
    if _pg_problem is None:
        try:
            with _admin().connect() as conn:
                conn.execute(text("select 1"))
            _pg_problem = ""
        except Exception as err:  # any failure to connect means: not here
            _pg_problem = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {err}"
    return _pg_problem or None


def require_postgres() -> None:
    problem = postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests, but {problem}")
        pytest.skip(problem)


def _template_db() -> str:
    global _template
    if _template is None:
        name = f"casework_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with _admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        _template = name
    return _template


@contextmanager
def postgres_database() -> Iterator[str]:
    """A URL of a new, migrated PostgreSQL database, dropped afterwards."""
    require_postgres()
    name = f"casework_t_{uuid.uuid4().hex[:12]}"
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template_db()}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_template() -> None:
    global _template
    if _template is not None:
        with _admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)'))
        _template = None
