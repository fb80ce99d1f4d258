"""The retention job: old mail and audit rows go daily; the managers hear monthly what is due.

Automatic mail (no case) and quarantined mail past ``CASEWORK_AUTOMATIC_RETENTION_DAYS`` and
``CASEWORK_QUARANTINE_RETENTION_DAYS``, and audit rows past ``CASEWORK_AUDIT_RETENTION_DAYS``,
are deleted without asking: nobody decides about an out-of-office reply. Cases are never
anonymised here. Once a month (the first run in it, keyed ``retention:{YYYY-MM}:dm:{user}``)
each manager gets a DM with the number of cases past their period and two buttons, *Review*
and *Confirm anonymisation* (:mod:`bot.listeners.actions.privacy`): a person decides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from casework.settings import Settings
from store import audit
from store.anonymise import clear_file
from store.db import session_scope
from store.outbox import enqueue
from store.retention import MailPurge, purge_mail, review
from store.workdays import LONDON

log = logging.getLogger(__name__)


@dataclass
class RetentionNotice:
    due: int = 0
    held: int = 0
    mail: MailPurge = field(default_factory=MailPurge)
    audit_rows_deleted: int = 0
    queued: list[str] = field(default_factory=list)


def notice_blocks(count: int, held: int, as_of: str) -> list[dict[str, Any]]:
    """The managers' monthly DM: how many, and the two buttons carrying the list's date."""
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f":wastebasket: *{count} closed case(s) are past their retention period* "
                    f"({held} of them on hold and kept). Review the list, then confirm to anonymise "
                    "them: their names, addresses, letters and notes are deleted; the Board's figures stay."
                ),
            },
        },
        {
            "type": "actions",
            "block_id": f"retention:{as_of}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "retention_review",
                    "text": {"type": "plain_text", "text": "Review"},
                    "value": as_of,
                },
                {
                    "type": "button",
                    "action_id": "retention_confirm",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Confirm anonymisation"},
                    "value": as_of,
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Anonymise these cases?"},
                        "text": {"type": "plain_text", "text": "This cannot be undone."},
                        "confirm": {"type": "plain_text", "text": "Anonymise"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                },
            ],
        },
    ]


def run_retention(
    engine: Engine, settings: Settings, *, now: datetime, managers: list[str]
) -> RetentionNotice:
    result = RetentionNotice()
    today = now.astimezone(LONDON).date()
    with session_scope(engine) as session:
        result.mail = purge_mail(
            session,
            automatic_days=settings.automatic_retention_days,
            quarantine_days=settings.quarantine_retention_days,
            now=now,
        )
        result.audit_rows_deleted = audit.purge(session, days=settings.audit_retention_days, now=now)
        due = review(session, schedule=settings.retention, as_of=today)
        result.due, result.held = len(due), sum(1 for d in due if d.held is not None)
        if result.due > result.held:
            text = f"{result.due} closed case(s) are past their retention period"
            for manager in managers:
                key = f"retention:{today:%Y-%m}:dm:{manager}"
                payload = {
                    "user": manager,
                    "text": text,
                    "blocks": notice_blocks(result.due, result.held, today.isoformat()),
                }
                if enqueue(session, key=key, kind="slack.dm", target=manager, payload=payload):
                    result.queued.append(key)
    touched = set()
    if result.mail.automatic:
        touched |= {"messages", "attachments", "fingerprint_bands", "classifier_labels"}
    if result.mail.quarantined:
        touched.add("quarantine")
    if result.audit_rows_deleted:
        touched.add("audit")
    if touched:
        clear_file(engine, touched)
    log.info(
        "retention: %d case(s) due (%d held); deleted %d automatic, %d quarantined mail, %d audit row(s)",
        result.due,
        result.held,
        result.mail.automatic,
        result.mail.quarantined,
        result.audit_rows_deleted,
    )
    return result
