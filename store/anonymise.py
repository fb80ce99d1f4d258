"""Removing personal data: anonymising cases, erasing a person, and clearing it from the file.

What the Board counts stays: the case row's category, status, dates, due date and working days,
its history rows (their free-text notes cleared), and the participant count (kept in
``anonymised_cases``). Everything else :data:`store.personal_data.REGISTRY` lists for the
cases is deleted or overwritten, and correspondents no case or message refers to any more are
deleted. ``casework stats`` over any period reads the same before and after.

Deleted rows stay in the database file's free pages (and SQLite's WAL) until they are
overwritten; :func:`clear_file` rewrites them away: SQLite gets ``VACUUM`` and a WAL checkpoint
(TRUNCATE), PostgreSQL a ``VACUUM`` of each touched table. Run it after the transaction commits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, Text, delete, func, select, text, type_coerce, update
from sqlmodel import Session, col

from store import audit
from store.cases import CaseError
from store.models import (
    AnonymisedCase,
    Case,
    CaseEvent,
    CaseParticipant,
    Correspondent,
    Message,
    OutboxItem,
)
from store.outbox import enqueue
from store.personal_data import Holder, Person, holders, messages_of_person
from store.types import utcnow

log = logging.getLogger(__name__)

#: case ids per statement: well inside SQLite's and PostgreSQL's limits on bound parameters
CHUNK = 500

REMOVED = {"removed": "personal data removed"}


@dataclass
class Removal:
    """What one anonymisation or erasure did, for the command's answer and the tests."""

    cases: list[str] = field(default_factory=list)
    #: cases kept for others from which one participant was removed (erasure)
    left: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)

    def count(self, holder: Holder, n: int) -> None:
        if n:
            self.rows[holder.name] = self.rows.get(holder.name, 0) + n
            self.tables.add(str(holder.model.__table__.name))  # type: ignore[attr-defined]


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _apply(session: Session, holder: Holder, where: object, scrub: object, removal: Removal) -> None:
    table = holder.model.__table__  # type: ignore[attr-defined]
    if scrub is None:
        result = session.execute(delete(table).where(where))  # type: ignore[arg-type]
    else:
        result = session.execute(update(table).where(where).values(**scrub))  # type: ignore[arg-type]
    removal.count(holder, int(result.rowcount or 0))  # type: ignore[attr-defined]


def _correspondents_of(session: Session, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            session.execute(
                select(col(CaseParticipant.correspondent_id)).where(col(CaseParticipant.case_id).in_(chunk))
            ).scalars()
        )
        found.update(
            pk
            for pk in session.execute(
                select(col(Case.correspondent_id)).where(col(Case.id).in_(chunk))
            ).scalars()
            if pk is not None
        )
        found.update(
            pk
            for pk in session.execute(
                select(col(Message.correspondent_id)).where(col(Message.case_id).in_(chunk))
            ).scalars()
            if pk is not None
        )
    return found


def _used(session: Session, candidates: Sequence[int]) -> set[int]:
    """Those of ``candidates`` some registered column still refers to (a page of queries per table)."""
    used: set[int] = set()
    for holder in holders():
        if holder.correspondent is None:
            continue
        column = holder.model.__table__.c[holder.correspondent]  # type: ignore[attr-defined]
        for chunk in _chunks(candidates):
            used.update(session.execute(select(column).where(column.in_(chunk)).distinct()).scalars())
    return used


def drop_unused_correspondents(session: Session, candidates: Iterable[int], removal: Removal) -> None:
    """Delete the correspondents among ``candidates`` that nothing refers to any more."""
    wanted = sorted(set(candidates))
    used = _used(session, wanted)
    unused = [pk for pk in wanted if pk not in used]
    for chunk in _chunks(unused):
        result = session.execute(delete(Correspondent).where(col(Correspondent.id).in_(chunk)))
        if result.rowcount:  # type: ignore[attr-defined]
            removal.rows["correspondents"] = removal.rows.get("correspondents", 0) + int(result.rowcount)  # type: ignore[attr-defined]
            removal.tables.add("correspondents")


