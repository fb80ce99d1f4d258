"""The audit trail: every look at and change to a case's personal data, one row each.

One writer, :func:`record`, for every read path (Slack, the CLI, exports), so the trail is
complete wherever a new way to see a case is added. A row holds the time, the actor (a Slack
user id or ``cli:<os user>``), one of :data:`ACTIONS`, the case reference and a short detail
of references, ids, counts and command names: never a name, address, subject or text, so the
trail may be kept after the cases it is about are anonymised (``CASEWORK_AUDIT_RETENTION_DAYS``).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from store.models import AuditEntry, Case
from store.types import utcnow
from store.workdays import LONDON

#: what the trail records; names fixed by the issue and read by the data protection officer
ACTIONS = (
    "viewed",
    "message_read",
    "attachment_downloaded",
    "exported",
    "searched",
    "changed",
    "anonymised",
    "erased",
    "subject_access_export",
)


def cli_actor() -> str:
    """The actor of a command run at the terminal: ``cli:<os user>``."""
    try:
        who = getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        who = "unknown"
    return f"cli:{who}"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    case: Case | str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction (flushed, not committed).

    ``case`` is the case or its reference. ``detail`` must not carry personal data: say what
    was done (``"case show"``, ``"3 cases"``), not what was in it.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; use one of {', '.join(ACTIONS)}")
    reference = case.reference if isinstance(case, Case) else case
    entry = AuditEntry(
        at=at or utcnow(),
        actor=actor[:100],
        action=action,
        case_reference=reference.upper()[:40] if reference else None,
        detail=detail[:500],
    )
    session.add(entry)
    session.flush()
    return entry


def record_many(session: Session, *, actor: str, action: str, references: list[str], detail: str = "") -> int:
    """One row per case reference (an export of many cases), written in pages."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor": actor[:100],
            "action": action,
            "case_reference": r.upper()[:40],
            "detail": detail[:500],
        }
        for r in references
    ]
    for start in range(0, len(rows), 5000):  # one executemany per page: an export of every case
        session.execute(insert(AuditEntry), rows[start : start + 5000])
    return len(rows)


@dataclass(frozen=True)
class AuditQuery:
    case: str | None = None
    actor: str | None = None
    since: date | None = None


def entries(session: Session, query: AuditQuery, *, limit: int | None = None) -> list[AuditEntry]:
    """Rows matching ``query``, oldest first; ``since`` is a London date (from its midnight)."""
    stmt = select(AuditEntry)
    if query.case:
        stmt = stmt.where(col(AuditEntry.case_reference) == query.case.strip().upper())
    if query.actor:
        stmt = stmt.where(col(AuditEntry.actor) == query.actor.strip())
    if query.since:
        start = datetime.combine(query.since, datetime.min.time(), tzinfo=LONDON)
        stmt = stmt.where(col(AuditEntry.at) >= start)
    stmt = stmt.order_by(col(AuditEntry.at), col(AuditEntry.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt).scalars())


def as_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "case": entry.case_reference,
        "detail": entry.detail,
    }


def purge(session: Session, *, days: int, now: datetime | None = None) -> int:
    """Delete rows older than ``days`` (``CASEWORK_AUDIT_RETENTION_DAYS``); how many went."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = session.execute(delete(AuditEntry).where(col(AuditEntry.at) < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
