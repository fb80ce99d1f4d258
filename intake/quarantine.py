"""The quarantine: messages intake could not log, kept whole with the reason, until retried.

A message lands here when it is not an email at all or when a step raised (a bug, or input
nobody foresaw). It is never dropped: ``casework quarantine list`` shows what is held and why,
and ``casework quarantine retry`` runs each held message through the pipeline again (after a
fix has been deployed), marking it resolved when it is logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlmodel import Session

from store.db import session_scope
from store.models import QuarantinedMessage
from store.types import utcnow

if TYPE_CHECKING:
    from intake.pipeline import Outcome, Pipeline


def hold(engine: Engine, *, raw: bytes, reason: str, source: str) -> int:
    """Keep ``raw`` with ``reason`` in its own transaction; the same bytes held twice stay one row."""
    sha = hashlib.sha256(raw).hexdigest()
    with session_scope(engine) as session:
        row = session.execute(
            select(QuarantinedMessage).where(
                QuarantinedMessage.raw_sha256 == sha,  # type: ignore[arg-type]
                QuarantinedMessage.resolved_at.is_(None),  # type: ignore[union-attr]
            )
        ).scalar_one_or_none()
        if row is None:
            row = QuarantinedMessage(raw_sha256=sha, raw=raw, reason=reason[:2000], source=source[:500])
        else:
            row.reason = reason[:2000]
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


@dataclass
class Held:
    id: int
    created_at: str
    source: str
    reason: str
    retries: int
    resolved_at: str | None
    size: int

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def held(session: Session, *, include_resolved: bool = False) -> list[Held]:
    """What the quarantine holds, oldest first."""
    query = select(QuarantinedMessage).order_by(QuarantinedMessage.id)  # type: ignore[arg-type]
    if not include_resolved:
        query = query.where(QuarantinedMessage.resolved_at.is_(None))  # type: ignore[union-attr]
    return [
        Held(
            id=row.id or 0,
            created_at=row.created_at.isoformat(timespec="seconds"),
            source=row.source,
            reason=row.reason,
            retries=row.retries,
            resolved_at=row.resolved_at.isoformat(timespec="seconds") if row.resolved_at else None,
            size=len(row.raw),
        )
        for row in session.execute(query).scalars()
    ]


def retry(pipeline: Pipeline, engine: Engine) -> list[tuple[int, Outcome]]:
    """Run every unresolved message through ``pipeline`` again; logged ones are marked resolved."""
    with Session(engine) as session:
        ids = list(
            session.execute(
                select(QuarantinedMessage.id)  # type: ignore[call-overload]
                .where(QuarantinedMessage.resolved_at.is_(None))  # type: ignore[union-attr]
                .order_by(QuarantinedMessage.id)
            ).scalars()
        )
    results = []
    for pk in ids:
        with Session(engine) as session:
            row = session.get(QuarantinedMessage, pk)
            if row is None:
                continue
            raw, source = bytes(row.raw), row.source
        outcome = pipeline.process(raw, source=source)
        with session_scope(engine) as session:
            row = session.get(QuarantinedMessage, pk)
            if row is not None:
                row.retries += 1
                if outcome.kind != "quarantined":
                    row.resolved_at = utcnow()
                session.add(row)
        results.append((pk, outcome))
    return results
