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
