"""Shared fixtures: settings and a real, migrated database on SQLite and on PostgreSQL.

A test that asks for ``engine`` (or ``settings``) runs twice, once per backend. PostgreSQL
tests skip with a visible reason where no server is reachable, and fail in CI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from store.db import make_engine, upgrade
from tests.support.databases import drop_template, postgres_database

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference"
CORPUS = SHARED / "corpus" / "dev"
MAIL_FIXTURES = SHARED / "fixtures" / "mail"
SLACK_FIXTURES = SHARED / "fixtures" / "slack"


def shared_or_skip(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not here (tests read ../shared in place)")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'casework.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'casework.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test: no .env file, nothing from the environment but what is given."""
    values: dict[str, object] = {"database_url": database_url, "reference_prefix": "WMOPC"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Cleaning up must never turn a green run red.
    with contextlib.suppress(Exception):
        drop_template()
