"""Where personal data lives: one entry per table, for anonymisation, erasure and subject access.

Anonymising a case (:mod:`store.anonymise`), erasing a person and exporting what is held about
one (:mod:`store.subject_access`) all walk :data:`REGISTRY` instead of naming tables, so a new
table that holds personal data is covered by adding one :class:`Holder`::

    from store.personal_data import Holder, register, rows_of_messages
    register(Holder(
        "notes", Note,
        of_cases=lambda ids: col(Note.case_id).in_(ids),
        of_person=lambda person: col(Note.text).ilike(f"%{person.email}%"),
        order=10,
    ))

An entry says how to find a set of cases' rows (``of_cases``), how to find one person's rows
wherever they are (``of_person``, used by erasure in shared and campaign cases and by subject
access), and what to do with them: delete them (``scrub=None``) or overwrite the named columns
(``scrub={...}``) where the row must stay because the Board counts it. ``order`` runs
dependent rows first (lower first), so foreign keys never block a delete. ``correspondent``
names a column that points at ``correspondents.id``: a correspondent row is deleted only when
no such column still refers to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, false, func, or_, select, type_coerce
from sqlmodel import SQLModel, col

from store.models import (
    Attachment,
    Campaign,
    Case,
    CaseEvent,
    CaseFile,
    CaseParticipant,
    ClassifierLabel,
    ClockEvent,
    Correspondent,
    Draft,
    FingerprintBand,
    Message,
    Note,
    OutboxItem,
    QuarantinedMessage,
    SurgeryBooking,
)


@dataclass(frozen=True)
class Person:
    """Whom an erasure or a subject access request is about."""

    email: str
    #: their correspondent row's id, when they have one
    id: int | None = None

    @property
    def like(self) -> str:
        """``%address%`` for ``ILIKE`` over free text, with LIKE's wildcards escaped."""
        escaped = self.email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"


@dataclass(frozen=True)
class Holder:
    """One table that holds personal data, and how to find and remove it."""

    name: str
    model: type[SQLModel]
    #: the rows of these case ids (None: the table has no rows by case)
    of_cases: Callable[[Sequence[int]], ColumnElement[bool]] | None
    #: one person's own rows, wherever they are (None: found through their cases only)
    of_person: Callable[[Person], ColumnElement[bool]] | None = None
    #: None: delete the rows; otherwise the columns to overwrite and their new values
    scrub: Mapping[str, Any] | None = None
    #: what erasure does to one person's rows in a case kept for others (default: ``scrub``)
    person_scrub: Mapping[str, Any] | None = None
    order: int = 50
    #: the column that refers to ``correspondents.id``, if any
    correspondent: str | None = None
    #: columns left out of a subject access export (binary content is written as files)
    private_columns: frozenset[str] = field(default_factory=frozenset)


REGISTRY: list[Holder] = []


def register(holder: Holder) -> Holder:
    """Add (or replace, by name) a table that holds personal data."""
    REGISTRY[:] = [h for h in REGISTRY if h.name != holder.name]
    REGISTRY.append(holder)
    return holder


def holders() -> list[Holder]:
    """Every entry, dependent rows first."""
    return sorted(REGISTRY, key=lambda h: h.order)


def messages_of_cases(ids: Sequence[int]) -> Any:
    return select(col(Message.id)).where(col(Message.case_id).in_(ids))


def messages_of_person(person: Person) -> ColumnElement[bool]:
    """Messages from the person, or sent to them (an outgoing message's recipients)."""
    found = [
        func.lower(col(Message.from_addr)) == person.email,
        # JSON text: compare the stored text, not a JSON-encoded pattern
        type_coerce(col(Message.to_addrs), Text).ilike(f'%"{person.like[1:-1]}"%', escape="\\"),
    ]
    if person.id is not None:
        found.append(col(Message.correspondent_id) == person.id)
    return or_(*found)


def rows_of_messages(column: Any) -> tuple[Callable[[Sequence[int]], Any], Callable[[Person], Any]]:
    """``(of_cases, of_person)`` for a table whose rows hang off ``messages.id``."""
    return (
        lambda ids: column.in_(messages_of_cases(ids)),
        lambda person: column.in_(select(col(Message.id)).where(messages_of_person(person))),
    )


def _person_is(column: Any) -> Callable[[Person], ColumnElement[bool]]:
    return lambda person: column == person.id if person.id is not None else false()


_bands = rows_of_messages(col(FingerprintBand.message_pk))
_attachments = rows_of_messages(col(Attachment.message_pk))
_labels = rows_of_messages(col(ClassifierLabel.message_pk))

