"""The Alembic migrations create exactly the tables store/models.py describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import current_revision, make_engine, upgrade


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)  # a second upgrade of a current database changes nothing
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run scripts/regen-initial-migration"
    assert current_revision(make_engine(database_url)) is not None