#: what a case reference looks like in a message's text (``WMOPC-2013-000123``)
_REFERENCE = re.compile(r"[A-Z0-9]+-\d{4}-\d{4,}")


def _scrub_outbox_mentions(session: Session, references: Sequence[str], removal: Removal) -> None:
    """Lists (overdue, digests) name many cases and belong to none: clear those naming these.

    One pass over such rows, a page at a time, matching the references each one names against
    the set, so a run over many cases reads the outbox once rather than once per case.
    """
    wanted = set(references)
    now = utcnow()
    last = 0
    while True:
        page = session.execute(
            select(col(OutboxItem.id), type_coerce(col(OutboxItem.payload), Text))
            .where(col(OutboxItem.case_id).is_(None), col(OutboxItem.id) > last)
            .order_by(col(OutboxItem.id))
            .limit(1000)
        ).all()
        if not page:
            return
        last = page[-1][0]
        hits = [pk for pk, payload in page if payload and wanted.intersection(_REFERENCE.findall(payload))]
        for row in session.execute(select(OutboxItem).where(col(OutboxItem.id).in_(hits))).scalars():
            row.payload = REMOVED
            if row.sent_at is None:  # never send a list that named a removed case
                row.sent_at = now
                row.result = {"skipped": "a case it listed was anonymised"}
            session.add(row)
            removal.rows["outbox"] = removal.rows.get("outbox", 0) + 1
            removal.tables.add("outbox")


def anonymise_cases(
    session: Session,
    *,
    case_ids: Sequence[int],
    actor: str,
    reason: str = "retention",
    action: str = "anonymised",
) -> Removal:
    """Remove every personal datum of these cases, keeping what the Board counts.

    Already anonymised cases are skipped. One ``anonymised`` (or ``erased``) audit row per case.
    """
    removal = Removal()
    done = (
        set(
            session.execute(
                select(col(AnonymisedCase.case_id)).where(col(AnonymisedCase.case_id).in_(case_ids))
            ).scalars()
        )
        if case_ids
        else set()
    )
    ids = sorted(set(case_ids) - done)
    if not ids:
        return removal
    people = _correspondents_of(session, ids)
    now = utcnow()
    references: list[str] = []
    posted: list[str] = []
    for chunk in _chunks(ids):
        counts = dict(
            session.execute(
                select(col(CaseParticipant.case_id), func.count())
                .where(col(CaseParticipant.case_id).in_(chunk))
                .group_by(col(CaseParticipant.case_id))
            ).all()
        )
        for pk, reference, ts in session.execute(
            select(col(Case.id), col(Case.reference), col(Case.slack_ts))
            .where(col(Case.id).in_(chunk))
            .order_by(col(Case.id))
        ).all():
            references.append(reference)
            if ts:
                posted.append(reference)
            session.add(
                AnonymisedCase(case_id=pk, at=now, reason=reason, participant_count=int(counts.get(pk, 0)))
            )
    session.flush()
    for holder in holders():
        if holder.of_cases is None:
            continue
        for chunk in _chunks(ids):
            _apply(session, holder, holder.of_cases(chunk), holder.scrub, removal)
    _scrub_outbox_mentions(session, references, removal)
    drop_unused_correspondents(session, people, removal)
    for reference in posted:  # redraw the triage post from the anonymised case (Slack's own copy)
        enqueue(session, key=f"anonymised:{reference}", kind="slack.triage", payload={"reference": reference})
    for reference in references:
        audit.record(session, actor=actor, action=action, case=reference, detail=reason, at=now)
    removal.cases = references
    return removal


def find_person(session: Session, email: str) -> Person:
    """The person with this address; :class:`CaseError` when nothing is held about them."""
    address = email.strip().lower()
    if "@" not in address:
        raise CaseError(f"{email!r} is not an email address: give the address the person wrote from.")
    pk = session.execute(
        select(col(Correspondent.id)).where(col(Correspondent.email) == address)
    ).scalar_one_or_none()
    return Person(email=address, id=pk)


