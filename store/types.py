"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zones: a plain ``DateTime(timezone=True)`` comes back naive there and aware
on PostgreSQL. ``UTCDateTime`` stores UTC and always returns an aware UTC datetime, so code
above the store never has to ask which database it is on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} reached the store; timestamps must carry a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text everywhere (portable, and easy to read in a SQL shell)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


__all__ = ["JSON", "JSONText", "UTCDateTime"]


def utcnow() -> datetime:
    """Now, aware, in UTC: the only clock the store uses (tests move it with time-machine)."""
    return datetime.now(UTC)
