"""Rows held back and written many at once: a batch of new cases in a handful of statements.

Why: opening a case from an email took eight INSERT or UPDATE statements (correspondent,
reference counter, case, history, participant, outbox, message, fingerprint bands). At a
hundred messages a batch those round trips were most of intake's time on SQLite and nearly
all of it on PostgreSQL. :class:`PendingRows` keeps the rows until :meth:`PendingRows.flush`,
which writes each table's rows with one executemany (SQLAlchemy's "insertmanyvalues": a
multi-row ``INSERT … RETURNING`` for the tables whose ids other rows need).

A row that needs the id of a row not yet written holds that row's :class:`Slot`; the slot is
filled when its row goes in, which is why tables are written parents first (:data:`ORDER`).

The rows are invisible to queries until flushed, so whoever reads these tables in the same
transaction must flush first; the intake flushes before every query that could see them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlmodel import Session, SQLModel

from store.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseParticipant,
    Correspondent,
    FingerprintBand,
    Message,
)
from store.outbox import enqueue_many


class Slot:
    """The id of a row that is not written yet; ``target.id`` is set too when it is."""

    __slots__ = ("id", "target")

    def __init__(self, target: Any = None) -> None:
        self.id: int | None = None
        self.target = target

    def fill(self, pk: int) -> None:
        self.id = pk
        if self.target is not None:
            self.target.id = pk


def resolve(value: Any) -> Any:
    """``value``, or the id its slot holds once the row is written."""
    if isinstance(value, Slot):
        assert value.id is not None, "a row was written before the row it refers to"
        return value.id
    return value


#: parents before children: a slot is filled before any row that refers to it is written
ORDER: tuple[type[SQLModel], ...] = (
    Correspondent,
    Case,
    CaseEvent,
    CaseParticipant,
    Message,
    Attachment,
)


def _insert(connection: Connection, table: Table, values: list[dict[str, Any]]) -> list[int]:
    """Insert ``values`` into ``table`` in one executemany; the new ids, in order.

    PostgreSQL returns them from a multi-row ``INSERT … RETURNING``. SQLite cannot promise
    RETURNING's order for many rows (SQLAlchemy falls back to a statement a row), so the ids are
    given explicitly, counting on from the largest: the intake's transaction holds SQLite's
    write lock (``BEGIN IMMEDIATE``), so nobody else can take them meanwhile, and if anyone
    could, the unique key would refuse the batch rather than mix rows up.
    """
    if connection.dialect.name != "sqlite":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [int(pk) for pk in connection.execute(stmt, values).scalars()]
    last = int(connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar_one())
    ids = list(range(last + 1, last + 1 + len(values)))
    connection.execute(insert(table), [{**row, "id": pk} for row, pk in zip(values, ids, strict=True)])
    return ids


def _insert_bands(connection: Connection, rows: list[tuple[str, int]]) -> None:
    """Fingerprint bands (24 a message) as plain tuples, past SQLAlchemy's per-row processing.

    On PostgreSQL as two arrays in one statement: an executemany sends every row on its own.
    """
    table = FingerprintBand.__tablename__
    if connection.dialect.name == "postgresql":
        bands, messages = [band for band, _pk in rows], [pk for _band, pk in rows]
        sql = f"INSERT INTO {table} (band, message_pk) SELECT * FROM unnest(%s::text[], %s::bigint[])"
        connection.exec_driver_sql(sql, (bands, messages))
    else:
        connection.exec_driver_sql(f"INSERT INTO {table} (band, message_pk) VALUES (?, ?)", rows)


class PendingRows:
    """New rows of one transaction, written by :meth:`flush` in a few statements."""

    def __init__(self) -> None:
        self._rows: dict[type[SQLModel], list[tuple[dict[str, Any], Slot | None]]] = defaultdict(list)
        self._bands: list[tuple[str, Slot]] = []
        self._outbox: list[dict[str, Any]] = []
        #: band keys waiting to be written: a campaign lookup sharing one must flush first
        self.band_keys: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._rows or self._bands or self._outbox)

    def add(self, model: type[SQLModel], values: dict[str, Any], *, target: Any = None) -> Slot:
        """Hold a row of ``model`` (every column but ``id``; values may be slots); its slot."""
        slot = Slot(target)
        self._rows[model].append((values, slot))
        return slot

    def add_bands(self, bands: list[str], message: Slot) -> None:
        self._bands.extend((band, message) for band in bands)
        self.band_keys.update(bands)

    def add_outbox(self, row: dict[str, Any]) -> None:
        """An outbox row as :func:`store.outbox.enqueue_many` takes it (``case_id`` may be a slot)."""
        self._outbox.append(row)

    def outbox_count(self, *, kind: str, target: str) -> int:
        """Held-back outbox rows of ``kind`` to ``target`` (not yet in the store)."""
        return sum(1 for row in self._outbox if row.get("kind") == kind and row.get("target") == target)

    def flush(self, session: Session) -> list[tuple[str, int]]:
        """Write every held row, parents first; afterwards every slot holds its id.

        Returns the fingerprint bands written, as ``(band, message_pk)``, for a caller that
        keeps its own index of them.
        """
        written: list[tuple[str, int]] = []
        if not self:
            return written
        connection = session.connection()
        for model in ORDER:
            rows = self._rows.pop(model, None)
            if not rows:
                continue
            table = model.__table__  # type: ignore[attr-defined]
            values = [{name: resolve(value) for name, value in row.items()} for row, _slot in rows]
            for (_row, slot), pk in zip(rows, _insert(connection, table, values), strict=True):
                if slot is not None:
                    slot.fill(pk)
        assert not self._rows, "a table missing from ORDER"
        if self._bands:
            # plain tuples past SQLAlchemy's per-row processing: 24 rows a message
            written = [(band, resolve(slot)) for band, slot in self._bands]
            _insert_bands(connection, written)
            self._bands.clear()
            self.band_keys.clear()
        if self._outbox:
            enqueue_many(session, [{**row, "case_id": resolve(row.get("case_id"))} for row in self._outbox])
            self._outbox.clear()
        return written
