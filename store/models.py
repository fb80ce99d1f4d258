"""Every table of the case store, in one place.

Timestamps are aware UTC (:class:`store.types.UTCDateTime`). Where a report groups by the
Europe/London *date* of a timestamp, that date is stored beside it (``received_on``,
``closed_on``, ``started_on``) when the row is written, so that the Board's tables are plain
indexed GROUP BYs instead of per-row time-zone arithmetic over a million cases.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy.orm import deferred
from sqlmodel import Field, SQLModel

from store.types import JSONText, UTCDateTime, utcnow


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Correspondent(SQLModel, table=True):
    """A person or organisation who writes to the office, known by email address."""

    __tablename__ = "correspondents"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Campaign(SQLModel, table=True):
    """An organised campaign: many senders, near-identical text, one case."""

    __tablename__ = "campaigns"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(default="", max_length=500)
    #: the campaign's one case (no foreign key: cases.campaign_id points the other way)
    case_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Case(SQLModel, table=True):
    """One piece of casework: what the Board counts and what the 20-working-day clock runs on."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_received_on_category", "received_on", "category"),
        # Covering indexes for the Board's tables: the status and closure-time queries read
        # nothing but these columns, so a year of a million-case store is one index range scan.
        Index("ix_cases_received_on_status", "received_on", "status", "closed_on", "status_changed_at"),
        Index("ix_cases_closed_on", "closed_on", "days_taken", "working_days_taken", "due_on"),
        Index("ix_cases_status_due_on", "status", "due_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)
    category: str = Field(max_length=32)
    status: str = Field(max_length=16, default="open")
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_on: date = Field(nullable=False)
    due_on: date = Field(nullable=False)
    closed_at: datetime | None = _ts()
    closed_on: date | None = Field(default=None)
    #: calendar days and UK working days from receipt to closure, kept with the closure
    days_taken: int | None = Field(default=None)
    working_days_taken: int | None = Field(default=None)
    #: when ``status`` last changed: a report "as at" a later date can read ``status`` directly
    status_changed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    correspondent_id: int | None = Field(default=None, foreign_key="correspondents.id", index=True)
    subject: str = Field(default="", max_length=1000)
    assignee: str | None = Field(default=None, max_length=64, index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    linked_case_id: int | None = Field(default=None, foreign_key="cases.id")
    confidence: float | None = Field(default=None)
    reasons: list[str] = Field(default_factory=list, sa_type=JSONText)
    needs_triage: bool = Field(default=False, index=True)
    slack_channel: str | None = Field(default=None, max_length=64)
    slack_ts: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    #: the day the statutory clock stopped, while it is stopped (:mod:`store.clocks`); warnings skip these
    clock_stopped_on: date | None = Field(default=None, index=True)
    #: the case this one is an internal review of
    review_of_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    #: the lifecycle stage inside ``status`` (store.enums.Stage; store.lifecycle moves it)
    stage: str = Field(default="new", max_length=24, index=True)
    #: when the first final reply went out (the Date of a captured one), None until then
    responded_at: datetime | None = _ts()
    #: how many versions of the reply were drafted
    drafts: int = Field(default=0)


class Message(SQLModel, table=True):
    """One email on a case (or an automatic message that relates to none), with its raw bytes."""

    __tablename__ = "messages"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    raw_sha256: str = Field(max_length=64, unique=True)
    direction: str = Field(default="in", max_length=3)
    correspondent_id: int | None = Field(default=None, foreign_key="correspondents.id", index=True)
    from_addr: str = Field(default="", max_length=320)
    from_name: str = Field(default="", max_length=300)
    to_addrs: list[str] = Field(default_factory=list, sa_type=JSONText)
    subject: str = Field(default="", max_length=1000)
    sent_at: datetime | None = _ts()
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: list[str] = Field(default_factory=list, sa_type=JSONText)
    body_text: str = Field(default="")
    automatic: str | None = Field(default=None, max_length=200)
    source: str = Field(default="", max_length=500)
    raw: bytes = Field(sa_column=deferred(Column("raw", LargeBinary, nullable=False)))  # type: ignore[call-overload]


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="messages.id", index=True)
    filename: str = Field(default="", max_length=500)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = 0
    truncated: bool = False
    content: bytes | None = Field(default=None, sa_column=deferred(Column("content", LargeBinary)))  # type: ignore[call-overload]


class CaseParticipant(SQLModel, table=True):
    """Everyone on a case: the correspondent, and every sender of a campaign."""

    __tablename__ = "case_participants"
    __table_args__ = (UniqueConstraint("case_id", "correspondent_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    correspondent_id: int = Field(foreign_key="correspondents.id", index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CaseEvent(SQLModel, table=True):
    """The history of a case: every status, category, assignment or link change, who and when."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "at"),
        # intake finds the campaign a merged-away reference went into by its old value
        Index("ix_case_events_old_value", "old_value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id")
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor: str = Field(default="system", max_length=100)
    kind: str = Field(max_length=32)
    old_value: str | None = Field(default=None, max_length=200)
    new_value: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=2000)


class Call(SQLModel, table=True):
    """One call to the office's telephone hunt group."""

    __tablename__ = "calls"
    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=100, unique=True)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_on: date = Field(index=True)
    answered_at: datetime | None = _ts()
    ended_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    outcome: str = Field(max_length=16)
    wait_s: float = 0.0
    talk_s: float | None = None
    #: the record format it was read from (``asterisk-csv``, ``3cx`` …); None for casework's CSV
    source: str | None = Field(default=None, max_length=32)


class ClassifierLabel(SQLModel, table=True):
    """A caseworker's decision about a message's category: what the classifier learns from."""

    __tablename__ = "classifier_labels"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    message_pk: int | None = Field(default=None, foreign_key="messages.id")
    category: str = Field(max_length=32)
    predicted: str | None = Field(default=None, max_length=32)
    text: str = Field(default="")
    actor: str = Field(default="system", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ClassifierModel(SQLModel, table=True):
    """A trained model snapshot; the newest one is used."""

    __tablename__ = "classifier_models"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    label_count: int = 0
    data: Any = Field(default=None, sa_type=JSONText)


class FingerprintBand(SQLModel, table=True):
    """Locality-sensitive hash bands of a message's text, to find campaign near-duplicates fast."""

    __tablename__ = "fingerprint_bands"
    __table_args__ = (Index("ix_fingerprint_bands_band", "band"),)
    id: int | None = Field(default=None, primary_key=True)
    band: str = Field(max_length=40)
    message_pk: int = Field(foreign_key="messages.id", index=True)


class OutboxItem(SQLModel, table=True):
    """Something to send (Slack post, DM, email acknowledgement), recorded before it is sent.

    ``key`` is the idempotency key (e.g. ``warn:WMOPC-2013-000123:5:2013-04-10``): a second
    attempt to enqueue the same notification finds the row and does nothing.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=32)
    target: str = Field(default="", max_length=320)
    payload: Any = Field(default=None, sa_type=JSONText)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    claimed_until: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    attempts: int = 0
    last_error: str = Field(default="", max_length=2000)
    result: Any = Field(default=None, sa_type=JSONText, nullable=True)


class QuarantinedMessage(SQLModel, table=True):
    """A message that could not be logged, kept whole with the reason, until retried."""

    __tablename__ = "quarantine"
    id: int | None = Field(default=None, primary_key=True)
    raw_sha256: str = Field(max_length=64, index=True)
    raw: bytes = Field(sa_column=deferred(Column("raw", LargeBinary, nullable=False)))  # type: ignore[call-overload]
    reason: str = Field(max_length=2000)
    source: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    retries: int = 0
    resolved_at: datetime | None = _ts()


class MailboxState(SQLModel, table=True):
    """How far the poller has read one IMAP folder (reset when UIDVALIDITY changes)."""

    __tablename__ = "mailbox_state"
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=500, unique=True)
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Lease(SQLModel, table=True):
    """A named lock with an expiry, for single-instance jobs where no advisory lock exists (SQLite)."""

    __tablename__ = "leases"
    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ReferenceCounter(SQLModel, table=True):
    """The last number used for each prefix and year of case references."""

    __tablename__ = "reference_counters"
    scope: str = Field(primary_key=True, max_length=60)
    last_number: int = 0


# --- statutory clocks (store.clocks) ---------------------------------------------------------


class ClockEvent(SQLModel, table=True):
    """A stop, restart or extension of a case's clock; the due date is computed from these rows.

    Never edited: a correction is a new event. ``on`` is the London date the event took effect
    (it may be entered later than that); ``at`` is when it was recorded.
    """

    __tablename__ = "clock_events"
    __table_args__ = (Index("ix_clock_events_case_on", "case_id", "on"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id")
    #: ``stop``, ``start`` or ``extend``
    kind: str = Field(max_length=16)
    on: date = Field(nullable=False)
    #: a stop's reason (``clarification``, ``fee``, ``other``) or an extension's
    reason: str = Field(default="", max_length=2000)
    #: an extension's working days
    working_days: int | None = Field(default=None)
    note: str = Field(default="", max_length=2000)
    actor: str = Field(default="system", max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class StoreState(SQLModel, table=True):
    """Small named values the service remembers between starts (the holiday fingerprint)."""

    __tablename__ = "store_state"
    name: str = Field(primary_key=True, max_length=100)
    value: str = Field(default="", max_length=2000)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --- calls from the phone system ---------------------------------------------------------------


class CallsFollow(SQLModel, table=True):
    """How far ``casework calls follow`` has read one record file, so a restart goes on from there.

    ``offset`` is where the first line of the oldest call not yet counted starts; ``inode`` and
    ``head`` (a hash of the file's first bytes) tell a rotated or truncated file from the same one.
    ``carried`` holds the rows of calls still open when their file was rotated (JSON: the
    file's ``header`` and the ``rows``), so legs written to the new file join them.
    """

    __tablename__ = "calls_follow"
    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(max_length=1000, unique=True)
    format: str = Field(default="", max_length=32)
    inode: int = Field(default=0, sa_type=BigInteger)
    offset: int = Field(default=0, sa_type=BigInteger)
    line: int = 1
    head: str = Field(default="", max_length=64)
    header: str = Field(default="")
    carried: str = Field(default="", sa_column_kwargs={"server_default": ""})
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --- the case lifecycle: notes, drafts and the files of a reply (store/lifecycle.py) ---------


class Note(SQLModel, table=True):
    """A caseworker's note on a case (from Slack, a reply in the triage thread, or the CLI)."""

    __tablename__ = "notes"
    #: a thread reply is recorded once, however often Slack delivers its event
    __table_args__ = (UniqueConstraint("case_id", "slack_ts"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    author: str = Field(max_length=100)
    text: str = Field(default="")
    source: str = Field(default="slack", max_length=16)
    slack_ts: str | None = Field(default=None, max_length=64)


class Draft(SQLModel, table=True):
    """One version of a case's reply, with its sign-off decision."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("case_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    version: int = 1
    subject: str = Field(default="", max_length=1000)
    body: str = Field(default="")
    author: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    state: str = Field(default="draft", max_length=24)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _ts()
    decision_note: str = Field(default="", max_length=2000)


class CaseFile(SQLModel, table=True):
    """A file for the case's next reply (the office's letter): posted in its thread or given to the CLI.

    ``message_pk`` is the outgoing message it went with; None while it waits for a reply.
    """

    __tablename__ = "case_files"
    #: a file Slack delivers twice (a redelivered event, two instances) is one row
    __table_args__ = (UniqueConstraint("case_id", "slack_file_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    filename: str = Field(default="", max_length=500)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = 0
    content: bytes = Field(sa_column=deferred(Column("content", LargeBinary, nullable=False)))  # type: ignore[call-overload]
    actor: str = Field(default="system", max_length=100)
    source: str = Field(default="cli", max_length=16)
    #: the Slack file id, so a file posted once is attached once
    slack_file_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    message_pk: int | None = Field(default=None, foreign_key="messages.id")


# --- personal data: audit, retention, channel checks (issue 12) ----------------------------


class AuditEntry(SQLModel, table=True):
    """One look at or change to personal data: who, what, which case; never the data itself.

    ``actor`` is a Slack user id or ``cli:<os user>``; ``detail`` holds only references, user
    ids, counts and command names (see :mod:`store.audit`), so the trail can outlive the cases.
    """

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_case_at", "case_reference", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    actor: str = Field(max_length=100, index=True)
    action: str = Field(max_length=32)
    case_reference: str | None = Field(default=None, max_length=40)
    detail: str = Field(default="", max_length=500)


class RetentionHold(SQLModel, table=True):
    """A case kept past its retention period (a complaint in litigation, say), and why."""

    __tablename__ = "retention_holds"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    reason: str = Field(max_length=1000)
    actor: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AnonymisedCase(SQLModel, table=True):
    """A case whose personal data was removed: when, why, and the participant count it had."""

    __tablename__ = "anonymised_cases"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: "retention" (the schedule) or "erasure" (a person's request)
    reason: str = Field(max_length=32)
    participant_count: int = 0


class ChannelCheck(SQLModel, table=True):
    """The last check of a Slack channel: how much detail its posts may carry, and why not more."""

    __tablename__ = "channel_checks"
    channel: str = Field(primary_key=True, max_length=64)
    #: the detail posts use now: the configured one when the check passed, else "minimal"
    detail: str = Field(max_length=16)
    passed: bool = False
    reason: str = Field(default="", max_length=1000)
    checked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: when the current run of failures began (the managers are told once per run)
    failing_since: datetime | None = _ts()


# --- surgeries and casework meetings ---------------------------------------------------------


class SurgerySession(SQLModel, table=True):
    """A surgery (slots of a few minutes) or a casework meeting (one long slot) with a host."""

    __tablename__ = "surgery_sessions"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="surgery", max_length=16)
    host: str = Field(max_length=16)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: the Europe/London date of ``starts_at``, which the figures group by
    held_on: date = Field(nullable=False, index=True)
    slots: int = 8
    minutes: int = 15
    venue: str = Field(default="", max_length=500)
    virtual_url: str = Field(default="", max_length=1000)
    status: str = Field(default="scheduled", max_length=16)
    cancel_reason: str = Field(default="", max_length=2000)
    cancelled_at: datetime | None = _ts()
    moved_to_id: int | None = Field(default=None, foreign_key="surgery_sessions.id")
    brief_sent_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SurgeryBooking(SQLModel, table=True):
    """One person's appointment, place on a waiting list, or held offer of a freed slot."""

    __tablename__ = "surgery_bookings"
    __table_args__ = (Index("ix_surgery_bookings_session_status", "session_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="surgery_sessions.id")
    #: 1-based slot number; None while on the waiting list
    slot: int | None = Field(default=None)
    status: str = Field(default="booked", max_length=16)
    name: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=320)
    phone: str = Field(default="", max_length=64)
    needs: str = Field(default="", max_length=2000)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    late: bool = False
    reason: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=4000)
    offer_expires_at: datetime | None = _ts()
    #: the iCalendar SEQUENCE: raised with every change the person is told of
    sequence: int = 0
    #: the session this booking was moved from when its own was cancelled
    moved_from_id: int | None = Field(default=None, foreign_key="surgery_sessions.id")
    cancelled_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