def cases_of_person(session: Session, person: Person) -> tuple[list[int], list[int]]:
    """``(theirs alone, shared)``: case ids only this person is on, and those with others too
    (campaigns), found through participation, the case's correspondent and their messages."""
    ids: set[int] = set()
    if person.id is not None:
        ids.update(
            session.execute(
                select(col(CaseParticipant.case_id)).where(col(CaseParticipant.correspondent_id) == person.id)
            ).scalars()
        )
        ids.update(
            session.execute(select(col(Case.id)).where(col(Case.correspondent_id) == person.id)).scalars()
        )
    ids.update(
        pk
        for pk in session.execute(select(col(Message.case_id)).where(messages_of_person(person))).scalars()
        if pk is not None
    )
    alone: list[int] = []
    shared: list[int] = []
    for pk in sorted(ids):
        others = session.execute(
            select(func.count())
            .select_from(CaseParticipant)
            .where(
                col(CaseParticipant.case_id) == pk, col(CaseParticipant.correspondent_id) != (person.id or -1)
            )
        ).scalar_one()
        campaign = session.execute(select(col(Case.campaign_id)).where(col(Case.id) == pk)).scalar_one()
        (shared if others or campaign is not None else alone).append(pk)
    return alone, shared


def erase_person(session: Session, *, email: str, actor: str) -> Removal:
    """Anonymise this person everywhere: their own cases wholly, and in a campaign (or any case
    with others on it) their participation, messages and everything hanging off them."""
    person = find_person(session, email)
    alone, shared = cases_of_person(session, person)
    has_rows = any(
        holder.of_person is not None
        and session.execute(
            select(func.count()).select_from(holder.model).where(holder.of_person(person))
        ).scalar_one()
        for holder in holders()
    )
    if not alone and not shared and not has_rows:
        raise CaseError(
            f"Nothing is held about {person.email}: no case, message or correspondent has that address."
        )
    removal = anonymise_cases(session, case_ids=alone, actor=actor, reason="erasure", action="erased")
    shared_refs = (
        list(
            session.execute(
                select(col(Case.reference)).where(col(Case.id).in_(shared)).order_by(col(Case.id))
            ).scalars()
        )
        if shared
        else []
    )
    # history notes that name one of their messages by its Message-ID go with the message
    message_ids = [
        m
        for m in session.execute(select(col(Message.message_id)).where(messages_of_person(person))).scalars()
        if m
    ]
    for holder in holders():
        if holder.of_person is None:
            continue
        scrub = holder.person_scrub if holder.person_scrub is not None else holder.scrub
        _apply(session, holder, holder.of_person(person), scrub, removal)
    if message_ids:
        for message_id in message_ids:
            session.execute(update(CaseEvent).where(col(CaseEvent.note).contains(message_id)).values(note=""))
    for reference in shared_refs:
        audit.record(session, actor=actor, action="erased", case=reference, detail="one participant removed")
    if not alone and not shared:
        audit.record(session, actor=actor, action="erased", detail="no case; messages or mail removed")
    removal.left = shared_refs
    return removal


def clear_file(engine: Engine, tables: Iterable[str]) -> list[str]:
    """Rewrite deleted rows out of the database file; returns what was run (for the log).

    SQLite: ``VACUUM`` rebuilds the file from live rows only, then ``wal_checkpoint(TRUNCATE)``
    empties the write-ahead log that still holds the old pages. PostgreSQL: ``VACUUM`` of each
    touched table (and its TOAST table) frees the dead rows' space for reuse; see
    docs/data-protection.md for backups and WAL archives, which keep their own copies.
    """
    ran: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                connection.execute(text(statement))
                ran.append(statement)
        else:
            for table in sorted(set(tables)):
                statement = f'VACUUM (ANALYZE) "{table}"'
                connection.execute(text(statement))
                ran.append(statement)
    log.info("cleared from the file: %s", "; ".join(ran))
    return ran
