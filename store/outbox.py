"""The outbox: every notification is a row before it is a request.

Intake, the bot and the scheduler never send to Slack or SMTP directly. They ``enqueue`` a row
whose ``key`` says what it is (``triage:WMOPC-2013-000123``, ``warn:…:5:2013-04-10``) in the
same transaction as the change that caused it; a sender drains the table. A duplicate key is
ignored, so a restart or a second instance cannot send the same thing twice, and a Slack or
SMTP outage only delays the rows (``next_attempt_at`` backs off) without losing them.
Claiming uses ``claimed_until`` with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
instances draining at once never both take a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from store.models import OutboxItem
from store.types import utcnow

MAX_BACKOFF = timedelta(minutes=30)


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    target: str = "",
    payload: dict[str, Any] | None = None,
    case_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Record a notification; False when one with this key was recorded before."""
    values = {
        "key": key,
        "kind": kind,
        "target": target,
        "payload": payload or {},
        "case_id": case_id,
        "created_at": utcnow(),
        "next_attempt_at": not_before or utcnow(),
        "attempts": 0,
        "last_error": "",
    }
    dialect = session.get_bind().dialect.name
    table = OutboxItem.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        stmt = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
    else:
        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])  # type: ignore[assignment]
    # RETURNING says whether a row went in (rowcount is not reliable on PostgreSQL here: the
    # driver reports -1 when SQLAlchemy adds its own RETURNING for the primary key)
    return session.execute(stmt.returning(table.c.id)).first() is not None