register(Holder("fingerprint_bands", FingerprintBand, *_bands, order=10))
register(Holder("attachments", Attachment, *_attachments, order=10, private_columns=frozenset({"content"})))
register(
    Holder(
        "classifier_labels",
        ClassifierLabel,
        of_cases=lambda ids: or_(col(ClassifierLabel.case_id).in_(ids), _labels[0](ids)),
        of_person=_labels[1],
        order=10,
    )
)
register(
    Holder(
        "outbox",
        OutboxItem,
        of_cases=lambda ids: col(OutboxItem.case_id).in_(ids),
        of_person=lambda person: or_(
            func.lower(col(OutboxItem.target)) == person.email,
            col(OutboxItem.key).ilike(person.like, escape="\\"),
        ),
        order=10,
    )
)
register(
    Holder(
        "messages",
        Message,
        of_cases=lambda ids: col(Message.case_id).in_(ids),
        of_person=messages_of_person,
        order=20,
        correspondent="correspondent_id",
        private_columns=frozenset({"raw"}),
    )
)
# the case lifecycle (store.lifecycle): notes, drafted replies and the office's files for a reply
# are the case's words, so they go with it; the count of drafts stays on the case
register(
    Holder(
        "notes",
        Note,
        of_cases=lambda ids: col(Note.case_id).in_(ids),
        of_person=lambda person: col(Note.text).ilike(person.like, escape="\\"),
        order=10,
    )
)
register(
    Holder(
        "drafts",
        Draft,
        of_cases=lambda ids: col(Draft.case_id).in_(ids),
        of_person=lambda person: col(Draft.body).ilike(person.like, escape="\\"),
        order=10,
    )
)
register(
    Holder(
        "case_files",
        CaseFile,
        of_cases=lambda ids: col(CaseFile.case_id).in_(ids),
        order=10,
        private_columns=frozenset({"content"}),
    )
)
# clock events stay (the due date and the Board's timeliness are computed from them); a
# caseworker's note on one is free text and goes
register(
    Holder(
        "clock_events",
        ClockEvent,
        of_cases=lambda ids: col(ClockEvent.case_id).in_(ids),
        of_person=lambda person: col(ClockEvent.note).ilike(person.like, escape="\\"),
        scrub={"note": ""},
        order=30,
    )
)
# surgery bookings stay (the Board's surgeries table counts them); who came, how to reach
# them and what they needed go
register(
    Holder(
        "surgery_bookings",
        SurgeryBooking,
        of_cases=lambda ids: col(SurgeryBooking.case_id).in_(ids),
        of_person=lambda person: func.lower(col(SurgeryBooking.email)) == person.email,
        scrub={"name": "", "email": "", "phone": "", "needs": "", "reason": "", "note": ""},
        order=30,
    )
)
register(
    Holder(
        "quarantine",
        QuarantinedMessage,
        of_cases=None,
        # quarantined mail could not be read, so its raw bytes are all there is to search
        of_person=lambda person: col(QuarantinedMessage.raw).contains(person.email.encode()),
        order=20,
        private_columns=frozenset({"raw"}),
    )
)
register(
    Holder(
        "case_participants",
        CaseParticipant,
        of_cases=lambda ids: col(CaseParticipant.case_id).in_(ids),
        of_person=_person_is(col(CaseParticipant.correspondent_id)),
        order=30,
        correspondent="correspondent_id",
    )
)
register(
    Holder(
        "case_events",
        CaseEvent,
        # the history stays (the Board's "as at" figures read it); only its free text goes
        of_cases=lambda ids: col(CaseEvent.case_id).in_(ids),
        of_person=lambda person: col(CaseEvent.note).ilike(person.like, escape="\\"),
        scrub={"note": ""},
        order=30,
    )
)
register(
    Holder(
        "campaigns",
        Campaign,
        of_cases=lambda ids: col(Campaign.case_id).in_(ids),
        scrub={"title": ""},
        order=30,
    )
)
register(
    Holder(
        "cases",
        Case,
        of_cases=lambda ids: col(Case.id).in_(ids),
        of_person=_person_is(col(Case.correspondent_id)),
        scrub={"subject": "", "reasons": [], "correspondent_id": None},
        # a campaign case stays for its other senders: only the pointer to this one goes
        person_scrub={"correspondent_id": None},
        order=40,
        correspondent="correspondent_id",
    )
)
register(
    Holder(
        "correspondents",
        Correspondent,
        of_cases=None,
        of_person=_person_is(col(Correspondent.id)),
        order=90,
    )
)
