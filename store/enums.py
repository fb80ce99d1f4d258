"""The vocabularies every part of casework shares: categories, statuses, call outcomes."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """The six categories the Board report counts (report para 5)."""

    CORRESPONDENCE = "correspondence"
    COMPLAINT = "complaint"
    FOI = "foi"
    CAMPAIGN = "campaign"
    OFFICER_CORRESPONDENCE = "officer_correspondence"
    CONSULTATION = "consultation"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    Category.CORRESPONDENCE: "Correspondence",
    Category.COMPLAINT: "Complaint",
    Category.FOI: "FOI",
    Category.CAMPAIGN: "Campaign",
    Category.OFFICER_CORRESPONDENCE: "Officer correspondence",
    Category.CONSULTATION: "Consultation",
}


class Status(StrEnum):
    """Where a case stands (report para 6)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    MONITORING = "monitoring"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In progress",
    Status.MONITORING: "Monitoring",
    Status.CLOSED: "Closed",
}

UNCLOSED = (Status.OPEN, Status.IN_PROGRESS, Status.MONITORING)


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    BUSY = "busy"


class EventKind(StrEnum):
    """What a row of a case's history records."""

    CREATED = "created"
    STATUS = "status"
    CATEGORY = "category"
    ASSIGN = "assign"
    LINK = "link"
    MESSAGE = "message"
    NOTE = "note"
    #: a clock stop, restart or extension, or a due date moved by a change of holidays
    CLOCK = "clock"
    REVIEW = "review"
    # the case lifecycle (store/lifecycle.py)
    STAGE = "stage"
    DRAFT = "draft"
    SIGNOFF = "signoff"
    OUTGOING = "outgoing"
    VIEWED = "viewed"
    MESSAGE_READ = "message_read"
    ATTACHMENT_DOWNLOADED = "attachment_downloaded"
    FILE = "file"


class Stage(StrEnum):
    """Where a case is in its lifecycle, finer than the Board's four statuses.

    Each stage lies inside exactly one :class:`Status` (:attr:`status`), so the Board's
    figures keep counting what they always counted. The allowed moves between stages are one
    table, :data:`store.lifecycle.MOVES`.
    """

    NEW = "new"
    ALLOCATED = "allocated"
    WITH_FORCE = "with_force"
    DRAFTING = "drafting"
    AWAITING_SIGNOFF = "awaiting_signoff"
    READY_TO_SEND = "ready_to_send"
    MONITORING = "monitoring"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def status(self) -> Status:
        return _STAGE_STATUS[self]

    @classmethod
    def for_status(cls, status: Status | str, current: Stage | str | None = None) -> Stage:
        """The stage a case takes when its status is set directly (the triage buttons).

        A case whose stage already lies inside ``status`` keeps it (an ``in_progress`` case
        stays ``drafting``); otherwise it takes the status's first stage.
        """
        status = Status(status)
        if current is not None and cls(current).status is status:
            return cls(current)
        return _STATUS_FIRST_STAGE[status]


_STAGE_LABELS = {
    Stage.NEW: "New",
    Stage.ALLOCATED: "Allocated",
    Stage.WITH_FORCE: "With the force for comment",
    Stage.DRAFTING: "Drafting",
    Stage.AWAITING_SIGNOFF: "Awaiting sign-off",
    Stage.READY_TO_SEND: "Ready to send",
    Stage.MONITORING: "Monitoring",
    Stage.CLOSED: "Closed",
}

_STAGE_STATUS = {
    Stage.NEW: Status.OPEN,
    Stage.ALLOCATED: Status.IN_PROGRESS,
    Stage.WITH_FORCE: Status.IN_PROGRESS,
    Stage.DRAFTING: Status.IN_PROGRESS,
    Stage.AWAITING_SIGNOFF: Status.IN_PROGRESS,
    Stage.READY_TO_SEND: Status.IN_PROGRESS,
    Stage.MONITORING: Status.MONITORING,
    Stage.CLOSED: Status.CLOSED,
}

_STATUS_FIRST_STAGE = {
    Status.OPEN: Stage.NEW,
    Status.IN_PROGRESS: Stage.ALLOCATED,
    Status.MONITORING: Stage.MONITORING,
    Status.CLOSED: Stage.CLOSED,
}


class DraftState(StrEnum):
    """Where one version of a reply stands."""

    DRAFT = "draft"
    AWAITING_SIGNOFF = "awaiting_signoff"
    APPROVED = "approved"
    RETURNED = "returned"
    SENT = "sent"


class CloseOnResponse(StrEnum):
    """What a reply captured from the office's mail does to its case (CASEWORK_CLOSE_ON_RESPONSE)."""

    ASK = "ask"
    ALWAYS = "always"
    NEVER = "never"