def enqueue_many(session: Session, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Record many notifications at once; returns the keys inserted (not recorded before).

    Each row has ``key`` and ``kind`` and optionally ``target``, ``payload``, ``case_id`` and
    ``not_before``, as for :func:`enqueue`, with the same ``ON CONFLICT (key) DO NOTHING``. The
    rows go in key order (a repeated key once) as one statement executed for many rows, so two
    instances inserting the same batch at once on PostgreSQL wait for each other rather than
    deadlock, and the second inserts nothing.
    """
    now = utcnow()
    by_key = {row["key"]: row for row in rows}
    if not by_key:
        return []
    sqlite = session.get_bind().dialect.name != "postgresql"
    # Encoded here once, exactly as the columns' types would (JSONText, UTCDateTime), and bound
    # through plain types: per-row type processing cost more than the insert itself.
    stamp = now.replace(tzinfo=None) if sqlite else now
    ordered = sorted(by_key.items())
    if not sqlite:
        # One JSON text parameter for any number of rows: a multi-row VALUES of thousands of
        # placeholders spent most of its time in the driver re-parsing the statement. Payloads
        # travel as JSON values (not strings inside JSON, escaped twice) and are stored as the
        # exact text of that value, which is what json.dumps(payload, sort_keys=True) gives.
        records = [
            {
                "key": key,
                "kind": row["kind"],
                "target": row.get("target", ""),
                "payload": row.get("payload") or {},
                "case_id": row.get("case_id"),
                "next_attempt_at": _utc(row["not_before"], sqlite).isoformat()
                if row.get("not_before")
                else now.isoformat(),
            }
            for key, row in ordered
        ]
        params = {"now": now, "rows": json.dumps(records, ensure_ascii=False, sort_keys=True)}
        return sorted(session.execute(_PG_RECORDSET_INSERT, params).scalars())
    # Encoded here once, exactly as the columns' types would (JSONText, UTCDateTime), and bound
    # through plain types: per-row type processing cost more than the insert itself.
    values = [
        {
            "key": key,
            "kind": row["kind"],
            "target": row.get("target", ""),
            "payload": json.dumps(row.get("payload") or {}, ensure_ascii=False, sort_keys=True),
            "case_id": row.get("case_id"),
            "created_at": stamp,
            "next_attempt_at": _utc(row["not_before"], sqlite) if row.get("not_before") else stamp,
        }
        for key, row in ordered
    ]
    # One cached statement for every row: SQLAlchemy sends it as multi-row VALUES batches
    # ("insertmanyvalues"), and RETURNING says which rows were new.
    stmt = (
        sqlite_insert(_PLAIN_OUTBOX)
        .values(attempts=0, last_error="")
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_PLAIN_OUTBOX.c.key)
    )
    return sorted(key for key in session.execute(stmt, values).scalars() if key is not None)


_PG_RECORDSET_INSERT = text(
    "INSERT INTO outbox (key, kind, target, payload, case_id, created_at, next_attempt_at,"
    " attempts, last_error)"
    " SELECT r.key, r.kind, r.target, r.payload::text, r.case_id, :now, r.next_attempt_at, 0, ''"
    " FROM json_to_recordset(CAST(:rows AS json))"
    " AS r(key text, kind text, target text, payload json, case_id integer, next_attempt_at timestamptz)"
    " ORDER BY r.key"
    " ON CONFLICT (key) DO NOTHING RETURNING key"
)


def _utc(moment: datetime, sqlite: bool) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None) if sqlite else moment


#: the outbox's columns that :func:`enqueue_many` writes, with plain types (values pre-encoded)
#: the mapped table (typed columns: aware timestamps on both databases), for Core statements
_OUTBOX = OutboxItem.__table__  # type: ignore[attr-defined]

_PLAIN_OUTBOX = Table(
    "outbox",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("key", String),
    Column("kind", String),
    Column("target", String),
    Column("payload", Text),
    Column("case_id", Integer),
    Column("created_at", DateTime(timezone=True)),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("attempts", Integer),
    Column("last_error", String),
)


def claim(
    session: Session,
    *,
    limit: int = 20,
    lease: timedelta = timedelta(minutes=2),
    kinds: tuple[str, ...] | None = None,
    kind_prefix: str | None = None,
) -> list[OutboxItem]:
    """Take up to ``limit`` due rows for sending; the caller commits right after.

    ``kinds`` names the kinds to take; ``kind_prefix`` takes every kind starting with it
    (the email sender takes every ``email.*`` row, whatever queued it).

    One ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id``: the claim is a write from the
    first statement, so on SQLite a second instance waits for the write lock and then finds the
    rows already claimed, instead of reading them from an older snapshot and claiming them too
    (which a SELECT followed by an UPDATE allowed). On PostgreSQL the inner SELECT skips rows
    another instance has locked.
    """
    now = utcnow()
    due = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.sent_at.is_(None),
            _OUTBOX.c.next_attempt_at <= now,
            or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < now),
        )
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    if kinds:
        due = due.where(_OUTBOX.c.kind.in_(kinds))
    if kind_prefix:
        due = due.where(_OUTBOX.c.kind.startswith(kind_prefix, autoescape=True))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = list(
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=now + lease, attempts=_OUTBOX.c.attempts + 1)
            .returning(_OUTBOX.c.id)
        ).scalars()
    )
    if not claimed:
        return []
    query = select(OutboxItem).where(col(OutboxItem.id).in_(claimed)).order_by(col(OutboxItem.id))
    return list(session.execute(query.execution_options(populate_existing=True)).scalars())


def mark_sent(session: Session, *, item: OutboxItem, result: Any = None) -> None:
    item.sent_at = utcnow()
    item.claimed_until = None
    item.result = result
    item.last_error = ""
    session.add(item)


def mark_failed(session: Session, *, item: OutboxItem, error: str, retry_after: float | None = None) -> None:
    """Put the row back with a back-off (Slack's ``Retry-After`` when it gave one)."""
    delay = (
        timedelta(seconds=retry_after)
        if retry_after
        else min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** min(item.attempts, 10)))
    )
    item.claimed_until = None
    item.next_attempt_at = utcnow() + delay
    item.last_error = error[:2000]
    session.add(item)
