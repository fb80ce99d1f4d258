"""Opening the store for a command or the service: settings → engine with the schema current."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from casework.errors import UserError
from casework.settings import Settings, get_settings
from store.db import engine_for, upgrade
from store.workdays import set_extra_holidays

log = logging.getLogger(__name__)


def open_store(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    """The engine for the configured database, upgraded to the current schema."""
    settings = settings or get_settings()
    set_extra_holidays(settings.extra_holiday_dates)
    path = settings.sqlite_path()
    if path is not None and path.parent and not path.parent.exists():
        raise UserError(
            f"The folder for the database file {path} does not exist. "
            "Create it, or set CASEWORK_DATABASE_URL to another location."
        )
    engine = engine_for(settings.database_url)
    if migrate:
        try:
            upgrade(engine)
        except OperationalError as err:
            raise UserError(
                f"Cannot open the database at {engine.url.render_as_string(hide_password=True)}: "
                f"{err.orig}. Check CASEWORK_DATABASE_URL and that the server is running."
            ) from err
    return engine
